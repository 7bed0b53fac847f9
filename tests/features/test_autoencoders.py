"""ConvAutoencoder / DenseAutoencoder: shapes, seeds, early stopping, learning, save/load, bad files."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from serendip.errors import InputError, ModelFileError
from serendip.features import ConvAutoencoder, DenseAutoencoder

TINY = dict(epochs=3, batch_size=64, patience=2)


def _cubes(n=120, seed=0):
    rng = np.random.default_rng(seed)
    c = rng.poisson(0.02, (n, 24, 16, 16)).astype(np.float32)
    c[:, :, 5, 2] += rng.poisson(1.0, (n, 24))  # a common structure to learn
    return c / np.maximum(c.reshape(n, -1).max(axis=1), 1)[:, None, None, None]


def test_conv_ae_shapes_and_reconstruction(norm_maps):
    ae = ConvAutoencoder(**TINY).fit(norm_maps)
    z = ae.transform(norm_maps)
    assert z.shape == (len(norm_maps), 12) and z.dtype == np.float32
    rec = ae.reconstruct(norm_maps[:7])
    assert rec.shape == (7, 24, 16) and rec.min() >= 0 and rec.max() <= 1
    err = ae.reconstruction_error(norm_maps[:7])
    assert err.shape == (7,) and np.all(err >= 0)
    n_params = sum(p.numel() for p in ae.net_.encoder.parameters())
    # reference encoder: conv 32 3x3, BN, conv 32 2x2/2, conv 16 3x3, BN, conv 16 2x2/2, 384-192-48-12
    expected = (
        (9 * 32 + 32) + 64 + (4 * 32 * 32 + 32) + (9 * 32 * 16 + 16) + 32 + (4 * 16 * 16 + 16)
    )
    expected += (384 * 192 + 192) + (192 * 48 + 48) + (48 * 12 + 12)
    assert n_params == expected


def test_conv_ae_is_deterministic_given_seed(norm_maps):
    a = ConvAutoencoder(seed=5, **TINY).fit(norm_maps).transform(norm_maps)
    b = ConvAutoencoder(seed=5, **TINY).fit(norm_maps).transform(norm_maps)
    c = ConvAutoencoder(seed=6, **TINY).fit(norm_maps).transform(norm_maps)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_reconstruction_loss_falls(norm_maps):
    ae = ConvAutoencoder(epochs=8, batch_size=32, patience=8, seed=1).fit(norm_maps)
    h = ae.history_
    assert h["epochs_run"] == 8
    assert h["train_loss"][-1] < 0.7 * h["train_loss"][0]
    assert min(h["val_loss"]) < 0.8 * h["val_loss"][0]


def test_early_stopping_stops(norm_maps):
    # lr = 0: the validation loss can never improve, so training stops after `patience` epochs
    ae = ConvAutoencoder(epochs=50, lr=0.0, patience=3, batch_size=128).fit(norm_maps)
    assert ae.history_["stopped_early"] is True
    # epoch 0 (the initial weights) stays the best; `patience` epochs later it stops
    assert ae.history_["epochs_run"] == 3 and ae.history_["best_epoch"] == 0
    # and with learning, the restored weights are those of the best validation epoch
    ae2 = ConvAutoencoder(epochs=6, batch_size=64, patience=2, seed=2).fit(norm_maps)
    best = ae2.history_["best_epoch"]
    assert ae2.history_["val_loss"][best] == min(ae2.history_["val_loss"])


def test_dense_ae_on_cubes(tmp_path):
    X = _cubes()
    ae = DenseAutoencoder(epochs=6, batch_size=32, patience=6, seed=0).fit(X)
    z = ae.transform(X)
    assert z.shape == (len(X), 24)
    assert ae.history_["train_loss"][-1] < ae.history_["train_loss"][0]
    p = ae.save(tmp_path / "dae.safetensors")
    assert np.array_equal(DenseAutoencoder.load(p).transform(X), z)
    # float16 storage (used for the shipped default): small and nearly identical
    p16 = ae.save(tmp_path / "dae16.safetensors", half=True)
    assert p16.stat().st_size < 0.6 * p.stat().st_size
    np.testing.assert_allclose(DenseAutoencoder.load(p16).transform(X), z, atol=0.05)
    with pytest.raises(InputError, match="per-file shape"):
        ae.transform(X[:, :, :, :8])


def test_save_load_round_trip_identical(tmp_path, norm_maps):
    ae = ConvAutoencoder(**TINY).fit(norm_maps)
    path = ae.save(tmp_path / "cae.safetensors")
    back = ConvAutoencoder.load(path)
    assert np.array_equal(back.transform(norm_maps), ae.transform(norm_maps))
    assert np.array_equal(back.reconstruct(norm_maps[:5]), ae.reconstruct(norm_maps[:5]))
    assert back.get_params() == ae.get_params()
    assert back.history_["epochs_run"] == ae.history_["epochs_run"]


def test_tampered_and_malformed_files_raise(tmp_path, norm_maps):
    from serendip.io.modelfile import load_model, save_model

    ae = ConvAutoencoder(**TINY).fit(norm_maps)
    path = ae.save(tmp_path / "cae.safetensors")
    arrays, settings, kind = load_model(path)
    raw = path.read_bytes()
    # 1. header bytes altered (JSON broken)
    bad = bytearray(raw)
    bad[9:14] = b"\x00\xff\x00\xff\x00"
    (tmp_path / "t1.safetensors").write_bytes(bytes(bad))
    # 2. truncated data
    (tmp_path / "t2.safetensors").write_bytes(raw[: len(raw) - 1000])
    # 3. a weight of the wrong shape
    a3 = dict(arrays)
    a3["encoder.1.weight"] = np.zeros((32, 1, 2, 2), np.float32)
    save_model(tmp_path / "t3.safetensors", kind, a3, settings)
    # 4. a weight missing
    a4 = {k: v for k, v in arrays.items() if k != "decoder.0.bias"}
    save_model(tmp_path / "t4.safetensors", kind, a4, settings)
    # 5. unknown parameter in the settings
    s5 = dict(settings, params={**settings["params"], "evil": 1})
    save_model(tmp_path / "t5.safetensors", kind, arrays, s5)
    # 6. NaN weights
    a6 = dict(arrays)
    a6["encoder.1.bias"] = np.full_like(arrays["encoder.1.bias"], np.nan)
    save_model(tmp_path / "t6.safetensors", kind, a6, settings)
    # 7. another model kind
    save_model(tmp_path / "t7.safetensors", "features.DenseAutoencoder", arrays, settings)
    for i in range(1, 8):
        with pytest.raises(ModelFileError):
            ConvAutoencoder.load(tmp_path / f"t{i}.safetensors")
    with pytest.raises(ModelFileError, match="no such"):
        ConvAutoencoder.load(tmp_path / "missing.safetensors")


def test_bad_inputs(norm_maps, raw_maps):
    with pytest.raises(InputError, match="normalised"):
        ConvAutoencoder(**TINY).fit(raw_maps * 5 + 2)
    with pytest.raises(InputError, match="per-file shape"):
        ConvAutoencoder(**TINY).fit(norm_maps[:, :, :8])
    with pytest.raises(NotFittedError, match="not fitted"):
        ConvAutoencoder().transform(norm_maps)
