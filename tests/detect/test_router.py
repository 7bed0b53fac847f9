"""Hierarchical router: objects go to the right branch and scores are comparable across branches."""

from __future__ import annotations

import numpy as np
import pytest

from serendip.detect import MCIF, HierarchicalRouter
from serendip.detect.router import calibrate
from serendip.errors import InputError


def test_router_sends_objects_to_their_branch(fitted, data):
    X, y, Xtest, is_out = data
    det: HierarchicalRouter = fitted["router"]
    np.testing.assert_array_equal(det.branches_, ["first", "rest"])
    truth = np.where(y == "zeta", "first", "rest")
    assert np.mean(det.predict_branch(X) == truth) > 0.98
    proba = det.branch_proba(X)
    assert proba.shape == (len(X), 2)
    # the routed score is the calibrated score of the chosen branch's detector
    branch = det.predict_branch(Xtest)
    Xs = det.transform_features(Xtest)
    for b, name in enumerate(det.branches_):
        rows = branch == name
        raw = det.branch_detectors_[b].score_samples(Xs[rows])
        np.testing.assert_array_equal(
            det.score_samples(Xtest)[rows], calibrate(raw, det.reference_[b])
        )
    np.testing.assert_array_equal(det.score_routed(Xtest, branch), det.score_samples(Xtest))


def test_calibrated_training_scores_are_uniform_per_branch(fitted, data):
    X, y, _, _ = data
    det: HierarchicalRouter = fitted["router"]
    s = det.training_scores_
    for name in ("zeta",):
        rows = y == name
        assert 0.0 < s[rows].min() and s[rows].max() < 1.0
        assert np.median(s[rows]) == pytest.approx(0.5, abs=0.05)


def test_calibrate_is_monotone_beyond_training_range():
    ref = np.sort(np.random.default_rng(0).normal(size=500))
    s = np.linspace(-5, 10, 400)
    q = calibrate(s, ref)
    assert np.all(np.diff(q) >= 0)
    assert q[-1] > q[s < ref[-1]].max() + 1.0  # far beyond the training scores keeps growing
    assert q[(s > -0.01) & (s < 0.01)] == pytest.approx(0.5, abs=0.06)


def test_router_with_multiclass_branch_detector(data):
    X, y, Xtest, is_out = data
    det = HierarchicalRouter(
        branches={"first": ["zeta"], "rest": ["alpha", "mu"]},
        detector="mcif",
        detector_params={"n_estimators": 30},
        hidden_sizes=(16,),
        max_epochs=20,
        batch_size=64,
    ).fit(X, y)
    assert isinstance(det.branch_detectors_[1], MCIF)
    np.testing.assert_array_equal(det.branch_detectors_[1].classes_, ["alpha", "mu"])
    s = det.score_samples(Xtest)
    assert np.median(s[is_out]) > np.quantile(s[~is_out], 0.9)


def test_router_rejects_unmapped_classes(data):
    X, y, _, _ = data
    with pytest.raises(InputError, match="in no branch"):
        HierarchicalRouter(branches={"a": ["zeta"]}, max_epochs=1).fit(X, y)
