"""Fixtures of the feature tests: small synthetic event sets and maps (seeded)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _synth import synth_events, synth_maps  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """The machine's 2 cores are shared: numpy / scipy BLAS on one thread in these tests."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="session")
def small_events():
    """(EventSet of 240 files, labels 1 = flare / 0 = steady)."""
    return synth_events(240, seed=3)


@pytest.fixture(scope="session")
def norm_maps(small_events):
    return synth_maps(small_events[0], normalize=True)


@pytest.fixture(scope="session")
def raw_maps(small_events):
    return synth_maps(small_events[0], normalize=False)
