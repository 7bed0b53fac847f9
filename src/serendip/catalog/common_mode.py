"""Common-mode bursts: a burst seen in many sources of one observation at once is the
background (or the instrument), not a discovery.

:func:`flag_background_flares` marks a candidate ``background_flare`` when its strongest
burst window (``burst_time`` +- ``burst_width`` / 2, from
:func:`serendip.catalog.candidates.with_observation_columns`) overlaps the burst windows of
at least :data:`MIN_OTHERS` other bursting sources (and at least :data:`MIN_FRACTION` of the
observation's sources) of the same ``obsid``. Flagged candidates stay in the table, their
score multiplied by :data:`DEMOTE`, re-ranked, with the reason in ``reasons``; the count is
a notice. This complements the ingest's background-flare screening
(:mod:`serendip.io.background`), which needs a source list with background regions.

With the ingest's background-annulus events of each source (``background.parquet``) and the
sources' events, a candidate is also flagged when its **own** background annulus holds a
significant excess in its burst window (Poisson tail probability below :data:`OWN_P`) that
explains its own excess: the source's excess counts are at most :data:`EXPLAIN` x the
annulus's excess scaled by the area ratio (source area / annulus area). A real source flare
leaks only its PSF wings into the annulus, a factor of hundreds below that, so it is never
flagged this way; a local background flare (below the field-wide screening's threshold, or an
observation without enough annuli for it) is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.notices import notice

#: a source "bursts" above this burst significance [dex]
BURST_DEX = 3.0
#: coinciding bursts in at least this many other sources of the observation...
MIN_OTHERS = 3
#: ...and at least this fraction of the observation's sources
MIN_FRACTION = 0.05
#: score factor of a flagged candidate
DEMOTE = 0.5
#: own-annulus test: the annulus's excess in the burst window is significant below this
#: Poisson tail probability...
OWN_P = 1e-3
#: ...and the source's excess is at most this factor times the annulus's, scaled by area
EXPLAIN = 3.0


def _window_counts(ids: np.ndarray, times: np.ndarray, want: np.ndarray, lo: np.ndarray,
                   hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(counts in [lo, hi], total counts) of the times of each id in ``want``; ``ids`` and
    ``times`` (m,) any order. Vectorised: times are shifted by their id's position so that one
    sorted array serves every id."""
    keys, inv = np.unique(np.concatenate([np.asarray(ids, str), np.asarray(want, str)]),
                          return_inverse=True)
    pos, wpos = inv[: len(ids)], inv[len(ids):]
    t = np.asarray(times, np.float64)
    if not len(t):
        return np.zeros(len(want), np.int64), np.zeros(len(want), np.int64)
    t0 = float(min(t.min(), np.nanmin(lo) if len(lo) else 0.0)) - 1.0
    span = float(max(t.max(), np.nanmax(hi) if len(hi) else 0.0)) - t0 + 1.0
    key = np.sort(pos * span + (t - t0))
    base = wpos * span - t0
    inside = np.searchsorted(key, base + hi, "right") - np.searchsorted(key, base + lo, "left")
    total = np.bincount(pos, minlength=len(keys))[wpos]
    return inside, total


