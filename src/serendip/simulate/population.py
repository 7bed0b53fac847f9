"""A labelled synthetic population of Chandra-like X-ray sources as photon event lists.

:func:`simulate_population` is the built-in default data of serendip. Each source is one
"event file" (``obsreg_id = "<obsid>_<region>"``, about 20 sources per simulated ObsID
sharing its exposure and start time), with source photons plus a flat, hard background.

Classes (``label``) and their physics, all with exact Poisson arrivals (thinning):

========================= ===================================================================
``steady``                constant rate; absorbed power law, blackbody or thermal plasma
``agn``                   red noise: damped random walk in ln(rate) (log-normal rates,
                          Lorentzian PSD), damping time 2-100 ks, rms of ln(rate) 0.15-0.6
``periodic``              sinusoidal modulation, semi-amplitude 15-60 %, 3-50 cycles
``eclipse``               periodic energy-independent eclipses (85-100 % deep, sharp ingress)
``dip``                   periodic absorption dips (extra N_H 1e22-1e23 cm^-2): harden spectrum
``stellar_flare``         long thermal flare (rise 0.2-16 ks, decay 2-30 ks); kT cools from
                          1.5-4 keV back to the quiescent 0.3-1.2 keV: softer tail
``flare``                 fast-rise exponential-decay flare (decay 0.1-10 ks), harder than the
                          quiescent level; 30-85 % of the counts in the flare
``fxt``                   fast X-ray transient: hard spike (10-1000 s, photon index 0.6-1.4)
                          then a power-law tail (t^-1.1 ... t^-2.2) softening by 0.8-1.6 in
                          photon index; usually on a near-zero quiescent level
========================= ===================================================================

Expected source counts in the 0.5-7 keV band follow a log-normal (median 90, 0.6 dex)
truncated to 3-10^4 counts (mean ~230, so 100,000 sources give ~2.3e7 events);
exposures a log-normal (median 25 ks, 0.45 dex) truncated to 1-150 ks; background
3e-6 to 6e-5 counts/s per source region, flat in time and in energy (hard). Times are
Chandra mission seconds (MJDREF 50814) quantised to the 3.24104 s ACIS frame time.

Everything is vectorised over sources and events; Python loops run only over classes,
spectral templates, time-grid steps and chunks of sources. Deterministic by ``seed``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from serendip.io.eventset import EventSet
from serendip.io.tables import write_table
from serendip.layout import RunLayout
from serendip.simulate._kernels import group_time_order
from serendip.simulate.response import absorption_cross_section
from serendip.simulate.spectra import (
    SPECTRAL_MODELS,
    sample_energies,
    spectral_rows,
    to_cdf,
    transmission,
)
from serendip.simulate.timing import (
    constant_arrivals,
    drw_nodes,
    fred_integral,
    fxt_integral,
    linear_rate,
    monotone_envelope,
    periodic_trapezoid,
    quantise_to_frames,
    thin,
    thin_fred,
    thin_fxt,
)

LABELS = ("steady", "agn", "periodic", "eclipse", "dip", "stellar_flare", "flare", "fxt")

#: default population: about 2 % transients of three kinds (stellar flares, flares, FXTs),
#: as in the transient pipeline's injection-and-recovery setting
DEFAULT_CLASS_FRACTIONS: dict[str, float] = {
    "steady": 0.71,
    "agn": 0.15,
    "periodic": 0.05,
    "eclipse": 0.035,
    "dip": 0.035,
    "stellar_flare": 0.007,
    "flare": 0.007,
    "fxt": 0.006,
}

#: labels whose sources hold a transient (flare-like) event
TRANSIENT_LABELS = ("stellar_flare", "flare", "fxt")

# probabilities of (powerlaw, blackbody, thermal) per class
_MODEL_MIX = {
    "steady": (0.55, 0.15, 0.30),
    "agn": (1.0, 0.0, 0.0),
    "periodic": (0.5, 0.3, 0.2),
    "eclipse": (0.7, 0.3, 0.0),
    "dip": (1.0, 0.0, 0.0),
    "stellar_flare": (0.0, 0.0, 1.0),
    "flare": (0.7, 0.0, 0.3),
    "fxt": (1.0, 0.0, 0.0),
}
# log10 N_H [cm^-2]: mean, sd per class (clipped to 19.5-23.3)
_NH_LOG = {
    "steady": (21.2, 0.6),
    "agn": (21.0, 0.6),
    "periodic": (21.2, 0.6),
    "eclipse": (21.8, 0.4),
    "dip": (21.8, 0.4),
    "stellar_flare": (20.5, 0.5),
    "flare": (21.2, 0.6),
    "fxt": (20.7, 0.3),
}
_STELLAR_KT_STATES = np.array([1.0, 0.55, 0.3, 0.12])  # (kT - kT_q) / (kT_peak - kT_q) per state
_FXT_GAMMA_STATES = np.array([0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0])  # (G - G_spike) / (G_tail - G_spike)
_N_STATES = 4
_DIP_LEVELS = 33  # absorption levels used to integrate the dip transmission over time
_INTEGRAL_GRID = 2049  # time samples for eclipse / dip rate normalisation


@dataclass(frozen=True)
class SimulationOptions:
    """Settings of :func:`simulate_population` (pass any of them as keyword options).

    Units: energies eV, times and exposures s, rates counts/s in the band.
    """

    e_min: float = 500.0
    e_max: float = 7000.0
    counts_median: float = 90.0
    counts_sigma_dex: float = 0.6
    counts_min: float = 3.0
    counts_max: float = 1.0e4
    exposure_median: float = 25.0e3
    exposure_sigma_dex: float = 0.45
    exposure_min: float = 1.0e3
    exposure_max: float = 1.5e5
    sources_per_obs: float = 20.0
    bkg_rate_min: float = 3.0e-6
    bkg_rate_max: float = 6.0e-5
    frame_time: float = 3.24104  # ACIS full-frame time; 0 = no quantisation
    mission_tstart: float = 6.3e7  # ~2000-01 in Chandra mission seconds
    mission_tstop: float = 8.2e8  # ~2024-01
    agn_nodes: int = 65
    chunk_size: int = 20000  # sources per generation chunk (part of the seed -> output map)

    @classmethod
    def from_kwargs(cls, options: Mapping[str, object]) -> SimulationOptions:
        """Options from keyword settings; unknown keys raise TypeError, inconsistent ranges ValueError."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise TypeError(f"unknown simulation option(s) {unknown}; known: {sorted(names)}")
        opts = cls(**options)  # type: ignore[arg-type]
        if not 0 < opts.e_min < opts.e_max:
            raise ValueError("need 0 < e_min < e_max")
        if not 0 < opts.counts_min <= opts.counts_median <= opts.counts_max:
            raise ValueError("need 0 < counts_min <= counts_median <= counts_max")
        if not 0 < opts.exposure_min <= opts.exposure_median <= opts.exposure_max:
            raise ValueError("need 0 < exposure_min <= exposure_median <= exposure_max")
        if opts.chunk_size < 1 or opts.agn_nodes < 2:
            raise ValueError("chunk_size must be >= 1 and agn_nodes >= 2")
        return opts


