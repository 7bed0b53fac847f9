"""Empirical significances: every score term calibrated on time-scrambled data.

The statistics of the candidate catalogue come with *nominal* probabilities: the burst and gap
scan statistics and the Kolmogorov-Smirnov test against a constant rate, the Bayesian-block
prior's false-positive rate ``p0`` per change point, and the anomaly score's rank among the
run's own files. None of them is a false-alarm probability of the run as it was done: windows,
widths, terms and detectors are searched, and the real time axis has gaps and exposure
changes. This module measures the false-alarm probability instead.

**Null data.** Each scramble redraws every event's time from its source's expected-rate
template: uniform in the source's *exposure* within its good-time intervals (the GTIs'
``weight`` column: relative exposure from the dither path or an archive exposure curve, times
the background template; :mod:`serendip.represent.livetime`), or uniform over the observing
interval for files without intervals; energies are kept (each event keeps its energy and gets
a new time). The scrambled files keep their counts, spectra and exposure and lose every
variability. :func:`scramble_events` does all sources and all scrambles at once, vectorised
over the whole event table (no loop over sources).

**Same scoring.** The scrambled files go through the same event features
(:func:`serendip.represent.event_features`), the same feature case and the same anomaly
detectors, fitted on the real files as in the candidate stage (:func:`null_anomaly_scores`).

**Empirical false-alarm probability.** For a term with statistic ``T`` (higher = more
significant) and a file with value ``t``, among the ``n`` null files of the same counts bin
(quantile bins of the real files' counts, :func:`count_bins`), ``k`` reach ``T >= t``:
``fap = (k + 1) / (n + 1)`` (never 0; its floor ``1 / (n + 1)`` says how far the scrambles
reach) with the Wilson 68.3 % interval of ``k / n`` (:func:`wilson_interval`) and the one-sided
Gaussian equivalent ``sigma = Phi^-1(1 - fap)``. The combined ``fap`` of a file is calibrated
the same way on the *smallest* term FAP of each null file, so the search over terms (and,
inside each term, over windows and widths) is paid for empirically.

Terms (:data:`TERMS`): ``burst`` (``burst_sig``), ``gap`` (``gap_sig``), ``variability``
(``-log10`` of the KS p-value), ``bb_change`` (Bayesian-block change points, ties broken by the
block rate ratio) and ``anomaly`` (the candidate stage's combined anomaly score).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri

from serendip.io.eventset import EventSet
from serendip.registry import Registry
from serendip.represent.bayesian_blocks import DEFAULT_P0

#: two-sided coverage of the FAP intervals (one Gaussian sigma)
INTERVAL = 0.6827
#: separator between a file's id and its scramble number in null file ids
NULL_SEP = "~scr"


def _log10p(p: np.ndarray) -> np.ndarray:
    return -np.log10(np.clip(np.asarray(p, dtype=np.float64), 1e-300, 1.0))


def _bb_statistic(t: pd.DataFrame) -> np.ndarray:
    n = np.nan_to_num(t["bb_n_change_points"].to_numpy(np.float64), nan=0.0)
    r = np.nan_to_num(t["bb_rate_ratio"].to_numpy(np.float64), nan=1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.clip(np.log10(np.maximum(r, 1.0)), 0.0, 9.99) / 10.0
    return n + np.where(n > 0, frac, 0.0)


@dataclass(frozen=True)
class SignificanceTerm:
    """One calibrated term of the candidate score.

    Attributes
    ----------
    name : short name ("burst"); the significance table's columns are ``fap_<name>``, ...
    statistic : (table -> (n,) float) higher = more significant, from the event features
        (plus ``anomaly_score`` for the anomaly term).
    nominal : (table -> (n,) float) the nominal probability the software would state
        without calibration.
    nominal_what : what that nominal probability is.
    description : one line.
    """

    name: str
    statistic: Callable[[pd.DataFrame], np.ndarray]
    nominal: Callable[[pd.DataFrame], np.ndarray]
    nominal_what: str
    description: str


def _col(name: str, default: float = 0.0):
    def get(t: pd.DataFrame) -> np.ndarray:
        return np.nan_to_num(t[name].to_numpy(np.float64), nan=default)

    return get


#: The calibrated terms, by name.
TERMS: Registry[SignificanceTerm] = Registry(
    "significance term",
    [
        SignificanceTerm(
            "burst", _col("burst_sig"), lambda t: 10.0 ** -_col("burst_sig")(t),
            "Binomial tail of the busiest window x 1/f windows per width, constant rate",
            "most populated time window (5 widths, 0.3-30 % of the interval)",
        ),
        SignificanceTerm(
            "gap", _col("gap_sig"), lambda t: 10.0 ** -_col("gap_sig")(t),
            "(n + 1) (1 - g / D)^n, uniform arrivals",
            "longest gap between events (eclipses, dips)",
        ),
        SignificanceTerm(
            "variability", lambda t: _log10p(_col("ks_pvalue", 1.0)(t)),
            _col("ks_pvalue", 1.0),
            "Kolmogorov-Smirnov p-value against a constant rate",
            "arrival times against the expected-rate template (KS test)",
        ),
        SignificanceTerm(
            "bb_change", _bb_statistic,
            lambda t: DEFAULT_P0 ** _col("bb_n_change_points")(t),
            f"p0^(change points), p0 = {DEFAULT_P0} (Bayesian-block prior)",
            f"Bayesian-block change points (p0 = {DEFAULT_P0}), ties by the block rate ratio",
        ),
        SignificanceTerm(
            "anomaly", _col("anomaly_score"),
            lambda t: 1.0 - _col("anomaly_percentile", 0.0)(t) + 1.0 / max(len(t), 1),
            "rank fraction among the run's files (not a probability)",
            "the candidate stage's anomaly score (the feature case's detector rule)",
        ),
    ],
)  # fmt: skip


# ------------------------------------------------------------------ null data
def scramble_events(
    events: EventSet,
    gtis: pd.DataFrame | None = None,
    t_lo: np.ndarray | None = None,
    t_hi: np.ndarray | None = None,
    n_scrambles: int = 1,
    seed: int = 0,
) -> tuple[EventSet, np.ndarray, np.ndarray]:
    """``n_scrambles`` time-scrambled copies of every file, all at once.

    Each event keeps its energy and gets a time drawn from its file's exposure: uniform in
    weighted good time (``gtis`` with ``weight``, as :func:`serendip.represent.livetime.
    live_time_events` reads them) for files with intervals, uniform on ``[t_lo, t_hi]``
    (default first to last event) otherwise.

    Returns
    -------
    null : EventSet of ``n_scrambles * n_files`` files, scramble-major (file ``s * n_files + f``
        is scramble ``s`` of file ``f``), ids ``<obsreg_id>~scr<s>``.
    source : (n_scrambles * n_files,) index of the real file of each null file.
    scramble : (n_scrambles * n_files,) scramble number of each null file.
    """
    n, S = events.n_files, int(n_scrambles)
    rng = np.random.default_rng(seed)
    counts = events.counts
    fi = np.tile(events.file_index, S)
    si = np.repeat(np.arange(S, dtype=np.int64), events.n_events)
    u = rng.random(len(fi))
    ne = counts > 0
    first = np.zeros(n)
    last = np.zeros(n)
    first[ne] = events.time[events.offsets[:-1][ne]]
    last[ne] = events.time[events.offsets[1:][ne] - 1]
    lo = first if t_lo is None else np.minimum(np.asarray(t_lo, float), np.where(ne, first, np.inf))
    hi = last if t_hi is None else np.maximum(np.asarray(t_hi, float), np.where(ne, last, -np.inf))
    t = lo[fi] + u * (hi - lo)[fi]
    if gtis is not None and len(gtis):
        from serendip.represent.livetime import good_time_index

        g_off, g_start, g_stop, g_w = good_time_index(events, gtis)
        has = np.diff(g_off) > 0
        cum = np.concatenate([[0.0], np.cumsum(g_w * (g_stop - g_start))])
        base, total = cum[g_off[:-1]], cum[g_off[1:]] - cum[g_off[:-1]]
        m = has[fi]
        x = base[fi[m]] + u[m] * total[fi[m]]
        j = np.searchsorted(cum, x, side="right") - 1
        j = np.clip(j, g_off[:-1][fi[m]], np.maximum(g_off[1:][fi[m]] - 1, 0))
        t[m] = g_start[j] + (x - cum[j]) / g_w[j]
    group = si * n + fi
    order = np.lexsort((t, group))
    offsets = np.zeros(S * n + 1, dtype=np.int64)
    np.cumsum(np.tile(counts, S), out=offsets[1:])
    ids = events.obsreg_id.astype(str)
    null_ids = np.concatenate([np.char.add(ids, f"{NULL_SEP}{s}") for s in range(S)]) if S else ids[:0]
    energy = np.tile(events.energy, S)[order]
    null = EventSet(null_ids.astype(object), offsets, t[order], energy)
    return null, np.tile(np.arange(n), S), np.repeat(np.arange(S), n)


def null_tables(
    files: pd.DataFrame | None, gtis: pd.DataFrame | None, n_scrambles: int
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The ``files`` and ``gtis`` tables repeated for the null files' ids (``<id>~scr<s>``)."""

    def rep(df):
        if df is None or not len(df):
            return df
        ids = df["obsreg_id"].astype(str)
        return pd.concat(
            [df.assign(obsreg_id=ids + f"{NULL_SEP}{s}") for s in range(n_scrambles)],
            ignore_index=True,
        )

    return rep(files), rep(gtis)