def own_background_flares(cands: pd.DataFrame, events, background: pd.DataFrame
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The own-annulus test (module docstring) of each candidate row.

    ``events``: the sources' :class:`~serendip.io.eventset.EventSet`; ``background``: the
    annulus events (``obsreg_id``, ``time`` [s], ``area_ratio`` = source area / annulus area).
    Returns ``(flag (n,) bool, annulus excess counts, annulus -log10 p)``.
    """
    n = len(cands)
    flag = np.zeros(n, bool)
    exc_b = np.zeros(n)
    dex = np.zeros(n)
    need = {"burst_sig", "burst_time", "burst_width", "duration"}
    if not need <= set(cands.columns) or not len(background):
        return flag, exc_b, dex
    from scipy.stats import poisson

    sig = cands["burst_sig"].to_numpy(np.float64)
    bt, bw = cands["burst_time"].to_numpy(np.float64), cands["burst_width"].to_numpy(np.float64)
    dur = cands["duration"].to_numpy(np.float64)
    b = np.flatnonzero((sig >= BURST_DEX) & np.isfinite(bt) & np.isfinite(bw) & (dur > 0))
    if not len(b):
        return flag, exc_b, dex
    ids = cands["obsreg_id"].astype(str).to_numpy()[b]
    lo, hi = bt[b] - 0.5 * bw[b], bt[b] + 0.5 * bw[b]
    frac = np.clip(bw[b] / dur[b], 0.0, 1.0)
    k_b, n_b = _window_counts(background["obsreg_id"].to_numpy(), background["time"].to_numpy(),
                              ids, lo, hi)
    ratio = (background.drop_duplicates("obsreg_id").set_index("obsreg_id")["area_ratio"]
             .reindex(ids).to_numpy(np.float64))
    ev_ids = np.repeat(np.asarray(events.obsreg_id, str), np.diff(events.offsets))
    k_s, n_s = _window_counts(ev_ids, events.time, ids, lo, hi)
    e_b = n_b * frac
    p = np.where(k_b > 0, poisson.sf(k_b - 1, np.maximum(e_b, 1e-12)), 1.0)
    d = -np.log10(np.maximum(p, 1e-300))
    excess_b = k_b - e_b
    explains = (k_s - n_s * frac) <= EXPLAIN * excess_b * np.nan_to_num(ratio, nan=0.0)
    flag[b] = (p < OWN_P) & (excess_b > 0) & explains & np.isfinite(ratio)
    exc_b[b], dex[b] = excess_b, d
    return flag, exc_b, dex


def flag_background_flares(cands: pd.DataFrame, events=None,
                           background: pd.DataFrame | None = None) -> pd.DataFrame:
    """The candidates with a boolean ``background_flare`` column, flagged ones demoted.

    Needs ``obsid``, ``burst_sig``, ``burst_time`` and ``burst_width`` (otherwise the table is
    returned with ``background_flare`` False and a notice). With ``events`` (the sources'
    EventSet) and ``background`` (each source's annulus events, ``obsreg_id``, ``time`` [s],
    ``area_ratio``), the own-annulus test also flags (see the module docstring). Rows are
    re-sorted by the new ``rank`` (1 = most interesting).
    """
    out = cands.copy()
    flag = np.zeros(len(out), bool)
    need = {"obsid", "burst_sig", "burst_time", "burst_width", "score", "rank"}
    if not need <= set(out.columns):
        out["background_flare"] = flag
        notice("candidates", "common_mode_skipped",
               "no common-mode burst test: the candidates lack "
               + ", ".join(sorted(need - set(out.columns))), count=len(out), total=len(out),
               severity="info")
        return out
    sig = out["burst_sig"].to_numpy(np.float64)
    t = out["burst_time"].to_numpy(np.float64)
    w = out["burst_width"].to_numpy(np.float64)
    obs = out["obsid"].astype(str).to_numpy()
    n_other = np.zeros(len(out), np.int64)
    bursting = (sig >= BURST_DEX) & np.isfinite(t) & np.isfinite(w)
    for o in np.unique(obs[bursting]):  # one loop step per observation, vectorised inside
        members = np.flatnonzero(obs == o)
        b = members[bursting[members]]
        overlap = np.abs(t[b, None] - t[None, b]) < 0.5 * (w[b, None] + w[None, b])
        k = overlap.sum(axis=1) - 1
        n_other[b] = k
        flag[b] = k >= max(MIN_OTHERS, int(np.ceil(MIN_FRACTION * len(members))))
    own = np.zeros(len(out), bool)
    if events is not None and background is not None:
        own, own_exc, own_dex = own_background_flares(out, events, background)
        if own.any():
            notice("candidates", "background_flare_own",
                   f"{int(own.sum()):,} candidates burst when their own background annulus has a "
                   f"significant excess (p < {OWN_P:g}) that explains theirs: flagged "
                   "background_flare", count=int(own.sum()), total=len(out))
    common = flag.copy()
    flag = flag | own
    out["background_flare"] = flag
    if flag.any():
        score = out["score"].to_numpy(np.float64).copy()
        score[flag] *= DEMOTE
        out["score"] = score
        texts = np.where(common, [f"background_flare: burst coincides with bursts in {k} other "
                                  f"sources of ObsID {o}" for k, o in zip(n_other, obs, strict=True)], "")
        if own.any():
            own_text = np.array([f"background_flare: its own background annulus has {e:.0f} excess "
                                 f"counts in the burst window (p=1e-{d:.1f})"
                                 for e, d in zip(own_exc, own_dex, strict=True)], dtype=object)
            texts = np.where(own & common, texts.astype(object) + "; " + own_text,
                             np.where(own, own_text, texts.astype(object)))
        why = pd.Series(texts[flag], index=out.index[flag])
        r = out.loc[flag, "reasons"].astype(str)
        out.loc[flag, "reasons"] = np.where(r.eq("not flagged"), why, r + "; " + why)
        order = np.lexsort((out["rank"].to_numpy(), -score))
        out = out.iloc[order].reset_index(drop=True)
        out["rank"] = np.arange(1, len(out) + 1)
        notice("candidates", "background_flare",
               f"{int(flag.sum()):,} candidates flagged background_flare, score x{DEMOTE:g}: "
               f"{int(common.sum()):,} burst together with >= {MIN_OTHERS} other sources of their "
               f"observation, {int(own.sum()):,} with an excess in their own background annulus",
               count=int(flag.sum()), total=len(out))
    return out
