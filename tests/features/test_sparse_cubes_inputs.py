"""Sparse E-t-dt cubes go into the PCA and the dense autoencoder dense only per batch, with
the same results as the dense array."""

from __future__ import annotations

import numpy as np

from serendip.features.dense_ae import DenseAutoencoder
from serendip.features.pca import PCAFeatures
from serendip.represent import SparseCubes, etdt_cubes


def test_pca_on_sparse_cubes_equals_dense(small_events):
    ev, _ = small_events
    cubes = etdt_cubes(ev)
    assert isinstance(cubes, SparseCubes)
    dense = cubes.dense()
    a = PCAFeatures(4, chunk_rows=37).fit(cubes)
    b = PCAFeatures(4, chunk_rows=37).fit(dense)
    np.testing.assert_allclose(a.components_, b.components_, atol=1e-9)
    np.testing.assert_allclose(a.transform(cubes), b.transform(dense), atol=1e-9)


def test_dense_autoencoder_on_sparse_cubes_equals_dense(small_events):
    ev, _ = small_events
    cubes = etdt_cubes(ev, normalize=True)
    dense = cubes.dense()
    a = DenseAutoencoder(epochs=2, batch_size=64, seed=3).fit(cubes)
    b = DenseAutoencoder(epochs=2, batch_size=64, seed=3).fit(dense)
    assert a.history_["train_loss"] == b.history_["train_loss"]
    assert a.history_["val_loss"] == b.history_["val_loss"]
    np.testing.assert_allclose(a.transform(cubes), b.transform(dense), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        a.reconstruction_error(cubes), b.reconstruction_error(dense), rtol=1e-6, atol=1e-9
    )
