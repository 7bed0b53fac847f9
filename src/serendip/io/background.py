"""The observation's background in time: an expected-rate template per source.

A background flare (ACIS back-illuminated-chip flare, XMM soft protons) raises the rate of
every source region of an observation at once. Tested against a constant rate, each source
then shows a "burst". This module measures the field's background light curve from the
background annuli of a source list (events of every source left out) and turns it into a
per-source expected-rate template, written as weighted good-time intervals (``gtis.parquet``
column ``weight``: relative expected rate in the interval). The timing statistics run on the
axis of cumulative expected counts (:mod:`serendip.represent.livetime`), so they test the
source against source + scaled background(t) rather than a constant.

Model (additive, area-scaled): the background surface brightness is
``b(t) = b0_local + d(t)`` [counts / s / pixel^2], with ``d(t)`` the field-wide excess over
the quiescent level, the same at every position (flares are spatially smooth). A source of
area ``a`` with ``N`` events over good time ``T`` then has expected rate
``r0 + a * d(t)`` with ``r0 = (N - a * int d dt) / T`` (floored at 10% of ``N / T``).
``d(t)`` is measured in bins of the observation's good time holding about
:data:`COUNTS_PER_BIN` background events (at least :data:`MIN_BIN_S` s), each annulus
weighted by ``1 / (its area x number of annuli)``; bins whose excess over the median is
below :data:`EXCESS_SIGMA` standard deviations are set to 0, so a quiet observation keeps
a flat template (no noise is injected into the timing statistics).
"""

from __future__ import annotations

import numpy as np

from serendip.notices import notice

#: background events per bin of the field background light curve (about 7% precision)
COUNTS_PER_BIN = 200
#: shortest bin [s]
MIN_BIN_S = 50.0
#: an excess (or deficit) must be this many standard deviations to enter the template
EXCESS_SIGMA = 4.0
#: floor of the source's own constant rate, as a fraction of its mean rate
MIN_SOURCE_FRACTION = 0.1


