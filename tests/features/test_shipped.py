"""The default encoders shipped in serendip/models: present, small, loadable, usable by name."""

from __future__ import annotations

import numpy as np
import pytest

from serendip.errors import InputError, ModelFileError
from serendip.features import (
    DEFAULT_ENCODERS,
    default_encoder_path,
    extract_features,
    load_default_encoder,
)


@pytest.mark.parametrize("name", sorted(DEFAULT_ENCODERS))
def test_shipped_encoder_loads_and_is_small(name):
    path = default_encoder_path(name)
    assert path.is_file(), f"{path} missing: run python -m serendip.features.train_defaults"
    assert path.stat().st_size < 2_000_000
    model = load_default_encoder(name)
    assert isinstance(model, DEFAULT_ENCODERS[name].load_class())
    info = model.training_info_  # every default records how it was made
    assert "simulate_population" in info["trained_on"]
    if hasattr(model, "history_"):
        assert model.history_["epochs_run"] >= 1
        assert min(model.history_["val_loss"]) < model.history_["val_loss"][0]


@pytest.mark.parametrize("case", ["2D-PCA", "3D-PCA", "2D-AE", "3D-AE", "deepsets", "serendip"])
def test_cases_run_with_shipped_defaults(case, small_events):
    ev, _ = small_events
    sub = ev.select(np.arange(40))
    # the shipped PCAs were fitted on the reference's raw maps, so they go with maps="reference"
    # (count-aware maps, the default, fit the PCA on the data instead)
    model, maps = ("default", "reference") if "PCA" in case else (None, "deviance")
    res = extract_features(case, events=sub, model=model, maps=maps)
    expected = {
        "2D-PCA": 15,
        "3D-PCA": 22,
        "2D-AE": 12,
        "3D-AE": 24,
        "deepsets": 16,
        "serendip": 32,
    }[case]
    assert res.features.shape == (40, expected)
    assert np.isfinite(res.features).all()
    assert res.features.std(axis=0).max() > 0  # files are not all mapped to one point


def test_unknown_default_and_missing_file(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="unknown default encoder"):
        load_default_encoder("nope")
    import serendip.paths

    monkeypatch.setattr(serendip.paths, "models_dir", lambda: tmp_path)
    with pytest.raises(ModelFileError, match="train_defaults"):
        load_default_encoder("et_conv_ae")
