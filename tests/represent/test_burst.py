"""Burst / gap scan significance against brute force and physical expectations."""

from __future__ import annotations

import numpy as np
from scipy import stats

from serendip.io import EventSet
from serendip.represent.burst import WINDOW_FRACTIONS, burst_significance


def _brute_burst(t: np.ndarray, lo: float, hi: float) -> float:
    n, D = len(t), hi - lo
    best = 0.0
    for f in WINDOW_FRACTIONS:
        w = f * D
        starts = np.minimum(t, hi - w)
        k = max(int(np.sum((t >= s) & (t <= s + w))) for s in starts)
        sig = -stats.binom.logsf(k - 1, n, f) / np.log(10) - np.log10(1 / f)
        best = max(best, sig)
    return best


def test_matches_brute_force_on_random_files():
    rng = np.random.default_rng(3)
    per_file = {}
    for i in range(60):
        n = int(rng.integers(2, 80))
        t = np.sort(rng.uniform(0, 1000, n))
        if i % 3 == 0:  # add a burst
            t = np.sort(np.concatenate([t, rng.uniform(400, 420, int(rng.integers(1, 30)))]))
        per_file[f"f{i}"] = (t, np.full(len(t), 1000.0))
    es = EventSet.from_arrays(per_file)
    lo = np.zeros(es.n_files)
    hi = np.full(es.n_files, 1000.0)
    got = burst_significance(es, lo, hi)["burst_sig"].to_numpy()
    want = np.array([max(_brute_burst(per_file[k][0], 0.0, 1000.0), 0.0) for k in per_file])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_steady_sources_are_not_significant_and_bursts_are():
    rng = np.random.default_rng(0)
    steady = {
        f"s{i}": (np.sort(rng.uniform(0, 5e4, 300)), np.full(300, 1500.0)) for i in range(200)
    }
    burst_t = np.sort(np.concatenate([rng.uniform(0, 5e4, 200), rng.uniform(2e4, 2e4 + 300, 60)]))
    steady["burst"] = (burst_t, np.full(len(burst_t), 1500.0))
    es = EventSet.from_arrays(steady)
    out = burst_significance(es, np.zeros(es.n_files), np.full(es.n_files, 5e4))
    sig = out["burst_sig"].to_numpy()
    assert np.median(sig[:-1]) < 1.5
    assert np.quantile(sig[:-1], 0.99) < 4.0  # chance bursts stay small after the trials correction
    assert sig[-1] > 20
    assert abs(out["burst_t_frac"].iloc[-1] - 0.403) < 0.02


def test_gap_significance_flags_an_eclipse_and_degenerate_files_are_zero():
    rng = np.random.default_rng(1)
    t = rng.uniform(0, 1e4, 400)
    t = np.sort(t[(t < 4000) | (t > 6000)])  # 20 % of the time with no events
    es = EventSet.from_arrays(
        {
            "eclipse": (t, np.full(len(t), 2e3)),
            "one": ([5.0], [2e3]),
            "none": ([], []),
            "flat": (np.sort(rng.uniform(0, 1e4, 400)), np.full(400, 2e3)),
        }
    )
    out = burst_significance(es)
    assert out.loc[0, "gap_sig"] > 20
    assert out.loc[3, "gap_sig"] < 2
    assert (
        out.loc[1, "burst_sig"] == 0 and out.loc[2, "burst_sig"] == 0 and out.loc[2, "gap_sig"] == 0
    )
