"""Burst and gap significance: counts-aware scan statistics of arrival times.

For each file with ``n`` events over its interval ``[t_lo, t_hi]`` (duration ``D``) and each
window width ``w = f D`` (``f`` in :data:`WINDOW_FRACTIONS`), the most populated window
``[t, t + w]`` (starts at events, clipped to the interval) holds ``k`` events. Under a
constant rate the count in a fixed window is Binomial(n, f), so

``burst_sig = max_f [ -log10 P(Binomial(n, f) >= k_f) - log10(1 / f) ]``

is the significance (in dex) of the strongest excess, with a trials correction of about
``1 / f`` independent windows per width. Unlike raw peak-to-median ratios it does not reward
a handful of photons: a 5-count file cannot reach a large significance, a flare holding
30 % of 2,000 counts in 10 % of the time reaches hundreds. ``burst_width_frac`` is the
``f`` that gives the maximum and ``burst_t_frac`` the window centre as a fraction of the
interval.

``gap_sig = -log10 min(1, (n + 1) (1 - g / D)^n)`` measures the longest gap ``g`` between
consecutive events (edges included) against uniform arrivals: eclipses and deep dips.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import pandas as pd
from scipy import stats

from serendip.io.eventset import EventSet

#: window widths as fractions of each file's interval
WINDOW_FRACTIONS = (0.003, 0.01, 0.03, 0.1, 0.3)


@nb.njit(cache=True)
def _max_window_counts(offsets, time, t_lo, t_hi, fracs, kmax, centre, gap, start, stop):
    """Files ``start..stop``: largest window counts, their centres and the longest gap."""
    for f in range(start, stop):
        a, b = offsets[f], offsets[f + 1]
        D = t_hi[f] - t_lo[f]
        n = b - a
        if n == 0 or D <= 0:
            for j in range(len(fracs)):
                kmax[f, j] = n
                centre[f, j] = 0.5
            gap[f] = 0.0
            continue
        # longest gap, edges included
        g = max(time[a] - t_lo[f], t_hi[f] - time[b - 1])
        for i in range(a + 1, b):
            d = time[i] - time[i - 1]
            if d > g:
                g = d
        gap[f] = g
        for j in range(len(fracs)):
            w = fracs[j] * D
            best = 0
            best_c = 0.5
            hi = a
            # windows [t_i, t_i + w] that fit in the interval: two pointers, O(n)
            for i in range(a, b):
                if time[i] + w > t_hi[f]:
                    break
                stop = time[i] + w
                if hi < i:
                    hi = i
                while hi < b and time[hi] <= stop:
                    hi += 1
                k = hi - i
                if k > best:
                    best = k
                    best_c = (time[i] + 0.5 * w - t_lo[f]) / D
            # every later start is clipped to the same last window [t_hi - w, t_hi]: count it once
            start = t_hi[f] - w
            lo = a + np.searchsorted(time[a:b], start, side="left")
            k = b - lo
            if k > best:
                best = k
                best_c = (start + 0.5 * w - t_lo[f]) / D
            kmax[f, j] = best
            centre[f, j] = best_c


def burst_significance(
    events: EventSet, t_lo: np.ndarray | None = None, t_hi: np.ndarray | None = None
) -> pd.DataFrame:
    """Burst and gap significance of every file (see the module docstring).

    Parameters
    ----------
    events : files' events, time [s] sorted within each file.
    t_lo, t_hi : (n_files,) observing interval [s]; default first and last event.

    Returns
    -------
    DataFrame (n_files rows, file order): ``burst_sig`` [dex], ``burst_width_frac``,
    ``burst_t_frac``, ``gap_sig`` [dex].
    """
    n = events.n_files
    counts = events.counts
    first = (
        events.time[np.minimum(events.offsets[:-1], max(events.n_events - 1, 0))]
        if events.n_events
        else np.zeros(n)
    )
    last = events.time[np.maximum(events.offsets[1:] - 1, 0)] if events.n_events else np.zeros(n)
    t_lo = (
        np.where(counts > 0, first, 0.0)
        if t_lo is None
        else np.minimum(np.asarray(t_lo, float), np.where(counts > 0, first, np.inf))
    )
    t_hi = (
        np.where(counts > 0, last, 0.0)
        if t_hi is None
        else np.maximum(np.asarray(t_hi, float), np.where(counts > 0, last, -np.inf))
    )
    fracs = np.asarray(WINDOW_FRACTIONS, dtype=np.float64)
    kmax = np.zeros((n, len(fracs)), dtype=np.int64)
    centre = np.zeros((n, len(fracs)), dtype=np.float64)
    gap = np.zeros(n, dtype=np.float64)
    args = (events.offsets, events.time, t_lo.astype(np.float64), t_hi.astype(np.float64))
    args += (fracs, kmax, centre, gap)
    _max_window_counts(*args, 0, n)  # O(N) per file: one thread (see features._order_statistics)
    nn = counts[:, None].astype(np.float64)
    # P(Binomial(n, f) >= k) = sf(k - 1); in dex, with a 1/f trials correction
    with np.errstate(divide="ignore"):
        logsf = stats.binom.logsf(kmax - 1, nn, fracs[None, :]) / np.log(10.0)
    # far tails underflow to -inf: use the Chernoff (KL-divergence) bound there, accurate to
    # O(log n) dex when the probability is below 1e-300 anyway
    bad = ~np.isfinite(logsf)
    if bad.any():
        q = np.clip(kmax / np.maximum(nn, 1.0), 1e-12, 1.0)
        p = np.broadcast_to(fracs[None, :], q.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = q * np.log(q / p) + np.where(
                q < 1.0, (1.0 - q) * np.log((1.0 - q) / (1.0 - p)), 0.0
            )
        logsf = np.where(bad, -nn * kl / np.log(10.0), logsf)
    sig = -logsf - np.log10(1.0 / fracs)[None, :]
    sig = np.where(counts[:, None] > 1, sig, 0.0)
    j = np.argmax(sig, axis=1)
    rows = np.arange(n)
    D = t_hi - t_lo
    with np.errstate(divide="ignore", invalid="ignore"):
        frac_gap = np.where(D > 0, np.clip(gap / np.where(D > 0, D, 1.0), 0.0, 1.0), 0.0)
        log_p_gap = np.log10(counts + 1.0) + counts * np.log10(np.clip(1.0 - frac_gap, 1e-300, 1.0))
    gap_sig = np.where(counts > 1, np.clip(-log_p_gap, 0.0, None), 0.0)
    return pd.DataFrame(
        {
            "burst_sig": np.clip(sig[rows, j], 0.0, None),
            "burst_width_frac": fracs[j],
            "burst_t_frac": centre[rows, j],
            "gap_sig": gap_sig,
        }
    )
