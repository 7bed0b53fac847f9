"""Every verb's --help renders: configuration tables in brackets are shown (not swallowed as
rich markup), and the allowed names come from the registries."""

from __future__ import annotations

import inspect
import re

import pytest
from typer.testing import CliRunner

from serendip.cli import app
from serendip.detect.registry import DETECTORS
from serendip.features.registry import FEATURE_CASES

runner = CliRunner()
VERBS = sorted(c.name for c in app.registered_commands)
WIDE = {"COLUMNS": "250", "TERMINAL_WIDTH": "250"}


def _help(verb: str) -> str:
    res = runner.invoke(app, [verb, "--help"], env=WIDE)
    assert res.exit_code == 0, res.output
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", res.output).split())


@pytest.mark.parametrize("verb", VERBS)
def test_help_shows_every_bracketed_word(verb):
    """Text in square brackets in a verb's help strings reaches the screen."""
    cmd = next(c for c in app.registered_commands if c.name == verb)
    out = _help(verb)
    assert "Usage" in out
    texts = [cmd.callback.__doc__ or ""] + [
        getattr(p.default, "help", None) or ""
        for p in inspect.signature(cmd.callback).parameters.values()
    ]
    for text in texts:
        for word in re.findall(r"\[[a-zA-Z#/@][^\[\]]*\]", text):
            assert word in out, (verb, word)


def test_config_verbs_list_their_tables_and_allowed_names():
    from serendip.classify.config import ClassifyConfig
    from serendip.evaluate.config import EvaluateFile
    from serendip.pipeline.config import RunConfig

    for verb, model in (
        ("run", RunConfig),
        ("classify", ClassifyConfig),
        ("evaluate", EvaluateFile),
    ):
        out = _help(verb)
        for section in model.model_fields:
            assert f"[{section}" in out, (verb, section)
        assert "TOML configuration with the tables" in out and ", ," not in out
    run = _help("run")
    assert ", ".join(FEATURE_CASES) in run
    # "auto" (the feature case's validated rule, issue 16) comes first, then the detectors
    assert "candidates.anomaly: auto, iforest" in run and "mcif" not in run.split("anomaly:")[1][:80]
    assert "detectors.<name>.kind: " + ", ".join(DETECTORS) in _help("evaluate")
    assert "[input], [model], [labels], [counterparts], [output]" in _help("classify")
