"""Numba kernels of the simulator: per-photon inverse-CDF draws and grouped time sorting."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def sample_bins(cdf: np.ndarray, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Bin index of each draw: first ``k`` with ``cdf[rows[i], k] > u[i]`` (binary search).

    ``cdf`` (R, G) float64 rows non-decreasing with last value 1; ``rows`` (n,) int64;
    ``u`` (n,) uniforms in [0, 1). Returns (n,) int64 in [0, G).
    """
    n = rows.shape[0]
    g = cdf.shape[1]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        r = rows[i]
        x = u[i]
        lo, hi = 0, g - 1
        while lo < hi:
            mid = (lo + hi) >> 1
            if cdf[r, mid] > x:
                hi = mid
            else:
                lo = mid + 1
        out[i] = lo
    return out


@njit(cache=True)
def group_time_order(group: np.ndarray, time: np.ndarray, n_groups: int) -> np.ndarray:
    """Permutation that groups events by ``group`` (ascending) and sorts each group by ``time``.

    Counting sort on the group (stable), then a stable sort of the times inside each group.
    ``group`` (n,) int64 in [0, n_groups); ``time`` (n,) float64. Returns (n,) int64.
    """
    n = group.shape[0]
    counts = np.zeros(n_groups + 1, dtype=np.int64)
    for i in range(n):
        counts[group[i] + 1] += 1
    for k in range(n_groups):
        counts[k + 1] += counts[k]
    order = np.empty(n, dtype=np.int64)
    fill = counts[:-1].copy()
    for i in range(n):
        gi = group[i]
        order[fill[gi]] = i
        fill[gi] += 1
    for k in range(n_groups):
        a, b = counts[k], counts[k + 1]
        if b - a > 1:
            seg = order[a:b]
            perm = np.argsort(time[seg], kind="mergesort")
            order[a:b] = seg[perm]
    return order
