"""One row per source: detections of one sky source across observations, grouped.

A run's candidate catalogue (``candidates.parquet``) has one row per *detection* (an event
file: one source in one observation); a source seen in 40 overlapping observations would
fill 40 slots. :func:`group_detections` assigns each detection a ``source_id``:

* by a master-source id column when the files have one (``master_id``, ``msid``,
  ``csc_name``, ``master_source``, ``master_name``: the Chandra Source Catalog's master
  source, e.g. from the CSC TAP access), or
* by position (:mod:`serendip.catalog.posmatch`): two detections are linked when their
  separation is at most ``max(k * sqrt(e1**2 + e2**2), floor)`` with their 1-sigma position
  errors ``e1``, ``e2``; detections of the same observation are never linked directly (they
  are different sources of one source list); a source is a connected group of links
  (friends of friends).

:func:`candidates_by_source` then makes the source table ``candidates_by_source.parquet``:
its detections (obsreg_ids, ObsIDs, epochs), the best detection (rank, score, reasons,
rate, burst significance) and the **quiescent level elsewhere**: the count rate summed over
the source's other detections, with its Poisson error, and the ratio of the best
detection's rate to it. Sources are ordered by their best detection's rank (which carries
the candidate table's stated tie-break), so the order is total and deterministic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.catalog.posmatch import (
    MATCH_FLOOR_ARCSEC,
    MATCH_SIGMA,
    pairs_within,
    position_errors,
)

#: columns holding a master-source id (CSC master source), tried in this order
MASTER_ID_COLUMNS = ("master_id", "msid", "csc_name", "master_source", "master_name")

#: the leading columns of ``candidates_by_source.parquet``
SOURCE_COLUMNS = (
    "source_rank", "source_id", "n_detections", "ra", "dec", "pos_err_arcsec", "glat",
    "best_obsreg_id", "best_rank", "score", "best_reasons", "known_type", "best_rate",
    "best_rate_err", "best_burst_significance", "quiescent_rate", "quiescent_rate_err",
    "quiescent_exposure", "rate_ratio", "obsreg_ids", "obsids", "epochs_mjd", "tstart_first",
    "tstop_last", "grouped_by",
)  # fmt: skip


def master_id_column(files: pd.DataFrame) -> str | None:
    """The master-source id column of ``files`` (see :data:`MASTER_ID_COLUMNS`), or None."""
    low = {c.lower(): c for c in files.columns}
    return next((low[c] for c in MASTER_ID_COLUMNS if c in low), None)


def group_detections(
    files: pd.DataFrame,
    *,
    by: str = "auto",
    k: float = MATCH_SIGMA,
    floor_arcsec: float = MATCH_FLOOR_ARCSEC,
) -> pd.DataFrame:
    """Source of each detection: DataFrame (``obsreg_id``, ``source_id``, ``pos_err_arcsec``,
    ``grouped_by``) in the order of ``files``.

    ``by``: ``"auto"`` (a master-source id column when ``files`` has one, else position),
    ``"position"``, or the name of an id column of ``files``. Detections without a position
    (or without a master id) are sources of their own, counted in a notice. Source ids are
    ``"S<n>"`` (position groups, numbered in file order) or the master id.
    """
    from serendip.errors import InputError
    from serendip.notices import notice

    ids = files["obsreg_id"].astype(str).to_numpy()
    n = len(files)
    has_pos = {"ra", "dec"} <= set(files.columns) and bool(
        np.isfinite(pd.to_numeric(files["ra"], errors="coerce")).any())
    err = (position_errors(files, "detections (files.parquet)", stage="sources") if has_pos
           else np.full(n, np.nan))
    col = master_id_column(files) if by == "auto" else (None if by == "position" else by)
    if col is not None and col not in files.columns:
        raise InputError("files.parquet", f"sources.group_by = {by!r}: no such column; "
                         f"found {list(files.columns)[:30]}")
    if col is not None:
        mid = files[col].where(files[col].notna(), "").astype(str).str.strip().to_numpy()
        lone = mid == ""
        if lone.any():
            notice("sources", "no_master_id", f"{int(lone.sum())} of {n} detections have no "
                   f"{col}: each is a source of its own", count=int(lone.sum()), total=n)
        sid = np.where(lone, np.char.add("D_", ids.astype(str)), mid)
        return pd.DataFrame({"obsreg_id": ids, "source_id": sid.astype(str),
                             "pos_err_arcsec": err, "grouped_by": col})
    i = j = np.zeros(0, np.int64)
    if has_pos:
        ra = pd.to_numeric(files["ra"], errors="coerce").to_numpy(np.float64)
        dec = pd.to_numeric(files["dec"], errors="coerce").to_numpy(np.float64)
        nopos = ~(np.isfinite(ra) & np.isfinite(dec))
        i, j, _, _ = pairs_within(ra, dec, err, ra, dec, err, k=k, floor=floor_arcsec)
        keep = i < j
        if "obsid" in files.columns:
            obs = files["obsid"].astype(str).to_numpy()
            keep &= obs[i] != obs[j]
        i, j = i[keep], j[keep]
    else:
        nopos = np.ones(n, bool)
    if nopos.any():
        notice("sources", "no_position", f"{int(nopos.sum())} of {n} detections have no RA/Dec: "
               "each is a source of its own", count=int(nopos.sum()), total=n)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    # number the groups by their first detection in file order
    first = np.full(comp.max() + 1 if n else 0, n, np.int64)
    np.minimum.at(first, comp, np.arange(n))
    number = np.argsort(np.argsort(first))[comp] if n else comp
    width = max(len(str(number.max() + 1)) if n else 1, 4)
    sid = np.array([f"S{v + 1:0{width}d}" for v in number], dtype=object)
    return pd.DataFrame({"obsreg_id": ids, "source_id": sid.astype(str), "pos_err_arcsec": err,
                         "grouped_by": f"position ({k:g} sigma, floor {floor_arcsec:g} arcsec)"})


def candidates_by_source(
    candidates: pd.DataFrame, files: pd.DataFrame, groups: pd.DataFrame
) -> pd.DataFrame:
    """The source table: one row per source of ``groups`` (:func:`group_detections`).

    Columns (:data:`SOURCE_COLUMNS`): ``source_rank`` (1 = best; by the best detection's
    rank), ``source_id``, ``n_detections``, ``ra``/``dec`` [deg] (mean weighted by
    1/err**2) and ``pos_err_arcsec`` (its 1-sigma error), ``glat`` [deg], the best detection's
    ``best_obsreg_id``, ``best_rank``, ``score``, ``best_reasons``, ``best_rate`` and
    ``best_rate_err`` [counts/s], ``best_burst_significance`` [dex]; ``known_type`` (of any
    detection); the quiescent level elsewhere: ``quiescent_rate`` and ``quiescent_rate_err``
    [counts/s] (events over exposure summed over the other detections; NaN for a source seen
    once), ``quiescent_exposure`` [s], ``rate_ratio`` (best / quiescent); the detections:
    ``obsreg_ids``, ``obsids`` and ``epochs_mjd`` (each detection's start, ";"-separated in
    time order; epochs only when ``files`` has ``mjdref``), ``tstart_first``, ``tstop_last``
    [mission s]; ``grouped_by`` (the rule).
    """
    c = candidates.assign(obsreg_id=candidates["obsreg_id"].astype(str))
    g = groups.assign(obsreg_id=groups["obsreg_id"].astype(str)).set_index("obsreg_id")
    f = files.assign(obsreg_id=files["obsreg_id"].astype(str)).drop_duplicates("obsreg_id")
    f = f.set_index("obsreg_id").reindex(c["obsreg_id"])
    c = c.assign(
        source_id=g["source_id"].reindex(c["obsreg_id"]).fillna("").to_numpy(),
        _err=g["pos_err_arcsec"].reindex(c["obsreg_id"]).to_numpy(np.float64),
    )
    for name in ("ra", "dec", "obsid", "tstart", "tstop", "exposure", "n_events", "mjdref"):
        if name not in c.columns and name in f.columns:
            c[name] = f[name].to_numpy()
    c["source_id"] = np.where(c["source_id"] == "", "D_" + c["obsreg_id"], c["source_id"])
    n_ev = pd.to_numeric(c.get("n_events", np.nan), errors="coerce")
    expo = pd.to_numeric(c.get("exposure", c.get("duration", np.nan)), errors="coerce")
    c["_n"] = np.asarray(n_ev, np.float64) * np.ones(len(c))
    c["_t"] = np.asarray(expo, np.float64) * np.ones(len(c))
    c = c.sort_values(["rank"], kind="stable").reset_index(drop=True)
    # vectorised per source: the best detection is the first row of each group (rank order)
    sid = c["source_id"]
    best = c.drop_duplicates("source_id", keep="first").set_index("source_id")
    grp = c.groupby("source_id", sort=False)
    n_det = grp.size().reindex(best.index)
    w = 1.0 / np.maximum(c["_err"].fillna(1.0).to_numpy(np.float64), 1e-3) ** 2
    if {"ra", "dec"} <= set(c.columns):
        ra_r = np.radians(pd.to_numeric(c["ra"], errors="coerce").to_numpy(np.float64))
        de_r = np.radians(pd.to_numeric(c["dec"], errors="coerce").to_numpy(np.float64))
        ok = np.isfinite(ra_r) & np.isfinite(de_r)
        wk = np.where(ok, w, 0.0)
        vec = pd.DataFrame({
            "x": np.where(ok, wk * np.cos(de_r) * np.cos(ra_r), 0.0),
            "y": np.where(ok, wk * np.cos(de_r) * np.sin(ra_r), 0.0),
            "z": np.where(ok, wk * np.sin(de_r), 0.0), "w": wk, "source_id": sid,
        }).groupby("source_id", sort=False).sum().reindex(best.index)
        has = vec["w"].to_numpy() > 0
        ra = np.where(has, np.degrees(np.arctan2(vec["y"], vec["x"])) % 360.0, np.nan)
        dec = np.where(has, np.degrees(np.arctan2(vec["z"], np.hypot(vec["x"], vec["y"]))), np.nan)
        perr = np.where(has, 1.0 / np.sqrt(np.where(has, vec["w"], 1.0)), np.nan)
    else:
        ra = dec = perr = np.full(len(best), np.nan)
    tot = c.assign(_n=c["_n"].fillna(0.0), _t=c["_t"].fillna(0.0)).groupby(
        "source_id", sort=False)[["_n", "_t"]].sum().reindex(best.index)
    b_n, b_t = best["_n"].to_numpy(np.float64), best["_t"].to_numpy(np.float64)
    n_q = tot["_n"].to_numpy() - np.nan_to_num(b_n)
    t_q = tot["_t"].to_numpy() - np.nan_to_num(b_t)
    multi = n_det.to_numpy() > 1
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(multi & (t_q > 0), n_q / t_q, np.nan)
        q_err = np.where(multi & (t_q > 0), np.sqrt(np.maximum(n_q, 1.0)) / t_q, np.nan)
        b_rate = np.where(b_t > 0, b_n / b_t, np.nan)
        b_err = np.where(b_t > 0, np.sqrt(np.maximum(b_n, 1.0)) / b_t, np.nan)
        ratio = np.where(q > 0, b_rate / q, np.nan)
    by_time = c.sort_values(["source_id", "tstart"] if "tstart" in c else ["source_id"],
                            kind="stable")
    g_time = by_time.groupby("source_id", sort=False)
    joined = g_time["obsreg_id"].agg(";".join).reindex(best.index)
    obsids = (g_time["obsid"].agg(lambda s: ";".join(s.astype(str))).reindex(best.index)
              if "obsid" in c else pd.Series("", index=best.index))
    if "mjdref" in c and "tstart" in c:
        mjd = (pd.to_numeric(by_time["mjdref"], errors="coerce")
               + pd.to_numeric(by_time["tstart"], errors="coerce") / 86400.0)
        txt = mjd.map(lambda v: f"{v:.4f}" if np.isfinite(v) else "")
        epochs = txt.groupby(by_time["source_id"], sort=False).agg(
            lambda s: ";".join(v for v in s if v)).reindex(best.index)
    else:
        epochs = pd.Series("", index=best.index)
    if "known_type" in c:
        kt = c[c["known_type"].fillna("").astype(str) != ""].drop_duplicates("source_id")
        known = kt.set_index("source_id")["known_type"].astype(str).reindex(best.index).fillna("")
    else:
        known = pd.Series("", index=best.index)
    tstart = (g_time["tstart"].min().reindex(best.index).to_numpy(np.float64) if "tstart" in c
              else np.full(len(best), np.nan))
    tstop = (g_time["tstop"].max().reindex(best.index).to_numpy(np.float64) if "tstop" in c
             else np.full(len(best), np.nan))
    out = pd.DataFrame({
        "source_id": best.index.astype(str),
        "n_detections": n_det.to_numpy(np.int64),
        "ra": ra, "dec": dec, "pos_err_arcsec": perr,
        "best_obsreg_id": best["obsreg_id"].astype(str).to_numpy(),
        "best_rank": best["rank"].to_numpy(np.int64),
        "score": best["score"].to_numpy(np.float64),
        "best_reasons": (best["reasons"].fillna("").astype(str).to_numpy() if "reasons" in best
                         else ""),
        "known_type": known.to_numpy(),
        "best_rate": b_rate, "best_rate_err": b_err,
        "best_burst_significance": (best["burst_significance"].to_numpy(np.float64)
                                    if "burst_significance" in best else np.nan),
        "quiescent_rate": q, "quiescent_rate_err": q_err,
        "quiescent_exposure": np.where(multi, t_q, 0.0),
        "rate_ratio": ratio,
        "obsreg_ids": joined.to_numpy(), "obsids": obsids.to_numpy(),
        "epochs_mjd": epochs.fillna("").to_numpy(),
        "tstart_first": tstart, "tstop_last": tstop,
    })
    if not len(out):
        return pd.DataFrame({col: [] for col in SOURCE_COLUMNS})
    out = out.sort_values("best_rank", kind="stable").reset_index(drop=True)
    out.insert(0, "source_rank", np.arange(1, len(out) + 1))
    out["glat"] = _glat(out["ra"].to_numpy(np.float64), out["dec"].to_numpy(np.float64))
    rule = groups["grouped_by"].iloc[0] if len(groups) else ""
    out["grouped_by"] = rule
    return out[list(SOURCE_COLUMNS)]


def _glat(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    ok = np.isfinite(ra) & np.isfinite(dec)
    b = np.full(len(ra), np.nan)
    if ok.any():
        b[ok] = SkyCoord(ra[ok] * u.deg, dec[ok] * u.deg).galactic.b.deg
    return b
