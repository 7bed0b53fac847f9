"""Arrival times on the good-time axis: GTI gaps removed before timing statistics.

An observation with gaps between its good-time intervals (GTIs) has no events in the gaps.
Scan statistics, uniformity tests and Bayesian blocks on raw times read such a gap as a
deep dip or an eclipse. Mapping every event to *live time*, the good time elapsed since the
first interval opened, closes the gaps: a constant source is uniform on ``[0, T_good]``.

Intervals may carry a ``weight`` (relative expected rate in the interval, default 1; ingest
writes it from the field's background light curve, :mod:`serendip.io.background`). Live time
is then the integral of the weight, the cumulative expected counts in units of seconds at
the mean rate: a source that follows its expected-rate template (source + scaled
background(t)) is uniform on that axis, so every timing statistic tests against the template
rather than a constant rate.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.eventset import EventSet


@nb.njit(cache=True)
def _to_live(offsets, time, g_off, g_start, g_stop, g_w, live, lo, hi):
    for f in range(len(offsets) - 1):
        a, b = offsets[f], offsets[f + 1]
        g0, g1 = g_off[f], g_off[f + 1]
        if g1 == g0:  # no intervals: raw times
            for i in range(a, b):
                live[i] = time[i]
            continue
        j = g0
        acc = 0.0  # good time before interval j
        for i in range(a, b):
            t = time[i]
            while j < g1 and t > g_stop[j]:
                acc += g_w[j] * (g_stop[j] - g_start[j])
                j += 1
            if j == g1:
                live[i] = acc  # after the last interval: its end
            elif t < g_start[j]:
                live[i] = acc  # in a gap (or before the first interval): the next opening
            else:
                live[i] = acc + g_w[j] * (t - g_start[j])
        total = acc
        for k in range(j, g1):
            total += g_w[k] * (g_stop[k] - g_start[k])
        lo[f] = 0.0
        hi[f] = total


def good_time_index(events: EventSet, gtis: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """Intervals of ``gtis`` (``obsreg_id``, ``start``, ``stop`` [s]) in the events' file order.

    Returns ``(offsets (n_files + 1,), start, stop, weight)``: the intervals of file ``f`` are
    rows ``offsets[f]:offsets[f + 1]``, sorted by start; ``weight`` the ``weight`` column (1
    where absent or not finite and positive). Rows of files not in ``events`` are ignored;
    overlapping intervals of one file raise :class:`InputError` (ingest writes merged ones).
    """
    n = events.n_files
    f = pd.Index(events.obsreg_id.astype(str)).get_indexer(gtis["obsreg_id"].astype(str))
    start = gtis["start"].to_numpy(dtype=np.float64)
    stop = gtis["stop"].to_numpy(dtype=np.float64)
    weight = (
        gtis["weight"].to_numpy(dtype=np.float64) if "weight" in gtis.columns
        else np.ones(len(start))
    )
    weight = np.where(np.isfinite(weight) & (weight > 0), weight, 1.0)
    keep = (f >= 0) & np.isfinite(start) & np.isfinite(stop) & (stop > start)
    f, start, stop, weight = f[keep], start[keep], stop[keep], weight[keep]
    order = np.lexsort((start, f))
    f, start, stop, weight = f[order], start[order], stop[order], weight[order]
    overlap = (f[1:] == f[:-1]) & (start[1:] < stop[:-1])
    if overlap.any():
        bad = events.obsreg_id[f[1:][overlap][0]]
        raise InputError(
            "good-time intervals",
            f"intervals of file {bad!r} overlap; merge them first (serendip.io.gti.merge_intervals)",
        )
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(f, minlength=n), out=offsets[1:])
    return offsets, start, stop, weight


def live_time_events(
    events: EventSet, gtis: pd.DataFrame, t_lo: np.ndarray, t_hi: np.ndarray
) -> tuple[EventSet, np.ndarray, np.ndarray]:
    """The events with times [s] on each file's live-time axis, and the new intervals.

    Files with GTIs get times in ``[0, T_good]`` and interval ``(0, T_good)`` (``T_good``:
    the weighted good time, ``sum(weight * (stop - start))``); files without
    keep their times and ``(t_lo, t_hi)``. Live time never decreases with time, so the events
    stay sorted within each file.
    """
    g_off, g_start, g_stop, g_w = good_time_index(events, gtis)
    live = np.empty(events.n_events, dtype=np.float64)
    lo = np.asarray(t_lo, dtype=np.float64).copy()
    hi = np.asarray(t_hi, dtype=np.float64).copy()
    _to_live(events.offsets, events.time, g_off, g_start, g_stop, g_w, live, lo, hi)
    return EventSet(events.obsreg_id, events.offsets, live, events.energy), lo, hi


def on_template_axis(events: EventSet, gtis: pd.DataFrame | None) -> EventSet:
    """The events with each file's times on its expected-count axis (:func:`live_time_events`;
    files without intervals keep their times): what the E-t maps, cubes and event-set
    encoders bin, so that their time axis is normalised by the expected-rate template (good
    time, dead time, background and relative exposure) rather than by clock time."""
    if gtis is None or not len(gtis):
        return events
    ne = events.counts > 0
    first = np.zeros(events.n_files)
    last = np.zeros(events.n_files)
    first[ne] = events.time[events.offsets[:-1][ne]]
    last[ne] = events.time[events.offsets[1:][ne] - 1]
    return live_time_events(events, gtis, first, last)[0]


def live_to_time(ids, live_frac: np.ndarray, gtis: pd.DataFrame) -> np.ndarray:
    """Mission times [s] of points given as fractions of each file's live-time axis.

    ``ids`` (n,) obsreg_ids; ``live_frac`` (n,) fractions (0-1) of the file's weighted good
    time (``sum(weight * (stop - start))``, the axis :func:`live_time_events` maps events to);
    ``gtis`` the good-time intervals (``obsreg_id``, ``start``, ``stop`` [s], optional
    ``weight``). The inverse of the live-time mapping: inside an interval of weight ``w`` the
    axis advances ``w`` s per second. NaN for ids without intervals or non-finite fractions.
    """
    ids = np.asarray(ids).astype(str)
    frac = np.asarray(live_frac, np.float64)
    out = np.full(len(ids), np.nan)
    if not len(gtis) or not len(ids):
        return out
    g = gtis.assign(obsreg_id=gtis["obsreg_id"].astype(str))
    if "weight" not in g.columns:
        g = g.assign(weight=1.0)
    w = g["weight"].to_numpy(np.float64)
    g = g.assign(weight=np.where(np.isfinite(w) & (w > 0), w, 1.0))
    g = g[g["stop"] > g["start"]].sort_values(["obsreg_id", "start"], kind="stable")
    seg = (g["stop"] - g["start"]).to_numpy() * g["weight"].to_numpy()
    keys, pos = np.unique(g["obsreg_id"].to_numpy(), return_inverse=True)
    cum = pd.Series(seg).groupby(pos).cumsum().to_numpy()  # weighted good time to each end
    total = np.bincount(pos, weights=seg, minlength=len(keys))
    where = np.searchsorted(keys, ids)
    known = (where < len(keys)) & (keys[np.minimum(where, len(keys) - 1)] == ids) & np.isfinite(frac)
    span = float(total.max()) + 1.0
    key = pos * span + cum  # one sorted array for every file: cum is increasing within each
    live = np.clip(frac, 0.0, 1.0) * total[np.minimum(where, len(keys) - 1)]
    j = np.searchsorted(key, np.minimum(where, len(keys) - 1) * span + live, side="left")
    j = np.clip(j, 0, len(seg) - 1)
    before = cum[j] - seg[j]
    t = g["start"].to_numpy()[j] + (live - before) / g["weight"].to_numpy()[j]
    out[known] = np.minimum(t, g["stop"].to_numpy()[j])[known]
    return out
