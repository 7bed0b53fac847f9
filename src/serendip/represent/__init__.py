"""Event-file representations: E-t maps, E-t-dt cubes, dE-dt maps and per-file features.

All computed over the whole event table at once (numba kernels over grouped events,
no Python loop over files); see the submodules for the exact definitions.
"""

from serendip.represent.bayesian_blocks import bayesian_blocks_edges, bayesian_blocks_summary
from serendip.represent.container import (
    KINDS,
    Representation,
    load_representation,
    represent,
    save_representation,
)
from serendip.represent.dedt import dedt_maps
from serendip.represent.features import event_features
from serendip.represent.lightcurve import binned_lightcurve
from serendip.represent.maps import et_maps, etdt_cubes, maps_and_cubes
from serendip.represent.sparse import SparseCubes

__all__ = [
    "KINDS",
    "Representation",
    "SparseCubes",
    "bayesian_blocks_edges",
    "bayesian_blocks_summary",
    "binned_lightcurve",
    "dedt_maps",
    "et_maps",
    "etdt_cubes",
    "event_features",
    "load_representation",
    "maps_and_cubes",
    "represent",
    "save_representation",
]
