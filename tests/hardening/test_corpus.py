"""Every file of the bad-input corpus fails cleanly: the right error class, naming the file.

The corpus (tests/data/bad_inputs, written by its make_corpus.py) holds broken
catalogue and known-transient tables, light curves, run and classification configs and
model files; ``expected.toml`` says which reader must reject each file, with which
error and which words. Model-file integrity (digests, signing, unsigned files) and the
CLI's handling of bad configs are checked here too. Budget: about 10 s.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from serendip import errors
from serendip.catalog import read_known_transients
from serendip.classify.inputs import read_catalog
from serendip.classify.pipeline import load_config as load_classify_config
from serendip.cli import app
from serendip.io.lightcurves import read_lightcurves
from serendip.io.modelfile import (
    ALLOW_UNSIGNED_ENV,
    load_model,
    save_model,
    sign_model,
    tensor_digest,
    verify_model,
)
from serendip.io.tables import read_table
from serendip.pipeline import load_config

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad_inputs"
MODELS = Path(__file__).resolve().parents[2] / "src" / "serendip" / "models"


def _load_maker():
    spec = importlib.util.spec_from_file_location(
        "serendip_test_make_bad_inputs", CORPUS / "make_corpus.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


maker = _load_maker()
INDEX = tomllib.loads((CORPUS / "expected.toml").read_text())["files"]

READERS = {
    "catalog": lambda p: read_catalog(p, feature_set="xray"),
    "known": read_known_transients,
    "table": read_table,
    "lightcurves": lambda p: read_lightcurves(p, strict=True),
    "run_config": load_config,
    "classify_config": load_classify_config,
    "model": lambda p: load_model(p, kind=maker.MODEL_KIND),
}


def test_index_matches_generator_and_files():
    assert {k: (v["reader"], v["error"], v["message"]) for k, v in INDEX.items()} == {
        k: tuple(v) for k, v in maker.EXPECTED.items()
    }
    for name in INDEX:
        assert (CORPUS / name).exists(), name
    kinds = {name.split("/")[0] for name in INDEX}
    assert kinds == {"tables", "lightcurves", "configs", "models"}
    assert len(INDEX) >= 20
    # every broken file in the folders is indexed (x.csv: the valid table the configs use)
    on_disk = {
        str(p.relative_to(CORPUS))
        for sub in kinds
        for p in (CORPUS / sub).iterdir()
        if p.name != "x.csv"
    }
    assert on_disk == set(INDEX)


@pytest.mark.parametrize("name", sorted(INDEX))
def test_corpus_file_fails_with_its_reason(name):
    entry = INDEX[name]
    path = CORPUS / name
    cls = getattr(errors, entry["error"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(errors.SerendipError) as info:
            READERS[entry["reader"]](path)
    err = info.value
    assert type(err) is cls, f"{type(err).__name__}: {err}"
    assert err.path == str(path)
    assert str(err).startswith(str(path) + ": ")
    assert entry["message"] in err.problem, err.problem


def test_corpus_regenerates_identically(tmp_path):
    """make_corpus.py writes the committed files (Parquet: same failure, bytes may vary
    with the pyarrow version that wrote them)."""
    maker.make_corpus(tmp_path)
    for name in INDEX:
        new, old = tmp_path / name, CORPUS / name
        if old.is_dir():
            assert new.is_dir(), name
        elif name.endswith(".parquet"):
            assert new.is_file(), name
        else:
            assert new.read_bytes() == old.read_bytes(), name
    assert (tmp_path / "expected.toml").read_text() == (CORPUS / "expected.toml").read_text()


# ---------------------------------------------------------------- no code is run
def test_pickles_and_zips_are_never_unpickled(monkeypatch):
    def boom(*_a, **_k):
        raise AssertionError("a model file was unpickled")

    monkeypatch.setattr(pickle, "load", boom)
    monkeypatch.setattr(pickle, "loads", boom)
    monkeypatch.setattr(pickle, "Unpickler", boom)
    for name in ("pickle", "torch_zip"):
        with pytest.raises(errors.ModelFileError, match="never"):
            load_model(CORPUS / "models" / f"{name}.safetensors")
    # the same holds for every model file of the corpus
    for name, entry in INDEX.items():
        if entry["reader"] == "model":
            with pytest.raises(errors.ModelFileError):
                READERS["model"](CORPUS / name)


# ---------------------------------------------------------------- integrity
@pytest.mark.parametrize("path", sorted(MODELS.glob("*.safetensors")), ids=lambda p: p.name)
def test_shipped_models_carry_a_valid_digest(path):
    info = verify_model(path)
    arrays, _settings, kind = load_model(path)
    assert info["kind"] == kind and info["tensors_sha256"] == tensor_digest(arrays)
    n = int.from_bytes(path.read_bytes()[:8], "little")
    meta = json.loads(path.read_bytes()[8 : 8 + n])["__metadata__"]
    integ = json.loads(meta["serendip_integrity"])
    assert integ["algorithm"] == "sha256" and integ["tensors"] == info["tensors_sha256"]
    assert set(integ["manifest"]) == set(arrays)


def _arrays():
    return {"w": np.linspace(0, 1, 12).reshape(3, 4), "k": np.arange(5, dtype=np.int32)}


def test_save_is_deterministic_and_round_trips(tmp_path):
    a = save_model(tmp_path / "a.safetensors", "t.K", _arrays(), {"x": [1, 2], "y": "z"})
    b = save_model(tmp_path / "b.safetensors", "t.K", _arrays(), {"x": [1, 2], "y": "z"})
    assert a.read_bytes() == b.read_bytes()
    arrays, settings, kind = load_model(a, "t.K")
    assert kind == "t.K" and settings == {"x": [1, 2], "y": "z"}
    for k, v in _arrays().items():
        assert arrays[k].dtype == v.dtype and np.array_equal(arrays[k], v)


def test_every_single_byte_edit_of_the_payload_is_caught(tmp_path):
    p = save_model(tmp_path / "m.safetensors", "t.K", _arrays(), {"x": 1})
    data = p.read_bytes()
    start = 8 + int.from_bytes(data[:8], "little")
    rng = np.random.default_rng(0)
    for pos in rng.choice(np.arange(start, len(data)), 25, replace=False):
        edited = bytearray(data)
        edited[pos] ^= 0x01
        q = tmp_path / "e.safetensors"
        q.write_bytes(bytes(edited))
        with pytest.raises(errors.ModelFileError, match="SHA-256") as info:
            load_model(q)
        assert str(q) in str(info.value)


def test_unsigned_files_need_an_explicit_choice(tmp_path, monkeypatch):
    src = CORPUS / "models" / "unsigned.safetensors"
    with pytest.raises(errors.ModelFileError, match="no integrity digest"):
        load_model(src)
    with pytest.warns(UserWarning, match="no integrity digest"):
        arrays, _s, kind = load_model(src, allow_unsigned=True)
    assert kind == maker.MODEL_KIND
    monkeypatch.setenv(ALLOW_UNSIGNED_ENV, "1")
    with pytest.warns(UserWarning):
        load_model(src)
    monkeypatch.delenv(ALLOW_UNSIGNED_ENV)
    # signing keeps the tensors byte for byte and makes the file load without the escape
    signed = sign_model(src, tmp_path / "signed.safetensors")
    again, _s2, _k2 = load_model(signed)
    assert tensor_digest(again) == tensor_digest(arrays)
    for k in arrays:
        assert again[k].tobytes() == arrays[k].tobytes()
    # signing never vouches for a file that fails its digest
    with pytest.raises(errors.ModelFileError, match="SHA-256"):
        sign_model(CORPUS / "models" / "tampered_weights.safetensors", tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_detector_loader_rejects_a_tampered_model(tmp_path):
    """The estimators' own load() goes through the same check."""
    from serendip.detect import IForest

    X = np.random.default_rng(0).normal(size=(200, 3))
    p = IForest(n_estimators=10, random_state=0).fit(X).save(tmp_path / "if.safetensors")
    IForest.load(p)
    data = bytearray(p.read_bytes())
    data[-3] ^= 0x10
    p.write_bytes(bytes(data))
    with pytest.raises(errors.ModelFileError, match="tampered"):
        IForest.load(p)


# ---------------------------------------------------------------- the command line
runner = CliRunner()


@pytest.mark.parametrize(
    ("verb", "name"),
    [
        ("run", "run_wrong_type.toml"),
        ("run", "run_path_does_not_exist.toml"),
        ("run", "run_syntax_error.toml"),
        ("classify", "classify_unknown_section.toml"),
        ("classify", "classify_missing_table.toml"),
    ],
)
def test_cli_rejects_bad_config_without_traceback(tmp_path, verb, name):
    path = CORPUS / "configs" / name
    res = runner.invoke(app, [verb, str(path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())  # rich may wrap long lines
    assert name in text and INDEX[f"configs/{name}"]["message"] in text
    assert "Traceback" not in res.output


def test_cli_subprocess_exit_status_and_stderr(tmp_path):
    path = CORPUS / "configs" / "run_unknown_section.toml"
    proc = subprocess.run(
        [sys.executable, "-c", "from serendip.cli import main; main()", "run", str(path)]
        + ["--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert proc.returncode == 2
    assert "run_unknown_section.toml" in proc.stderr and "unknown section [plots]" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