def null_event_features(
    events: EventSet,
    files: pd.DataFrame | None = None,
    gtis: pd.DataFrame | None = None,
    n_scrambles: int = 4,
    seed: int = 0,
) -> tuple[pd.DataFrame, EventSet]:
    """Event features of ``n_scrambles`` scrambles of every file (:func:`scramble_events`),
    computed in one call over the whole scrambled table.

    Returns (table with ``obsreg_id`` of the real file, ``scramble``, ``null_id`` and the
    columns of :func:`serendip.represent.event_features`; the scrambled EventSet).
    """
    from serendip.represent import event_features
    from serendip.represent.features import _file_interval

    t_lo, t_hi = _file_interval(events, files)
    null, src, scr = scramble_events(events, gtis, t_lo, t_hi, n_scrambles, seed)
    nfiles, ngtis = null_tables(files, gtis, n_scrambles)
    table = event_features(null, nfiles, ngtis)
    table.insert(0, "null_id", table["obsreg_id"].to_numpy())
    table["obsreg_id"] = events.obsreg_id.astype(str)[src]
    table.insert(1, "scramble", scr)
    return table, null


# ------------------------------------------------------------------ statistics
def wilson_interval(k, n, coverage: float = INTERVAL) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion ``k / n`` (arrays), ``coverage`` two-sided."""
    k = np.asarray(k, dtype=np.float64)
    n = np.maximum(np.asarray(n, dtype=np.float64), 1.0)
    z = ndtri(0.5 + 0.5 * coverage)
    p = k / n
    den = 1.0 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return np.clip(mid - half, 0.0, 1.0), np.clip(mid + half, 0.0, 1.0)


def sigma_of(p) -> np.ndarray:
    """One-sided Gaussian equivalent of a tail probability: ``Phi^-1(1 - p)`` (0 for p >= 0.5)."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-300, 1.0)
    return np.maximum(-ndtri(p), 0.0)


