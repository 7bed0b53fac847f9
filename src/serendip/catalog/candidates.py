"""The ranked, explained candidate catalogue and its writers.

Four independent reasons can flag a file; each is put on a common [0, 1]
"percentile-like" scale and the file's **score is the largest of the four**, so any
one reason on its own can lift a file to the top:

1. **Anomaly** (no known analog needed): ``s_anom`` = the file's percentile of the
   unsupervised anomaly score (isolation forest on the features by default) - the
   fraction of files scoring at or below it. A file in the anomaly top 2% has
   ``s_anom >= 0.98``.
2. **Analog of a known transient**: if the file is the r-th nearest neighbour
   (r = 1..k) of a known transient in the standardised feature space,
   ``s_nn = 1 - nn_span * r / (k + 1)``; with the defaults (``nn_span = 0.02``,
   ``k = 10``) the nearest analog ranks like the anomaly top 0.2% and the 10th like
   the top 1.8%. The best (smallest) rank over all known transients counts.
3. **Cluster dominated by known flares or dips**: members of such a cluster get
   ``s_cl = cluster_floor + (1 - cluster_floor) * s_anom`` (default floor 0.95: at
   worst like the anomaly top 5%, and ordered by their anomaly score within). A
   cluster (not noise) is *dominated* by type T (T matching one of
   ``dominated_types``, substring match, so "stellar_flare" counts as a flare) when
   T is the most frequent known type inside, holds at least ``min_known`` known
   members (default 3) and at least half of the cluster's known members, and the cluster is
   enriched in T: (known T inside / cluster size) >= ``enrichment`` x (known T in the
   catalogue / catalogue size).

4. **Burst scan statistic** (counts-aware, no known analog needed): when the event features
   hold ``burst_sig`` (:mod:`serendip.represent.burst`: ``-log10`` of the nominal chance
   probability of the most populated time window under a constant rate, with a partial
   trials correction; not a calibrated probability - the run's ``significance`` stage gives
   the empirical false-alarm probability, :mod:`serendip.catalog.significance`),
   files with ``burst_sig >= significance_min`` get ``s_sig`` = their percentile of
   ``burst_sig``. A bright flare whose other features look ordinary still rises.

``score = max(s_anom, s_nn, s_cl, s_sig)``; ``rank`` 1 = best. Many files share a score
(every file whose best reason is at the top of its scale scores 1.0), so **ties are broken
by a stated secondary key** (:data:`TIE_BREAK`): the raw ``anomaly_score`` (higher first),
then ``burst_significance`` (the burst scan statistic, higher first), then ``obsreg_id`` (ascending), so the
order is deterministic and does not depend on the input order. Both secondary columns are
kept in the table and the rule is in its metadata (``TIEBREAK`` header keyword). ``reasons`` spells out which of them apply, e.g. ``"anomaly-score top
2%; 3rd nearest neighbour of known flare 10996_49; cluster 7 dominated by known flares
(5 of 6 known members)"``. Known transients from the input list stay in the catalogue
(``known_type`` non-empty) and say so in ``reasons``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binom

from serendip.catalog.anomaly import anomaly_scores
from serendip.catalog.neighbours import known_neighbours, nearest_known
from serendip.cluster.summary import cluster_summary, known_types_for
from serendip.embed._base import check_features
from serendip.errors import InputError

CANDIDATE_FORMATS = ("parquet", "fits", "csv")
#: text columns of the catalogue ("" = none)
STRING_COLUMNS = (
    "obsreg_id",
    "reasons",
    "knn_known",
    "knn_known_type",
    "nearest_known",
    "nearest_known_type",
    "cluster_dominated_by",
    "known_type",
)
#: order of the catalogue: the first key decides, the next ones break its ties
TIE_BREAK = "score, anomaly_score, burst_significance desc; obsreg_id asc"
_EMPTY_KNOWN = pd.DataFrame({"obsreg_id": pd.Series(dtype=object), "type": pd.Series(dtype=object)})


def ordinal(r: int) -> str:
    """1 -> '1st', 2 -> '2nd', 3 -> '3rd', 11 -> '11th'."""
    suffix = "th" if 10 <= r % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(r % 10, "th")
    return f"{r}{suffix}"


def _plural(t: str) -> str:
    return t if t.endswith("s") else t + "s"


def _top_label(top_frac: np.ndarray) -> np.ndarray:
    """Fraction from the top (0-1] -> '2%' / '0.3%' style text."""
    pct = 100.0 * top_frac
    whole = np.ceil(pct - 1e-9).astype(int).astype(str)
    small = np.char.mod("%.1g", np.maximum(pct, 0.01))
    return np.where(pct >= 1.0, whole, small)


def dominated_clusters(
    clusters: np.ndarray,
    known_types: np.ndarray,
    dominated_types: Sequence[str] = ("flare", "dip"),
    min_known: int = 3,
    enrichment: float = 3.0,
    max_chance: float = 1e-3,
) -> pd.DataFrame:
    """Clusters dominated by known transients of ``dominated_types`` (rules in module doc).

    Besides the rules in the module docstring, the excess must be unlikely by chance:
    ``P(Binomial(size, global fraction of type T) >= n_T) <= max_chance``, so a large
    cluster that happens to hold a couple of known members is not flagged.

    Returns DataFrame(``cluster``, ``type``, ``n_type`` known members of that type,
    ``n_known`` known members, ``size``).
    """
    summ = cluster_summary(clusters, known_types)
    n = len(clusters)
    kt = np.asarray(known_types, dtype=object)
    rows = []
    for _, r in summ.iterrows():  # one row per cluster (few), not per file
        t = r["dominant_known_type"]
        if r["cluster"] == 0 or not t or not any(d in t for d in dominated_types):
            continue
        n_t = int(r["dominant_known_count"])
        global_frac = float(np.count_nonzero(kt == t)) / n
        chance = float(binom.sf(n_t - 1, int(r["size"]), global_frac)) if global_frac > 0 else 1.0
        if (
            n_t >= min_known
            and n_t >= 0.5 * r["n_known"]
            and n_t / r["size"] >= enrichment * global_frac
            and chance <= max_chance
        ):
            rows.append((int(r["cluster"]), t, n_t, int(r["n_known"]), int(r["size"])))
    return pd.DataFrame(rows, columns=["cluster", "type", "n_type", "n_known", "size"])


def build_candidates(
    obsreg_id,
    X,
    clusters=None,
    known: pd.DataFrame | None = None,
    event_features: pd.DataFrame | None = None,
    embedding=None,
    *,
    anomaly: np.ndarray | None = None,
    detector=None,
    k: int = 10,
    nn_span: float = 0.02,
    cluster_floor: float = 0.95,
    dominated_types: Sequence[str] = ("flare", "dip"),
    min_known: int = 3,
    enrichment: float = 3.0,
    reason_top: float = 0.05,
    standardize: bool = True,
    random_state: int = 0,
    significance: np.ndarray | None = None,
    significance_min: float = 3.0,
) -> pd.DataFrame:
    """Rank every file and explain why (see the module docstring for the score).

    Parameters
    ----------
    obsreg_id : (n_files,) unique file ids.
    X : (n_files, n_features) feature matrix used for the anomaly score and the
        neighbour search (learned features and/or event features).
    clusters : (n_files,) int cluster labels, 0 = noise (None: no cluster reason).
    known : DataFrame(obsreg_id, type) of known transients (None: none).
    event_features : DataFrame with the per-file event features to append; either
        aligned with ``obsreg_id`` or with an ``obsreg_id`` column to join on.
    embedding : (n_files, 2) coordinates, stored as ``emb_x``, ``emb_y``.
    anomaly : precomputed anomaly scores (higher = more anomalous); else computed with
        ``detector`` (default isolation forest, ``random_state``).
    k, nn_span, cluster_floor, dominated_types, min_known, enrichment : see module doc.
    reason_top : files in this top fraction of anomaly score get an anomaly reason.
    standardize : robust-standardise features before the neighbour search.
    significance : (n_files,) burst significance [dex]; default the ``burst_sig`` column of
        ``event_features`` when present (None and no column: no significance reason).
    significance_min : smallest burst significance [dex] that counts as a reason.

    Returns
    -------
    DataFrame sorted by ``rank`` (ties of ``score`` broken by :data:`TIE_BREAK`, also in
    ``attrs["TIEBREAK"]``): obsreg_id, rank, score, reasons, anomaly_score,
    anomaly_percentile, nn_score, cluster_score, significance_score, burst_significance
    [dex, 0 when none], knn_known, knn_known_type, knn_rank
    (0 = not among any known transient's k nearest), nearest_known,
    nearest_known_type, nearest_known_distance, cluster, cluster_dominated_by,
    known_type, [emb_x, emb_y], then the event features.
    """
    ids = np.asarray(obsreg_id).astype(str)
    n = len(ids)
    X = check_features(X)
    if X.shape[0] != n:
        raise InputError(None, f"features have {X.shape[0]} rows for {n} obsreg_id values")
    if len(set(ids)) != n:
        raise InputError(None, "obsreg_id values are not unique")
    known = _EMPTY_KNOWN if known is None else known
    kt = known_types_for(ids, known)

    # 1. anomaly
    if anomaly is None:
        anomaly = anomaly_scores(X, detector=detector, random_state=random_state)
    anomaly = np.asarray(anomaly, dtype=np.float64)
    if anomaly.shape != (n,):
        raise InputError(None, f"anomaly scores have shape {anomaly.shape}, expected ({n},)")
    s_anom = pd.Series(anomaly).rank(method="max").to_numpy() / n  # fraction at or below
    top_frac = 1.0 - s_anom + 1.0 / n  # fraction at or above (1/n for the top file)

    # 2. analogs of known transients
    nbrs = known_neighbours(X, ids, known, k=k, standardize=standardize)
    knn_rank = np.zeros(n, dtype=np.int64)
    knn_known = np.full(n, "", dtype=object)
    knn_type = np.full(n, "", dtype=object)
    nn_reason = np.full(n, "", dtype=object)
    if len(nbrs):
        best = nbrs.sort_values(["rank", "distance"], kind="stable").drop_duplicates("index")
        idx = best["index"].to_numpy()
        knn_rank[idx] = best["rank"].to_numpy()
        knn_known[idx] = best["known_id"].to_numpy()
        knn_type[idx] = best["known_type"].to_numpy()
        # reason text: up to two known transients per file, best ranks first
        two = (
            nbrs.sort_values(["index", "rank", "distance"], kind="stable").groupby("index").head(2)
        )
        words = (
            two["rank"].map(ordinal)
            + " nearest neighbour of known "
            + two["known_type"].astype(str)
            + " "
            + two["known_id"].astype(str)
            + " (d="
            + two["distance"].map(lambda d: f"{d:.2f}")
            + ")"
        )
        joined = words.groupby(two["index"].to_numpy()).agg("; ".join)
        nn_reason[joined.index.to_numpy()] = joined.to_numpy()
    s_nn = np.where(knn_rank > 0, 1.0 - nn_span * knn_rank / (k + 1.0), 0.0)

    # 3. clusters dominated by known flares / dips
    if clusters is None:
        clusters = np.zeros(n, dtype=np.int64)
    clusters = np.asarray(clusters, dtype=np.int64)
    if clusters.shape != (n,):
        raise InputError(None, f"cluster labels have shape {clusters.shape}, expected ({n},)")
    dom = dominated_clusters(clusters, kt, dominated_types, min_known, enrichment)
    dom_type = np.full(n, "", dtype=object)
    cl_reason = np.full(n, "", dtype=object)
    if len(dom):
        lut_t = pd.Series(dom["type"].to_numpy(), index=dom["cluster"].to_numpy())
        text = (
            "cluster "
            + dom["cluster"].astype(str)
            + " dominated by known "
            + dom["type"].map(_plural)
            + " ("
            + dom["n_type"].astype(str)
            + " of "
            + dom["n_known"].astype(str)
            + " known members)"
        )
        lut_r = pd.Series(text.to_numpy(), index=dom["cluster"].to_numpy())
        member = np.isin(clusters, dom["cluster"].to_numpy())
        dom_type[member] = lut_t.reindex(clusters[member]).to_numpy()
        cl_reason[member] = lut_r.reindex(clusters[member]).to_numpy()
    s_cl = np.where(dom_type != "", cluster_floor + (1.0 - cluster_floor) * s_anom, 0.0)

    # 4. burst significance
    if (
        significance is None
        and event_features is not None
        and "burst_sig" in event_features.columns
    ):
        bf = event_features
        if "obsreg_id" in bf.columns:
            bf = (
                bf.assign(obsreg_id=bf["obsreg_id"].astype(str)).set_index("obsreg_id").reindex(ids)
            )
        significance = bf["burst_sig"].to_numpy(dtype=np.float64)
        width = (
            bf["burst_width_frac"].to_numpy(dtype=np.float64)
            if "burst_width_frac" in bf.columns
            else None
        )
    else:
        width = None
    if significance is not None:
        sig = np.nan_to_num(np.asarray(significance, dtype=np.float64), nan=0.0)
        if sig.shape != (n,):
            raise InputError(None, f"burst significance has shape {sig.shape}, expected ({n},)")
        s_sig = np.where(
            sig >= significance_min, pd.Series(sig).rank(method="max").to_numpy() / n, 0.0
        )
        sig_text = pd.Series(sig).map(lambda v: f"burst scan statistic {v:.1f}")
        if width is not None:
            sig_text = sig_text + pd.Series(width).map(
                lambda w: f" in {w:.1%} of the interval" if np.isfinite(w) else ""
            )
        sig_reason = np.where(s_sig >= 1.0 - reason_top, sig_text.to_numpy(), "")
    else:
        sig = np.zeros(n)
        s_sig = np.zeros(n)
        sig_reason = np.full(n, "", dtype=object)

    score = np.maximum(np.maximum(np.maximum(s_anom, s_nn), s_cl), s_sig)

    # reasons, vectorised over files
    anom_reason = np.where(
        top_frac <= reason_top, np.char.add("anomaly-score top ", _top_label(top_frac)), ""
    )
    anom_reason = np.char.add(anom_reason.astype(str), np.where(top_frac <= reason_top, "%", ""))
    known_reason = np.where(kt != "", "known " + kt.astype(str) + " (input list)", "")
    parts = pd.DataFrame(
        {"k": known_reason, "a": anom_reason, "s": sig_reason, "n": nn_reason, "c": cl_reason}
    ).astype(str)
    reasons = parts["k"]
    for col in ("a", "s", "n", "c"):
        sep = np.where((reasons != "") & (parts[col] != ""), "; ", "")
        reasons = reasons + sep + parts[col]
    reasons = reasons.where(reasons != "", "not flagged")

    near = nearest_known(X, ids, known, standardize=standardize)
    out = pd.DataFrame(
        {
            "obsreg_id": ids,
            "rank": np.zeros(n, dtype=np.int64),
            "score": score,
            "reasons": reasons.to_numpy(),
            "anomaly_score": anomaly,
            "anomaly_percentile": s_anom,
            "nn_score": s_nn,
            "cluster_score": s_cl,
            "significance_score": s_sig,
            "burst_significance": sig,
            "knn_known": knn_known,
            "knn_known_type": knn_type,
            "knn_rank": knn_rank,
            "nearest_known": near["nearest_known"].to_numpy(),
            "nearest_known_type": near["nearest_known_type"].to_numpy(),
            "nearest_known_distance": near["nearest_known_distance"].to_numpy(),
            "cluster": clusters,
            "cluster_dominated_by": dom_type,
            "known_type": kt,
        }
    )
    if embedding is not None:
        emb = np.asarray(
            embedding.to_numpy() if hasattr(embedding, "to_numpy") else embedding, dtype=np.float64
        )
        if emb.ndim != 2 or emb.shape[0] != n or emb.shape[1] < 2:
            raise InputError(None, f"embedding has shape {emb.shape}, expected ({n}, 2)")
        out["emb_x"] = emb[:, 0]
        out["emb_y"] = emb[:, 1]
    if event_features is not None:
        out = _append_features(out, event_features)
    order = np.lexsort((ids, -sig, -anomaly, -score))  # TIE_BREAK: last key decides first
    out = out.iloc[order].reset_index(drop=True)
    out["rank"] = np.arange(1, n + 1, dtype=np.int64)
    out.attrs["TIEBREAK"] = TIE_BREAK
    return out


def _append_features(out: pd.DataFrame, feats: pd.DataFrame) -> pd.DataFrame:
    feats = feats.copy()
    if "obsreg_id" in feats.columns:
        feats["obsreg_id"] = feats["obsreg_id"].astype(str)
        if feats["obsreg_id"].duplicated().any():
            raise InputError(None, "event features list an obsreg_id twice")
        missing = ~out["obsreg_id"].isin(feats["obsreg_id"])
        if missing.any():
            raise InputError(
                None,
                f"event features lack {int(missing.sum())} file(s), e.g. {out['obsreg_id'][missing].iloc[0]!r}",
            )
        feats = feats.set_index("obsreg_id").reindex(out["obsreg_id"]).reset_index(drop=True)
    elif len(feats) != len(out):
        raise InputError(
            None,
            f"event features have {len(feats)} rows for {len(out)} files and no obsreg_id column",
        )
    else:
        feats = feats.reset_index(drop=True)
    rename = {c: f"feat_{c}" for c in feats.columns if c in out.columns}
    return pd.concat([out, feats.rename(columns=rename)], axis=1)


#: per-file columns carried into the candidate catalogue (after obsreg_id), when present
FILE_COLUMNS_IN_CANDIDATES = ("ra", "dec", "obsid", "tstart", "tstop", "exposure")


def with_observation_columns(cands: pd.DataFrame, files: pd.DataFrame,
                             gtis: pd.DataFrame | None = None) -> pd.DataFrame:
    """The candidates with where and when each file was observed.

    Joined from ``files`` on obsreg_id: ``ra``, ``dec`` [deg, ICRS], ``obsid``, ``tstart``,
    ``tstop`` [mission s], ``exposure`` [s]; derived: ``glon``, ``glat`` [deg, Galactic],
    ``rate_err`` [ct/s] (``sqrt(max(n_events, 1)) / duration``), ``burst_time`` [mission s]
    (centre of the strongest burst window, ``tstart + burst_t_frac * duration``) and
    ``burst_width`` [s] (``burst_width_frac * duration``) and, when ``files`` has ``mjdref``,
    ``burst_time_utc`` (UTC ISO, each file's time system). With the good-time intervals
    ``gtis`` (``gtis.parquet``: the axis the burst statistics ran on, gaps removed and
    weighted by the background template) the burst window's ends are mapped back from that
    axis to mission time (:func:`serendip.represent.livetime.live_to_time`) instead. Files
    without RA/Dec get no sky columns, which is counted as a notice.
    """
    from serendip.notices import notice

    out = cands.copy()
    cols = [c for c in FILE_COLUMNS_IN_CANDIDATES if c in files.columns and c not in out]
    if cols:
        f = files.assign(obsreg_id=files["obsreg_id"].astype(str)).drop_duplicates("obsreg_id")
        f = f.set_index("obsreg_id").reindex(out["obsreg_id"].astype(str))[cols]
        for j, c in enumerate(cols):
            out.insert(1 + j, c, f[c].to_numpy())
    if {"ra", "dec"} <= set(out.columns):
        from astropy import units as u
        from astropy.coordinates import SkyCoord

        ok = np.isfinite(out["ra"].to_numpy(np.float64)) & np.isfinite(
            out["dec"].to_numpy(np.float64)
        )
        gal = SkyCoord(
            np.where(ok, out["ra"], 0.0) * u.deg, np.where(ok, out["dec"], 0.0) * u.deg
        ).galactic
        at = out.columns.get_loc("dec") + 1
        out.insert(at, "glon", np.where(ok, gal.l.deg, np.nan))
        out.insert(at + 1, "glat", np.where(ok, gal.b.deg, np.nan))
    else:
        notice(
            "candidates",
            "no_sky_position",
            "the files carry no RA/Dec: the candidate catalogue has no sky coordinates",
            count=len(out),
            total=len(out),
        )
    if {"n_events", "duration"} <= set(out.columns):
        dur = out["duration"].to_numpy(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            err = np.sqrt(np.maximum(out["n_events"].to_numpy(np.float64), 1.0)) / dur
        at = out.columns.get_loc("rate") + 1 if "rate" in out else len(out.columns)
        out.insert(at, "rate_err", np.where(dur > 0, err, np.nan))
        if {"burst_t_frac", "burst_width_frac", "tstart"} <= set(out.columns):
            out["burst_time"] = (
                out["tstart"].to_numpy(np.float64) + out["burst_t_frac"].to_numpy(np.float64) * dur
            )
            out["burst_width"] = out["burst_width_frac"].to_numpy(np.float64) * dur
            if gtis is not None and len(gtis):
                from serendip.represent.livetime import live_to_time

                c = out["burst_t_frac"].to_numpy(np.float64)
                h = 0.5 * out["burst_width_frac"].to_numpy(np.float64)
                ids = out["obsreg_id"].astype(str).to_numpy()
                lo, hi = live_to_time(ids, c - h, gtis), live_to_time(ids, c + h, gtis)
                ok = np.isfinite(lo) & np.isfinite(hi)
                out["burst_time"] = np.where(ok, 0.5 * (lo + hi), out["burst_time"])
                out["burst_width"] = np.where(ok, hi - lo, out["burst_width"])
            if "mjdref" in files.columns:
                out["burst_time_utc"] = _utc_of(out["obsreg_id"], out["burst_time"], files)
    return out


def _utc_of(ids: pd.Series, t: pd.Series, files: pd.DataFrame) -> np.ndarray:
    """UTC ISO strings of mission times ``t`` [s] of the files ``ids``, with each file's
    ``mjdref``, ``timesys`` and ``time_origin`` (files.parquet); "" where unknown."""
    from serendip.io.timesys import utc_iso

    f = files.assign(obsreg_id=files["obsreg_id"].astype(str)).drop_duplicates("obsreg_id")
    f = f.set_index("obsreg_id").reindex(ids.astype(str))
    ref = f["mjdref"].to_numpy(np.float64)
    sys_ = (f["timesys"] if "timesys" in f.columns else pd.Series("TT", index=f.index)).fillna("")
    origin = (f["time_origin"].to_numpy(np.float64) if "time_origin" in f.columns
              else np.zeros(len(f)))
    sec = t.to_numpy(np.float64) + np.nan_to_num(origin)
    out = np.full(len(sec), "", dtype=object)
    keys = pd.DataFrame({"ref": ref, "sys": sys_.astype(str).to_numpy()})
    for (r, ts), idx in keys.groupby(["ref", "sys"]).indices.items():  # one per observation
        out[idx] = utc_iso(sec[idx], r, ts or "TT")
    return out


def write_candidates(
    candidates: pd.DataFrame,
    run_dir: str | Path,
    stem: str = "candidates",
    formats: Sequence[str] = CANDIDATE_FORMATS,
    meta: dict[str, str] | None = None,
) -> dict[str, Path]:
    """Write ``RUN_DIR/candidates.parquet`` (and ``.fits``, ``.csv``) atomically.

    Returns {format: path}. String columns are written as plain strings ("" for none)
    so every format reads back the same table. Column units (:mod:`serendip.io.units`) go
    into the FITS header and the CSV's ECSV header, with the header keywords ``meta``
    (e.g. :func:`serendip.io.units.provenance`: serendip version, configuration hash).
    """
    from serendip.io.tables import write_table
    from serendip.io.units import provenance, with_units

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    df = candidates.copy()
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].fillna("").astype(str)
    with_units(df, meta=meta or provenance())
    paths = {}
    for fmt in formats:
        if fmt not in CANDIDATE_FORMATS:
            raise InputError(
                None, f"unknown candidate format {fmt!r}; use {list(CANDIDATE_FORMATS)}"
            )
        paths[fmt] = write_table(df, run_dir / f"{stem}.{fmt}")
    return paths


def read_candidates(path: str | Path) -> pd.DataFrame:
    """Read a candidate catalogue written by :func:`write_candidates` (any of its formats)."""
    from serendip.io.tables import read_table

    df = read_table(path)
    if "obsreg_id" not in df.columns or "rank" not in df.columns:
        raise InputError(path, "not a candidate catalogue: needs obsreg_id and rank columns")
    for c in df.columns:
        if (
            c in STRING_COLUMNS
            or df[c].dtype == object
            or pd.api.types.is_string_dtype(df[c].dtype)
        ):
            df[c] = df[c].fillna("").astype(str).astype(object)
    return df.sort_values("rank", kind="stable").reset_index(drop=True)
