"""Sign convention, threshold from contamination and input checks for every detector."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from serendip.detect import KNN, BaseDetector, IForest
from serendip.errors import InputError

from .conftest import all_detectors

NAMES = list(all_detectors())


@pytest.mark.parametrize("name", NAMES)
def test_planted_outliers_score_higher(fitted, data, name):
    _, _, Xtest, is_out = data
    det = fitted[name]
    scores = det.score_samples(Xtest)
    assert scores.shape == (len(Xtest),) and scores.dtype == np.float64
    assert np.all(np.isfinite(scores))
    assert roc_auc_score(is_out, scores) > 0.95, name
    assert np.median(scores[is_out]) > np.quantile(scores[~is_out], 0.9), name


@pytest.mark.parametrize("name", NAMES)
def test_threshold_follows_contamination(fitted, data, name):
    _, _, Xtest, is_out = data
    det = fitted[name]
    frac_above = np.mean(det.training_scores_ > det.threshold_)
    assert frac_above == pytest.approx(det.contamination, abs=0.01)
    pred = det.predict(Xtest)
    assert set(np.unique(pred)) <= {0, 1}
    np.testing.assert_array_equal(pred, (det.decision_function(Xtest) > 0).astype(int))
    assert pred[is_out].mean() > 0.8  # far outliers are flagged
    assert pred[~is_out].mean() < 0.2


def test_contamination_moves_threshold(data):
    X, y, _, _ = data
    low = IForest(contamination=0.01).fit(X)
    high = IForest(contamination=0.2).fit(X)
    assert high.threshold_ < low.threshold_
    assert np.mean(high.score_samples(X) > high.threshold_) == pytest.approx(0.2, abs=0.01)
    with pytest.raises(ValueError, match="contamination"):
        IForest(contamination=0.7).fit(X)


def test_threshold_for_budget():
    scores = np.arange(1000.0)
    cut = BaseDetector.threshold_for_budget(scores, 0.05)
    assert np.sum(scores > cut) == 50


def test_knn_training_scores_exclude_self(data):
    X, _, _, _ = data
    det = KNN(n_neighbors=1, method="largest").fit(X)
    # leave-self-out: no training row is at distance 0 from its own nearest neighbour
    assert det.training_scores_.min() > 0
    assert np.all(det.score_samples(X) == 0)  # scoring the training rows again finds themselves


def test_bad_input_raises_input_error(fitted, data):
    X, y, _, _ = data
    det = fitted["iforest"]
    with pytest.raises(InputError, match="expecting 6 features"):
        det.score_samples(X[:, :4])
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(InputError, match="row 3, column 2"):
        IForest().fit(bad)
    with pytest.raises(InputError, match="2D array"):
        det.score_samples(X[0])
    with pytest.raises(InputError, match="labels"):
        all_detectors()["mcif"].fit(X)
    with pytest.raises(InputError, match="fewer than"):
        all_detectors()["mcif"].fit(X, np.r_[["odd"], y[1:]])
    with pytest.raises(InputError, match="n_samples=1"):
        KNN(n_neighbors=10).fit(X[:1])
    with pytest.warns(UserWarning, match="using n_neighbors=4"):
        assert KNN(n_neighbors=10).fit(X[:5]).n_neighbors_ == 4
