"""Train/test splits stratified by class and grouped by object (nothing in both sets).

Several rows may belong to one object (repeated observations, prefixes of a light curve,
detections in several files); ``groups`` names the object of each row and every object goes
wholly to one side. The split is stratified on each object's class.
"""

from __future__ import annotations

import numpy as np


def grouped_stratified_split(
    labels, groups=None, *, test_size: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(train, test)``; each group (object) lies wholly in one of them.

    Parameters
    ----------
    labels : (n_rows,) class of each row (an object's rows must share its class).
    groups : (n_rows,) object identifier of each row; default: every row its own object.
    test_size : fraction of objects in the test set, per class (each class with >= 2 objects
        gets at least one test and one train object).
    seed : random seed.
    """
    labels = np.asarray(labels).astype(str)
    n = labels.size
    if not 0 < test_size < 1:
        raise ValueError("test_size must be in (0, 1)")
    groups = np.arange(n) if groups is None else np.asarray(groups)
    if groups.shape[0] != n:
        raise ValueError(f"{groups.shape[0]} groups for {n} rows")
    uniq, inverse = np.unique(groups, return_inverse=True)
    # the class of each object (first row); reject objects whose rows disagree
    first = np.full(len(uniq), -1)
    first[inverse[::-1]] = np.arange(n)[::-1]
    obj_label = labels[first]
    if np.any(obj_label[inverse] != labels):
        bad = uniq[inverse[obj_label[inverse] != labels][0]]
        raise ValueError(f"object {bad!r} has rows of different classes")
    rng = np.random.default_rng(seed)
    test_obj = np.zeros(len(uniq), dtype=bool)
    for cls in np.unique(obj_label):  # loop over classes (few), not objects
        idx = np.flatnonzero(obj_label == cls)
        k = int(round(test_size * len(idx)))
        if len(idx) >= 2:
            k = min(max(k, 1), len(idx) - 1)
        test_obj[rng.choice(idx, size=k, replace=False)] = True
    test_rows = test_obj[inverse]
    return np.flatnonzero(~test_rows), np.flatnonzero(test_rows)
