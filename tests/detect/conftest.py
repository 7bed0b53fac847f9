"""Small synthetic data and fast settings shared by the detector tests."""

from __future__ import annotations

import numpy as np
import pytest

from serendip.detect import (
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
    MultiClassDeepSVDD,
)

#: known classes deliberately NOT in alphabetical order of first appearance
CLASS_NAMES = np.array(["zeta", "alpha", "mu"])
CENTRES = np.array(
    [
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [5.0, 5.0, 0.0, 0.0, 0.0, 0.0],
        [0.0, 5.0, 5.0, 0.0, 0.0, 0.0],
    ]
)
DEEP = {"max_epochs": 40, "patience": 5, "batch_size": 64}


def make_data(seed: int = 0, n_train: int = 450, n_test_in: int = 150, n_out: int = 20):
    """Three Gaussian classes in 6-D (unit variance) and planted outliers far from all of them."""
    rng = np.random.default_rng(seed)
    codes = np.arange(n_train) % 3
    X = CENTRES[codes] + rng.normal(size=(n_train, 6))
    tcodes = rng.integers(0, 3, n_test_in)
    inl = CENTRES[tcodes] + rng.normal(size=(n_test_in, 6))
    out = rng.normal(size=(n_out, 6)) + np.array([2.5, 2.5, 2.5, 7.0, -7.0, 7.0])
    Xtest = np.vstack([inl, out])
    is_out = np.r_[np.zeros(n_test_in, bool), np.ones(n_out, bool)]
    return X, CLASS_NAMES[codes], Xtest, is_out


def all_detectors() -> dict:
    """One instance of every detector with fast settings (name -> unfitted detector)."""
    return {
        "iforest": IForest(random_state=1),
        "ocsvm": OCSVM(nu=0.2),
        "knn_mean": KNN(n_neighbors=5, method="mean"),
        "knn_largest": KNN(n_neighbors=5, method="largest"),
        "lof": LOF(n_neighbors=20),
        "ae": Autoencoder(hidden_sizes=(16,), latent_dim=3, **DEEP),
        "vae": VAE(hidden_sizes=(16,), latent_dim=3, n_draws=8, **DEEP),
        "deepsvdd": DeepSVDD(hidden_sizes=(16,), rep_dim=4, pretrain_epochs=20, **DEEP),
        "mcdsvdd": MultiClassDeepSVDD(hidden_sizes=(16,), rep_dim=4, pretrain_epochs=20, **DEEP),
        "mcif": MCIF(n_estimators=50),
        "latent_mcif": ClassifierLatentDetector(
            hidden_sizes=(16,), latent_dim=6, detector="mcif", n_estimators=50, **DEEP
        ),
        "latent_iforest": ClassifierLatentDetector(
            hidden_sizes=(16,), latent_dim=6, detector="iforest", n_estimators=50, **DEEP
        ),
        "router": HierarchicalRouter(
            branches={"first": ["zeta"], "rest": ["alpha", "mu"]},
            detector="knn",
            hidden_sizes=(16,),
            **DEEP,
        ),
    }


@pytest.fixture(scope="session")
def data():
    return make_data()


@pytest.fixture(scope="session")
def fitted(data):
    """Every detector fitted once on the shared training data."""
    X, y, _, _ = data
    return {name: det.fit(X, y) for name, det in all_detectors().items()}
