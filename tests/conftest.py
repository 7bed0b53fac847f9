"""Shared test fixtures: real-data folder (skips cleanly when absent), torch threads."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def real_data():
    """Path to ../shared/data/real (or $SERENDIP_REAL_DATA); skips the test when absent."""
    from serendip.paths import real_data_dir

    path = real_data_dir()
    if path is None:
        pytest.skip("real data folder not present (set SERENDIP_REAL_DATA)")
    return path


@pytest.fixture(autouse=True, scope="session")
def _few_threads():
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    yield
