"""Synthetic X-ray data: labelled source populations, transient injection, FITS event files.

* :func:`simulate_population` - the built-in default data: steady, red-noise, periodic,
  eclipsing, dipping, flaring and fast-transient sources as Chandra-like event lists;
* :func:`inject_transients` - add simulated flares / FXTs / dips to existing (real) events;
* :func:`write_fits_events` - one Chandra level-2-like FITS event file per source.
"""

from serendip.simulate.fitsout import write_fits_events
from serendip.simulate.inject import INJECT_KINDS, inject_transients
from serendip.simulate.population import (
    DEFAULT_CLASS_FRACTIONS,
    LABELS,
    TRANSIENT_LABELS,
    Population,
    SimulationOptions,
    class_counts,
    simulate_population,
)

__all__ = [
    "DEFAULT_CLASS_FRACTIONS",
    "INJECT_KINDS",
    "LABELS",
    "TRANSIENT_LABELS",
    "Population",
    "SimulationOptions",
    "class_counts",
    "inject_transients",
    "simulate_population",
    "write_fits_events",
]

# ``serendip.simulate(...)`` calls simulate_population
from serendip.lazy import make_callable  # noqa: E402

make_callable(__name__, "serendip.simulate.population:simulate_population")
