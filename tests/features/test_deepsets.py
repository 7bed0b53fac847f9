"""DeepSetsEncoder: permutation invariance, any file length, determinism, save/load, learning."""

from __future__ import annotations

import numpy as np
import pytest

from serendip.errors import InputError, ModelFileError
from serendip.features import DeepSetsEncoder
from serendip.features.deepsets import _subsample, event_inputs, training_targets
from serendip.io.eventset import EventSet

TINY = dict(epochs=3, batch_files=64, patience=3, width=32, latent_dim=8, max_events=64)


@pytest.fixture(scope="module")
def fitted(small_events):
    return DeepSetsEncoder(seed=0, **TINY).fit(small_events[0])


def _permuted_within_files(ev: EventSet, seed: int) -> EventSet:
    """Same files, events shuffled inside each file (EventSet() itself does not re-sort)."""
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(ev.n_events), ev.file_index))
    return EventSet(ev.obsreg_id, ev.offsets, ev.time[order], ev.energy[order])


def test_shape_and_invariance_to_event_order(fitted, small_events):
    ev = small_events[0]
    z = fitted.transform(ev)
    assert z.shape == (ev.n_files, 8) and z.dtype == np.float32
    perm = _permuted_within_files(ev, 1)
    assert not np.array_equal(perm.time, ev.time)
    np.testing.assert_allclose(fitted.transform(perm), z, rtol=1e-5, atol=1e-5)


def test_ties_in_time_are_order_free(fitted):
    t = np.array([0.0, 5.0, 5.0, 5.0, 9.0, 20.0])
    e = np.array([600.0, 5000.0, 900.0, 2500.0, 700.0, 1200.0], np.float32)
    a = EventSet(np.array(["x"], object), [0, 6], t, e)
    b = EventSet(np.array(["x"], object), [0, 6], t, e[[0, 3, 1, 2, 4, 5]])
    np.testing.assert_allclose(fitted.transform(a), fitted.transform(b), atol=1e-6)


def test_one_event_empty_and_long_files(fitted):
    ev = EventSet.from_arrays(
        {
            "one": (np.array([1e8]), np.array([1500.0])),
            "none": (np.zeros(0), np.zeros(0)),
            "two_same_time": (np.array([5.0, 5.0]), np.array([800.0, 3000.0])),
            "long": (
                np.sort(np.random.default_rng(0).uniform(0, 1e5, 20_000)),
                np.full(20_000, 2000.0),
            ),
        }
    )
    z = fitted.transform(ev)
    assert z.shape == (4, 8) and np.isfinite(z).all()
    x, _, file_in = event_inputs(ev)
    assert np.isfinite(x).all() and np.isfinite(file_in).all()
    # the one-event file's code does not depend on what else is in the batch
    alone = fitted.transform(ev.select([0]))
    np.testing.assert_allclose(alone, z[:1], rtol=1e-5, atol=1e-5)


def test_event_chunking_does_not_change_codes(small_events):
    ev = small_events[0]
    a = DeepSetsEncoder(seed=0, **TINY).fit(ev)
    ref = a.transform(ev)
    a.event_chunk = 500  # many small chunks (files never split)
    np.testing.assert_allclose(a.transform(ev), ref, rtol=1e-4, atol=1e-4)


def test_deterministic_given_seed(small_events, fitted):
    ev = small_events[0]
    again = DeepSetsEncoder(seed=0, **TINY).fit(ev)
    assert np.array_equal(again.transform(ev), fitted.transform(ev))
    other = DeepSetsEncoder(seed=1, **TINY).fit(ev)
    assert not np.allclose(other.transform(ev), fitted.transform(ev))


def test_training_lowers_loss_and_codes_separate_flares(small_events):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    ev, labels = small_events
    m = DeepSetsEncoder(seed=0, epochs=12, batch_files=32, patience=12).fit(ev)
    h = m.history_
    assert min(h["val_loss"]) < 0.6 * h["val_loss"][0]
    z = m.transform(ev)
    acc = cross_val_score(LogisticRegression(max_iter=2000), z, labels, cv=4).mean()
    assert acc > 0.8, acc  # flares (30 %) vs steady; the majority rule gives ~0.7


def test_targets_and_subsample():
    ev = EventSet.from_arrays(
        {"a": (np.arange(10.0), np.full(10, 1000.0)), "b": (np.zeros(0), np.zeros(0))}
    )
    t = training_targets(ev)
    assert t.shape == (2, 24 * 16 + 32 + 4)
    assert t[0, : 24 * 16].max() == 1.0 and np.all(t[1, : 24 * 16] == 0)
    seg = np.repeat(np.arange(3), [5, 300, 1])
    keep = _subsample(seg, 64, np.random.default_rng(0))
    assert np.array_equal(np.bincount(seg[keep], minlength=3), [5, 64, 1])


def test_save_load_identical_and_bad_files(tmp_path, fitted, small_events):
    from serendip.io.modelfile import load_model, save_model

    ev = small_events[0]
    p = fitted.save(tmp_path / "ds.safetensors")
    back = DeepSetsEncoder.load(p)
    assert np.array_equal(back.transform(ev), fitted.transform(ev))
    arrays, settings, kind = load_model(p)
    a = dict(arrays, code_std=np.zeros_like(arrays["code_std"]))
    save_model(tmp_path / "bad.safetensors", kind, a, settings)
    with pytest.raises(ModelFileError, match="code_std"):
        DeepSetsEncoder.load(tmp_path / "bad.safetensors")
    a = {k: v for k, v in arrays.items() if not k.startswith("phi.0")}
    save_model(tmp_path / "bad2.safetensors", kind, a, settings)
    with pytest.raises(ModelFileError, match="missing"):
        DeepSetsEncoder.load(tmp_path / "bad2.safetensors")


def test_bad_inputs(fitted):
    with pytest.raises(InputError, match="EventSet"):
        fitted.transform(np.zeros((3, 2)))
    ev = EventSet.from_arrays({"a": (np.arange(3.0), np.array([100.0, -5.0, 300.0]))})
    with pytest.raises(InputError, match="<= 0"):
        fitted.transform(ev)
