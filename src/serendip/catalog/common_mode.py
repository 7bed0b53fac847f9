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


def flag_background_flares(cands: pd.DataFrame) -> pd.DataFrame:
    """The candidates with a boolean ``background_flare`` column, flagged ones demoted.

    Needs ``obsid``, ``burst_sig``, ``burst_time`` and ``burst_width`` (otherwise the table is
    returned with ``background_flare`` False and a notice). Rows are re-sorted by the new
    ``rank`` (1 = most interesting).
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
    out["background_flare"] = flag
    if flag.any():
        score = out["score"].to_numpy(np.float64).copy()
        score[flag] *= DEMOTE
        out["score"] = score
        why = pd.Series(
            [f"background_flare: burst coincides with bursts in {k} other sources of ObsID {o}"
             for k, o in zip(n_other[flag], obs[flag], strict=True)], index=out.index[flag])
        r = out.loc[flag, "reasons"].astype(str)
        out.loc[flag, "reasons"] = np.where(r.eq("not flagged"), why, r + "; " + why)
        order = np.lexsort((out["rank"].to_numpy(), -score))
        out = out.iloc[order].reset_index(drop=True)
        out["rank"] = np.arange(1, len(out) + 1)
        notice("candidates", "background_flare",
               f"{int(flag.sum()):,} candidates burst together with >= {MIN_OTHERS} other sources "
               f"of their observation: flagged background_flare, score x{DEMOTE:g}",
               count=int(flag.sum()), total=len(out))
    return out
