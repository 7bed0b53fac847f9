"""From detection-level probabilities to source-level classes (UMLCAXS's master classes).

* soft vote: the mean (and standard deviation) of each class probability over a
  source's detections; the soft class is the largest mean;
* hard vote: the most common detection class (ties broken by the larger mean probability);
* a source is ``unique`` when soft and hard classes agree, else ``ambiguous``.

Probabilities stay numeric columns ``p_<class>`` / ``p_<class>_std`` (UMLCAXS stored
"mean±std" text).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.errors import InputError


def prob_column(cls: str) -> str:
    """Column name of a class probability: ``p_`` + the class with unsafe characters as ``_``."""
    safe = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in str(cls))
    return "p_" + safe.replace("-", "_")


def source_votes(
    proba: np.ndarray, source: np.ndarray, classes, extra: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Aggregate detection probabilities to one row per source.

    Parameters
    ----------
    proba : (n_detections, n_classes) class probabilities of every detection.
    source : (n_detections,) source identifier of each detection (e.g. CSC name).
    classes : class names, length n_classes (column order of ``proba``).
    extra : optional (n_detections, m) table; the first value per source of each column is kept
        (e.g. ra, dec).

    Returns
    -------
    DataFrame indexed 0..n_sources-1 with ``name``, ``n_detections``, ``p_<class>``,
    ``p_<class>_std``, ``soft_class``, ``hard_class``, ``hard_votes`` (fraction of
    detections voting for the hard class), ``class`` (the soft class) and ``status``
    ("unique" / "ambiguous").
    """
    proba = np.asarray(proba, dtype=np.float64)
    source = np.asarray(source)
    classes = [str(c) for c in classes]
    if proba.ndim != 2 or proba.shape != (len(source), len(classes)):
        raise InputError(
            None, f"proba has shape {proba.shape}, expected ({len(source)}, {len(classes)})"
        )
    codes, names = pd.factorize(pd.Series(source), sort=True)
    n_src, n_cls = len(names), len(classes)
    count = np.bincount(codes, minlength=n_src).astype(np.float64)
    mean = np.zeros((n_src, n_cls))
    sq = np.zeros((n_src, n_cls))
    np.add.at(mean, codes, proba)
    np.add.at(sq, codes, proba**2)
    mean /= count[:, None]
    std = np.sqrt(np.maximum(sq / count[:, None] - mean**2, 0.0))
    votes = np.zeros((n_src, n_cls))
    np.add.at(votes, (codes, proba.argmax(axis=1)), 1.0)
    soft = mean.argmax(axis=1)
    # hard vote: most votes; ties go to the larger mean probability
    key = votes + mean * 1e-6
    hard = key.argmax(axis=1)
    cls = np.asarray(classes, dtype=object)
    out = pd.DataFrame({"name": np.asarray(names), "n_detections": count.astype(np.int64)})
    for j, c in enumerate(classes):
        out[prob_column(c)] = mean[:, j]
    for j, c in enumerate(classes):
        out[prob_column(c) + "_std"] = std[:, j]
    out["soft_class"] = cls[soft]
    out["hard_class"] = cls[hard]
    out["hard_votes"] = votes[np.arange(n_src), hard] / count
    out["class"] = cls[soft]
    out["p_class"] = mean[np.arange(n_src), soft]
    out["status"] = np.where(soft == hard, "unique", "ambiguous")
    if extra is not None:
        first = pd.DataFrame(extra).reset_index(drop=True).groupby(codes, sort=True).first()
        for c in first.columns:
            if c not in out.columns:
                out[c] = first[c].to_numpy()
    return out
