"""Test inputs: edge-case files plus a realistic population (serendip.simulate when present)."""

from __future__ import annotations

import numpy as np

from serendip.io import EventSet
from serendip.represent.binning import linear_edges


def edge_case_files() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Files that break naive implementations: empty, one event, ties, band edges..."""
    f32 = np.float32
    lo_out = np.nextafter(f32(500.0), f32(0.0))
    hi_out = np.nextafter(f32(7000.0), f32(1e9))
    hi_in = np.nextafter(f32(7000.0), f32(0.0))
    lo_in = np.nextafter(f32(500.0), f32(1e9))
    edge_e = (10 ** linear_edges(np.log10(500.0), np.log10(7000.0), 16)).astype(f32)
    t0 = 6.0e8  # Chandra mission time scale
    files = {
        "empty": (np.zeros(0), np.zeros(0, f32)),
        "one": (np.array([t0]), np.array([1000.0], f32)),
        "one_out_of_band": (np.array([t0]), np.array([9000.0], f32)),
        "two": (np.array([t0, t0 + 3.2]), np.array([800.0, 5000.0], f32)),
        "two_same_time": (np.array([t0, t0]), np.array([800.0, 5000.0], f32)),
        "all_same_time": (np.full(7, t0), np.linspace(600, 6000, 7).astype(f32)),
        "constant_dt": (t0 + 4.0 * np.arange(50), np.full(50, 2000.0, f32)),
        "band_edges": (
            t0 + np.arange(8.0),
            np.array([500.0, 7000.0, lo_out, hi_out, lo_in, hi_in, 0.0, 1e5], f32),
        ),
        "bin_edges": (t0 + np.arange(len(edge_e), dtype=float), edge_e),
        "all_out_of_band": (t0 + np.arange(5.0), np.array([100, 200, 8000, 9000, 499], f32)),
        "ties": (t0 + np.repeat(np.arange(10.0), 3), np.tile(np.array([700, 1500, 4000], f32), 10)),
        "tiny_span": (t0 + np.array([0.0, 1e-7, 2e-7]), np.array([1000, 2000, 3000], f32)),
    }
    return files


def random_files(
    n_files: int, seed: int = 0, max_mean: float = 300.0
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Random files: log-normal counts, flares on part of them, band-spanning energies."""
    rng = np.random.default_rng(seed)
    out = {}
    counts = np.minimum(rng.lognormal(np.log(40), 1.2, n_files).astype(int), 5000)
    for i, n in enumerate(counts):  # test-input generation, not a hot path
        dur = rng.uniform(1e3, 1.5e5)
        t = rng.uniform(0, dur, n)
        if i % 4 == 0 and n > 10:  # flare: a third of the events in a short window
            k = n // 3
            t[:k] = rng.uniform(0.3 * dur, 0.32 * dur, k)
        if i % 7 == 0:
            t = np.round(t / 3.2) * 3.2  # frame-time quantisation -> ties
        e = np.exp(rng.uniform(np.log(300), np.log(9000), n)).astype(np.float32)
        out[f"r{i:05d}"] = (np.sort(t) + 5e8, e)
    return out


def make_population(n_random: int = 1000, seed: int = 0) -> EventSet:
    """Edge cases plus ``n_random`` random files (simulated population when available)."""
    files = edge_case_files()
    try:  # realistic inputs from the project's simulator, once it exists
        from serendip.simulate import simulate_population  # type: ignore[attr-defined]

        sim = simulate_population(n_random, seed=seed)
        ev = sim.events if hasattr(sim, "events") else sim[0]
        files.update({f"sim{i}": ev.events_of(i) for i in range(min(ev.n_files, n_random))})
    except (ImportError, AttributeError, TypeError, IndexError):  # simulator absent or another API
        files.update(random_files(n_random, seed))
    return EventSet.from_arrays(files)
