"""Cross-validated evaluation grouped by source: out-of-fold probabilities and scores."""

from __future__ import annotations

import inspect
import time
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
    folds=None,
) -> dict:
    """Out-of-fold predictions of ``make_model()`` over source-grouped stratified folds.

    Parameters
    ----------
    make_model : callable returning an unfitted estimator with fit/predict_proba (and
        optionally ``decide(proba)`` for its decision rule).
    X : (n, d) features; y : (n,) class names; groups : (n,) source identifiers.
    folds : optional list of (train_idx, test_idx) to use instead of making them (so
        several methods are scored on the very same folds).

    Returns
    -------
    dict with ``classes`` (sorted names), ``proba`` (n, C), ``pred`` (n,) class indices,
    ``y`` (n,) true indices, ``scores`` (accuracy, balanced accuracy, recall, precision,
    confusion; under the model's decision rule), ``scores_argmax`` (the same under argmax),
    ``ece``, ``reliability`` (per-bin curve), ``folds`` and ``fit_seconds`` (mean per fold).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).astype(str)
    classes = np.unique(y)
    yi = np.searchsorted(classes, y)
    if folds is None:
        folds = grouped_folds(yi, groups, n_splits, random_state)
    proba = np.zeros((len(y), len(classes)))
    pred = np.zeros(len(y), dtype=np.int64)
    fit_s = 0.0
    for f, (tr, te) in enumerate(folds):
        model = make_model()
        t0 = time.perf_counter()
        if "groups" in inspect.signature(model.fit).parameters:
            model.fit(X[tr], y[tr], groups=np.asarray(groups)[tr])
        else:
            model.fit(X[tr], y[tr])
        fit_s += time.perf_counter() - t0
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
        "scores_argmax": classification_scores(yi, proba.argmax(axis=1), classes),
        "ece": expected_calibration_error(proba, yi),
        "reliability": reliability_curve(proba, yi),
        "folds": folds,
        "fit_seconds": fit_s / max(len(folds), 1),
    }


class BaselineHGB:
    """The plain baseline: ``HistGradientBoostingClassifier(class_weight="balanced")``, default
    settings, on the same features, argmax of its (uncalibrated) probabilities."""

    def __init__(self, random_state: int = 0):
        self.random_state = random_state

    def fit(self, X, y):
        """Fit scikit-learn's HistGradientBoostingClassifier on the usable columns of X (n, d);
        returns self.
        """
        from sklearn.ensemble import HistGradientBoostingClassifier
        from threadpoolctl import threadpool_limits

        X = np.asarray(X, dtype=np.float64)
        self.keep_ = np.isfinite(X).any(axis=0)  # sklearn's binning fails on all-NaN columns
        with threadpool_limits(limits=1):
            self.model_ = HistGradientBoostingClassifier(
                class_weight="balanced", random_state=self.random_state
            ).fit(X[:, self.keep_], y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        """Class probabilities, (n_samples, n_classes)."""
        return self.model_.predict_proba(np.asarray(X, dtype=np.float64)[:, self.keep_])


def summary_row(name: str, r: dict) -> dict:
    """Flat figures of one :func:`cross_validate` result (for tables and JSON)."""
    s, sa = r["scores"], r["scores_argmax"]
    row = {
        "method": name,
        "accuracy_argmax": sa["accuracy"],
        "balanced_accuracy": s["balanced_accuracy"],
        "balanced_accuracy_argmax": sa["balanced_accuracy"],
        "accuracy_rule": s["accuracy"],
        "ece": r["ece"],
        "fit_seconds": r["fit_seconds"],
    }
    for c in s["recall"]:
        row[f"recall_{c}"] = s["recall"][c]
        row[f"precision_{c}"] = s["precision"][c]
    return row


def cv_info(r: dict, n_splits: int, seed: int, grouping: str = "source name") -> dict:
    """The cross-validated figures a model file records (``info`` of
    :func:`serendip.classify.modelio.save_classifier`)."""
    return {
        "cv": f"{n_splits}-fold stratified, grouped by {grouping}, seed {seed}",
        "cv_accuracy": r["scores_argmax"]["accuracy"],
        "cv_accuracy_rule": r["scores"]["accuracy"],
        "cv_balanced_accuracy": r["scores"]["balanced_accuracy"],
        "cv_recall": r["scores"]["recall"],
        "cv_precision": r["scores"]["precision"],
        "cv_ece": r["ece"],
    }
