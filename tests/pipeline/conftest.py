"""Fixtures of the pipeline tests: one small finished run shared by the crash tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

#: a small run (300 sources): every stage up to the candidates in ~30 s on the CI machine
SMALL = {"input": {"n_sources": 300, "seed": 0}, "embed": {"n_iter": 250}, "report": {"n_top": 5}}


def small_config(**changes):
    """The resolved configuration of :data:`SMALL` with ``section__key=value`` changes."""
    from serendip.pipeline import load_config

    over = json.loads(json.dumps(SMALL))
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        over.setdefault(section, {})[key] = value
    return load_config(None, over)


@pytest.fixture(scope="session")
def small_run(tmp_path_factory) -> Path:
    """A finished run of :func:`small_config` (stages up to the candidates); copy it, never
    write into it."""
    from serendip.pipeline import run_pipeline

    run_dir = tmp_path_factory.mktemp("small") / "ref"
    run_pipeline(small_config(), run_dir, progress=False, stop_after="candidates")
    return run_dir
