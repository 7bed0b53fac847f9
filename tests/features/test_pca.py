"""PCAFeatures: equal to scikit-learn, chunked fitting, save/load, bad input and bad files."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from serendip.errors import InputError, ModelFileError
from serendip.features import PCAFeatures


def _data(n, shape, seed=0, lam=2.0):
    rng = np.random.default_rng(seed)
    return rng.poisson(rng.random((n, *shape)) * lam).astype(np.float32)


def test_pca_equals_sklearn_small_path():
    X = _data(400, (24, 16))
    ours = PCAFeatures(15).fit(X)
    ref = PCA(15, svd_solver="full").fit(X.reshape(400, -1).astype(np.float64))
    assert ours.transform(X).shape == (400, 15)
    np.testing.assert_allclose(ours.components_, ref.components_, atol=1e-9)
    np.testing.assert_allclose(
        ours.transform(X), ref.transform(X.reshape(400, -1).astype(np.float64)), atol=1e-8
    )
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-9
    )


def test_pca_covariance_path_and_chunks_equal_sklearn():
    X = _data(6000, (24, 16, 2), seed=1, lam=0.2)  # n * d > 4e6 and n > d: covariance + eigh path
    ours = PCAFeatures(22, chunk_rows=2500).fit(X)
    ref = PCA(22, svd_solver="full").fit(X.reshape(len(X), -1).astype(np.float64))
    np.testing.assert_allclose(ours.components_, ref.components_, atol=1e-8)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-8)
    chunked = PCAFeatures(22).fit_chunks(lambda a, b: X[a:b], len(X), (24, 16, 2), chunk_rows=1777)
    np.testing.assert_allclose(chunked.transform(X), ours.transform(X), atol=1e-8)


def test_pca_save_load_identical(tmp_path):
    X = _data(200, (24, 16), seed=2)
    p = PCAFeatures(15).fit(X)
    path = p.save(tmp_path / "pca.safetensors")
    q = PCAFeatures.load(path)
    assert q.input_shape_ == (24, 16)
    assert np.array_equal(p.transform(X), q.transform(X))
    assert np.array_equal(p.inverse_transform(p.transform(X[:3])).shape, (3, 24, 16))


def test_pca_bad_input():
    p = PCAFeatures(15).fit(_data(100, (24, 16)))
    with pytest.raises(InputError, match="shape"):
        p.transform(_data(5, (24, 8)))
    bad = _data(10, (24, 16))
    bad[3, 2, 2] = np.nan
    with pytest.raises(InputError, match="non-finite"):
        p.transform(bad)
    with pytest.raises(InputError, match="n_components"):
        PCAFeatures(50).fit(_data(20, (24, 16)))


def test_pca_malformed_files_raise(tmp_path):
    from serendip.io.modelfile import load_model, save_model

    p = PCAFeatures(5).fit(_data(60, (24, 16)))
    path = p.save(tmp_path / "pca.safetensors")
    arrays, settings, kind = load_model(path)
    # components of the wrong size
    arrays_bad = dict(arrays, components=arrays["components"][:, :100])
    save_model(tmp_path / "bad.safetensors", kind, arrays_bad, settings)
    with pytest.raises(ModelFileError, match="do not match"):
        PCAFeatures.load(tmp_path / "bad.safetensors")
    # wrong kind
    save_model(tmp_path / "other.safetensors", "features.ConvAutoencoder", arrays, settings)
    with pytest.raises(ModelFileError, match="expected"):
        PCAFeatures.load(tmp_path / "other.safetensors")
    # truncated bytes
    raw = path.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ModelFileError):
        PCAFeatures.load(tmp_path / "trunc.safetensors")
    # non-finite weights
    arrays_nan = dict(arrays, mean=np.full_like(arrays["mean"], np.nan))
    save_model(tmp_path / "nan.safetensors", kind, arrays_nan, settings)
    with pytest.raises(ModelFileError, match="non-finite"):
        PCAFeatures.load(tmp_path / "nan.safetensors")


def test_pca_sparse_and_lanczos_paths_equal_sklearn(monkeypatch):
    import serendip.features.pca as pca_mod

    monkeypatch.setattr(pca_mod, "_EIGSH_MIN_DIM", 100)  # use eigsh on this small problem
    X = _data(6000, (24, 16, 2), seed=4, lam=0.03)  # ~1.5 % non-zero bins: sparse accumulation
    assert np.count_nonzero(X) < 0.05 * X.size
    ours = PCAFeatures(10, chunk_rows=2000).fit(X)
    ref = PCA(10, svd_solver="full").fit(X.reshape(len(X), -1).astype(np.float64))
    np.testing.assert_allclose(ours.components_, ref.components_, atol=1e-7)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-8)