#: simulated labels that play the part of "known transients" in a simulated run
SIMULATED_KNOWN_TYPES = {"flare": "flare", "fxt": "fxt", "dip": "dip"}


def simulated_known(sources: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame:
    """A random ``fraction`` of the flares, FXTs and dips of ``sources`` (the truth table of
    :class:`Population`) as known transients: DataFrame (``obsreg_id``, ``type``)."""
    rng = np.random.default_rng(seed + 7919)
    mask = sources["label"].isin(list(SIMULATED_KNOWN_TYPES)).to_numpy()
    pick = mask & (rng.random(len(sources)) < fraction)
    return pd.DataFrame(
        {
            "obsreg_id": sources["obsreg_id"].astype(str).to_numpy()[pick],
            "type": sources["label"].map(SIMULATED_KNOWN_TYPES).to_numpy()[pick],
        }
    )


@dataclass
class Population:
    """A simulated population.

    Attributes
    ----------
    events : EventSet - one file per source, events in the band, time [s], energy [eV].
    files : DataFrame - one row per file (obsreg_id, telescope, instrument, obsid, exposure [s],
        tstart, tstop [s], n_events, energy_source, path).
    sources : DataFrame - the truth: one row per file, same order (see module docstring and
        :func:`simulate_population` for the columns).
    component : (n_events,) int8 - 0 for source photons, 1 for background photons (2 background
        flare, 3 afterglow: :func:`serendip.simulate.realsky.add_real_sky`).
    artefacts, background : DataFrame or None - the artefact diagnostics and the background-annulus
        events of each source (only with the real-sky effects, :mod:`serendip.simulate.realsky`).
    gtis, exposure_curves : DataFrame or None - scan-mode sources' expected-rate templates and
        relative exposure curves (real-sky ``scan_fraction``).
    """

    events: EventSet
    files: pd.DataFrame
    sources: pd.DataFrame
    component: np.ndarray
    seed: int = 0
    options: dict = field(default_factory=dict)
    artefacts: pd.DataFrame | None = None
    background: pd.DataFrame | None = None
    #: weighted good-time intervals (``obsreg_id``, ``start``, ``stop``, ``weight``) of sources
    #: whose expected rate is not constant (scan-mode exposure), as ingest's ``gtis.parquet``
    gtis: pd.DataFrame | None = None
    #: the scan-mode sources' relative exposure curves (``obsreg_id``, ``start``, ``stop``,
    #: ``fracexp``)
    exposure_curves: pd.DataFrame | None = None

    @property
    def labels(self) -> np.ndarray:
        """Class label of each file, (n_files,) str."""
        return self.sources["label"].to_numpy()

    def known_transients(self, fraction: float = 0.1, seed: int | None = None) -> pd.DataFrame:
        """A random ``fraction`` (0-1) of the simulated flares, FXTs and dips as a list of
        known transients (``obsreg_id``, ``type``), as a simulated run uses it
        (``input.known_transients = "truth"``); ``seed`` defaults to the population's."""
        return simulated_known(self.sources, fraction, self.seed if seed is None else seed)

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``events.parquet``, ``files.parquet`` and ``sources.parquet`` into ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        ev = self.events
        # the long event table; obsreg_id dictionary-encoded (categorical): ~3x faster to
        # write than one Python string per event, read back by EventSet.read as usual
        table = pd.DataFrame(
            {
                "obsreg_id": pd.Categorical.from_codes(
                    ev.file_index, categories=pd.Index(ev.obsreg_id.astype(str))
                ),
                "time": ev.time,
                "energy": ev.energy,
            }
        )
        paths = {
            "events": write_table(table, RunLayout(out).events),
            "files": write_table(self.files, RunLayout(out).files),
            "sources": write_table(self.sources, RunLayout(out).sources),
        }
        for name in ("artefacts", "background", "gtis"):  # the real-sky effects' tables, when present
            if getattr(self, name) is not None:
                paths[name] = write_table(getattr(self, name), RunLayout(out).path(name))
        return paths


# ------------------------------------------------------------------------- helpers
def _loguniform(rng: np.random.Generator, lo, hi, n: int) -> np.ndarray:
    lo, hi = (
        np.broadcast_to(np.asarray(lo, float), (n,)),
        np.broadcast_to(np.asarray(hi, float), (n,)),
    )
    return np.exp(np.log(lo) + rng.random(n) * (np.log(hi) - np.log(lo)))


def _truncated_lognormal(
    rng: np.random.Generator, n: int, median: float, sigma_dex: float, lo: float, hi: float
) -> np.ndarray:
    """Values whose log10 is normal (median, sigma_dex) truncated to [lo, hi], by inverse CDF."""
    mu = np.log10(median)
    a, b = ndtr((np.log10(lo) - mu) / sigma_dex), ndtr((np.log10(hi) - mu) / sigma_dex)
    z = ndtri(a + rng.random(n) * (b - a))
    return np.clip(10.0 ** (mu + sigma_dex * z), lo, hi)


def class_counts(n: int, fractions: Mapping[str, float]) -> dict[str, int]:
    """Number of sources per label: largest-remainder rounding of ``n * fraction``."""
    f = np.array([fractions.get(lab, 0.0) for lab in LABELS], dtype=float)
    exact = n * f / f.sum()
    base = np.floor(exact).astype(int)
    short = n - base.sum()
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:short]] += 1
    return dict(zip(LABELS, base.tolist(), strict=True))


