"""Save / load without pickle: identical scores, stored class order, tampered files rejected."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file, save_file

from serendip.detect import MCIF, BaseDetector, ClassifierLatentDetector, IForest
from serendip.errors import ModelFileError

from .conftest import all_detectors

NAMES = list(all_detectors())


@pytest.mark.parametrize("name", NAMES)
def test_save_load_gives_identical_scores(fitted, data, tmp_path, name):
    _, _, Xtest, _ = data
    det = fitted[name]
    path = det.save(tmp_path / f"{name}.safetensors")
    back = BaseDetector.load(path)
    assert type(back) is type(det)
    # settings survive the JSON round trip (tuples come back as lists)
    assert json.loads(json.dumps(back.get_params(deep=False))) == json.loads(
        json.dumps(det.get_params(deep=False))
    )
    np.testing.assert_array_equal(back.score_samples(Xtest), det.score_samples(Xtest))
    assert back.threshold_ == det.threshold_
    if hasattr(det, "classes_"):
        np.testing.assert_array_equal(back.classes_, det.classes_)
    if getattr(det, "scaler_mean_", None) is not None:
        np.testing.assert_array_equal(back.scaler_mean_, det.scaler_mean_)
        np.testing.assert_array_equal(back.scaler_scale_, det.scaler_scale_)
    # the file is a plain safetensors file: no pickle anywhere
    raw = path.read_bytes()
    assert b"\x80\x04\x95" not in raw[:4096]


def test_load_checks_kind(fitted, tmp_path):
    path = fitted["iforest"].save(tmp_path / "f.safetensors")
    with pytest.raises(ModelFileError, match="expected 'detect.MCIF'"):
        MCIF.load(path)
    assert isinstance(IForest.load(path), IForest)


def _rewrite(path, arrays=None, header_edit=None):
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata()
    # drop the integrity digest (which would catch every edit first) so that the
    # detector's own checks behind it are what these tests exercise
    meta.pop("serendip_integrity", None)
    tensors = load_file(str(path))
    if arrays:
        tensors.update(arrays)
    if header_edit:
        header = json.loads(meta["serendip"])
        header_edit(header)
        meta = {"serendip": json.dumps(header)}
    save_file(tensors, str(path), metadata=meta)


def test_tampered_files_raise_model_file_error(fitted, tmp_path, monkeypatch):
    monkeypatch.setenv("SERENDIP_ALLOW_UNSIGNED_MODELS", "1")  # see _rewrite
    det = fitted["mcif"]
    # 1. truncated file
    p = det.save(tmp_path / "a.safetensors")
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])
    with pytest.raises(ModelFileError):
        BaseDetector.load(p)
    # 2. a child index pointing outside its tree
    p = det.save(tmp_path / "b.safetensors")
    left = load_file(str(p))["class0/left"].copy()
    left[0] = 10**6
    _rewrite(p, arrays={"class0/left": left})
    with pytest.raises(ModelFileError, match="corrupt") as err:
        BaseDetector.load(p)
    assert str(p) in str(err.value)
    # 3. class list that no longer matches the stored forests
    p = det.save(tmp_path / "c.safetensors")
    _rewrite(
        p, header_edit=lambda h: h["settings"]["state"].__setitem__("classes", ["alpha", "mu"])
    )
    with pytest.raises(ModelFileError, match="more forests"):
        BaseDetector.load(p)
    # 4. network weights of the wrong shape
    p = fitted["ae"].save(tmp_path / "d.safetensors")
    _rewrite(p, arrays={"net/encoder.linear0.weight": np.zeros((3, 3), np.float32)})
    with pytest.raises(ModelFileError, match="architecture"):
        BaseDetector.load(p)
    # 5. unknown kind
    p = det.save(tmp_path / "e.safetensors")
    _rewrite(p, header_edit=lambda h: h.__setitem__("kind", "detect.Evil"))
    with pytest.raises(ModelFileError, match="unknown detector kind"):
        BaseDetector.load(p)
    # 6. scaler missing while the settings say scale=True
    p = fitted["knn_mean"].save(tmp_path / "f.safetensors")
    tensors = load_file(str(p))
    del tensors["scaler/mean"]
    from safetensors import safe_open

    with safe_open(str(p), framework="numpy") as f:
        meta = f.metadata()
    meta.pop("serendip_integrity", None)
    save_file(tensors, str(p), metadata=meta)
    with pytest.raises(ModelFileError, match="scaler"):
        BaseDetector.load(p)


class TinyNet(torch.nn.Module):
    """A user's own classifier with a latent layer called 'embedding'."""

    def __init__(self, d: int = 6, k: int = 3):
        super().__init__()
        self.trunk = torch.nn.Sequential(torch.nn.Linear(d, 12), torch.nn.Tanh())
        self.embedding = torch.nn.Linear(12, 5)
        self.out = torch.nn.Linear(5, k)

    def forward(self, x):
        return self.out(torch.relu(self.embedding(self.trunk(x))))


def test_custom_classifier_round_trip(data, tmp_path):
    X, y, Xtest, _ = data
    user_net = TinyNet()
    before = {k: v.clone() for k, v in user_net.state_dict().items()}
    det = ClassifierLatentDetector(
        classifier=user_net, latent_layer="embedding", max_epochs=15, batch_size=64
    ).fit(X, y)
    # the user's module is not modified by fit (scikit-learn convention)
    for k, v in user_net.state_dict().items():
        assert torch.equal(v, before[k])
    assert det.transform(Xtest).shape == (len(Xtest), 5)
    p = det.save(tmp_path / "custom.safetensors")
    with pytest.raises(ModelFileError, match="custom classifier"):
        BaseDetector.load(p)
    back = ClassifierLatentDetector.load(p, classifier=TinyNet())
    np.testing.assert_array_equal(back.score_samples(Xtest), det.score_samples(Xtest))
    with pytest.raises(ModelFileError):
        ClassifierLatentDetector.load(p, classifier=TinyNet(k=4))


def test_load_in_a_fresh_process_finds_lazily_imported_detector_classes(tmp_path):
    """serendip.detect imports detector modules lazily; BaseDetector.load must still find the
    class (and nested detectors' classes) named in a file, in a process that imported none."""
    import subprocess
    import sys

    from serendip.detect import MCIF, IForest

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = np.repeat(["a", "b"], 100)
    IForest(n_estimators=20, random_state=0).fit(X).save(tmp_path / "iforest.safetensors")
    MCIF(n_estimators=20, random_state=0).fit(X, y).save(tmp_path / "mcif.safetensors")
    code = (
        "import sys\n"
        "from serendip.detect.base import BaseDetector\n"
        "for p in sys.argv[1:]: print(type(BaseDetector.load(p)).__name__)\n"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(tmp_path / "iforest.safetensors"),
            str(tmp_path / "mcif.safetensors"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["IForest", "MCIF"]
