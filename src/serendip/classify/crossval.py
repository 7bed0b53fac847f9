"""Cross-validated evaluation grouped by source: out-of-fold probabilities and scores."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from serendip.classify.metrics import (
    classification_scores,
    expected_calibration_error,
    reliability_curve,
)
from serendip.classify.splits import grouped_folds


def cross_validate(
    make_model: Callable,
    X: np.ndarray,
    y,
    groups,
    n_splits: int = 5,
    random_state: int = 0,
    progress=None,
) -> dict:
    """Out-of-fold predictions of ``make_model()`` over source-grouped stratified folds.

    Parameters
    ----------
    make_model : callable returning an unfitted estimator with fit/predict_proba (and
        optionally ``decide(proba)`` for its decision rule).
    X : (n, d) features; y : (n,) class names; groups : (n,) source identifiers.

    Returns
    -------
    dict with ``classes`` (sorted names), ``proba`` (n, C), ``pred`` (n,) class indices,
    ``y`` (n,) true indices, ``scores`` (accuracy, balanced accuracy, recall), ``ece``,
    ``reliability`` (per-bin curve) and ``folds``.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).astype(str)
    classes = np.unique(y)
    yi = np.searchsorted(classes, y)
    folds = grouped_folds(yi, groups, n_splits, random_state)
    proba = np.zeros((len(y), len(classes)))
    pred = np.zeros(len(y), dtype=np.int64)
    for f, (tr, te) in enumerate(folds):
        model = make_model()
        if "groups" in inspect.signature(model.fit).parameters:
            model.fit(X[tr], y[tr], groups=np.asarray(groups)[tr])
        else:
            model.fit(X[tr], y[tr])
        p = model.predict_proba(X[te])
        idx = np.searchsorted(classes, np.asarray(model.classes_).astype(str))
        full = np.zeros((len(te), len(classes)))
        full[:, idx] = p
        proba[te] = full
        local = model.decide(p) if hasattr(model, "decide") else p.argmax(axis=1)
        pred[te] = idx[local]
        if progress is not None:
            progress(f + 1, len(folds))
    return {
        "classes": classes,
        "proba": proba,
        "pred": pred,
        "y": yi,
        "scores": classification_scores(yi, pred, classes),
        "ece": expected_calibration_error(proba, yi),
        "reliability": reliability_curve(proba, yi),
        "folds": folds,
    }
