"""Fixtures for the io tests: the broken-file corpus and its FITS builders."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "data" / "broken_events"


def _load_maker():
    spec = importlib.util.spec_from_file_location(
        "serendip_test_make_broken", CORPUS / "make_broken.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


maker = _load_maker()


@pytest.fixture(scope="session")
def fitsmaker():
    """The module tests/data/broken_events/make_broken.py (``event_hdul``, ``write_events``, ``EXPECTED``)."""
    return maker


@pytest.fixture(scope="session")
def corpus() -> Path:
    return CORPUS