def sigma_of_log10(lg) -> np.ndarray:
    """:func:`sigma_of` of ``p = 10**lg``, also where ``p`` underflows (asymptotic
    ``sqrt(2 L - ln(2 pi (2 L)))`` with ``L = -ln p``, good to 0.01 sigma beyond 10 sigma)."""
    lg = np.asarray(lg, dtype=np.float64)
    direct = sigma_of(10.0 ** np.maximum(lg, -300.0))
    L = -lg * np.log(10.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.sqrt(np.maximum(2 * L - np.log(2 * np.pi * np.maximum(2 * L, 1e-300)), 0.0))
        z = np.sqrt(np.maximum(2 * L - np.log(2 * np.pi * np.maximum(z * z, 1e-300)), 0.0))
    return np.where(lg > -300.0, direct, z)


def count_bins(counts: np.ndarray, n_bins: int) -> np.ndarray:
    """Edges of ``n_bins`` quantile bins of ``counts`` (first -inf, last +inf)."""
    c = np.asarray(counts, dtype=np.float64)
    if n_bins <= 1 or len(c) == 0:
        return np.array([-np.inf, np.inf])
    q = np.unique(np.quantile(c, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return np.concatenate([[-np.inf], q, [np.inf]])


def exceedances(
    values: np.ndarray, strata: np.ndarray, null_values: np.ndarray, null_strata: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each value, ``k`` = null values of its stratum that are ``>=`` it, and ``n`` = the
    stratum's null values; vectorised (one sort of the null, one search)."""
    v = np.asarray(values, dtype=np.float64)
    nv = np.asarray(null_values, dtype=np.float64)
    ns = np.asarray(null_strata, dtype=np.int64)
    m = int(max(ns.max(initial=0), np.max(strata, initial=0))) + 1
    # one sorted array: stratum-major, values ascending; search (stratum, value) pairs
    order = np.lexsort((nv, ns))
    snv, sns = nv[order], ns[order]
    start = np.searchsorted(sns, np.arange(m), side="left")
    stop = np.searchsorted(sns, np.arange(m), side="right")
    n = (stop - start)[strata]
    # position of v within its stratum: shift values by the stratum so one search does all
    span = np.nanmax(np.abs(np.concatenate([snv, v]))) if len(snv) + len(v) else 1.0
    off = 4.0 * (span + 1.0)
    key = snv + sns * off
    pos = np.searchsorted(key, v + strata * off, side="left")
    k = stop[strata] - np.clip(pos, start[strata], stop[strata])
    return k.astype(np.int64), n.astype(np.int64)


def empirical_fap(values, strata, null_values, null_strata) -> pd.DataFrame:
    """``fap = (k + 1) / (n + 1)``, its Wilson interval and sigma (see the module docstring)."""
    k, n = exceedances(values, strata, null_values, null_strata)
    fap = (k + 1.0) / (n + 1.0)
    lo, hi = wilson_interval(k, n)
    floor = 1.0 / (n + 1.0)
    return pd.DataFrame(
        {
            "fap": fap,
            "fap_lo": np.maximum(lo, 0.0),
            "fap_hi": np.maximum(hi, floor),
            "sigma": sigma_of(fap),
            "k": k,
            "n_null": n,
        }
    )


# ------------------------------------------------------------------ anomaly
def null_anomaly_scores(
    X: np.ndarray,
    X_null: np.ndarray,
    detectors: tuple[str, ...],
    *,
    random_state: int = 0,
    n_estimators: int = 300,
    extra: dict[str, np.ndarray] | None = None,
    extra_null: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The anomaly rule fitted on the real files ``X`` (as the candidate stage fits it, same
    seeds) and applied to ``X`` and to the null files ``X_null``.

    With one detector the score is its raw score; with several (or map scores in ``extra``),
    the mean of each part's calibrated rank *among the real files* (for the real files this is
    :func:`serendip.catalog.anomaly.combined_anomaly_scores` exactly).
    Returns (real scores, null scores).
    """
    from serendip.detect import IForest, make_detector

    parts, nparts = [], []
    for name in detectors:
        det = (
            IForest(n_estimators=n_estimators, random_state=random_state)
            if name == "iforest"
            else make_detector(name)
        )
        det.fit(X)
        parts.append(np.asarray(det.score_samples(X), dtype=np.float64))
        nparts.append(np.asarray(det.score_samples(X_null), dtype=np.float64))
    for name, v in (extra or {}).items():
        parts.append(np.asarray(v, dtype=np.float64))
        nparts.append(np.asarray((extra_null or {})[name], dtype=np.float64))
    if len(parts) == 1:
        return parts[0], nparts[0]
    n = len(parts[0])
    ranks, nranks = [], []
    for p, q in zip(parts, nparts, strict=True):
        s = np.sort(p)
        ranks.append(np.searchsorted(s, p, side="right") / n)
        nranks.append(np.searchsorted(s, q, side="right") / n)
    return (
        np.mean(ranks, axis=0) + 1e-9 * ranks[0],
        np.mean(nranks, axis=0) + 1e-9 * nranks[0],
    )


# ------------------------------------------------------------------ tables
@dataclass
class SignificanceResult:
    """What :func:`calibrate` returns.

    Attributes
    ----------
    table : one row per real file: ``obsreg_id``, ``fap`` (all terms, calibrated on the null's
        smallest term FAP), ``fap_lo``, ``fap_hi``, ``sigma``, ``best_term``, and per term
        ``stat_<t>``, ``nominal_<t>``, ``fap_<t>``, ``fap_<t>_lo``, ``fap_<t>_hi``, ``sigma_<t>``;
        ``count_bin``; ``n_null`` (null files of its counts bin); ``above_threshold``.
    calibration : nominal against empirical false-alarm probability per term on the null
        (``term``, ``nominal``, ``empirical``, ``lo``, ``hi``, ``n_null``).
    rates : per term and for all terms: the threshold, expected false candidates per 1,000
        sources (null rate, with its interval), real files above threshold.
    trials : the searches the software knows of (``what``, ``count``, ``names``, ``how``).
    null : the null files' per-term statistics and FAPs (``obsreg_id``, ``scramble``, ...).
    """

    table: pd.DataFrame
    calibration: pd.DataFrame
    rates: pd.DataFrame
    trials: pd.DataFrame
    null: pd.DataFrame


#: nominal probabilities at which the calibration curve is read
CALIBRATION_GRID = np.logspace(-4, 0, 17)


def calibrate(
    real: pd.DataFrame,
    null: pd.DataFrame,
    *,
    threshold: float = 1e-3,
    n_bins: int = 5,
    terms: tuple[str, ...] | None = None,
    trials: pd.DataFrame | None = None,
) -> SignificanceResult:
    """Empirical false-alarm probabilities of the ``real`` files against the ``null`` files.

    ``real`` and ``null`` hold the event-feature columns the terms read (``burst_sig``,
    ``gap_sig``, ``ks_pvalue``, ``bb_n_change_points``, ``bb_rate_ratio``), ``n_events``,
    and, for the anomaly term, ``anomaly_score`` (and in ``real`` ``anomaly_percentile``).
    Terms whose columns are missing from either table are left out. ``threshold``: a file is
    a significant candidate when its all-terms ``fap <= threshold``; ``n_bins`` counts bins
    (quantiles of the real files' counts) within which null and real files are compared.
    """
    terms = tuple(terms or TERMS.names())
    real = real.reset_index(drop=True)
    null = null.reset_index(drop=True)
    edges = count_bins(real["n_events"].to_numpy(np.float64), n_bins)
    rb = np.clip(np.searchsorted(edges, real["n_events"].to_numpy(np.float64), "right") - 1, 0, None)
    nb_ = np.clip(np.searchsorted(edges, null["n_events"].to_numpy(np.float64), "right") - 1, 0, None)
    out = pd.DataFrame({"obsreg_id": real["obsreg_id"].astype(str).to_numpy()})
    nout = pd.DataFrame({"obsreg_id": null["obsreg_id"].astype(str).to_numpy()})
    if "scramble" in null.columns:
        nout["scramble"] = null["scramble"].to_numpy()
    cal, used = [], []
    for name in terms:
        term = TERMS[name]
        try:
            s, ns = term.statistic(real), term.statistic(null)
            nominal = term.nominal(real)
        except KeyError:
            continue
        used.append(name)
        f = empirical_fap(s, rb, ns, nb_)
        out[f"stat_{name}"] = s
        out[f"nominal_{name}"] = nominal
        for c in ("fap", "fap_lo", "fap_hi", "sigma"):
            out[c.replace("fap", f"fap_{name}") if c.startswith("fap") else f"sigma_{name}"] = f[c]
        nout[f"stat_{name}"] = ns
        nout[f"fap_{name}"] = _null_fap(ns, nb_)
        if name != "anomaly":  # the anomaly rank fraction is not a null probability
            n_nominal = term.nominal(null)
            k = (np.asarray(n_nominal)[None, :] <= CALIBRATION_GRID[:, None]).sum(axis=1)
            lo, hi = wilson_interval(k, len(n_nominal))
            cal.append(pd.DataFrame({
                "term": name, "nominal": CALIBRATION_GRID, "empirical": k / max(len(n_nominal), 1),
                "lo": lo, "hi": hi, "n_null": len(n_nominal),
            }))
            factor = _trials_factor(np.asarray(n_nominal))
            out[f"trials_factor_{name}"] = factor
            nom = np.asarray(nominal, dtype=np.float64)
            with np.errstate(divide="ignore"):  # -log10 p: the statistic where p underflows
                lg = np.where(nom > 0, np.log10(np.where(nom > 0, nom, 1.0)), -np.abs(s))
            out[f"log10_fap_{name}_tail"] = np.minimum(0.0, np.log10(factor) + lg)
            out[f"fap_{name}_tail"] = 10.0 ** out[f"log10_fap_{name}_tail"]
    if not used:
        raise ValueError("calibrate: no significance term has its columns in both tables")
    best = out[[f"fap_{t}" for t in used]].to_numpy()
    nbest = nout[[f"fap_{t}" for t in used]].to_numpy()
    allf = empirical_fap(_combined(best), rb, _combined(nbest), nb_)
    head = pd.DataFrame({
        "fap": allf["fap"], "fap_lo": allf["fap_lo"], "fap_hi": allf["fap_hi"],
        "sigma": allf["sigma"], "best_term": np.asarray(used, dtype=object)[best.argmin(axis=1)],
        "count_bin": rb, "n_null": allf["n_null"],
        "above_threshold": allf["fap"].to_numpy() <= threshold,
    })
    tails = [f"log10_fap_{t}_tail" for t in used if f"log10_fap_{t}_tail" in out]
    head.insert(4, "at_floor", allf["k"].to_numpy() == 0)
    if tails:  # beyond the scrambles' reach: the terms' tails, Bonferroni over the terms
        lg = np.minimum(0.0, np.log10(len(used)) + out[tails].min(axis=1).to_numpy())
        head.insert(5, "fap_tail", 10.0**lg)
        head.insert(6, "sigma_tail", sigma_of_log10(lg))
    table = pd.concat([out[["obsreg_id"]], head, out.drop(columns=["obsreg_id"])], axis=1)
    nout["fap"] = _null_fap(_combined(nbest), nb_)
    rates = _rates(table, nout, used, threshold)
    return SignificanceResult(
        table,
        pd.concat(cal, ignore_index=True) if cal else pd.DataFrame(
            columns=["term", "nominal", "empirical", "lo", "hi", "n_null"]),
        rates,
        trials if trials is not None else pd.DataFrame(columns=["what", "count", "names", "how"]),
        nout,
    )


def _combined(faps: np.ndarray) -> np.ndarray:
    """All-terms statistic of (n, n_terms) term FAPs: ``-log10`` of the smallest, ties (the
    FAPs are multiples of one null count) broken by the mean ``-log10`` FAP of all terms,
    scaled below any step of the smallest (``1e-8``; steps are >= 0.43 / n_null)."""
    lg = -np.log10(np.clip(faps, 1e-300, 1.0))
    return lg.max(axis=1) + 1e-8 * lg.mean(axis=1)


def _null_fap(values: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """Leave-one-out FAP of each null file among the other null files of its stratum:
    ``(k_others + 1) / (n_others + 1) = k / n`` with ``k`` counting the file itself."""
    k, n = exceedances(values, strata, values, strata)
    return k / np.maximum(n, 1)


#: null exceedances needed before a term's trials factor is read off its calibration
TAIL_MIN_COUNT = 20


def _trials_factor(null_nominal: np.ndarray) -> float:
    """Empirical over nominal false-alarm probability at the smallest nominal level the null
    still measures (>= :data:`TAIL_MIN_COUNT` null files at or below it): the factor by which
    the nominal probability understates the false alarms (the windows, widths and time-axis
    effects it does not count). At least 1."""
    p = np.sort(np.asarray(null_nominal, dtype=np.float64))
    n = len(p)
    if n < TAIL_MIN_COUNT:
        return float("nan")
    alpha = max(p[TAIL_MIN_COUNT - 1], 1e-300)
    return max(1.0, TAIL_MIN_COUNT / n / alpha)


#: further thresholds at which the rates table states the false candidates
RATE_LEVELS = (0.1, 0.01)


def _rates(table: pd.DataFrame, nout: pd.DataFrame, used: list[str], threshold: float):
    """Expected false candidates per 1,000 sources at ``threshold`` (and at
    :data:`RATE_LEVELS`): the share of null files (each real file contributes the same number
    of scrambles) whose FAP is at or below it, with its Wilson interval; ``real_above`` the
    real files at or below it and ``expected_false`` the null rate times the real files."""
    rows = []
    levels = [threshold, *(a for a in RATE_LEVELS if not np.isclose(a, threshold))]
    for name, col, level in [
        (n, c, a) for a in levels
        for n, c in [*((t, f"fap_{t}") for t in used), ("all terms", "fap")]
    ]:
        threshold = level
        k = int((nout[col].to_numpy() <= threshold).sum())
        n = len(nout)
        lo, hi = wilson_interval(k, n)
        rows.append({
            "term": name, "threshold": threshold, "null_files": n, "null_above": k,
            "false_per_1000": 1000.0 * k / max(n, 1), "false_per_1000_lo": 1000.0 * float(lo),
            "false_per_1000_hi": 1000.0 * float(hi),
            "real_above": int((table[col].to_numpy() <= threshold).sum()),
            "expected_false": len(table) * k / max(n, 1), "real_files": len(table),
            "chosen": bool(level == levels[0]),
            "trials_factor": float(table[f"trials_factor_{name}"].iloc[0])
            if f"trials_factor_{name}" in table and len(table) else float("nan"),
        })
    return pd.DataFrame(rows)


def known_trials(
    n_files: int,
    case: str,
    detectors: tuple[str, ...],
    terms: tuple[str, ...],
    n_scrambles: int,
) -> pd.DataFrame:
    """The searches the software knows of, counted and named, and how each is paid for."""
    from serendip.features.registry import FEATURE_CASES
    from serendip.represent.burst import WINDOW_FRACTIONS

    n_pos = int(round(sum(1.0 / f for f in WINDOW_FRACTIONS)))
    rows = [
        ("sources", n_files, "files of the run", "expected false candidates = files x FAP"),
        ("score terms", len(terms), ", ".join(terms),
         "empirical: the combined FAP is calibrated on the null's smallest term FAP"),
        ("burst window widths", len(WINDOW_FRACTIONS),
         ", ".join(f"{f:g}" for f in WINDOW_FRACTIONS) + " of the interval",
         "empirical (the scrambles take the same maximum); nominally 1/f per width"),
        ("burst window positions", n_pos, "about 1/f independent windows per width, summed",
         "empirical (nominally a 1/f factor per width)"),
        ("Bayesian-block change points", 1, f"p0 = {DEFAULT_P0} per change point",
         "empirical; nominal p0^(change points)"),
        ("anomaly detectors", len(detectors), ", ".join(detectors),
         "empirical: the rule's combined score is scored on the null"),
        ("feature cases", 1, f"{case} (of {len(FEATURE_CASES)}: "
         + ", ".join(FEATURE_CASES.names()) + ")",
         "NOT paid for: trying other cases on the same data multiplies the false alarms"),
        ("scrambles", n_scrambles, "time-scrambled copies of every file",
         "null files per real file (FAP floor 1 / (null files in the counts bin + 1))"),
    ]
    return pd.DataFrame(rows, columns=["what", "count", "names", "how"])


# ------------------------------------------------------------------ one call
def empirical_significance(
    events: EventSet,
    candidates: pd.DataFrame,
    event_table: pd.DataFrame,
    *,
    files: pd.DataFrame | None = None,
    gtis: pd.DataFrame | None = None,
    case: str = "events",
    detectors: tuple[str, ...] = ("iforest",),
    map_scores: tuple[str, ...] = (),
    X: np.ndarray | None = None,
    extra_scores: dict[str, np.ndarray] | None = None,
    feature_model=None,
    maps: str = "deviance",
    n_scrambles: int = 4,
    seed: int = 0,
    threshold: float = 1e-3,
    n_bins: int = 5,
    random_state: int = 0,
    n_estimators: int = 300,
) -> SignificanceResult:
    """Empirical false-alarm probabilities of every file of a run (module docstring).

    Parameters
    ----------
    events, files, gtis : the run's events, per-file table and good-time intervals.
    candidates : the candidate table (``obsreg_id``, ``anomaly_score``, ``anomaly_percentile``).
    event_table : the real files' event features (:func:`serendip.represent.event_features`).
    case, detectors, map_scores : the feature case and the anomaly rule the candidate stage
        used (detector names; names of representation scores such as ``map_deviance``).
    X : (n_files, n_features) the real files' features in ``events`` order; None leaves the
        anomaly term out. ``extra_scores`` the real files' representation scores.
    feature_model : the fitted feature model (a path or an estimator) of the case, used on
        the scrambled files; None for fixed transforms and the shipped encoders.
    n_scrambles, seed : null files per real file and their seed.
    threshold, n_bins : see :func:`calibrate`.
    """
    from serendip.notices import notice

    ids = events.obsreg_id.astype(str)
    null_table, null_events = null_event_features(events, files, gtis, n_scrambles, seed)
    real = event_table.assign(obsreg_id=event_table["obsreg_id"].astype(str))
    real = real.set_index("obsreg_id").reindex(ids).reset_index()
    terms = [t for t in TERMS.names() if t != "anomaly"]
    if X is not None:
        try:
            X_null, extra_null = _null_features(
                case, null_events, null_table, files, gtis, n_scrambles, feature_model, maps,
                map_scores,
            )
            real_score, null_score = null_anomaly_scores(
                np.asarray(X, dtype=np.float64), X_null, tuple(detectors),
                random_state=random_state, n_estimators=n_estimators,
                extra={k: extra_scores[k] for k in map_scores} if map_scores else None,
                extra_null=extra_null,
            )
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:
            notice("significance", "anomaly_not_calibrated",
                   f"the anomaly score could not be computed on the scrambled files ({exc}); "
                   "its term is left out of the empirical false-alarm probabilities")
        else:
            c = candidates.assign(obsreg_id=candidates["obsreg_id"].astype(str)).set_index(
                "obsreg_id").reindex(ids)
            stated = c["anomaly_score"].to_numpy(np.float64)
            if not np.allclose(stated, real_score, rtol=1e-6, atol=1e-9, equal_nan=True):
                notice("significance", "anomaly_refit_differs",
                       "the anomaly rule refitted for the null does not reproduce the "
                       "candidate stage's scores; the anomaly FAPs use the refitted scores",
                       count=int((~np.isclose(stated, real_score)).sum()), total=len(ids))
            real["anomaly_score"] = real_score
            pct = pd.Series(real_score).rank(method="max").to_numpy() / max(len(ids), 1)
            real["anomaly_percentile"] = pct
            null_table["anomaly_score"] = null_score
            terms.append("anomaly")
    trials = known_trials(len(ids), case, tuple(detectors) + tuple(map_scores), tuple(terms),
                          n_scrambles)
    return calibrate(real, null_table, threshold=threshold, n_bins=n_bins, terms=tuple(terms),
                     trials=trials)


def _null_features(case, null_events, null_table, files, gtis, n_scrambles, model, maps,
                   map_scores):
    """Feature matrix (and representation scores) of the scrambled files, with the real
    files' fitted feature model."""
    from serendip.features import extract_features
    from serendip.features.registry import FEATURE_CASES

    c = FEATURE_CASES[case]
    table = null_table.drop(columns=["obsreg_id", "scramble"]).rename(columns={"null_id": "obsreg_id"})
    if c.extractor == "events":
        from serendip.features.event_block import event_block

        return np.asarray(event_block(table)[0], dtype=np.float32).astype(np.float64), {}
    nfiles, ngtis = null_tables(files, gtis, n_scrambles)
    kw = {} if c.representation == "events" else {"maps": maps}
    res = extract_features(case, events=null_events, model=model, event_table=table,
                           files=nfiles, gtis=ngtis, **kw)
    return np.asarray(res.features, dtype=np.float32).astype(np.float64), {k: res.scores[k] for k in map_scores}
