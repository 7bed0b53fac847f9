"""Per-file event features against direct per-file computations; Bayesian blocks vs astropy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from astropy.stats import bayesian_blocks
from scipy import stats

from serendip.io import EventSet
from serendip.represent import bayesian_blocks_edges, bayesian_blocks_summary, event_features

from ._events import edge_case_files, random_files


def _hr(a: int, b: int) -> float:
    return (a - b) / (a + b) if a + b else float("nan")


@pytest.fixture(scope="module")
def events() -> EventSet:
    files = edge_case_files()
    files.update(random_files(60, seed=11))
    return EventSet.from_arrays(files)


@pytest.mark.parametrize("seed", range(8))
def test_bayesian_blocks_equal_astropy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 500))
    t = rng.uniform(0, 1e4, n)
    if seed % 2:  # a flare
        t = np.concatenate([t, rng.normal(4e3, rng.uniform(5, 200), int(rng.integers(5, 300)))])
    if seed % 3 == 0:  # ties (frame-time quantisation)
        t = np.round(t / 3.2) * 3.2
    t = np.sort(t)
    ours = bayesian_blocks_edges(t)
    ref = bayesian_blocks(t, fitness="events", p0=0.05)
    assert len(ours) == len(ref)
    np.testing.assert_array_equal(ours, ref)


def test_bayesian_blocks_finds_a_flare_and_not_a_steady_source():
    rng = np.random.default_rng(0)
    steady = np.sort(rng.uniform(0, 1e4, 400))
    flare = np.sort(np.concatenate([rng.uniform(0, 1e4, 400), rng.uniform(5000, 5200, 200)]))
    offsets = np.array([0, 400, 1000])
    nb_, ratio, max_rate = bayesian_blocks_summary(offsets, np.concatenate([steady, flare]))
    assert nb_[0] == 1 and ratio[0] == 1.0
    assert nb_[1] >= 3 and ratio[1] > 5
    assert max_rate[1] == pytest.approx((200 + 400 * 0.02) / 200, rel=0.3)
    # the per-file summary agrees with astropy's blocks
    edges = bayesian_blocks(flare, fitness="events")
    assert nb_[1] == len(edges) - 1


def test_features_match_direct_computation(events):
    df = event_features(events)
    assert list(df.columns[:2]) == ["obsreg_id", "n_events"]
    assert len(df) == events.n_files and list(df.obsreg_id) == list(events.obsreg_id)
    checked = 0
    for i in range(events.n_files):
        t, e = events.events_of(i)
        row = df.iloc[i]
        assert row.n_events == len(t)
        if len(t) < 20 or t[-1] == t[0]:
            continue
        checked += 1
        e64 = e.astype(np.float64)
        s = np.sum((e64 >= 500) & (e64 < 1200))
        m = np.sum((e64 >= 1200) & (e64 < 2000))
        h = np.sum((e64 >= 2000) & (e64 <= 7000))
        assert (row.counts_soft, row.counts_medium, row.counts_hard) == (s, m, h)
        assert row.hard_hs == pytest.approx(_hr(h, s), nan_ok=True)
        assert row.hard_hm == pytest.approx(_hr(h, m), nan_ok=True)
        assert row.hard_ms == pytest.approx(_hr(m, s), nan_ok=True)
        assert row.energy_median == pytest.approx(np.median(e64))
        assert row.energy_q25 == pytest.approx(np.quantile(e64, 0.25))
        assert row.energy_mean == pytest.approx(e64.mean())
        assert row.duration == pytest.approx(t[-1] - t[0])
        assert row.rate == pytest.approx(len(t) / (t[-1] - t[0]))
        u = (t - t[0]) / (t[-1] - t[0])
        ks = stats.kstest(u, "uniform")
        assert row.ks_stat == pytest.approx(ks.statistic)
        # the stated precision of serendip.represent.kolmogorov.ks_sf against scipy's exact kstwo
        assert row.ks_pvalue == pytest.approx(ks.pvalue, rel=1e-4, abs=1e-5)
        c, _ = np.histogram(u, bins=16, range=(0, 1))
        assert row.excess_variance == pytest.approx((c.var(ddof=1) - c.mean()) / c.mean() ** 2)
        window = max(np.sum((u >= a) & (u <= a + 0.1)) for a in u)
        assert row.frac_brightest10 == pytest.approx(window / len(u))
        assert row.time_skewness == pytest.approx(stats.skew(u))
        assert row.log_median_dt == pytest.approx(np.log10(max(np.median(np.diff(t)), 1e-3)))
        edges = bayesian_blocks(t, fitness="events", p0=0.05)
        assert row.bb_n_blocks == len(edges) - 1
    assert checked >= 20


def test_features_separate_flares_from_steady(events):
    df = event_features(events).set_index("obsreg_id")
    rand = df[df.index.str.startswith("r") & (df.n_events > 60)]
    flare = rand[[int(k[1:]) % 4 == 0 for k in rand.index]]
    steady = rand[[int(k[1:]) % 4 != 0 and int(k[1:]) % 7 != 0 for k in rand.index]]
    assert flare.frac_brightest10.min() > steady.frac_brightest10.median()
    assert flare.var_prob.median() > 0.99 and steady.var_prob.median() < 0.99
    assert flare.bb_n_change_points.min() >= 1
    assert flare.adaptive_max_median_rate.median() > steady.adaptive_max_median_rate.median()


def test_edge_case_rows_and_files_table(events):
    df = event_features(events).set_index("obsreg_id")
    assert df.loc["empty", "n_events"] == 0 and np.isnan(df.loc["empty", "energy_median"])
    assert np.isnan(df.loc["one", "rate"]) and df.loc["one", "energy_median"] == 1000.0
    assert df.loc["one", "bb_n_blocks"] == 1
    assert np.isnan(df.loc["all_out_of_band", "hard_hs"])
    # a files table gives the observing interval
    files = pd.DataFrame(
        {"obsreg_id": ["two"], "tstart": [6.0e8 - 100.0], "tstop": [6.0e8 + 100.0]}
    )
    df2 = event_features(events, files=files).set_index("obsreg_id")
    assert df2.loc["two", "duration"] == 200.0 and df2.loc["two", "rate"] == pytest.approx(0.01)
    assert df2.loc["one", "duration"] == 0.0


def _blocks_reference(t, x, p0):
    """astropy's O(N^2) dynamic programme, vectorised per step (cells t, counts x)."""
    n = len(t)
    edges = np.concatenate([t[:1], 0.5 * (t[1:] + t[:-1]), t[-1:]])
    block_length = t[-1] - edges
    ncp = 4 - np.log(73.53 * p0 * n**-0.478)
    best, last = np.zeros(n), np.zeros(n, int)
    for r in range(n):
        nk = np.cumsum(x[: r + 1][::-1])[::-1]
        tk = block_length[: r + 1] - block_length[r + 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            fit = np.where(nk > 0, nk * np.log(nk / tk), 0.0)
        a = fit - ncp
        a[1:] += best[:r]
        last[r], best[r] = np.argmax(a), np.max(a)
    cps, ind = [], n
    while ind > 0:
        cps.append(ind)
        ind = last[ind - 1]
    return edges[np.array([0, *cps[::-1]])]


@pytest.mark.parametrize("p0", [0.01, 0.05, 0.9])
def test_pruned_bayesian_blocks_equal_the_full_programme(p0):
    """Bounds and PELT pruning skip work, not answers: flares, dips, empty cells, any prior."""
    from serendip.represent.bayesian_blocks import bb_cells

    rng = np.random.default_rng(int(p0 * 100))
    for _ in range(6):
        n = int(rng.integers(3, 400))
        rate = np.repeat(rng.uniform(0.0, 5.0, 4), n // 4 + 1)[:n]  # steps, zero-rate cells
        x = rng.poisson(rate).astype(np.float64)
        x[0] = max(x[0], 1.0)
        t = np.cumsum(rng.uniform(0.5, 1.5, n))
        ws = (np.empty(n), np.empty(n, np.int64), np.empty(n + 1), np.empty(n + 1, np.int64))
        work, cand = np.empty((6, n + 1)), np.empty((2, n + 1), np.int64)
        m = bb_cells(t, x, p0, *ws, work, cand)
        np.testing.assert_array_equal(ws[2][ws[3][:m]], _blocks_reference(t, x, p0))


@pytest.mark.parametrize("late_flare", [False, True])
def test_dormant_starts_keep_the_full_programme_answer(late_flare):
    """Long steady runs (where starts go dormant for many steps), with or without a late flare."""
    from serendip.represent.bayesian_blocks import bb_cells

    rng = np.random.default_rng(7 + late_flare)
    for _ in range(3):
        n = int(rng.integers(500, 900))
        rate = np.full(n, rng.uniform(0.5, 3.0))
        if late_flare:  # a late flare, then a slow rise
            rate[int(0.8 * n) : int(0.8 * n) + 20] *= 6.0
            rate[int(0.9 * n) :] *= np.linspace(1.0, 2.0, n - int(0.9 * n))
        x = rng.poisson(rate).astype(np.float64)
        x[0] = max(x[0], 1.0)
        t = np.cumsum(rng.uniform(0.5, 1.5, n))
        ws = (np.empty(n), np.empty(n, np.int64), np.empty(n + 1), np.empty(n + 1, np.int64))
        work, cand = np.empty((6, n + 1)), np.empty((2, n + 1), np.int64)
        m = bb_cells(t, x, 0.05, *ws, work, cand)
        np.testing.assert_array_equal(ws[2][ws[3][:m]], _blocks_reference(t, x, 0.05))
