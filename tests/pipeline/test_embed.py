"""Embedders: new files land near their training duplicates; save/load is exact and pickle-free."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from serendip.embed import BaseEmbedder, TSNEEmbedder, UMAPEmbedder, load_embedder
from serendip.errors import InputError, ModelFileError


def _blobs(n_per: int = 150, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0] * 6, [8.0] * 6, [0.0, 8.0] * 3])
    X = np.vstack([c + rng.normal(size=(n_per, 6)) for c in centres])
    return X, np.repeat(np.arange(3), n_per)


@pytest.fixture(scope="module")
def fitted_tsne():
    X, y = _blobs()
    emb = TSNEEmbedder(n_iter=300, perplexity=30, random_state=1)
    Y = emb.fit_transform(X)
    return emb, X, y, Y


def _knn_accuracy(Y: np.ndarray, y: np.ndarray) -> float:
    d = np.linalg.norm(Y[:, None] - Y[None], axis=2)
    np.fill_diagonal(d, np.inf)
    return float(np.mean(y[d.argmin(axis=1)] == y))


def test_tsne_separates_blobs(fitted_tsne):
    emb, X, y, Y = fitted_tsne
    assert Y.shape == (len(X), 2)
    assert np.all(np.isfinite(Y))
    assert _knn_accuracy(Y, y) > 0.98


def test_tsne_transform_lands_near_training_duplicates(fitted_tsne):
    emb, X, y, Y = fitted_tsne
    rng = np.random.default_rng(5)
    pick = rng.choice(len(X), 40, replace=False)
    Z = emb.transform(X[pick] + 1e-4 * rng.normal(size=(40, X.shape[1])))
    dist = np.linalg.norm(Z - Y[pick], axis=1)
    spread = np.median(np.linalg.norm(Y - Y.mean(axis=0), axis=1))
    assert np.median(dist) < 0.1 * spread
    # every new point is nearest to a training point of its own blob
    nearest = np.linalg.norm(Z[:, None] - Y[None], axis=2).argmin(axis=1)
    assert np.all(y[nearest] == y[pick])
    # the training embedding itself is unchanged by transform
    assert np.array_equal(emb.embedding_, Y)


def test_tsne_save_load_transform_identical(fitted_tsne, tmp_path):
    emb, X, _, _ = fitted_tsne
    new = X[:25] + 0.05
    before = emb.transform(new)
    path = emb.save(tmp_path / "tsne.safetensors")
    loaded = load_embedder(path)
    assert isinstance(loaded, TSNEEmbedder)
    assert loaded.get_params() == emb.get_params()
    np.testing.assert_array_equal(loaded.embedding_, emb.embedding_)
    np.testing.assert_array_equal(loaded.transform(new), before)
    # the file holds no pickle: the safetensors header is JSON
    raw = path.read_bytes()
    assert b"pickle" not in raw and b"\x80\x04" not in raw[:16]


def test_reference_settings_and_standardize():
    ref = TSNEEmbedder.reference()
    p = ref.get_params()
    assert (
        p["perplexity"],
        p["learning_rate"],
        p["n_iter"],
        p["early_exaggeration"],
        p["init"],
        p["random_state"],
    ) == (
        50.0,
        100.0,
        1000,
        1.0,
        "random",
        505,
    )
    X, y = _blobs(60)
    X[:, 0] *= 1e4  # a feature with huge numbers
    emb = TSNEEmbedder(n_iter=250, perplexity=15, standardize=True).fit(X)
    assert np.allclose(emb.train_features_.std(axis=0), 1.0, atol=1e-3)
    assert _knn_accuracy(emb.embedding_, y) > 0.95


def test_bad_inputs_raise_clear_errors(fitted_tsne, tmp_path):
    emb = fitted_tsne[0]
    with pytest.raises(InputError, match="expected 6 features"):
        emb.transform(np.zeros((3, 4)))
    with pytest.raises(InputError, match="non-finite"):
        TSNEEmbedder().fit(np.array([[1.0, np.nan]] * 10))
    with pytest.raises(InputError, match="2-D"):
        TSNEEmbedder().fit(np.zeros(10))
    with pytest.raises(RuntimeError, match="not fitted"):
        TSNEEmbedder().transform(np.zeros((2, 2)))
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelFileError):
        BaseEmbedder.load(bad)
    path = emb.save(tmp_path / "t.safetensors")
    with pytest.raises(ModelFileError, match="expected 'embed.UMAP'"):
        UMAPEmbedder.load(path)


@pytest.mark.slow
def test_umap_transform_and_save_load(tmp_path):
    X, y = _blobs(100)
    emb = UMAPEmbedder(n_epochs=60, random_state=3)
    Y = emb.fit_transform(X)
    assert Y.shape == (300, 2)
    assert _knn_accuracy(Y, y) > 0.98
    new = X[::10] + 1e-3
    before = emb.transform(new)
    nearest = np.linalg.norm(before[:, None] - Y[None], axis=2).argmin(axis=1)
    assert np.all(y[nearest] == y[::10])
    loaded = load_embedder(emb.save(tmp_path / "umap.safetensors"))
    assert isinstance(loaded, UMAPEmbedder)
    np.testing.assert_array_equal(loaded.embedding_, emb.embedding_)
    np.testing.assert_allclose(loaded.transform(new), before, rtol=0, atol=1e-6)


def test_tsne_probe_does_not_change_the_neighbour_method():
    """openTSNE's availability probe for pynndescent is skipped for euclidean dense data only."""
    from openTSNE import affinity

    from serendip.embed.tsne import _skip_pynndescent_probe

    probe = affinity.is_package_installed
    with _skip_pynndescent_probe("euclidean"):
        assert affinity.is_package_installed("numpy")
        if "pynndescent" not in sys.modules:
            assert not affinity.is_package_installed("pynndescent")
    assert affinity.is_package_installed is probe
    with _skip_pynndescent_probe("braycurtis"):  # pynndescent may be the right choice here
        assert affinity.is_package_installed is probe
    # the method openTSNE picks for dense euclidean data is Annoy either way
    X = np.random.default_rng(0).normal(size=(1200, 3))
    with _skip_pynndescent_probe("euclidean"):
        knn = affinity.get_knn_index(X, "auto", 5, "euclidean")
    assert type(knn).__name__ == "Annoy"
