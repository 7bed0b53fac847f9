"""The base class of every anomaly detector in serendip.

Conventions (scikit-learn compatible, so detectors drop into pipelines and ``clone``):

* ``fit(X, y=None)`` learns from inliers; ``y`` holds known class labels for the
  multi-class detectors (``needs_labels``) and is ignored by the others. Input is
  validated by :func:`sklearn.utils.validation.validate_data` (sets ``n_features_in_``
  and, for a DataFrame, ``feature_names_in_``); a non-finite value is an
  :class:`~serendip.errors.InputError` naming its row and column.
* ``score_samples(X)`` returns shape (n_samples,) float64, **higher = more anomalous**,
  for every detector (the sign of scikit-learn's own ``score_samples`` is flipped).
* ``threshold_`` is set at fit time from ``contamination`` (fraction of the training
  scores above it); ``decision_function(X)`` is ``score_samples(X) - threshold_``
  (scikit-learn's meaning, positive = anomaly; PyOD's ``decision_function`` is the raw
  score) and ``predict(X)`` returns 1 for anomalies and 0 for inliers (PyOD's
  convention). ``decision_scores_`` / ``training_scores_`` and ``labels_`` hold the
  training rows' scores and 0/1 labels, as in PyOD.
  ``threshold_for_budget(scores, budget)`` gives the cut for an inspection budget.
* Before ``fit`` every scoring method raises :class:`sklearn.exceptions.NotFittedError`.
* ``save(path)`` / ``load(path)`` use :mod:`serendip.io.modelfile` (no pickle); the
  fitted scaler, the class order and all settings are stored with the model.

Why no ``sklearn.base.OutlierMixin``: it makes ``predict`` return +1 / -1 (inlier /
outlier) and ``fit_predict`` follow that, while serendip (like PyOD) returns 1 for an
anomaly and 0 for an inlier, so that ``predict(X).sum()`` counts anomalies. The
detectors therefore do not declare ``estimator_type = "outlier_detector"``, and
scikit-learn's outlier-detector checks (which test the +1 / -1 convention) do not apply.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from serendip.errors import InputError, ModelFileError


def check_contamination(contamination: float) -> None:
    """Raise ValueError unless ``contamination`` (a fraction of the training rows) is in (0, 0.5)."""
    if not (
        isinstance(contamination, (int, float, np.integer, np.floating))
        and 0.0 < float(contamination) < 0.5
    ):
        raise ValueError(f"contamination must be in (0, 0.5); got {contamination!r}")


class BaseDetector(BaseEstimator):
    """Abstract anomaly detector: subclasses implement ``_fit``, ``_score`` and state I/O.

    Attributes
    ----------
    n_features_in_ : int
        Number of feature columns seen in ``fit``.
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Column names, when ``fit`` was given a DataFrame (or set by the caller).
    threshold_ : float
        Score cut: the ``1 - contamination`` quantile of the training scores.
    training_scores_, decision_scores_ : ndarray, shape (n_train,), float64
        Scores of the training rows (leave-self-out where the detector provides them);
        ``decision_scores_`` is PyOD's name for the same array.
    labels_ : ndarray, shape (n_train,), int64
        1 where a training row's score is above ``threshold_``, else 0 (PyOD's ``labels_``).
    """

    #: identifier written into model files; subclasses set e.g. "detect.IForest"
    kind: ClassVar[str] = "detect.Base"
    #: True for detectors that need known-class labels ``y`` in ``fit``
    needs_labels: ClassVar[bool] = False

    contamination: float = 0.01

    # ----------------------------------------------------------------- API
    def fit(self, X, y=None):
        """Fit on inlier features ``X`` (n_samples, n_features); returns self.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Training features (finite values).
        y : array-like, shape (n_samples,), optional
            Known-class labels, required when ``needs_labels`` and ignored otherwise.
        """
        X, y = self._check_fit_input(X, y)
        self._fit(X, y)
        self._set_threshold(self._score(X))
        return self

    def score_samples(self, X) -> np.ndarray:
        """Anomaly score per row, higher = more anomalous.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features_in_)

        Returns
        -------
        ndarray, shape (n_samples,), float64
        """
        self._check_fitted()
        X = self._check_X(X)
        return np.asarray(self._score(X), dtype=np.float64)

    def decision_function(self, X) -> np.ndarray:
        """Score minus the fitted threshold, (n_samples,) float64; positive = anomaly.

        This is scikit-learn's meaning (``score_samples - offset``); PyOD's
        ``decision_function`` is the raw score, here :meth:`score_samples`.
        """
        self._check_fitted()
        return self.score_samples(X) - self.threshold_

    def predict(self, X) -> np.ndarray:
        """1 for anomalies (score above ``threshold_``), 0 for inliers; (n_samples,) int64."""
        self._check_fitted()
        return (self.score_samples(X) > self.threshold_).astype(np.int64)

    def __sklearn_is_fitted__(self) -> bool:
        """True once ``fit`` has run or a model has been loaded (``threshold_`` is set)."""
        return hasattr(self, "threshold_")

    def __sklearn_tags__(self):
        """scikit-learn tags: dense finite input; known-class labels required when ``needs_labels``."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        tags.target_tags.required = bool(self.needs_labels)
        return tags

    @staticmethod
    def threshold_for_budget(scores: np.ndarray, budget: float) -> float:
        """Score cut that selects the top ``budget`` fraction (0-1) of ``scores``."""
        if not 0 < budget <= 1:
            raise ValueError("budget must be in (0, 1]")
        return float(np.quantile(np.asarray(scores), 1.0 - budget))

    # ------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Save the fitted detector to a safetensors file (no pickle); returns the path."""
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
        """Raise :class:`sklearn.exceptions.NotFittedError` unless fitted (or loaded)."""
        check_is_fitted(self)

    def _check_fit_input(self, X, y) -> tuple[np.ndarray, np.ndarray | None]:
        """Validated training features (n, d) float64 and labels (or None); checks settings."""
        check_contamination(self.contamination)
        X = self._check_X(X, fitting=True)
        if not self.needs_labels:
            return X, None
        if y is None:
            raise InputError(
                None,
                f"{type(self).__name__} requires y to be passed, but the target y is None "
                "(known-class labels are needed)",
            )
        if X.shape[0] < 2:
            raise InputError(
                None, f"{type(self).__name__} needs at least 2 labelled rows; got n_samples=1"
            )
        return X, np.asarray(y)

    def _set_threshold(self, train_scores: np.ndarray) -> None:
        """Set ``training_scores_`` / ``decision_scores_``, ``threshold_`` and ``labels_``."""
        self.training_scores_ = np.asarray(train_scores, dtype=np.float64)
        self.decision_scores_ = self.training_scores_
        self.threshold_ = float(np.quantile(self.training_scores_, 1.0 - self.contamination))
        self.labels_ = (self.training_scores_ > self.threshold_).astype(np.int64)

    def _check_X(self, X, fitting: bool = False) -> np.ndarray:
        """Features as a finite (n_samples, n_features) float64 array.

        ``fitting=True`` sets ``n_features_in_`` (and ``feature_names_in_`` for a
        DataFrame); otherwise the column count is checked against them. Problems raise
        :class:`~serendip.errors.InputError` (a ValueError) with scikit-learn's wording,
        sparse input a TypeError.
        """
        with warnings.catch_warnings():
            if not fitting and not hasattr(X, "columns"):
                # names may have been attached after a fit on a plain array (the CLI does)
                warnings.filterwarnings("ignore", message="X does not have valid feature names")
            try:
                X = validate_data(
                    self, X, reset=fitting, dtype=np.float64, ensure_all_finite=False
                )
            except ValueError as exc:
                if isinstance(exc, InputError):
                    raise
                raise InputError(None, str(exc)) from exc
        if not np.all(np.isfinite(X)):
            bad = np.argwhere(~np.isfinite(X))[0]
            raise InputError(
                None,
                f"non-finite feature value (NaN or inf) at row {bad[0]}, column {bad[1]}; "
                "impute or drop first",
            )
        huge = np.abs(X) > MAX_ABS_FEATURE
        if huge.any():
            r, c = np.argwhere(huge)[0]
            raise InputError(
                None,
                f"feature value {X[r, c]:.3g} at row {r}, column {c} is finite but out of range: "
                f"{int(huge.sum())} value(s) beyond +-{MAX_ABS_FEATURE:.0e}, where the detectors "
                "(float32) overflow; rescale the column (e.g. take its log)",
            )
        return X


#: largest feature magnitude the detectors accept: they compute in float32 (max 3.4e38), and
#: larger values become inf there
MAX_ABS_FEATURE = 1e38


def detector_class(kind: str) -> type[BaseDetector] | None:
    """The detector class registered under ``kind`` (e.g. ``"detect.IForest"``), or None.

    The kinds are those of :data:`serendip.detect.registry.DETECTORS`, the one list of
    detectors; the class's module is imported on demand.
    """
    from serendip.detect.registry import detector_class_by_kind

    return detector_class_by_kind(kind)
