"""Photon arrival times: exact inhomogeneous Poisson processes by thinning, for many sources at once.

All functions work on whole populations: parameters are arrays with one entry per source
(or per component), events come back as flat arrays with the index of their source.

Thinning (Lewis & Shedler 1979): each source's time range is cut into segments on which
an upper bound ``env`` of the rate is known; candidates are a homogeneous Poisson process
of rate ``env`` on each segment and a candidate at ``t`` is kept with probability
``rate(t) / env``. The kept times are exactly a Poisson process of intensity ``rate(t)``.
Profiles here are monotone between their segment edges (the peak is always an edge), so
``env`` is the larger of the two edge values and the bound is exact.

Time profiles (``t`` in seconds, same clock as ``tstart``/``tstop``):

* :func:`fred_rate` - fast-rise exponential-decay flare, peak 1 at ``t_peak``;
* :func:`fxt_rate` - fast X-ray transient: linear rise over ``rise`` from ``t_onset``, a
  plateau (the spike) until ``t_onset + duration``, then a power-law tail
  ``((t - t_onset) / duration)^-alpha``; peak 1;
* :func:`periodic_trapezoid` - periodic eclipse/dip profile in [0, 1];
* :func:`drw_nodes` - damped random walk (Ornstein-Uhlenbeck) in ln(rate) on a uniform grid.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

RateFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def constant_arrivals(
    rng: np.random.Generator, rate: np.ndarray, tstart: np.ndarray, tstop: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Homogeneous Poisson arrivals. Returns ``(index, time)``, (n_events,) int64 / float64.

    ``rate`` [1/s], ``tstart``/``tstop`` [s], all (n,).
    """
    span = tstop - tstart
    n = rng.poisson(np.maximum(rate, 0.0) * span)
    idx = np.repeat(np.arange(len(rate), dtype=np.int64), n)
    t = tstart[idx] + rng.random(len(idx)) * span[idx]
    return idx, t


