"""Clustering of embeddings (DBSCAN as in the reference, HDBSCAN) and per-cluster summaries.

Label convention everywhere: 0 = noise, 1..K = clusters (1 = largest).
"""

from serendip.cluster.density import (
    REFERENCE_DBSCAN,
    auto_eps,
    cluster_embedding,
    dbscan_labels,
    hdbscan_labels,
    relabel_by_size,
)
from serendip.cluster.summary import cluster_summary, known_types_for

__all__ = [
    "REFERENCE_DBSCAN",
    "auto_eps",
    "cluster_embedding",
    "cluster_summary",
    "dbscan_labels",
    "hdbscan_labels",
    "known_types_for",
    "relabel_by_size",
]
