"""Density-based clustering of an embedding: DBSCAN (reference) and HDBSCAN.

Labels follow the reference pipeline's convention: **0 = noise** (outliers), clusters
are numbered 1..K. Unlike the reference (DBSCAN's discovery order + 1) clusters are
renumbered by size, 1 = largest, so labels do not depend on the input order of files
that merely happen to be found first; ties keep discovery order.
"""

from __future__ import annotations

import numpy as np

from serendip.errors import InputError

#: the reference pipeline's DBSCAN defaults (on a t-SNE embedding)
REFERENCE_DBSCAN = {"eps": 2.5, "min_samples": 25}


def _check_embedding(embedding) -> np.ndarray:
    if hasattr(embedding, "to_numpy"):
        embedding = embedding.to_numpy()
    Y = np.asarray(embedding, dtype=np.float64)
    if Y.ndim != 2 or Y.shape[0] == 0:
        raise InputError(
            None, f"embedding must be a non-empty 2-D array (n_files, n_dims); got shape {Y.shape}"
        )
    if not np.all(np.isfinite(Y)):
        raise InputError(None, "embedding holds NaN/inf coordinates")
    return Y


def relabel_by_size(raw: np.ndarray) -> np.ndarray:
    """Map raw labels (-1 = noise, 0..K-1 clusters) to 0 = noise, 1..K by decreasing size."""
    raw = np.asarray(raw, dtype=np.int64)
    out = np.zeros(len(raw), dtype=np.int64)
    members = raw >= 0
    if not members.any():
        return out
    ids, counts = np.unique(raw[members], return_counts=True)
    order = np.lexsort((ids, -counts))  # biggest first, then lower raw id
    mapping = np.zeros(ids.max() + 1, dtype=np.int64)
    mapping[ids[order]] = np.arange(1, len(ids) + 1)
    out[members] = mapping[raw[members]]
    return out


def dbscan_labels(
    embedding, eps: float = 2.5, min_samples: int = 25, n_jobs: int = 1
) -> np.ndarray:
    """DBSCAN on the embedding (reference defaults eps 2.5, min_samples 25).

    ``embedding`` (n_files, n_dims) in embedding units; returns (n_files,) int64 labels,
    0 = noise, 1..K clusters by decreasing size.
    """
    from sklearn.cluster import DBSCAN

    Y = _check_embedding(embedding)
    raw = DBSCAN(eps=float(eps), min_samples=int(min_samples), n_jobs=n_jobs).fit_predict(Y)
    return relabel_by_size(raw)


def hdbscan_labels(
    embedding,
    min_cluster_size: int = 25,
    min_samples: int | None = None,
    cluster_selection_epsilon: float = 0.0,
) -> np.ndarray:
    """HDBSCAN (the ``hdbscan`` package) on the embedding; labels as :func:`dbscan_labels`."""
    import hdbscan

    Y = _check_embedding(embedding)
    if Y.shape[0] < 2:
        return np.zeros(Y.shape[0], dtype=np.int64)
    if min_cluster_size > Y.shape[0]:  # counted, never silent (a run refuses it up front)
        from serendip.notices import notice

        notice(
            "cluster",
            "min_cluster_size_lowered",
            f"HDBSCAN min_cluster_size {min_cluster_size} lowered to {Y.shape[0]} points",
        )
    model = hdbscan.HDBSCAN(
        min_cluster_size=int(min(min_cluster_size, Y.shape[0])),
        min_samples=None if min_samples is None else int(min_samples),
        cluster_selection_epsilon=float(cluster_selection_epsilon),
        core_dist_n_jobs=1,
    )
    return relabel_by_size(model.fit_predict(Y))


def cluster_embedding(embedding, method: str = "dbscan", **params) -> np.ndarray:
    """Cluster with ``method`` ``"dbscan"`` or ``"hdbscan"`` and its keyword ``params``."""
    if method == "dbscan":
        return dbscan_labels(embedding, **params)
    if method == "hdbscan":
        return hdbscan_labels(embedding, **params)
    raise InputError(None, f"unknown clustering method {method!r}; use 'dbscan' or 'hdbscan'")
