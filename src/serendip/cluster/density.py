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


def k_distances(embedding, k: int = 25) -> np.ndarray:
    """Sorted distance of every point to its k-th neighbour (the point itself counted, as
    DBSCAN's ``min_samples`` counts it), (n_files,) ascending, in embedding units."""
    from sklearn.neighbors import NearestNeighbors

    Y = _check_embedding(embedding)
    k = int(min(max(k, 1), Y.shape[0]))
    dist, _ = NearestNeighbors(n_neighbors=k).fit(Y).kneighbors(Y)
    return np.sort(dist[:, -1])


def auto_eps(embedding, min_samples: int = 25) -> float:
    """DBSCAN radius from the knee of the k-distance curve (k = ``min_samples``).

    The sorted k-th neighbour distances rise slowly inside clusters and steeply among the
    outliers; the knee is the point of the curve farthest below the chord joining its
    ends, both axes scaled to [0, 1] (the "kneedle" rule, Satopaa et al. 2011). The chord
    ends at the 99th percentile so that a handful of far outliers cannot flatten the
    curve. Unlike a fixed radius it scales with the embedding, whose extent grows with the
    number of points (t-SNE: roughly as sqrt(n)): on the simulated demo's 1,500- and
    5,000-source t-SNE maps a fixed ``eps = 2.5`` leaves one cluster and 79% noise
    respectively, the knee more than one cluster and a small noise fraction
    (tests/pipeline/test_cluster.py).

    Returns eps [embedding units], > 0.
    """
    d = k_distances(embedding, min_samples)
    if len(d) < 3:
        return float(max(d[-1], np.finfo(float).tiny)) if len(d) else 1.0
    d = d[: max(int(np.ceil(0.99 * len(d))), 3)]
    x = np.linspace(0.0, 1.0, len(d))
    span = d[-1] - d[0]
    if span <= 0:
        return float(max(d[-1], np.finfo(float).tiny))
    y = (d - d[0]) / span
    eps = float(d[int(np.argmax(x - y))])
    return eps if eps > 0 else float(d[d > 0][0]) if np.any(d > 0) else 1.0


def dbscan_labels(
    embedding, eps: float | str = 2.5, min_samples: int = 25, n_jobs: int = 1
) -> np.ndarray:
    """DBSCAN on the embedding (reference defaults eps 2.5, min_samples 25).

    ``embedding`` (n_files, n_dims) in embedding units; ``eps`` a radius in the same units
    or ``"auto"`` (:func:`auto_eps`, the knee of the k-distance curve). Returns (n_files,)
    int64 labels, 0 = noise, 1..K clusters by decreasing size. The noise fraction is
    recorded as a counted notice (``cluster``/``dbscan_noise``), with the eps used.
    """
    from sklearn.cluster import DBSCAN

    from serendip.notices import notice

    Y = _check_embedding(embedding)
    how = ""
    if isinstance(eps, str):
        if eps != "auto":
            raise InputError(None, f'eps must be a positive number or "auto"; got {eps!r}')
        eps = auto_eps(Y, min_samples)
        how = " (auto: knee of the k-distance curve)"
    raw = DBSCAN(eps=float(eps), min_samples=int(min_samples), n_jobs=n_jobs).fit_predict(Y)
    labels = relabel_by_size(raw)
    n_noise = int(np.count_nonzero(labels == 0))
    notice(
        "cluster",
        "dbscan_noise",
        f"DBSCAN (eps {float(eps):.3g}{how}, min_samples {int(min_samples)}) left "
        f"{n_noise} of {len(labels)} points ({n_noise / len(labels):.1%}) as noise in "
        f"{int(labels.max())} clusters",
        count=n_noise,
        total=len(labels),
        severity="warning" if n_noise > 0.5 * len(labels) else "info",
    )
    return labels


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
