"""The run / demo commands: help on every verb, clear errors for bad configurations."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from serendip.cli import app
from serendip.errors import ConfigError
from serendip.pipeline import load_config

runner = CliRunner()


def test_every_verb_has_help():
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0
    verbs = [
        "simulate",
        "ingest",
        "represent",
        "run",
        "demo",
        "train-detector",
        "detect",
        "evaluate",
        "classify",
    ]
    for verb in verbs:
        assert verb in top.output, verb
        res = runner.invoke(app, [verb, "--help"])
        assert res.exit_code == 0 and "Usage" in res.output, verb


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[input\nsimulate = true", "not valid TOML"),
        ("[input]\nsimulat = true", r"unknown setting input.simulat \(did you mean 'simulate'\?\)"),
        ('[features]\ncase = "4D-PCA"', "features.case = '4D-PCA': unknown value .*allowed: 2D-PCA"),
        ("[input]\nsimulate = false", "nothing to run on"),
        ("[input]\nband_ev = [7000, 500]", "band_ev"),
    ],
)
def test_bad_configurations_fail_with_the_file_and_the_problem(tmp_path, text, message):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(cfg)
    res = runner.invoke(app, ["run", str(cfg), "--out", str(tmp_path / "run")])
    assert res.exit_code == 2
    assert "bad.toml" in res.output and "Traceback" not in res.output


def test_missing_configuration_file(tmp_path):
    res = runner.invoke(app, ["run", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "run")])
    assert res.exit_code == 2 and "no such configuration file" in res.output
