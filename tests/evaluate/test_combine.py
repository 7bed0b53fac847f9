"""Inner-CV tuning on inliers only and rank-averaged ensembles (issue 17, item 5)."""

from __future__ import annotations

import numpy as np
import pytest

from serendip.errors import ConfigError
from serendip.evaluate import leave_one_subclass_out
from serendip.evaluate.combine import InnerCVTuned, RankAverage, rank_percentiles
from serendip.evaluate.detectors import make_detector


def _blobs(seed=0):
    rng = np.random.default_rng(seed)
    centres = {"A": (0, 0), "B": (6, 0), "C": (0, 6), "D": (6, 6)}
    y = np.repeat(list(centres), 60)
    X = np.array([centres[c] for c in y], float) + rng.normal(0, 1, (len(y), 2))
    return np.c_[X, rng.normal(0, 1, (len(y), 2))], y


def test_tuned_chooses_on_inlier_classes_only_and_skips_failing_points():
    X, y = _blobs()
    seen = []

    class Spy(InnerCVTuned):
        def _fit_one(self, det, X, y):
            seen.append(set(np.unique(y)) if y is not None else set())
            return super()._fit_one(det, X, y)

    inl = y != "D"
    det = Spy("mcif", grid={"max_samples": [0, 32]}, params={"n_estimators": 10})
    det.fit(X[inl], y[inl])
    assert all("D" not in s for s in seen)  # the outer anomaly is never seen
    assert det.best_params_ == {"max_samples": 32}  # 0 raises on every inner fold
    assert np.isnan(det.cv_scores_[0][1]) and det.cv_scores_[1][1] > 0.7
    assert "3 inlier classes" in det.tuned_by_
    s = det.score_samples(X)
    assert s[~inl].mean() > s[inl].mean()
    one = InnerCVTuned("knn", grid={"n_neighbors": [3, 5]}).fit(X[y == "A"], y[y == "A"])
    assert "not tuned" in one.tuned_by_ and one.best_params_ == {"n_neighbors": 3}


def test_rank_average_is_the_mean_of_member_rank_percentiles():
    X, y = _blobs()
    inl = y != "D"
    ens = make_detector("rank_average", {"members": ["knn", ["mcif", {"n_estimators": 20}]]})
    assert ens.needs_labels
    ens.fit(X[inl], y[inl])
    parts = [rank_percentiles(m.score_samples(X)) for m in ens.models_]
    np.testing.assert_allclose(ens.score_samples(X), np.mean(parts, axis=0))
    with pytest.raises(ConfigError, match="rank_average"):
        make_detector("rank_average", {"members": []})


def test_combined_detectors_in_the_protocol():
    X, y = _blobs()
    dets = {
        "tuned_knn": ("tuned", {"detector": "knn", "grid": {"n_neighbors": [2, 10]}}),
        "ens": ("rank_average", {"members": ["knn", "lof"]}),
    }
    res = leave_one_subclass_out(X, y, dets, seeds=(0,), held_out=["D"], show_progress=False)
    assert not res.failures
    assert (res.summary.query("metric == 'auroc'")["mean"] > 0.9).all()
    assert isinstance(RankAverage(["knn"]), RankAverage)


def test_serendip_iforest_and_lof_are_the_pyod_baselines():
    """Documented as baselines: at their defaults they rank as PyOD's models do."""
    from scipy.stats import spearmanr

    X, y = _blobs()
    Xs = (X - X[:150].mean(0)) / X[:150].std(0)
    for ours, theirs in (("lof", "pyod.LOF"), (("iforest", {"random_state": 3}), None)):
        if theirs is None:
            a = make_detector("iforest", {"random_state": 3}).fit(Xs[:150]).score_samples(Xs)
            b = make_detector("pyod.IForest", {"random_state": 3}).fit(Xs[:150]).score_samples(Xs)
        else:
            a = make_detector(ours).fit(Xs[:150]).score_samples(Xs)
            b = make_detector(theirs).fit(Xs[:150]).score_samples(Xs)
        assert spearmanr(a, b).statistic > 0.9999  # float32 tree splits: ties can differ
