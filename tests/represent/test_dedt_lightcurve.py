"""dE-dt maps and binned light curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.errors import InputError
from serendip.io import EventSet
from serendip.represent import binned_lightcurve, dedt_maps

from ._events import random_files


def _brute_dedt(t, e, lags=8, n_dt=24, n_de=16):
    h = np.zeros((n_dt, n_de))
    le = np.log10(e.astype(np.float64))
    for i in range(len(t)):
        for j in range(i + 1, min(len(t), i + lags + 1)):
            x = np.log10(max(t[j] - t[i], 1e-3))
            y = le[j] - le[i]
            a = int(np.clip(np.floor((x + 3.0) / 8.0 * n_dt), 0, n_dt - 1))
            b = int(np.clip(np.floor((y + 1.2) / 2.4 * n_de), 0, n_de - 1))
            h[a, b] += 1
    return h


def test_dedt_counts_pairs_and_matches_brute_force():
    files = random_files(40, seed=4)
    files["one"] = (np.array([1.0]), np.array([1000.0], np.float32))
    files["empty"] = (np.zeros(0), np.zeros(0, np.float32))
    ev = EventSet.from_arrays(files)
    d = dedt_maps(ev)
    assert d.shape == (ev.n_files, 24, 16) and d.dtype == np.float32
    n = ev.counts
    pairs = sum(np.maximum(n - k, 0) for k in range(1, 9))
    np.testing.assert_array_equal(d.sum(axis=(1, 2)), pairs)
    for i in range(0, ev.n_files, 5):
        np.testing.assert_array_equal(d[i], _brute_dedt(*ev.events_of(i)))
    dn = dedt_maps(ev, normalize=True)
    ok = pairs > 0
    np.testing.assert_allclose(dn[ok].sum(axis=(1, 2)), 1.0, rtol=1e-5)
    assert dn[~ok].sum() == 0


def test_dedt_is_permutation_invariant_and_sees_bursts():
    rng = np.random.default_rng(1)
    t = np.sort(rng.uniform(0, 1e4, 300))
    burst = np.sort(np.concatenate([rng.uniform(0, 1e4, 150), 5000 + rng.exponential(0.5, 150)]))
    e = rng.uniform(500, 7000, 300).astype(np.float32)
    ev = EventSet.from_arrays({"steady": (t, e), "burst": (burst, e)})
    df = ev.to_frame().sample(frac=1.0, random_state=0)  # shuffled rows
    ev2 = EventSet.from_frame(df, order=["steady", "burst"])
    np.testing.assert_array_equal(dedt_maps(ev), dedt_maps(ev2))
    d = dedt_maps(ev, lags=4)
    short = d[:, :12].sum(axis=(1, 2))  # dt < 10 s
    assert short[1] > 5 * max(short[0], 1)
    with pytest.raises(InputError, match="lags"):
        dedt_maps(ev, lags=0)


def test_binned_lightcurve():
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(100, 1100, 500))
    e = rng.uniform(500, 7000, 500)
    lc = binned_lightcurve(t, e, n_bins=10)
    assert list(lc.columns) == [
        "t_mid",
        "t_width",
        "counts",
        "rate",
        "rate_err",
        "soft",
        "hard",
        "hr",
    ]
    assert len(lc) == 10 and lc.counts.sum() == 500
    assert lc.soft.sum() == np.sum(e < 2000) and lc.hard.sum() == np.sum(e >= 2000)
    np.testing.assert_allclose(lc.rate * lc.t_width, lc.counts)
    np.testing.assert_allclose(lc.hr, (lc.hard - lc.soft) / (lc.hard + lc.soft))
    assert lc.t_mid.iloc[0] == pytest.approx(t[0] + lc.t_width.iloc[0] / 2)
    lc2 = binned_lightcurve(t, e, bin_s=100.0)
    assert lc2.counts.sum() == 500 and lc2.t_width.iloc[0] == 100.0
    single = binned_lightcurve(np.array([5.0]), np.array([1000.0]))
    assert len(single) == 1 and single.counts.iloc[0] == 1
    with pytest.raises(InputError, match="no events"):
        binned_lightcurve(np.zeros(0), np.zeros(0))
    assert isinstance(lc, pd.DataFrame)