def thin(
    rng: np.random.Generator, edges: np.ndarray, env: np.ndarray, rate_fn: RateFn
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact Poisson arrivals of a variable rate by thinning a piecewise-constant envelope.

    Parameters
    ----------
    edges : (m, K) float64 - segment edges [s] per source, non-decreasing along each row.
    env : (m, K-1) float64 - upper bound of the rate [1/s] on each segment.
    rate_fn : callable ``(t, index, segment) -> rate`` evaluated on candidate events.

    Returns ``(index, time, segment)`` of the kept events.
    """
    m, k = edges.shape
    dt = np.maximum(np.diff(edges, axis=1), 0.0)
    n = rng.poisson(env * dt).ravel()
    cell = np.repeat(np.arange(m * (k - 1), dtype=np.int64), n)
    idx, seg = np.divmod(cell, k - 1)
    t = edges[idx, seg] + rng.random(len(cell)) * dt[idx, seg]
    e = env[idx, seg]
    r = rate_fn(t, idx, seg)
    keep = rng.random(len(cell)) * e < r
    return idx[keep], t[keep], seg[keep]


def monotone_envelope(rate_at_edges: np.ndarray) -> np.ndarray:
    """Envelope (m, K-1) of a rate that is monotone between edges: max of the two edge values."""
    return np.maximum(rate_at_edges[:, :-1], rate_at_edges[:, 1:])


# --------------------------------------------------------------------- flares (FRED)
def fred_rate(t: np.ndarray, t_peak: np.ndarray, rise: np.ndarray, decay: np.ndarray) -> np.ndarray:
    """Unit-peak fast-rise exponential-decay profile: ``exp((t-tp)/rise)`` before, ``exp(-(t-tp)/decay)`` after."""
    x = t - t_peak
    return np.where(x < 0, np.exp(np.minimum(x, 0) / rise), np.exp(-np.maximum(x, 0) / decay))


def fred_integral(
    tstart: np.ndarray, tstop: np.ndarray, t_peak: np.ndarray, rise: np.ndarray, decay: np.ndarray
) -> np.ndarray:
    """Integral [s] of :func:`fred_rate` over [tstart, tstop] (``t_peak`` inside)."""
    return rise * -np.expm1(-(t_peak - tstart) / rise) + decay * -np.expm1(
        -(tstop - t_peak) / decay
    )


_FRED_BEFORE = np.array([16.0, 8.0, 4.0, 2.0, 1.0, 0.5, 0.25])
_FRED_AFTER = np.array([0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0])


def fred_edges(
    tstart: np.ndarray, tstop: np.ndarray, t_peak: np.ndarray, rise: np.ndarray, decay: np.ndarray
) -> np.ndarray:
    """Segment edges (m, K) for thinning a FRED: denser near the peak, the peak itself an edge."""
    parts = [
        tstart[:, None],
        t_peak[:, None] - rise[:, None] * _FRED_BEFORE[None, :],
        t_peak[:, None],
        t_peak[:, None] + decay[:, None] * _FRED_AFTER[None, :],
        tstop[:, None],
    ]
    edges = np.concatenate(parts, axis=1)
    return np.clip(edges, tstart[:, None], tstop[:, None])


def thin_fred(rng, tstart, tstop, peak, t_peak, rise, decay):
    """Exact Poisson arrivals of ``peak * fred_rate`` for m sources (all arrays (m,)).

    Returns (source row (n,), arrival time [s] (n,)).
    """
    edges = fred_edges(tstart, tstop, t_peak, rise, decay)
    env = monotone_envelope(
        peak[:, None] * fred_rate(edges, t_peak[:, None], rise[:, None], decay[:, None])
    )
    i, t, _ = thin(
        rng, edges, env, lambda t, i, s: peak[i] * fred_rate(t, t_peak[i], rise[i], decay[i])
    )
    return i, t


# ------------------------------------------------------------ fast X-ray transients
def fxt_rate(
    t: np.ndarray, t_onset: np.ndarray, rise: np.ndarray, duration: np.ndarray, alpha: np.ndarray
) -> np.ndarray:
    """Unit-peak FXT profile: linear rise, plateau until ``duration``, power-law tail after."""
    s = t - t_onset
    ramp = np.clip(s / rise, 0.0, 1.0)
    tail = np.maximum(s / duration, 1.0) ** (-alpha)
    return np.where(s < duration, ramp, tail)


def fxt_integral(
    tstop: np.ndarray,
    t_onset: np.ndarray,
    rise: np.ndarray,
    duration: np.ndarray,
    alpha: np.ndarray,
) -> np.ndarray:
    """Integral [s] of :func:`fxt_rate` from ``t_onset`` to ``tstop`` (>= t_onset + duration, alpha != 1)."""
    length = np.maximum(tstop - t_onset, duration)
    spike = duration - rise / 2.0
    tail = duration / (1.0 - alpha) * ((length / duration) ** (1.0 - alpha) - 1.0)
    return spike + tail


_FXT_AFTER = np.array([1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.0, 10.0, 14.0, 20.0, 30.0, 50.0, 70.0,
                       100.0, 150.0, 200.0, 300.0, 500.0, 700.0, 1000.0, 2000.0, 5000.0])  # fmt: skip


def fxt_edges(
    tstart: np.ndarray,
    tstop: np.ndarray,
    t_onset: np.ndarray,
    rise: np.ndarray,
    duration: np.ndarray,
) -> np.ndarray:
    """Segment edges (m, K) for thinning an FXT profile (rate monotone between edges)."""
    parts = [
        tstart[:, None],
        t_onset[:, None],
        (t_onset + rise)[:, None],
        (t_onset + duration)[:, None],
        t_onset[:, None] + duration[:, None] * _FXT_AFTER[None, :],
        tstop[:, None],
    ]
    edges = np.concatenate(parts, axis=1)
    return np.clip(edges, tstart[:, None], tstop[:, None])


def thin_fxt(rng, tstart, tstop, peak, t_onset, rise, duration, alpha):
    """Exact Poisson arrivals of ``peak * fxt_rate`` for m sources (all arrays (m,)).

    Returns (source row (n,), arrival time [s] (n,)).
    """
    edges = fxt_edges(tstart, tstop, t_onset, rise, duration)
    env = monotone_envelope(
        peak[:, None]
        * fxt_rate(edges, t_onset[:, None], rise[:, None], duration[:, None], alpha[:, None])
    )
    i, t, _ = thin(
        rng,
        edges,
        env,
        lambda t, i, s: peak[i] * fxt_rate(t, t_onset[i], rise[i], duration[i], alpha[i]),
    )
    return i, t


# ------------------------------------------------------------------ eclipses / dips
def periodic_trapezoid(
    t: np.ndarray, t_mid: np.ndarray, period: np.ndarray, duration: np.ndarray, ramp: np.ndarray
) -> np.ndarray:
    """Periodic trapezoid in [0, 1]: 1 for ``|t - t_mid - kP| < duration/2 - ramp``, 0 beyond ``duration/2``.

    Used for eclipses (ingress/egress of length ``ramp``) and absorption dips.
    """
    x = (t - t_mid) / period + 0.5
    dist = np.abs(x - np.floor(x) - 0.5) * period
    return np.clip((duration / 2.0 - dist) / ramp, 0.0, 1.0)


# ------------------------------------------------------------ red noise (AGN-like)
def drw_nodes(
    rng: np.random.Generator, n_nodes: int, span: np.ndarray, tau: np.ndarray, sigma: np.ndarray
) -> np.ndarray:
    """Damped random walk (OU process) in ln(rate): (m, n_nodes) values on a uniform grid over ``span``.

    Stationary standard deviation ``sigma``, damping time ``tau`` [s]; the recursion is the
    exact OU transition, looped over grid steps (vectorised over sources). The power
    spectrum is a Lorentzian: flat below 1/(2 pi tau), falling as f^-2 above.
    """
    m = len(span)
    dt = span / (n_nodes - 1)
    phi = np.exp(-dt / tau)
    kick = sigma * np.sqrt(-np.expm1(-2.0 * dt / tau))
    out = np.empty((m, n_nodes))
    out[:, 0] = sigma * rng.standard_normal(m)
    z = rng.standard_normal((n_nodes - 1, m))
    for k in range(1, n_nodes):
        out[:, k] = out[:, k - 1] * phi + kick * z[k - 1]
    return out


def linear_rate(nodes_t: np.ndarray, nodes_r: np.ndarray) -> RateFn:
    """Rate function for :func:`thin` that linearly interpolates node values (m, K)."""

    def rate(t: np.ndarray, idx: np.ndarray, seg: np.ndarray) -> np.ndarray:
        t0, t1 = nodes_t[idx, seg], nodes_t[idx, seg + 1]
        r0, r1 = nodes_r[idx, seg], nodes_r[idx, seg + 1]
        w = np.where(t1 > t0, (t - t0) / np.where(t1 > t0, t1 - t0, 1.0), 0.0)
        return r0 + (r1 - r0) * w

    return rate


def quantise_to_frames(
    t: np.ndarray, tstart: np.ndarray, tstop: np.ndarray, frame_time: float
) -> np.ndarray:
    """Snap times to the middle of ``frame_time``-long CCD frames counted from ``tstart`` (kept < tstop)."""
    q = tstart + (np.floor((t - tstart) / frame_time) + 0.5) * frame_time
    return np.minimum(q, tstop)
