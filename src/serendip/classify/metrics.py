"""Scores for probabilistic classifiers: accuracy, balanced accuracy, recall, ECE."""

from __future__ import annotations

import numpy as np


def expected_calibration_error(proba: np.ndarray, y, n_bins: int = 15) -> float:
    """Top-label expected calibration error.

    ``proba`` (n, n_classes), ``y`` (n,) integer class indices. Predictions are binned by
    their top probability into ``n_bins`` equal-width bins on [0, 1]; ECE is the
    count-weighted mean |accuracy - mean confidence| over bins (0 = perfectly calibrated).
    """
    curve = reliability_curve(proba, y, n_bins)
    n = curve["count"].sum()
    if n == 0:
        return float("nan")
    gap = np.abs(curve["accuracy"] - curve["confidence"])
    return float(np.nansum(gap * curve["count"]) / n)


def reliability_curve(proba: np.ndarray, y, n_bins: int = 15) -> dict[str, np.ndarray]:
    """Per-bin mean confidence, accuracy and count of the top-label prediction.

    Returns arrays of shape (n_bins,): ``edges`` has n_bins + 1 entries; empty bins are NaN.
    """
    proba = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y)
    conf = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    b = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(b, minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.bincount(b, weights=correct, minlength=n_bins) / count
        mconf = np.bincount(b, weights=conf, minlength=n_bins) / count
    return {"edges": edges, "confidence": mconf, "accuracy": acc, "count": count}


def classification_scores(y_true, y_pred, classes) -> dict:
    """Accuracy, balanced accuracy (mean recall over classes present), per-class recall and
    precision, and the confusion matrix.

    ``y_true``, ``y_pred``: (n,) integer indices into ``classes``. ``confusion[i][j]`` counts
    rows of true class i predicted as j. A class never predicted has precision NaN.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    C = len(classes)
    conf = np.zeros((C, C), dtype=np.int64)
    np.add.at(conf, (y_true, y_pred), 1)
    recall, precision = {}, {}
    for i, c in enumerate(classes):
        recall[str(c)] = float(conf[i, i] / conf[i].sum()) if conf[i].sum() else float("nan")
        precision[str(c)] = (
            float(conf[i, i] / conf[:, i].sum()) if conf[:, i].sum() else float("nan")
        )
    vals = [v for v in recall.values() if v == v]
    return {
        "accuracy": float(np.mean(y_true == y_pred)) if len(y_true) else float("nan"),
        "balanced_accuracy": float(np.mean(vals)) if vals else float("nan"),
        "recall": recall,
        "precision": precision,
        "confusion": conf.tolist(),
        "n": int(len(y_true)),
    }


def classwise_ece(proba: np.ndarray, y, n_bins: int = 15) -> float:
    """Class-wise expected calibration error: for every class c, the count-weighted mean
    |fraction of rows of class c - mean p_c| over equal-width bins of p_c, averaged over
    classes. ``proba`` (n, C), ``y`` (n,) integer indices. Unlike the top-label ECE, it
    sees a rare class whose probabilities are too high or too low everywhere."""
    proba = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    out = []
    for c in range(proba.shape[1]):
        p = proba[:, c]
        b = np.clip(np.digitize(p, edges[1:-1], right=True), 0, n_bins - 1)
        count = np.bincount(b, minlength=n_bins).astype(np.float64)
        hit = np.bincount(b, weights=(y == c).astype(np.float64), minlength=n_bins)
        mp = np.bincount(b, weights=p, minlength=n_bins)
        ok = count > 0
        out.append(float(np.abs(hit[ok] - mp[ok]).sum() / max(count.sum(), 1)))
    return float(np.mean(out)) if out else float("nan")
