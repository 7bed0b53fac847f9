"""Instrumental-artefact flags of the candidates: the instrument's false positives, demoted.

:func:`flag_artefacts` joins the ingest's per-source diagnostics (``artefacts.parquet``,
:mod:`serendip.io.artefacts`) onto the candidate table and sets one boolean column per flag:

* ``near_edge`` (not demoted): median chip position within dither amplitude + r90 of a chip
  edge, ACIS node boundary or bad column.
* ``dither_period`` (demoted): power at the epoch's dither periods (or first harmonics) with a
  false-alarm probability below 10^-:data:`DITHER_DEX` and at least :data:`DITHER_RATIO` x the
  median power at nearby periods.
* ``edge_dither`` (demoted): near_edge and a dither-like light curve: the dither-power test at
  10^-:data:`EDGE_DITHER_DEX`, or a gap (dip) of at least :data:`EDGE_GAP_DEX` stronger than its
  burst (``gap_sig >= burst_sig``).
* ``single_pixel`` (demoted): a chain of >= :data:`MIN_CHAIN` events in one pixel (or 2x2 block)
  over consecutive frames, improbable from the source's own rate (10^-:data:`CHAIN_DEX`),
  holding >= :data:`CHAIN_PURITY` of the source's events during it, that lies in the strongest
  burst window or holds >= :data:`CHAIN_FRACTION` of the source's events (afterglow, hot pixel).
* ``streak`` (demoted): a brighter source's readout streak expected to give >=
  :data:`STREAK_FRACTION` of the source's counts.
* ``pileup`` (not demoted): counts per frame above the instrument's threshold in some bin of
  the source's counts-per-frame time series (``pileup.parquet``): the reason gives the peak,
  the share of the good time above the threshold and when, and says when the source's
  strongest burst lies in that interval (its peak is then flattened: a lower limit).
* ``out_of_time`` (not demoted): a bright source (>= :data:`OOT_MIN_COUNTS` expected
  out-of-time events) on a camera and mode with out-of-time events (mission registry: XMM pn
  6.3% in full frame, MOS 0.35%, ACIS 1.3%): that share of its counts is smeared along its
  readout column, stated, not corrected.
* ``dead_time`` (not demoted): dead-time fraction above :data:`DEAD_FRACTION` (NuSTAR, NICER).

Flagged candidates stay in the table: a demoting flag multiplies the score by
:data:`DEMOTE` (once, however many flags), the table is re-ranked, and every flag (demoting
or not) is spelt out in ``reasons``; each flag's count is a notice. Candidates without
diagnostics (simulated files, event tables) get False and a notice.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.notices import notice

#: score factor of a candidate with a demoting flag
DEMOTE = 0.5
#: dither_period: -log10 false-alarm probability of the dither power...
DITHER_DEX = 3.0
#: ...and its ratio to the median power at nearby periods
DITHER_RATIO = 5.0
#: edge_dither: the weaker dither-power test for a source already at an edge
EDGE_DITHER_DEX = 2.0
#: edge_dither: a gap (dip) at least this significant [dex] and stronger than the burst
EDGE_GAP_DEX = 2.0
#: single_pixel: shortest chain, its -log10 chance probability, and the share of the source's
#: events that flags it without a burst
MIN_CHAIN, CHAIN_DEX, CHAIN_FRACTION = 3, 3.0, 0.2
#: ...and the chain's least share of the source's events during it (a real flare's photons
#: spread over the PSF and the dither path)
CHAIN_PURITY = 0.8
#: a source's strongest burst counts for single_pixel above this significance [dex]
BURST_DEX = 2.0
#: streak: expected streak counts as a fraction of the source's counts
STREAK_FRACTION = 0.3
#: dead_time: largest dead-time fraction in a 100 s bin
DEAD_FRACTION = 0.1
#: out_of_time: least expected out-of-time events of a source for the statement
OOT_MIN_COUNTS = 10.0
#: the flags, in the order their reasons are written; the demoting ones
FLAGS = ("edge_dither", "dither_period", "single_pixel", "streak", "pileup", "out_of_time",
         "dead_time", "near_edge")
DEMOTING = ("edge_dither", "dither_period", "single_pixel", "streak")


def _col(df: pd.DataFrame, name: str, fill: float = np.nan) -> np.ndarray:
    return df[name].to_numpy(np.float64) if name in df.columns else np.full(len(df), fill)


def artefact_flags(cands: pd.DataFrame, artefacts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The flags (one bool column per :data:`FLAGS`) and their reason texts (same shape,
    "" where not set) of each candidate row, from the diagnostics ``artefacts`` (joined on
    ``obsreg_id``). Uses the candidates' ``burst_sig``, ``gap_sig``, ``burst_time``,
    ``burst_width`` and ``n_events`` when present."""
    a = artefacts.assign(obsreg_id=artefacts["obsreg_id"].astype(str)).drop_duplicates("obsreg_id")
    a = a.set_index("obsreg_id").reindex(cands["obsreg_id"].astype(str)).reset_index(drop=True)
    n = len(cands)
    edge, amp, r90 = _col(a, "edge_dist_pix"), _col(a, "dither_amp_pix"), _col(a, "r90_pix")
    z2, ref, fap = _col(a, "dither_z2"), _col(a, "dither_ref_z2"), _col(a, "dither_fap_dex")
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = z2 / np.maximum(ref, 1e-9)
    near = edge < amp + np.nan_to_num(r90, nan=0.0)
    dither = (fap >= DITHER_DEX) & (ratio >= DITHER_RATIO)
    burst = _col(cands, "burst_sig", 0.0)
    gap = _col(cands, "gap_sig", 0.0)
    dip = gap >= np.maximum(burst, EDGE_GAP_DEX)
    edge_dither = near & (((fap >= EDGE_DITHER_DEX) & (ratio >= DITHER_RATIO)) | dip)
    chain, chain_fap = _col(a, "afterglow_max", 0.0), _col(a, "afterglow_fap_dex", 0.0)
    c0, c1 = _col(a, "afterglow_t0"), _col(a, "afterglow_t1")
    bt, bw = _col(cands, "burst_time"), _col(cands, "burst_width")
    n_ev = _col(cands, "n_events")
    in_burst = (burst >= BURST_DEX) & (c1 >= bt - bw) & (c0 <= bt + bw)
    big = chain >= CHAIN_FRACTION * np.nan_to_num(n_ev, nan=np.inf)
    pure = _col(a, "afterglow_purity", 1.0) >= CHAIN_PURITY
    single = (chain >= MIN_CHAIN) & (chain_fap >= CHAIN_DEX) & pure & (in_burst | big)
    streak = _col(a, "streak_frac", 0.0) >= STREAK_FRACTION
    cpf, thr = _col(a, "counts_per_frame_max"), _col(a, "pileup_threshold")
    pileup = cpf >= thr
    p_frac, p0, p1 = _col(a, "pileup_time_frac"), _col(a, "pileup_t0"), _col(a, "pileup_t1")
    piled_burst = pileup & (burst >= BURST_DEX) & (bt + bw >= p0) & (bt - bw <= p1)
    oot_frac, oot_n = _col(a, "oot_fraction"), _col(a, "oot_counts")
    oot = oot_n >= OOT_MIN_COUNTS
    dead = _col(a, "dead_frac_max") >= DEAD_FRACTION
    flags = pd.DataFrame({"edge_dither": edge_dither, "dither_period": dither,
                          "single_pixel": single, "streak": streak, "pileup": pileup,
                          "out_of_time": oot, "dead_time": dead, "near_edge": near},
                         index=cands.index)

    def text(mask, fmt, *cols):
        out = np.full(n, "", dtype=object)
        for i in np.flatnonzero(mask):
            out[i] = fmt.format(*(c[i] for c in cols))
        return out

    texts = pd.DataFrame({
        "edge_dither": text(edge_dither, "edge_dither: {:.0f} px from a chip edge, node boundary or bad "
                            "column (dither {:.0f} px + r90 {:.0f} px) with dither-like variability",
                            edge, amp, np.nan_to_num(r90)),
        "dither_period": text(dither, "dither_period: power Z2={:.0f} at the dither periods "
                              "({:.0f}x nearby periods, FAP 1e-{:.1f})", z2, ratio, fap),
        "single_pixel": text(single, "single_pixel: {:.0f} events in one pixel over consecutive "
                             "frames (chance 1e-{:.1f}): afterglow or hot pixel", chain, chain_fap),
        "streak": text(streak, "streak: a brighter source's readout streak gives ~{:.0%} of its "
                       "counts", _col(a, "streak_frac", 0.0)),
        "pileup": text(pileup, "pileup: up to {:.2f} counts per frame (threshold {:.2f})", cpf, thr)
        + text(pileup & np.isfinite(p_frac), ", above it for {:.0%} of the good time ({:.0f}-{:.0f} s)",
               p_frac, p0, p1)
        + text(piled_burst, ", including its burst: the peak is flattened (a lower limit)"),
        "out_of_time": text(oot, "out_of_time: ~{:.2%} of its counts (~{:.0f} events) are "
                            "out-of-time events smeared along its readout column (not corrected)",
                            oot_frac, oot_n),
        "dead_time": text(dead, "dead_time: up to {:.0%} dead time", _col(a, "dead_frac_max")),
        "near_edge": text(near & ~edge_dither, "near_edge: {:.0f} px from a chip edge, node "
                          "boundary or bad column", edge),
    }, index=cands.index)
    return flags, texts


