"""Shared simulated populations for the simulator tests (built once per session)."""

from __future__ import annotations

import pytest

from serendip.simulate import simulate_population


@pytest.fixture(scope="session")
def default_pop():
    """3,000 sources with the default class fractions."""
    return simulate_population(3000, seed=11)


@pytest.fixture(scope="session")
def variable_pop():
    """Bright sources of the variable classes only, so timing and spectral tests have power."""
    fractions = {
        "flare": 1,
        "fxt": 1,
        "stellar_flare": 1,
        "eclipse": 1,
        "dip": 1,
        "periodic": 1,
        "agn": 1,
    }
    return simulate_population(
        1400,
        seed=12,
        class_fractions=fractions,
        counts_median=1500.0,
        counts_min=400.0,
        counts_sigma_dex=0.3,
    )
