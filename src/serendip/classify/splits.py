"""Cross-validation splits grouped by source: one source never sits in train and test.

UMLCAXS validated on a per-detection split, so detections of one source could be in
both sets; here every split is made over sources (``groups``, e.g. the CSC name).
"""

from __future__ import annotations

import numpy as np


def grouped_folds(
    y, groups, n_splits: int = 5, random_state: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified K-fold over groups: list of ``(train_idx, test_idx)`` integer arrays.

    ``y`` (n,) class labels, ``groups`` (n,) source identifiers. Raises ``ValueError``
    if any fold would share a group between train and test (a bug, never expected).
    """
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray(y)
    groups = np.asarray(groups)
    if len(np.unique(groups)) < n_splits:
        raise ValueError(f"need at least {n_splits} distinct sources for {n_splits}-fold splits")
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    folds = []
    for tr, te in cv.split(np.zeros(len(y)), y, groups):
        if np.intersect1d(groups[tr], groups[te]).size:
            raise ValueError("a source appears in both train and test")
        folds.append((tr, te))
    return folds


def check_disjoint(groups, train_idx, test_idx) -> bool:
    """True when no source is in both ``train_idx`` and ``test_idx``."""
    g = np.asarray(groups)
    return np.intersect1d(g[train_idx], g[test_idx]).size == 0


def sky_fields(ra, dec, link_deg: float = 0.5) -> np.ndarray:
    """Field label per source: friends-of-friends linking of positions closer than ``link_deg``.

    ``ra``, ``dec`` (n,) in degrees. Used as CV groups so that sources of one observed field
    (one star-forming region, one galaxy) are never split between train and test.
    """
    from sklearn.cluster import DBSCAN

    xy = np.radians(np.column_stack([np.asarray(dec, float), np.asarray(ra, float)]))
    return DBSCAN(
        eps=np.radians(link_deg), min_samples=1, metric="haversine", algorithm="ball_tree"
    ).fit_predict(xy)