def _overlap(edges: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Good time [s] in each bin ``edges[j]:edges[j + 1]`` of intervals (start, stop)."""
    before = np.clip(np.minimum(edges[:, None], stop[None, :]) - start[None, :], 0, None).sum(1)
    return np.diff(before)


def field_excess(
    times: np.ndarray,
    weights: np.ndarray,
    n_unique: int,
    good_start: np.ndarray,
    good_stop: np.ndarray,
    source: str = "",
) -> tuple[np.ndarray, np.ndarray]:
    """Field-wide background excess over its quiescent level, per bin.

    Parameters
    ----------
    times : (m,) [s] times of (event, annulus) memberships of background events.
    weights : (m,) [pixel^-2] ``1 / (annulus area x number of annuli)`` of each membership,
        so that the weighted count rate is the mean surface brightness over the annuli.
    n_unique : number of distinct background events (sets the bin width).
    good_start, good_stop : the observation's merged good-time intervals [s].

    Returns
    -------
    ``(edges (k + 1,) [s], excess (k,) [counts / s / pixel^2])``; excess 0 where not
    significant. Empty arrays when there is nothing to measure.
    """
    if not len(good_start) or n_unique < 2 * COUNTS_PER_BIN:
        return np.zeros(0), np.zeros(0)
    t0, t1 = float(good_start[0]), float(good_stop[-1])
    total_good = float(np.sum(good_stop - good_start))
    width = max(MIN_BIN_S, total_good * COUNTS_PER_BIN / n_unique)
    n_bins = max(1, int(np.ceil((t1 - t0) / width)))
    edges = np.linspace(t0, t1, n_bins + 1)
    live = _overlap(edges, good_start, good_stop)
    j = np.clip(np.searchsorted(edges, times, side="right") - 1, 0, n_bins - 1)
    s = np.bincount(j, weights=weights, minlength=n_bins)
    s2 = np.bincount(j, weights=weights * weights, minlength=n_bins)
    ok = live > 0.25 * width  # bins mostly outside good time: too uncertain
    rate = np.where(ok, s / np.where(ok, live, 1.0), np.nan)
    if not ok.any():
        return np.zeros(0), np.zeros(0)
    base = float(np.nanmedian(rate))
    # Poisson error of the weighted rate; the quiescent level's variance for empty bins
    sigma = np.sqrt(np.maximum(s2, base * live * np.mean(weights))) / np.where(ok, live, 1.0)
    z = np.where(ok, (rate - base) / np.where(sigma > 0, sigma, np.inf), 0.0)
    excess = np.where(ok & (np.abs(z) >= EXCESS_SIGMA), rate - base, 0.0)
    n_sig = int(np.count_nonzero(excess))
    if n_sig:
        notice("ingest", "background_variable",
               f"the field background varies: {n_sig} of {n_bins} bins of {width:.0f} s differ from "
               f"its quiescent level by >= {EXCESS_SIGMA:g} sigma (peak {np.nanmax(rate) / base:.1f}x); "
               "timing statistics test each source against source + its area's share of this "
               "background light curve", source=source, count=n_sig, total=n_bins)
    return edges, excess


def weighted_intervals(
    good_start: np.ndarray,
    good_stop: np.ndarray,
    edges: np.ndarray,
    excess: np.ndarray,
    area: float,
    n_events: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A source's good-time intervals split at the template's bins, with relative weights.

    Returns ``(start, stop, weight)``: ``weight`` is the expected rate ``r0 + area * excess``
    relative to its mean over good time (so ``sum(weight * (stop - start))`` is the good time).
    """
    if not len(edges) or not np.any(excess) or not len(good_start) or n_events <= 0:
        return good_start, good_stop, np.ones(len(good_start))
    cuts = np.unique(np.concatenate([good_start, good_stop, edges]))
    lo, hi = cuts[:-1], cuts[1:]
    mid = 0.5 * (lo + hi)
    k = np.searchsorted(good_stop, mid, side="left")
    inside = (k < len(good_start)) & (mid >= good_start[np.minimum(k, len(good_start) - 1)])
    lo, hi, mid = lo[inside], hi[inside], mid[inside]
    j = np.searchsorted(edges, mid, side="right") - 1
    d = np.where((j >= 0) & (j < len(excess)), excess[np.clip(j, 0, len(excess) - 1)], 0.0)
    length = hi - lo
    total = float(length.sum())
    if total <= 0:
        return good_start, good_stop, np.ones(len(good_start))
    mean_rate = n_events / total
    r0 = max((n_events - area * float(np.sum(d * length))) / total, MIN_SOURCE_FRACTION * mean_rate)
    w = np.maximum(r0 + area * d, MIN_SOURCE_FRACTION * r0)
    w = w * total / float(np.sum(w * length))
    return lo, hi, w


#: a source keeps the flare interval when its own counts there exceed its template's
#: expectation at this Poisson false-alarm probability (a real source flare)
OWN_FLARE_P = 1e-3


def flare_intervals(edges: np.ndarray, excess: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(start, stop)`` [s] of the runs of bins with a significant positive excess."""
    if not len(excess):
        return np.zeros(0), np.zeros(0)
    on = np.concatenate([[False], excess > 0, [False]]).astype(np.int8)
    d = np.diff(on)
    return edges[np.flatnonzero(d == 1)], edges[np.flatnonzero(d == -1)]


def screen_flare(
    time: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    weight: np.ndarray,
    flares: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Background-flare screening of one source, unless the source itself flares then.

    ``time`` (n,) [s] the source's events; ``start``, ``stop``, ``weight`` its weighted
    good-time intervals (split at the template's bins, :func:`weighted_intervals`);
    ``flares`` the field's flare intervals (:func:`flare_intervals`). The flare intervals
    are removed from the source's good time and events when the source's counts inside them
    are consistent with its expected-rate template (Poisson tail probability above
    :data:`OWN_FLARE_P`); a source whose own excess is significant keeps them (a real flare
    is never cut; its template still expects the background's share).

    Returns ``(keep (n,) bool, start, stop, weight, n_cut)``: ``n_cut`` events removed (0 and
    everything kept when the flares miss the source's good time; -1 and everything kept when
    the source flares itself).
    """
    from scipy.stats import poisson

    f0, f1 = flares
    keep = np.ones(len(time), bool)
    if not len(f0) or not len(start):
        return keep, start, stop, weight, 0
    mid = 0.5 * (start + stop)
    k = np.searchsorted(f1, mid, side="right")
    in_flare = (k < len(f0)) & (mid >= f0[np.minimum(k, len(f0) - 1)])
    if not in_flare.any() or in_flare.all():
        return keep, start, stop, weight, 0
    k = np.searchsorted(f1, time, side="right")
    ev_in = (k < len(f0)) & (time >= f0[np.minimum(k, len(f0) - 1)])
    expected_counts = weight * (stop - start)
    expected = len(time) * float(expected_counts[in_flare].sum() / expected_counts.sum())
    n_in = int(ev_in.sum())
    if n_in and poisson.sf(n_in - 1, expected) < OWN_FLARE_P:
        return keep, start, stop, weight, -1
    out = ~in_flare
    w = weight[out]
    length = stop[out] - start[out]
    w = w * float(length.sum()) / float(np.sum(w * length))
    return ~ev_in, start[out], stop[out], w, n_in
