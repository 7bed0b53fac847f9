"""ActiveRanker: API contract and a toy oracle problem where learning must beat the static order.

Budget: < 30 s on 2 cores (forests kept small).
"""

from __future__ import annotations

import numpy as np
import pytest

from serendip.detect.active import STRATEGIES, ActiveRanker, simulate_review
from serendip.errors import InputError

FAST = {"n_trees": 30, "n_spare_trees": 60, "n_subsamples": 128}


def _toy(seed: int = 0):
    """Background (low base score), a blob of 150 boring anomalies with the highest base
    scores and a separate blob of 30 interesting rows whose base scores sit just below."""
    rng = np.random.default_rng(seed)
    n_bg, n_bore, n_int = 2000, 150, 30
    bg = rng.normal(0.0, 1.0, size=(n_bg, 5))
    bore = rng.normal(0.0, 0.3, size=(n_bore, 5)) + np.array([6.0, 0, 0, 0, 0])
    inter = rng.normal(0.0, 0.3, size=(n_int, 5)) + np.array([0, 6.0, 0, 0, 0])
    X = np.vstack([bg, bore, inter])
    base = np.concatenate(
        [rng.uniform(0.0, 0.5, n_bg), rng.uniform(0.8, 1.0, n_bore), rng.uniform(0.6, 0.85, n_int)]
    )
    truth = np.r_[np.zeros(n_bg + n_bore, bool), np.ones(n_int, bool)]
    perm = rng.permutation(len(base))
    return X[perm], base[perm], truth[perm]


def _toy_clusters(seed: int = 0):
    """Boring anomalies in 6 small, far clusters (so an isolation forest also sees them as
    anomalous) with higher base scores than one far cluster of 20 interesting rows."""
    rng = np.random.default_rng(seed)
    bg = rng.normal(size=(2000, 5))
    centres = rng.normal(size=(6, 5))
    centres = 6.0 * centres / np.linalg.norm(centres, axis=1, keepdims=True)
    bore = np.repeat(centres, 15, axis=0) + rng.normal(0.0, 0.4, size=(90, 5))
    inter = np.array([0.0, 0, 0, 0, -5.0]) + rng.normal(0.0, 0.4, size=(20, 5))
    X = np.vstack([bg, bore, inter])
    base = np.concatenate(
        [rng.uniform(0.0, 0.5, 2000), rng.uniform(0.8, 1.0, 90), rng.uniform(0.6, 0.85, 20)]
    )
    return X, base, np.r_[np.zeros(2090, bool), np.ones(20, bool)]


@pytest.fixture(scope="module")
def toy():
    return _toy()


def _params(strategy):
    return {"strategy": strategy, **(FAST if strategy in ("aad", "pine") else {})}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_contract(strategy, toy):
    X, base, truth = toy
    n = len(base)
    r = ActiveRanker(random_state=1, **_params(strategy)).fit(X, base)
    s0 = r.score_samples()
    assert s0.shape == (n,) and s0.dtype == np.float64
    # before any label: a monotone (non-decreasing) map of the base score, same order
    o = np.argsort(base)
    assert np.all(np.diff(s0[o]) >= 0)
    top = r.next_indices(10)
    assert top.shape == (10,) and top.dtype == np.int64
    np.testing.assert_array_equal(top, np.argsort(-base, kind="stable")[:10])
    # labelled rows are never returned; the scores stay finite and shaped
    idx = np.argsort(-base)[:40]
    r.update(idx, truth[idx].astype(int))
    s1 = r.score_samples()
    assert s1.shape == (n,) and np.all(np.isfinite(s1))
    nxt = r.next_indices(200)
    assert len(nxt) == 200 and not np.intersect1d(nxt, idx).size
    assert len(np.unique(nxt)) == 200
    # order of next_indices follows the score
    assert np.all(np.diff(s1[nxt]) <= 0)
    # asking for more than is left returns every unlabelled row
    assert len(r.next_indices(n + 5)) == n - 40
    # get_params round-trips
    p = r.get_params()
    assert p["strategy"] == strategy and p["random_state"] == 1
    clone = ActiveRanker(**p)
    assert clone.get_params() == p


@pytest.mark.parametrize("strategy", ["knn", "aad", "pine"])
def test_labels_are_the_state(strategy, toy):
    """Refitting from the same labels gives the same scores; withdrawing labels restores the base order."""
    X, base, truth = toy
    idx = np.argsort(-base)[:25]
    y = truth[idx].astype(int)
    a = ActiveRanker(**_params(strategy)).fit(X, base)
    a.update(idx[:10], y[:10]).update(idx, y)  # incremental
    b = ActiveRanker(**_params(strategy)).fit(X, base).update(idx, y)  # from scratch
    np.testing.assert_allclose(a.score_samples(), b.score_samples(), atol=1e-9)
    a.update(np.array([], dtype=int), np.array([], dtype=int))
    np.testing.assert_allclose(
        a.score_samples(), ActiveRanker(**_params(strategy)).fit(X, base).score_samples(), atol=1e-9
    )


