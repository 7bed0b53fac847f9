"""ks_sf equals scipy.stats.kstwo.sf to the stated precision in every regime."""

from __future__ import annotations

import numpy as np
from scipy import stats

from serendip.represent.kolmogorov import ks_sf


def test_ks_sf_matches_scipy_in_every_regime():
    rng = np.random.default_rng(0)
    n = np.concatenate(
        [
            rng.integers(1, 20, 150),
            rng.integers(20, 141, 150),
            rng.integers(141, 3000, 120),
            np.array([1, 2, 3, 140, 141, 100_000]),
        ]
    )
    # around the typical statistic of each n, plus the closed-form tails
    d = np.concatenate(
        [
            rng.uniform(0.2, 2.2, len(n) - 6) / np.sqrt(n[:-6]),
            np.array([0.6, 0.4, 0.9, 0.05, 0.1, 0.003]),
        ]
    )
    d = np.clip(d, 1e-4, 0.9999)
    extra_n = np.array([5, 5, 5, 50, 50, 200, 200, 10])
    extra_d = np.array([0.05, 0.15, 0.95, 0.01, 0.5, 0.002, 0.3, 0.12])  # t <= 0.5, t <= 1, tails
    n = np.concatenate([n, extra_n])
    d = np.concatenate([d, extra_d])
    ours = ks_sf(d, n)
    ref = stats.kstwo.sf(d, n)
    assert np.all(np.abs(ours - ref) < 1e-5)
    big = ref > 1e-300
    assert np.all(np.abs(ours[big] / ref[big] - 1) < 1e-4)
    assert np.isnan(ks_sf([0.1, np.nan], [0, 10])).all()


def test_smirnov_sf_equals_scipy_one_sided_tail():
    from scipy import special

    from serendip.represent.kolmogorov import smirnov_sf

    rng = np.random.default_rng(1)
    n = np.concatenate([rng.integers(1, 200, 200), rng.integers(141, 3000, 60), [1, 2, 20_000]])
    x = np.sqrt(rng.uniform(2.2, 370.0, 60) / n[200:260])
    d = np.concatenate([rng.uniform(0.001, 0.999, 200), np.clip(x, 1e-4, 0.9999), [0.5, 0.3, 0.02]])
    ours = np.array([smirnov_sf(int(a), float(b)) for a, b in zip(n, d, strict=True)])
    ref = special.smirnov(n, d)
    assert np.max(np.abs(ours - ref)) < 1e-12
    big = ref > 1e-300
    assert np.max(np.abs(ours[big] / ref[big] - 1)) < 1e-8
    assert smirnov_sf(10, 0.0) == 1.0 and smirnov_sf(10, 1.0) == 0.0
