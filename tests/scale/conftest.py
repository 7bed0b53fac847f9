"""Shared fixtures of the survey-scale tests: small simulated tiles, written once per session."""

from __future__ import annotations

import pytest

#: small settings so a whole batch run takes about a second in process
SMALL = {"n_fit": 200, "n_estimators": 40, "n_top": 10}


@pytest.fixture(scope="session")
def tiles(tmp_path_factory):
    """8 simulated event tiles of 30 sources each (240 files, ~50k events)."""
    from serendip.scale import write_simulated_tiles

    out = tmp_path_factory.mktemp("tiles")
    rep = write_simulated_tiles(out, 240, sources_per_tile=30, seed=5, progress=False)
    assert len(rep.computed) == 8 and not rep.failed
    return out


@pytest.fixture(scope="session")
def reference_run(tiles, tmp_path_factory):
    """An uninterrupted in-process run with chunk_size=2 (the result every other run must equal)."""
    from serendip.scale import run_batch

    out = tmp_path_factory.mktemp("reference")
    return run_batch(tiles, out, scheduler="none", chunk_size=2, progress=False, **SMALL)
