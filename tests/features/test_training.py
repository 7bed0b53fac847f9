"""The one PyTorch trainer (serendip.features.training): split, early-stopping rule, seeding,
device choice, weights I/O."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from serendip.errors import ModelFileError
from serendip.features.training import (
    TrainSettings,
    load_state_arrays,
    predict_batches,
    seeded,
    select_device,
    split_validation,
    state_arrays,
    train,
)


def _problem(seed=0, n=200):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5], dtype=np.float32))[:, None]
    return torch.from_numpy(X), torch.from_numpy(y)


def _fit(settings, seed=0):
    X, y = _problem()
    with seeded(seed):
        net = torch.nn.Linear(3, 1)

    def loss(rows, training):
        r = torch.as_tensor(rows)
        return ((net(X[r]) - y[r]) ** 2).mean()

    tr, va = split_validation(len(X), 0.2, seed)
    return net, train(net, loss, tr, va, settings)


def test_split_is_seeded_disjoint_and_stratified():
    tr, va = split_validation(100, 0.2, 3)
    assert len(va) == 20 and not np.intersect1d(tr, va).size and len(tr) + len(va) == 100
    np.testing.assert_array_equal(split_validation(100, 0.2, 3)[1], va)
    # too small to hold rows out: everything trains, nothing validates
    assert len(split_validation(3, 0.5, 0)[1]) == 0
    classes = np.repeat([0, 1], [90, 10])
    _, va = split_validation(100, 0.2, 0, stratify=classes)
    assert np.bincount(classes[va]).tolist() == [18, 2]


def test_history_and_the_early_stopping_rule():
    net, h = _fit(TrainSettings(max_epochs=40, batch_size=32, lr=0.05, patience=3))
    assert len(h["val_loss"]) == h["epochs_run"] + 1  # entry 0 = the initial weights
    best = h["best_epoch"]
    assert h["val_loss"][best] == min(h["val_loss"]) < h["val_loss"][0]
    if h["stopped_early"]:
        assert h["epochs_run"] - best == 3  # exactly `patience` epochs without improvement
    assert h["device"] == "cpu" and not net.training  # returned on the CPU, in eval mode


def test_best_weights_are_restored_and_lr_zero_keeps_the_initial_weights():
    net, h = _fit(TrainSettings(max_epochs=10, lr=0.0, patience=2))
    assert h["best_epoch"] == 0 and h["stopped_early"] and h["epochs_run"] == 2
    with seeded(0):
        fresh = torch.nn.Linear(3, 1)
    assert torch.equal(net.weight, fresh.weight)


def test_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, _ = _fit(TrainSettings(max_epochs=5, batch_size=16))
    assert torch.equal(torch.rand(1), before)  # the caller's RNG stream is untouched
    b, _ = _fit(TrainSettings(max_epochs=5, batch_size=16))
    assert torch.equal(a.weight, b.weight)
    c, _ = _fit(TrainSettings(max_epochs=5, batch_size=16), seed=1)
    assert not torch.equal(a.weight, c.weight)


def test_device_choice(monkeypatch):
    monkeypatch.delenv("SERENDIP_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert select_device(None).type == expected == select_device("auto").type
    monkeypatch.setenv("SERENDIP_DEVICE", "cpu")
    assert select_device(None).type == "cpu"
    assert select_device("cpu").type == "cpu"
    # mixed precision is a GPU option: on the CPU it changes nothing
    a, _ = _fit(TrainSettings(max_epochs=3, device="cpu"))
    b, _ = _fit(TrainSettings(max_epochs=3, device="cpu", mixed_precision=True))
    assert torch.equal(a.weight, b.weight)


def test_float64_inference_does_not_depend_on_the_batch():
    with seeded(0):
        net = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    X = np.random.default_rng(0).normal(size=(50, 3))
    whole = predict_batches(net, X, modules=[net])
    parts = np.vstack([predict_batches(net, X[i : i + 7], modules=[net]) for i in range(0, 50, 7)])
    assert whole.dtype == np.float64 and whole.shape == (50, 2)
    np.testing.assert_allclose(whole, parts, rtol=1e-12, atol=1e-15)  # float32 differs ~1e-7
    assert next(net.parameters()).dtype == torch.float32  # returned to float32


def test_weights_round_trip_and_bad_weights():
    with seeded(0):
        net = torch.nn.Linear(3, 2)
    arrays = state_arrays(net, "net")
    assert set(arrays) == {"net/weight", "net/bias"}
    with seeded(1):
        other = torch.nn.Linear(3, 2)
    load_state_arrays(other, arrays, prefix="net")
    assert torch.equal(other.weight, net.weight)
    with pytest.raises(ModelFileError, match="architecture"):
        load_state_arrays(torch.nn.Linear(4, 2), arrays, prefix="net")
    bad = dict(arrays, **{"net/bias": np.array([np.nan, 0.0], dtype=np.float32)})
    with pytest.raises(ModelFileError, match="non-finite"):
        load_state_arrays(other, bad, prefix="net")
