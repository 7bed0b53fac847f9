"""scikit-learn conventions: every estimator passes ``check_estimator``; clone, get/set_params,
pipelines, NotFittedError, PyOD's attributes, agreement with sklearn's own models.

The deep models run the checks with tiny networks and two epochs (the checks test the API,
not the fit quality), so the whole file stays quick on two cores.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

from serendip.detect import (
    DETECTORS,
    KNN,
    LOF,
    MCIF,
    OCSVM,
    VAE,
    Autoencoder,
    ClassifierLatentDetector,
    DeepSVDD,
    HierarchicalRouter,
    IForest,
    Mahalanobis,
    MultiClassDeepSVDD,
    make_detector,
)
from serendip.features import ConvAutoencoder, DeepSetsEncoder, DenseAutoencoder, PCAFeatures

from .conftest import all_detectors

_TINY = {"max_epochs": 2, "patience": 1, "batch_size": 64, "hidden_sizes": (4,)}

#: one instance of every estimator class, with settings that keep the checks fast
CHECKED = [
    IForest(n_estimators=10),
    OCSVM(),
    KNN(),
    LOF(),  # n_neighbors=20 is lowered (with a notice) on the checks' 10-20-row data sets
    Mahalanobis(),
    MCIF(n_estimators=10),
    Autoencoder(latent_dim=2, **_TINY),
    VAE(latent_dim=2, n_draws=2, **_TINY),
    DeepSVDD(rep_dim=2, pretrain_epochs=1, **_TINY),
    MultiClassDeepSVDD(rep_dim=2, pretrain_epochs=1, **_TINY),
    ClassifierLatentDetector(latent_dim=2, detector="iforest", n_estimators=10, **_TINY),
    HierarchicalRouter(detector="knn", **_TINY),
    PCAFeatures(n_components=1),
    # input is not a 2-D table (maps, cubes, event sets): the generic checks are skipped,
    # as their __sklearn_tags__ docstrings explain; the API checks below still apply
    ConvAutoencoder(epochs=1),
    DenseAutoencoder(epochs=1),
    DeepSetsEncoder(epochs=1),
]


@parametrize_with_checks(CHECKED)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("est", CHECKED, ids=lambda e: type(e).__name__)
def test_not_fitted_error_and_clone(est):
    twin = clone(est)
    assert twin.get_params() == est.get_params() and twin is not est
    method = next(m for m in ("score_samples", "transform") if hasattr(est, m))
    X = np.zeros((3, 4), dtype=np.float32)
    with pytest.raises(NotFittedError):
        getattr(twin, method)(X)


def test_skipped_inputs_are_declared():
    for est in (ConvAutoencoder(), DenseAutoencoder(), DeepSetsEncoder()):
        assert get_tags(est).input_tags.two_d_array is False
    for est in CHECKED[:11]:
        assert get_tags(est).input_tags.two_d_array is True


def test_pyod_vocabulary(data):
    X, y, Xtest, _ = data
    det = IForest(n_estimators=30, contamination=0.05).fit(X)
    assert det.decision_scores_ is det.training_scores_ and det.decision_scores_.shape == (len(X),)
    assert det.labels_.dtype == np.int64 and set(np.unique(det.labels_)) <= {0, 1}
    assert det.labels_.mean() == pytest.approx(0.05, abs=0.01)
    np.testing.assert_array_equal(det.labels_, (det.decision_scores_ > det.threshold_) * 1)
    # scikit-learn's decision_function: score minus threshold, positive = anomaly
    np.testing.assert_allclose(
        det.decision_function(Xtest), det.score_samples(Xtest) - det.threshold_
    )
    np.testing.assert_array_equal(det.predict(Xtest), (det.decision_function(Xtest) > 0) * 1)


def test_feature_names_from_a_dataframe(data):
    pd = pytest.importorskip("pandas")
    X, _, Xtest, _ = data
    cols = [f"f{i}" for i in range(X.shape[1])]
    det = IForest(n_estimators=20).fit(pd.DataFrame(X, columns=cols))
    assert list(det.feature_names_in_) == cols and det.n_features_in_ == X.shape[1]
    a = det.score_samples(pd.DataFrame(Xtest, columns=cols))
    np.testing.assert_array_equal(a, det.score_samples(Xtest))
    with pytest.raises(ValueError, match="feature names"):
        det.score_samples(pd.DataFrame(Xtest, columns=cols[::-1]))


@pytest.mark.parametrize("name", list(all_detectors()))
def test_clone_and_params(name):
    det = all_detectors()[name]
    params = det.get_params()
    twin = clone(det)
    assert type(twin) is type(det) and twin is not det
    assert twin.get_params().keys() == params.keys()
    twin.set_params(contamination=0.05)
    assert twin.contamination == 0.05 and det.contamination == 0.01


def test_inside_pipeline(data):
    X, y, Xtest, is_out = data
    pipe = make_pipeline(StandardScaler(), IForest(random_state=0))
    pipe.fit(X)
    scores = pipe.score_samples(Xtest)
    assert scores[is_out].mean() > scores[~is_out].mean()
    pred = pipe.predict(Xtest)
    assert pred[is_out].mean() > 0.8
    mc = make_pipeline(StandardScaler(), make_detector("mcif", n_estimators=20)).fit(X, y)
    assert mc.score_samples(Xtest).shape == (len(Xtest),)


def test_iforest_equals_sklearn(data):
    X, _, Xtest, _ = data
    ours = IForest(n_estimators=60, max_features=0.7, random_state=4).fit(X)
    ref = IsolationForest(n_estimators=60, max_features=0.7, random_state=4).fit(X)
    np.testing.assert_allclose(
        ours.score_samples(Xtest), -ref.score_samples(Xtest), rtol=0, atol=1e-14
    )


def test_ocsvm_equals_sklearn(data):
    X, _, Xtest, _ = data
    ours = OCSVM(nu=0.3, scale=False).fit(X)
    ref = OneClassSVM(nu=0.3, gamma="scale").fit(X)
    np.testing.assert_allclose(
        ours.score_samples(Xtest), -ref.decision_function(Xtest), rtol=1e-9, atol=1e-9
    )


def test_ocsvm_subsamples_large_training_sets(data):
    X, _, _, _ = data
    det = OCSVM(nu=0.5, max_train=100).fit(X)
    assert det.support_vectors_.shape[0] <= 100


def test_registry_names():
    assert {
        "iforest",
        "ocsvm",
        "knn",
        "lof",
        "ae",
        "vae",
        "deepsvdd",
        "mcdsvdd",
        "mcif",
        "latent",
        "router",
    } <= set(DETECTORS)
    from serendip.errors import InputError

    with pytest.raises(InputError, match="unknown detector"):
        make_detector("nope")