def normalise_fractions(class_fractions: Mapping[str, float] | None) -> dict[str, float]:
    """Class fractions (the defaults when None) scaled to sum to 1; unknown labels, negative
    values or a zero total raise ValueError."""
    if class_fractions is None:
        return dict(DEFAULT_CLASS_FRACTIONS)
    unknown = sorted(set(class_fractions) - set(LABELS))
    if unknown:
        raise ValueError(f"unknown class label(s) {unknown}; known: {list(LABELS)}")
    fr = {lab: float(class_fractions.get(lab, 0.0)) for lab in LABELS}
    if any(v < 0 or not np.isfinite(v) for v in fr.values()) or sum(fr.values()) <= 0:
        raise ValueError(f"class fractions must be >= 0 and sum to > 0, got {fr}")
    total = sum(fr.values())
    return {k: v / total for k, v in fr.items()}


# ---------------------------------------------------------------- parameter draws
_FLOAT_COLUMNS = (
    "expected_counts", "expected_background", "exposure", "tstart", "tstop", "gamma", "nh", "kt",
    "bkg_rate", "quiescent_rate", "t_peak", "t_onset", "rise", "decay", "duration", "period", "phase",
    "amplitude", "depth", "flare_fraction", "alpha", "gamma_tail", "gamma_flare", "kt_flare", "kt_peak",
    "nh_dip", "ramp", "tau", "sigma_ln", "x", "y",
)  # fmt: skip


#: Chandra ACIS sky-pixel size [arcsec] and the sky-pixel reference point (x, y)
SKY_PIXEL_ARCSEC = 0.492
SKY_REFERENCE_PIXEL = 4096.5


