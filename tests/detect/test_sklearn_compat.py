"""scikit-learn conventions: clone, get/set_params, pipelines, agreement with sklearn's own models."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import IsolationForest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

from serendip.detect import DETECTORS, OCSVM, IForest, make_detector

from .conftest import all_detectors


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
