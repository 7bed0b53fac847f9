"""Inlier classes too small for the label-using detectors (MCIF, classifier-latent, MC Deep SVDD).

Those detectors fit one model per known class (or a classifier of the known classes) and refuse
a class with fewer than two training rows. In a leave-one-subclass-out split a rare inlier class
can have one or two training rows, so the protocol decides per split, before any detector sees
the labels, what to do with each class of fewer than ``min_rows`` training rows:

* ``"merge"`` (default): relabel the rows of every such class as one inlier class
  :data:`OTHER` ("other (merged)"); if the merged class itself has fewer than 2 rows (one class
  of a single row), it joins the largest class instead. The merge is stated in the result
  (``status.csv`` column ``merged``, notice ``evaluate/merged_small_classes``);
* ``"skip"``: detectors that need labels are not run on that split (a ``skipped`` row with its
  reason in ``status.csv``, notice ``evaluate/skipped_small_classes``); the others still run;
* ``"error"``: leave the labels as they are (a label-using detector then fails on that split,
  which is a ``failed`` row and a non-zero exit of ``serendip evaluate``).
"""

from __future__ import annotations

import numpy as np

#: the label given to the rows of merged small inlier classes
OTHER = "other (merged)"

#: the allowed values of ``small_classes``
POLICIES = ("merge", "skip", "error")


def small_inlier_classes(y_train: np.ndarray, min_rows: int) -> list[str]:
    """Training classes with fewer than ``min_rows`` rows, sorted; ``y_train`` (n_train,) str."""
    classes, counts = np.unique(np.asarray(y_train).astype(str), return_counts=True)
    return [str(c) for c, n in zip(classes, counts, strict=True) if n < min_rows]


def merge_small_classes(y_train: np.ndarray, small: list[str]) -> tuple[np.ndarray, str]:
    """Labels (n_train,) with the ``small`` classes relabelled, and a sentence saying how.

    The small classes become :data:`OTHER`; when that leaves it with a single row (one class
    of one row), the row joins the largest remaining class, which the sentence names.
    """
    y = np.asarray(y_train).astype(str).astype(object)  # object: no truncation to the longest
    if not small:
        return y.astype(str), ""
    is_small = np.isin(y, small)
    listed = ", ".join(small)
    if is_small.sum() >= 2:
        y[is_small] = OTHER
        return y.astype(str), f"{listed} ({int(is_small.sum())} rows) merged into '{OTHER}'"
    rest, counts = np.unique(y[~is_small], return_counts=True)
    if not len(rest):
        return y.astype(str), ""
    target = str(rest[np.argmax(counts)])
    y[is_small] = target
    return y.astype(str), f"{listed} (1 row) merged into the largest class '{target}'"


def needs_labels(det) -> bool:
    """Whether a detector uses the inliers' class labels (``needs_labels`` class attribute)."""
    return bool(getattr(det, "needs_labels", False) or getattr(
        getattr(det, "model", None), "needs_labels", False
    ))  # fmt: skip