def sky_positions(
    obsid: np.ndarray, x: np.ndarray, y: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Plausible ICRS (ra, dec) [deg] of simulated sources, deterministic by ``seed``.

    Every ObsID gets a pointing drawn uniformly on the sphere (its own random stream, so the
    other simulated quantities do not change); a source sits at its sky-pixel offset
    ``(x, y) - 4096.5`` from the pointing with Chandra's 0.492 arcsec pixels (x grows to the
    west, as in Chandra sky coordinates), in the tangent-plane approximation (offsets
    < 8 arcmin).

    Returns (ra in [0, 360), dec in [-90, 90]) [deg], each (n,) float64.
    """
    obsid = np.asarray(obsid, dtype=np.int64)
    uniq, inv = np.unique(obsid, return_inverse=True)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 4]))
    ra0 = rng.uniform(0.0, 360.0, len(uniq))
    dec0 = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, len(uniq))))
    scale = SKY_PIXEL_ARCSEC / 3600.0
    dec = dec0[inv] + (np.asarray(y, np.float64) - SKY_REFERENCE_PIXEL) * scale
    cosd = np.maximum(np.cos(np.radians(dec0[inv])), 1e-3)
    ra = ra0[inv] - (np.asarray(x, np.float64) - SKY_REFERENCE_PIXEL) * scale / cosd
    return np.mod(ra, 360.0), np.clip(dec, -90.0, 90.0)


def draw_parameters(
    n: int, seed: int, fractions: Mapping[str, float], opts: SimulationOptions
) -> dict[str, np.ndarray]:
    """All per-source truth parameters (rates that need spectra are filled in per chunk)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0]))
    P: dict[str, np.ndarray] = {c: np.full(n, np.nan) for c in _FLOAT_COLUMNS}

    counts = class_counts(n, fractions)
    label_code = rng.permutation(np.repeat(np.arange(len(LABELS)), [counts[lab] for lab in LABELS]))
    P["label_code"] = label_code

    # observations: ~sources_per_obs sources share an ObsID, its exposure and start time
    n_obs = max(1, int(round(n / opts.sources_per_obs)))
    obs_of = np.sort(rng.integers(0, n_obs, n))
    pool = max(30000, 2 * n_obs)
    obsid_of_obs = 1 + rng.choice(pool, n_obs, replace=False)
    expo_of_obs = _truncated_lognormal(
        rng,
        n_obs,
        opts.exposure_median,
        opts.exposure_sigma_dex,
        opts.exposure_min,
        opts.exposure_max,
    )
    tstart_of_obs = opts.mission_tstart + rng.random(n_obs) * (
        opts.mission_tstop - opts.mission_tstart
    )
    first = np.searchsorted(obs_of, obs_of, side="left")
    P["obsid"] = obsid_of_obs[obs_of].astype(np.int64)
    P["region"] = (np.arange(n) - first + 1).astype(np.int64)
    P["exposure"] = expo_of_obs[obs_of]
    P["tstart"] = np.round(tstart_of_obs[obs_of], 3)
    P["tstop"] = P["tstart"] + P["exposure"]
    P["ccd_id"] = rng.integers(0, 4, n).astype(np.int16)
    P["x"] = 4096.5 + rng.uniform(-900, 900, n)
    P["y"] = 4096.5 + rng.uniform(-900, 900, n)

    P["expected_counts"] = _truncated_lognormal(
        rng, n, opts.counts_median, opts.counts_sigma_dex, opts.counts_min, opts.counts_max
    )
    P["bkg_rate"] = _loguniform(rng, opts.bkg_rate_min, opts.bkg_rate_max, n)
    P["expected_background"] = P["bkg_rate"] * P["exposure"]

    model = np.zeros(n, dtype=np.int64)
    T, ts, te = P["exposure"], P["tstart"], P["tstop"]
    for code, lab in enumerate(LABELS):
        sel = np.flatnonzero(label_code == code)
        k = len(sel)
        if k == 0:
            continue
        mix = np.cumsum(_MODEL_MIX[lab])
        m = np.minimum(np.searchsorted(mix / mix[-1], rng.random(k), side="right"), 2)
        model[sel] = m
        mu, sd = _NH_LOG[lab]
        P["nh"][sel] = 10.0 ** np.clip(rng.normal(mu, sd, k), 19.5, 23.3)
        g = np.clip(
            rng.normal(1.9 if lab == "agn" else 1.8, 0.25 if lab == "agn" else 0.3, k), 0.8, 3.2
        )
        kt_bb = _loguniform(rng, 0.1, 1.5, k)
        kt_th = _loguniform(rng, 0.3, 8.0, k)
        P["gamma"][sel] = np.where(m == 0, g, np.nan)
        P["kt"][sel] = np.where(m == 1, kt_bb, np.where(m == 2, kt_th, np.nan))
        Ts, tss, tes = T[sel], ts[sel], te[sel]

        if lab == "agn":
            P["tau"][sel] = _loguniform(rng, 2e3, 1e5, k)
            P["sigma_ln"][sel] = rng.uniform(0.15, 0.6, k)
        elif lab == "periodic":
            P["period"][sel] = _loguniform(rng, np.maximum(30.0, Ts / 50.0), Ts / 3.0, k)
            P["amplitude"][sel] = rng.uniform(0.15, 0.6, k)
            P["phase"][sel] = rng.uniform(0.0, 2 * np.pi, k)
        elif lab in ("eclipse", "dip"):
            dur = np.maximum(_loguniform(rng, 0.05, 0.25, k) * Ts, 60.0)
            if lab == "eclipse":
                per = dur * _loguniform(rng, 4.0, 15.0, k)
                ramp = dur * rng.uniform(0.03, 0.10, k)
                P["depth"][sel] = rng.uniform(0.85, 1.0, k)
            else:
                per = dur * _loguniform(rng, 3.0, 10.0, k)
                ramp = dur * rng.uniform(0.2, 0.4, k)
                P["nh_dip"][sel] = _loguniform(rng, 1e22, 1e23, k)
            P["duration"][sel], P["period"][sel], P["ramp"][sel] = dur, per, ramp
            P["t_peak"][sel] = tss + dur / 2 + rng.random(k) * np.maximum(Ts - dur, 0.0)
        elif lab in ("flare", "stellar_flare"):
            if lab == "flare":
                decay = _loguniform(rng, 100.0, np.maximum(150.0, np.minimum(0.15 * Ts, 1e4)), k)
                rise = decay * rng.uniform(0.05, 0.3, k)
                f = rng.uniform(0.3, 0.85, k)
                harder = rng.uniform(0.2, 0.6, k)
                P["gamma_flare"][sel] = np.where(m == 0, np.maximum(g - harder, 0.3), np.nan)
                P["kt_flare"][sel] = np.where(m == 2, kt_th * rng.uniform(1.5, 3.0, k), np.nan)
            else:
                decay = _loguniform(rng, 2e3, np.maximum(2.5e3, np.minimum(0.4 * Ts, 3e4)), k)
                rise = decay * rng.uniform(0.1, 0.5, k)
                f = rng.uniform(0.3, 0.8, k)
                P["kt"][sel] = _loguniform(rng, 0.3, 1.2, k)
                P["kt_peak"][sel] = rng.uniform(1.5, 4.0, k)
            room = Ts - 3 * rise - 3 * decay
            tp = np.where(
                room > 0,
                tss + 3 * rise + rng.random(k) * np.maximum(room, 0),
                tss + rng.random(k) * Ts,
            )
            P["t_peak"][sel], P["rise"][sel], P["decay"][sel], P["flare_fraction"][sel] = (
                tp,
                rise,
                decay,
                f,
            )
        elif lab == "fxt":
            dur = _loguniform(rng, 10.0, np.maximum(12.0, np.minimum(1000.0, 0.2 * Ts)), k)
            rise = dur * rng.uniform(0.05, 0.3, k)
            onset = tss + rng.uniform(0.05, 0.7, k) * Ts
            onset = np.minimum(onset, tes - 2 * dur)
            P["t_onset"][sel], P["rise"][sel], P["duration"][sel] = onset, rise, dur
            P["t_peak"][sel] = onset + rise
            P["alpha"][sel] = rng.uniform(1.1, 2.2, k)
            P["gamma"][sel] = rng.uniform(0.6, 1.4, k)
            P["gamma_tail"][sel] = P["gamma"][sel] + rng.uniform(0.8, 1.6, k)
            quiet = rng.random(k) < 0.7
            lam = P["expected_counts"][sel]
            lam_q = np.where(
                quiet,
                np.minimum(rng.uniform(0.0, 2.0, k), 0.05 * lam),
                lam * rng.uniform(0.05, 0.3, k),
            )
            P["flare_fraction"][sel] = 1.0 - lam_q / lam
    P["model"] = model
    return P


