"""The base class of every anomaly detector in serendip.

Conventions (scikit-learn compatible, so detectors drop into pipelines):

* ``fit(X, y=None)`` learns from inliers; ``y`` holds known class labels for the
  multi-class detectors and is ignored by the others.
* ``score_samples(X)`` returns shape (n_samples,) float64, **higher = more anomalous**,
  for every detector (the sign of scikit-learn's own ``score_samples`` is flipped).
* ``threshold_`` is set at fit time from ``contamination`` (fraction of the training
  scores above it); ``predict(X)`` returns 1 for anomalies and 0 for inliers.
  ``threshold_for_budget(scores, budget)`` gives the cut for an inspection budget.
* ``save(path)`` / ``load(path)`` use :mod:`serendip.io.modelfile` (no pickle); the
  fitted scaler, the class order and all settings are stored with the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from serendip.errors import InputError, ModelFileError


class BaseDetector(BaseEstimator):
    """Abstract anomaly detector: subclasses implement ``_fit``, ``_score`` and state I/O."""

    #: identifier written into model files; subclasses set e.g. "detect.IForest"
    kind: ClassVar[str] = "detect.Base"

    contamination: float = 0.01

    # ----------------------------------------------------------------- API
    def fit(self, X, y=None):
        X = self._check_X(X, fitting=True)
        self.n_features_in_ = X.shape[1]
        self._fit(X, None if y is None else np.asarray(y))
        train_scores = self._score(X)
        self.threshold_ = float(np.quantile(train_scores, 1.0 - self.contamination))
        return self

    def score_samples(self, X) -> np.ndarray:
        """Anomaly score per row, (n_samples,) float64; higher = more anomalous."""
        self._check_fitted()
        X = self._check_X(X)
        return np.asarray(self._score(X), dtype=np.float64)

    def decision_function(self, X) -> np.ndarray:
        """Score minus the fitted threshold (positive = anomaly)."""
        return self.score_samples(X) - self.threshold_

    def predict(self, X) -> np.ndarray:
        """1 for anomalies (score above ``threshold_``), 0 for inliers."""
        return (self.score_samples(X) > self.threshold_).astype(np.int64)

    @staticmethod
    def threshold_for_budget(scores: np.ndarray, budget: float) -> float:
        """Score cut that selects the top ``budget`` fraction (0-1) of ``scores``."""
        if not 0 < budget <= 1:
            raise ValueError("budget must be in (0, 1]")
        return float(np.quantile(np.asarray(scores), 1.0 - budget))

    # ------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        from serendip.io.modelfile import save_model

        self._check_fitted()
        arrays, state = self._get_state()
        settings = {
            "params": self.get_params(deep=False),
            "threshold": self.threshold_,
            "n_features_in": int(self.n_features_in_),
            "state": state,
        }
        return save_model(path, self.kind, arrays, settings)

    @classmethod
    def load(cls, path: str | Path) -> BaseDetector:
        """Load any saved detector (or, called on a subclass, only that kind)."""
        from serendip.io.modelfile import load_model

        expected = None if cls is BaseDetector else cls.kind
        arrays, settings, kind = load_model(path, expected)
        klass = detector_class(kind)
        if klass is None:
            raise ModelFileError(path, f"unknown detector kind {kind!r}")
        try:
            obj = klass(**settings["params"])
            obj.threshold_ = float(settings["threshold"])
            obj.n_features_in_ = int(settings["n_features_in"])
            obj._set_state(arrays, settings["state"])
        except ModelFileError as exc:
            if exc.path is None:  # raised by a detector's _set_state: name the file
                raise ModelFileError(path, exc.problem) from exc
            raise
        except Exception as exc:  # noqa: BLE001
            raise ModelFileError(
                path, f"model contents do not fit a {kind} detector: {exc}"
            ) from exc
        return obj

    # ------------------------------------------------------------ to override
    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        raise NotImplementedError

    def _score(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Fitted state as (arrays, JSON-serialisable dict)."""
        raise NotImplementedError

    def _set_state(self, arrays: dict[str, np.ndarray], state: dict[str, Any]) -> None:
        raise NotImplementedError

    # ---------------------------------------------------------------- checks
    def _check_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit() first")

    def _check_X(self, X, fitting: bool = False) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise InputError(
                None, f"features must be a 2-D array (n_samples, n_features); got shape {X.shape}"
            )
        if X.shape[0] == 0:
            raise InputError(None, "no samples (empty feature table)")
        if not np.all(np.isfinite(X)):
            bad = np.argwhere(~np.isfinite(X))[0]
            raise InputError(
                None,
                f"non-finite feature value at row {bad[0]}, column {bad[1]}; impute or drop first",
            )
        if not fitting and hasattr(self, "n_features_in_") and X.shape[1] != self.n_features_in_:
            raise InputError(None, f"expected {self.n_features_in_} features, got {X.shape[1]}")
        return X


def detector_class(kind: str) -> type[BaseDetector] | None:
    """The detector class registered under ``kind`` (e.g. ``"detect.IForest"``), or None.

    The kinds are those of :data:`serendip.detect.registry.DETECTORS`, the one list of
    detectors; the class's module is imported on demand.
    """
    from serendip.detect.registry import detector_class_by_kind

    return detector_class_by_kind(kind)
