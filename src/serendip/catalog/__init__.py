"""Candidate catalogues: known transients, analogs, anomaly scores, ranked and explained output.

(``crossmatch`` and ``simbad_types`` in this package belong to the classification stage
and are imported from their own modules.)
"""

from serendip.catalog.anomaly import anomaly_scores
from serendip.catalog.candidates import (
    CANDIDATE_FORMATS,
    build_candidates,
    dominated_clusters,
    read_candidates,
    write_candidates,
)
from serendip.catalog.known import normalise_type, read_known_transients
from serendip.catalog.neighbours import known_neighbours, nearest_known, robust_standardize

__all__ = [
    "CANDIDATE_FORMATS",
    "anomaly_scores",
    "build_candidates",
    "dominated_clusters",
    "known_neighbours",
    "nearest_known",
    "normalise_type",
    "read_candidates",
    "read_known_transients",
    "robust_standardize",
    "write_candidates",
]