# ---------------------------------------------------------------- event generation
def _simulate_chunk(
    P: dict[str, np.ndarray], a: int, b: int, rng: np.random.Generator, opts: SimulationOptions
) -> dict:
    """Events of sources ``a:b``; fills the chunk's derived truth columns of ``P`` in place."""
    n = b - a
    sl = slice(a, b)
    lab = P["label_code"][sl]
    ts, te = P["tstart"][sl], P["tstop"][sl]
    T = te - ts
    lam = P["expected_counts"][sl]
    code = {name: i for i, name in enumerate(LABELS)}
    where = {name: np.flatnonzero(lab == code[name]) for name in LABELS}
    g = lambda key: P[key][sl]  # noqa: E731  (view of this chunk's column)

    # ---- spectral rows: one base row per source, extra state rows for flares and FXTs
    model, gamma, kt, nh = g("model").copy(), g("gamma").copy(), g("kt").copy(), g("nh").copy()
    fx, fl, st = where["fxt"], where["flare"], where["stellar_flare"]
    gamma[fx] = g("gamma_tail")[fx]  # FXT host/quiescent light: the soft tail spectrum
    r_model, r_gamma, r_kt, r_nh = [model], [gamma], [kt], [nh]
    state_offset = np.full(n, -1, dtype=np.int64)
    next_row = n
    state_offset[fl] = next_row + np.arange(len(fl))
    next_row += len(fl)
    r_model.append(model[fl])
    r_gamma.append(g("gamma_flare")[fl])
    r_kt.append(g("kt_flare")[fl])
    r_nh.append(nh[fl])
    for sel, kind in ((st, "stellar"), (fx, "fxt")):
        state_offset[sel] = next_row + _N_STATES * np.arange(len(sel))
        next_row += _N_STATES * len(sel)
        r_model.append(np.repeat(model[sel], _N_STATES))
        r_nh.append(np.repeat(nh[sel], _N_STATES))
        if kind == "stellar":
            kq, kp = g("kt")[sel], g("kt_peak")[sel]
            r_kt.append((kq[:, None] + (kp - kq)[:, None] * _STELLAR_KT_STATES[None, :]).ravel())
            r_gamma.append(np.full(_N_STATES * len(sel), np.nan))
        else:
            g0, g1 = g("gamma")[sel], g("gamma_tail")[sel]
            r_gamma.append((g0[:, None] + (g1 - g0)[:, None] * _FXT_GAMMA_STATES[None, :]).ravel())
            r_kt.append(np.full(_N_STATES * len(sel), np.nan))
    prob = spectral_rows(
        np.concatenate(r_model),
        np.concatenate(r_gamma),
        np.concatenate(r_kt),
        np.concatenate(r_nh),
        opts.e_min,
        opts.e_max,
    )
    cdf = to_cdf(prob)

    # ---- rates: constant component (envelope for modulated classes) + transient peaks
    rate_c = np.zeros(n)
    for name in ("steady", "agn"):  # agn: mean rate, for the truth table
        g("quiescent_rate")[where[name]] = lam[where[name]] / T[where[name]]
    stdy = where["steady"]
    rate_c[stdy] = lam[stdy] / T[stdy]
    pe = where["periodic"]
    A, Pp, ph = g("amplitude")[pe], g("period")[pe], g("phase")[pe]
    integ = T[pe] + A * Pp / (2 * np.pi) * (np.cos(ph) - np.cos(2 * np.pi * T[pe] / Pp + ph))
    rq = lam[pe] / integ
    g("quiescent_rate")[pe] = rq
    rate_c[pe] = rq * (1 + A)
    grid = np.linspace(0.0, 1.0, _INTEGRAL_GRID)
    for name in ("eclipse", "dip"):
        s = where[name]
        if not len(s):
            continue
        tg = ts[s, None] + T[s, None] * grid[None, :]
        prof = periodic_trapezoid(
            tg,
            g("t_peak")[s, None],
            g("period")[s, None],
            g("duration")[s, None],
            g("ramp")[s, None],
        )
        if name == "eclipse":
            keep = 1.0 - g("depth")[s, None] * prof
        else:
            levels = np.linspace(0.0, 1.0, _DIP_LEVELS)
            tr = transmission(prob[s], g("nh_dip")[s, None] * levels[None, :])  # (k, L)
            g("depth")[s] = 1.0 - tr[:, -1]
            pos = prof * (_DIP_LEVELS - 1)
            i0 = np.minimum(pos.astype(np.int64), _DIP_LEVELS - 2)
            w = pos - i0
            rows = np.arange(len(s))[:, None]
            keep = tr[rows, i0] * (1 - w) + tr[rows, i0 + 1] * w
        integ = np.trapezoid(keep, dx=1.0, axis=1) / (_INTEGRAL_GRID - 1) * T[s]
        rate_c[s] = lam[s] / integ
        g("quiescent_rate")[s] = rate_c[s]
    fr = np.concatenate([fl, st])
    f = g("flare_fraction")[fr]
    tp, rise, decay = g("t_peak")[fr], g("rise")[fr], g("decay")[fr]
    ip = fred_integral(ts[fr], te[fr], tp, rise, decay)
    peak_fr = f * lam[fr] / ip
    rate_c[fr] = (1 - f) * lam[fr] / T[fr]
    g("quiescent_rate")[fr] = rate_c[fr]
    g("amplitude")[fr] = 1.0 + peak_fr / np.maximum(rate_c[fr], 1e-300)
    onset, frise, fdur, alpha = g("t_onset")[fx], g("rise")[fx], g("duration")[fx], g("alpha")[fx]
    ifx = fxt_integral(te[fx], onset, frise, fdur, alpha)
    ffx = g("flare_fraction")[fx]
    peak_fx = ffx * lam[fx] / ifx
    rate_c[fx] = (1 - ffx) * lam[fx] / T[fx]
    g("quiescent_rate")[fx] = rate_c[fx]
    g("amplitude")[fx] = 1.0 + peak_fx / np.maximum(rate_c[fx], 1e-300)

    # ---- source arrivals
    # modulated classes (periodic, eclipse, dip) first: only their photons need the
    # time/energy-dependent thinning below
    modulated = np.isin(lab, [code["periodic"], code["eclipse"], code["dip"]])
    i, t = constant_arrivals(rng, np.where(modulated, rate_c, 0.0), ts, te)
    n_mod = len(i)
    src_parts, t_parts, row_parts = [i], [t], [i]
    i, t = constant_arrivals(rng, np.where(modulated, 0.0, rate_c), ts, te)
    src_parts.append(i), t_parts.append(t), row_parts.append(i)

    if len(fr):
        i, t = thin_fred(rng, ts[fr], te[fr], peak_fr, tp, rise, decay)
        src = fr[i]
        x = (t - tp[i]) / decay[i]
        state = (x >= 0.5).astype(np.int64) + (x >= 1.5) + (x >= 3.0)
        state[lab[src] == code["flare"]] = 0
        src_parts.append(src), t_parts.append(t), row_parts.append(state_offset[src] + state)
    if len(fx):
        i, t = thin_fxt(rng, ts[fx], te[fx], peak_fx, onset, frise, fdur, alpha)
        x = (t - onset[i]) / fdur[i]
        state = (x >= 1.0).astype(np.int64) + (x >= 3.0) + (x >= 10.0)
        src_parts.append(fx[i]), t_parts.append(t), row_parts.append(state_offset[fx[i]] + state)
    ag = where["agn"]
    if len(ag):
        k = opts.agn_nodes
        lnr = drw_nodes(rng, k, T[ag], g("tau")[ag], g("sigma_ln")[ag])
        nodes_t = ts[ag, None] + T[ag, None] * np.linspace(0.0, 1.0, k)[None, :]
        nodes_r = np.exp(lnr)
        nodes_r *= (lam[ag] / (np.trapezoid(nodes_r, dx=1.0, axis=1) / (k - 1) * T[ag]))[:, None]
        i, t, _ = thin(rng, nodes_t, monotone_envelope(nodes_r), linear_rate(nodes_t, nodes_r))
        src_parts.append(ag[i]), t_parts.append(t), row_parts.append(ag[i])
    src = np.concatenate(src_parts)
    t = np.concatenate(t_parts)
    true_ev, energy = sample_energies(cdf, np.concatenate(row_parts), rng, opts.e_min, opts.e_max)

    # ---- modifiers by thinning: periodic modulation, eclipses, absorption dips
    ms, mt, me = src[:n_mod], t[:n_mod], true_ev[:n_mod]
    keep_p = np.ones(n_mod)
    lab_e = lab[ms]
    m = lab_e == code["periodic"]
    s = ms[m]
    P_, A_, ph_ = g("period")[s], g("amplitude")[s], g("phase")[s]
    keep_p[m] = (1 + A_ * np.sin(2 * np.pi * (mt[m] - ts[s]) / P_ + ph_)) / (1 + A_)
    for name in ("eclipse", "dip"):
        m = lab_e == code[name]
        s = ms[m]
        prof = periodic_trapezoid(
            mt[m], g("t_peak")[s], g("period")[s], g("duration")[s], g("ramp")[s]
        )
        if name == "eclipse":
            keep_p[m] = 1.0 - g("depth")[s] * prof
        else:
            keep_p[m] = np.exp(-absorption_cross_section(me[m] / 1000.0) * g("nh_dip")[s] * prof)
    keep = np.ones(len(src), dtype=bool)
    keep[:n_mod] = rng.random(n_mod) < keep_p
    src, t, energy = src[keep], t[keep], energy[keep]

    # ---- background: flat in time, flat (hard) in energy over the band
    ib, tb = constant_arrivals(rng, g("bkg_rate"), ts, te)
    eb = opts.e_min + rng.random(len(ib)) * (opts.e_max - opts.e_min)

    idx = np.concatenate([src, ib])
    time = np.concatenate([t, tb])
    ener = np.concatenate([energy, eb]).astype(np.float32)
    comp = np.concatenate([np.zeros(len(src), np.int8), np.ones(len(ib), np.int8)])
    if opts.frame_time > 0:
        time = quantise_to_frames(time, ts[idx], te[idx], opts.frame_time)
    order = group_time_order(idx, time, n)
    return {
        "time": time[order],
        "energy": ener[order],
        "component": comp[order],
        "counts": np.bincount(idx, minlength=n),
        "n_source": np.bincount(src, minlength=n),
        "n_background": np.bincount(ib, minlength=n),
    }


