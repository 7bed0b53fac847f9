"""Metrics against scikit-learn and hand-counted cases; grouped splits never share an object."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from serendip.evaluate.metrics import (
    all_metrics,
    aupr,
    aupr_baseline,
    auroc,
    budget_name,
    recall_at_budget,
)
from serendip.evaluate.splits import grouped_stratified_split


def test_auroc_aupr_match_sklearn():
    rng = np.random.default_rng(3)
    y = rng.random(500) < 0.1
    s = rng.normal(size=500) + 1.5 * y
    assert auroc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert aupr(y, s) == pytest.approx(average_precision_score(y, s))
    # a perfect ranking and a reversed one
    assert auroc(y, y.astype(float)) == 1.0
    assert aupr(y, y.astype(float)) == 1.0
    assert auroc(y, -y.astype(float)) == 0.0


def test_aupr_baseline_is_prevalence():
    y = np.r_[np.ones(7), np.zeros(93)]
    assert aupr_baseline(y) == pytest.approx(0.07)
    # a random ranking's average precision is close to the prevalence, far from 1 - prevalence
    rng = np.random.default_rng(0)
    y = rng.random(20000) < 0.05
    ap = aupr(y, rng.random(20000))
    assert abs(ap - aupr_baseline(y)) < 0.01


def test_recall_at_budget_on_constructed_ranking():
    # 100 objects, anomalies ranked 1st, 2nd, 10th and 50th by score
    scores = -np.arange(100, dtype=float)
    y = np.zeros(100, dtype=bool)
    y[[0, 1, 9, 49]] = True
    assert recall_at_budget(y, scores, 0.01) == pytest.approx(0.25)
    assert recall_at_budget(y, scores, 0.02) == pytest.approx(0.5)
    assert recall_at_budget(y, scores, 0.05) == pytest.approx(0.5)
    assert recall_at_budget(y, scores, 0.10) == pytest.approx(0.75)
    assert recall_at_budget(y, scores, 0.50) == pytest.approx(1.0)
    # ties at the cut are shared out: a constant score finds `budget` of the anomalies
    assert recall_at_budget(y, np.zeros(100), 0.15) == pytest.approx(0.15)
    m = all_metrics(y, scores)
    assert set(m) == {
        "auroc",
        "aupr",
        "aupr_baseline",
        "recall@1%",
        "recall@2%",
        "recall@5%",
        "recall@15%",
    }
    assert budget_name(0.15) == "recall@15%"
    with pytest.raises(ValueError):
        recall_at_budget(y, scores, 0.0)


def test_grouped_split_never_shares_an_object_and_is_stratified():
    rng = np.random.default_rng(1)
    n_obj = 300
    obj_class = rng.choice(["A", "B", "C"], size=n_obj, p=[0.6, 0.3, 0.1])
    reps = rng.integers(1, 6, size=n_obj)  # several rows per object
    groups = np.repeat(np.arange(n_obj), reps)
    labels = np.repeat(obj_class, reps)
    for seed in range(3):
        tr, te = grouped_stratified_split(labels, groups, test_size=0.25, seed=seed)
        assert len(np.intersect1d(groups[tr], groups[te])) == 0
        assert len(tr) + len(te) == len(labels)
        for c in "ABC":
            n_c = (obj_class == c).sum()
            n_te = len(np.unique(groups[te][labels[te] == c]))
            assert abs(n_te - 0.25 * n_c) <= 1
    a = grouped_stratified_split(labels, groups, seed=5)
    b = grouped_stratified_split(labels, groups, seed=5)
    c = grouped_stratified_split(labels, groups, seed=6)
    assert np.array_equal(a[1], b[1]) and not np.array_equal(a[1], c[1])


def test_split_rejects_object_with_two_classes():
    with pytest.raises(ValueError, match="different classes"):
        grouped_stratified_split(np.array(["A", "B", "A", "A"]), np.array([1, 1, 2, 3]))