def test_knn_moves_neighbours_of_labels(toy):
    X, base, truth = toy
    r = ActiveRanker("knn").fit(X, base)
    s0 = r.score_samples()
    bore = np.flatnonzero((base >= 0.8) & ~truth)
    inter = np.flatnonzero(truth)
    r.update(np.r_[bore[:3], inter[:2]], [0, 0, 0, 1, 1])
    s1 = r.score_samples()
    assert np.mean(s1[bore[3:]] - s0[bore[3:]]) < -0.1  # similar to "not interesting": sink
    assert np.mean(s1[inter[2:]] - s0[inter[2:]]) > 0.1  # similar to "interesting": rise


def test_oracle_knn_beats_static(toy):
    X, base, truth = toy
    static = simulate_review(ActiveRanker("static"), X, base, truth, n_inspect=60)
    learned = simulate_review(ActiveRanker("knn"), X, base, truth, n_inspect=60)
    assert static.shape == learned.shape == (60,)
    assert np.all(np.diff(learned) >= 0) and np.all(np.diff(learned) <= 1)
    # static inspects the 150 boring rows first: finds nothing in 60
    assert static[-1] == 0
    assert learned[-1] >= 15, learned[-1]


@pytest.mark.parametrize(
    "params",
    [
        {"strategy": "knn"},
        # AAD learns from "not interesting" labels only when its budget covers them
        # (here 90 boring of 2,110 rows = 4 %)
        # (here 90 boring of 2,110 rows = 4 %); on this toy the regularised solve
        # (prior_influence 1) learns, coniferest's default (0, the ranker's default since it
        # does better on the real tables of bench_active_real.py) does not
        {"strategy": "aad", "budget": 0.1, "prior_influence": 1.0, **FAST},
        {"strategy": "pine", **FAST},
    ],
)
def test_oracle_clustered_anomalies(params):
    X, base, truth = _toy_clusters()
    static = simulate_review(ActiveRanker("static"), X, base, truth, n_inspect=60)
    learned = simulate_review(ActiveRanker(**params), X, base, truth, n_inspect=60)
    assert static[-1] == 0  # 90 boring rows outrank every interesting one
    assert learned[-1] >= 10, learned[-1]


def test_retrain_every(toy):
    X, base, truth = toy
    found = simulate_review(ActiveRanker("knn"), X, base, truth, n_inspect=60, retrain_every=10)
    assert found.shape == (60,)
    # no label before the first retrain: the first 10 inspections follow the base score,
    # which puts the 150 boring rows first, so nothing is found in them
    assert found[9] == 0
    # the same loop by hand: each block of 10 is the ranker's top 10 after the previous labels
    r = ActiveRanker("knn").fit(X, base)
    seen = np.empty(0, dtype=np.int64)
    for _ in range(6):
        seen = np.r_[seen, r.next_indices(10)]
        r.update(seen, truth[seen].astype(np.int64))
    np.testing.assert_array_equal(found, np.cumsum(truth[seen]))
    # learning after every 10 labels still finds all 30 interesting rows within 60 looks
    # (the static order finds none), only later than retraining after every label
    every = simulate_review(ActiveRanker("knn"), X, base, truth, n_inspect=60)
    assert found[-1] == truth.sum() == 30
    assert np.all(found <= every)


def test_bad_input(toy):
    X, base, truth = toy
    with pytest.raises(InputError, match="base_score has shape"):
        ActiveRanker().fit(X, base[:-1])
    r = ActiveRanker().fit(X, base)
    with pytest.raises(InputError, match="out of range"):
        r.update([len(base)], [1])
    with pytest.raises(InputError, match="labels must be 1"):
        r.update([0], [2])
    with pytest.raises(InputError, match="equal length"):
        r.update([0, 1], [1])
    with pytest.raises(ValueError, match="unknown strategy"):
        ActiveRanker("nope").fit(X, base)
    with pytest.raises(RuntimeError, match="not fitted"):
        ActiveRanker().score_samples()


def test_missing_values_are_imputed_and_stated(toy):
    from serendip.notices import NoticeLog

    X, base, truth = toy
    Xn = X.copy()
    Xn[3, 2] = np.nan
    Xn[5, 2] = np.inf
    Xn[:, 4] = np.nan  # a column with no value at all
    with NoticeLog() as log:
        r = ActiveRanker("knn").fit(Xn, base)
    got = [n for n in log.records if n.code == "imputed_missing"]
    assert len(got) == 1 and got[0].count == 2 + len(X)
    assert np.isfinite(r.score_samples()).all()
    found = simulate_review(ActiveRanker("knn"), Xn, base, truth, n_inspect=40)
    assert found[-1] > 0


def test_repeated_row_keeps_last_label(toy):
    X, base, truth = toy
    r = ActiveRanker().fit(X, base)
    r.update([5, 7, 5], [1, 0, 0])
    np.testing.assert_array_equal(r.labelled_, [5, 7])
    np.testing.assert_array_equal(r.labels_, [0, 0])