def simulate_population(
    n_sources: int = 5000,
    seed: int = 0,
    class_fractions: Mapping[str, float] | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    **options,
) -> Population:
    """Simulate ``n_sources`` labelled X-ray sources as event lists.

    Parameters
    ----------
    n_sources : number of sources (= event files).
    seed : all randomness derives from it; the same seed and options give identical output.
    class_fractions : ``{label: fraction}`` over :data:`LABELS`; missing labels get 0 and the
        values are normalised. Default :data:`DEFAULT_CLASS_FRACTIONS`. Class sizes are
        exact (largest-remainder rounding), their order random.
    progress : optional callback, called with the number of sources finished after each chunk.
    **options : any field of :class:`SimulationOptions` (band, counts and exposure
        distributions, background, frame time, chunk size).

    Returns
    -------
    Population with ``events`` (EventSet), ``files``, ``sources`` (truth) and ``component``.
    ``sources`` columns: obsreg_id, obsid, region, label, n_events, n_source_events,
    n_background_events, expected_counts (source, in band), expected_background, exposure [s],
    tstart, tstop [s], spectral_model, gamma, nh [cm^-2], kt [keV], bkg_rate [ct/s],
    quiescent_rate [ct/s], t_peak [s] (flare peak / FXT peak / mid-time of one eclipse
    or dip inside the exposure, the others at +- k period), t_onset [s] (FXT), rise, decay [s], duration [s] (eclipse or dip
    length, FXT spike), period [s], phase [rad], amplitude (periodic: semi-amplitude;
    flares, FXT: peak / quiescent rate), depth (eclipse: fraction removed; dip: fractional
    count drop at full absorption), flare_fraction (of the source counts), alpha (FXT tail
    index), gamma_tail (FXT), gamma_flare, kt_flare (flare), kt_peak [keV] (stellar flare),
    nh_dip [cm^-2], ramp [s] (ingress/egress), tau [s], sigma_ln (AGN), ccd_id, x, y [pixel],
    ra, dec [deg] (see :func:`sky_positions`); ``files`` carries ra, dec too.
    NaN where not applicable.
    """
    n = int(n_sources)
    if n < 1:
        raise ValueError("n_sources must be >= 1")
    opts = SimulationOptions.from_kwargs(options)
    fractions = normalise_fractions(class_fractions)
    P = draw_parameters(n, seed, fractions, opts)

    chunks = [(a, min(a + opts.chunk_size, n)) for a in range(0, n, opts.chunk_size)]
    out = []
    for c, (a, b) in enumerate(chunks):
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1, c]))
        out.append(_simulate_chunk(P, a, b, rng, opts))
        if progress is not None:
            progress(b)

    counts = np.concatenate([o["counts"] for o in out])
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    obsreg_id = np.char.add(
        np.char.add(P["obsid"].astype(str), "_"), P["region"].astype(str)
    ).astype(object)
    events = EventSet(
        obsreg_id,
        offsets,
        np.concatenate([o["time"] for o in out]),
        np.concatenate([o["energy"] for o in out]),
    )
    component = np.concatenate([o["component"] for o in out])

    labels = np.asarray(LABELS, dtype=object)[P["label_code"]]
    src = pd.DataFrame(
        {
            "obsreg_id": obsreg_id.astype(str),
            "obsid": P["obsid"],
            "region": P["region"],
            "label": labels.astype(str),
            "n_events": counts,
            "n_source_events": np.concatenate([o["n_source"] for o in out]),
            "n_background_events": np.concatenate([o["n_background"] for o in out]),
            "spectral_model": np.asarray(SPECTRAL_MODELS, dtype=object)[P["model"]].astype(str),
            "ccd_id": P["ccd_id"],
        }
    )
    for c in _FLOAT_COLUMNS:
        src[c] = P[c]
    src["ra"], src["dec"] = sky_positions(P["obsid"], P["x"], P["y"], seed)
    files = pd.DataFrame(
        {
            "obsreg_id": src["obsreg_id"],
            "telescope": "CHANDRA",
            "instrument": "ACIS",
            "obsid": P["obsid"],
            "exposure": P["exposure"],
            "tstart": P["tstart"],
            "tstop": P["tstop"],
            "n_events": counts,
            "energy_source": "simulated",
            "path": "",
            "ra": src["ra"],
            "dec": src["dec"],
        }
    )
    return Population(events, files, src, component, seed=int(seed), options=asdict(opts))
