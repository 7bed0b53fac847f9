"""Small synthetic event files for the feature tests (no dependency on serendip.simulate).

Steady files: uniform arrival times, power-law-like energies in 0.5-7 keV. Flare files: the same
plus a fast-rise exponential-decay burst holding ~half of the events. Vectorised numpy only.
"""

from __future__ import annotations

import numpy as np

from serendip.io.eventset import EventSet


def synth_events(
    n_files: int = 200, seed: int = 0, flare_fraction: float = 0.3, n_min: int = 5, n_max: int = 400
):
    """(EventSet, labels) with labels 1 for flare files, 0 for steady ones."""
    rng = np.random.default_rng(seed)
    counts = np.exp(rng.uniform(np.log(n_min), np.log(n_max), n_files)).astype(np.int64)
    labels = (rng.random(n_files) < flare_fraction).astype(np.int64)
    duration = rng.uniform(5e3, 5e4, n_files)
    f = np.repeat(np.arange(n_files), counts)
    u = rng.random(len(f))
    t = u * duration[f]
    # flare files: half of the events in an exponential burst starting at a random time
    burst = (labels[f] == 1) & (rng.random(len(f)) < 0.5)
    t0 = rng.uniform(0.1, 0.6, n_files) * duration
    tau = 0.02 * duration
    t = np.where(burst, np.minimum(t0[f] + rng.exponential(tau[f]), duration[f]), t)
    e = 500.0 * (14.0 ** rng.random(len(f)) ** 1.5)
    e = np.where(burst, np.minimum(e * 1.6, 7000.0), e)
    t = t + 1e8
    ids = np.array([f"src{i:05d}" for i in range(n_files)], dtype=object)
    order = np.lexsort((t, f))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    return EventSet(ids, offsets, t[order], e[order].astype(np.float32)), labels


def synth_maps(events: EventSet, normalize: bool = True, shape=(24, 16)) -> np.ndarray:
    """Reference-semantics E-t maps (numpy per-file histogram2d) of ``events``, float32."""
    out = np.zeros((events.n_files, *shape), dtype=np.float32)
    for i in range(events.n_files):
        t, e = events.events_of(i)
        if len(t) == 0:
            continue
        span = t.max() - t.min()
        tau = (t - t.min()) / span if span > 0 else np.zeros_like(t)
        h, _, _ = np.histogram2d(
            tau,
            np.log10(e.astype(np.float64)),
            bins=shape,
            range=[[0, 1], [np.log10(500), np.log10(7000)]],
        )
        if normalize:
            h = (h - h.min()) / (h.max() - h.min()) if h.max() > h.min() else np.zeros_like(h)
        out[i] = h
    return out