def flag_artefacts(cands: pd.DataFrame, artefacts: pd.DataFrame | None) -> pd.DataFrame:
    """The candidates with the artefact flag columns (:data:`FLAGS`), demoted and re-ranked.

    ``artefacts``: the ingest's diagnostics (``obsreg_id`` and the columns of
    :data:`serendip.io.artefacts.ARTEFACT_COLUMNS`); None or rows missing for some candidates:
    those get False, counted in
    a notice. Rows are re-sorted by the new ``rank`` (1 = most interesting) when a candidate
    was demoted.
    """
    out = cands.copy()
    if artefacts is None or not len(artefacts):
        for f in FLAGS:
            out[f] = False
        notice("candidates", "artefacts_unmeasured", "no instrumental-artefact diagnostics "
               "(simulated files or event tables): no artefact flags", count=len(out),
               total=len(out), severity="info")
        return out
    flags, texts = artefact_flags(out, artefacts)
    missing = ~out["obsreg_id"].astype(str).isin(artefacts["obsreg_id"].astype(str))
    if missing.any():
        notice("candidates", "artefacts_unmeasured", f"{int(missing.sum()):,} candidates have no "
               "artefact diagnostics (event tables): no artefact flags", count=int(missing.sum()),
               total=len(out), severity="info")
    for f in FLAGS:
        out[f] = flags[f].to_numpy()
    why = texts[list(FLAGS)].apply(lambda r: "; ".join(v for v in r if v), axis=1) if len(out) else \
        pd.Series(dtype=object)
    has = why.ne("")
    if has.any() and "reasons" in out.columns:
        r = out.loc[has, "reasons"].astype(str)
        out.loc[has, "reasons"] = np.where(r.eq("not flagged"), why[has], r + "; " + why[has])
    for f in FLAGS:
        k = int(flags[f].sum())
        if k:
            notice("candidates", f"artefact_{f}", f"{k:,} candidates flagged {f}"
                   + (f": score x{DEMOTE:g}" if f in DEMOTING else " (not demoted)"),
                   count=k, total=len(out), severity="info" if f in ("near_edge",) else "warning")
    demote = flags[list(DEMOTING)].any(axis=1).to_numpy()
    if demote.any() and {"score", "rank"} <= set(out.columns):
        score = out["score"].to_numpy(np.float64).copy()
        score[demote] *= DEMOTE
        out["score"] = score
        order = np.lexsort((out["rank"].to_numpy(), -score))
        out = out.iloc[order].reset_index(drop=True)
        out["rank"] = np.arange(1, len(out) + 1)
    return out
