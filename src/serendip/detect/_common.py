"""Machinery shared by serendip's detectors: stored scaler, labels, nested models.

:class:`ScaledDetector` sits between :class:`~serendip.detect.BaseDetector` and the
concrete detectors. It adds

* an optional standardisation (``scale=True``) fitted on the training features and
  stored in the model file next to the detector's own arrays;
* a ``fit`` that validates ``contamination`` and known-class labels and lets a
  detector supply its own *training* scores (e.g. kNN distances that exclude the
  point itself) for the threshold;
* ``feature_names_in_`` (set by the CLI) stored with the model.

Labels of the multi-class detectors are encoded with :func:`encode_labels`: the
class order is ``numpy.unique`` order (sorted), stored as ``classes_`` and used for
every per-class column, so names and columns can never disagree.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from serendip.detect.base import BaseDetector, detector_class
from serendip.errors import InputError, ModelFileError


def encode_labels(y, n_rows: int, min_per_class: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Validate class labels and return ``(classes, codes)``.

    Parameters
    ----------
    y : array-like, shape (n_rows,) of str or int class labels.
    n_rows : expected length (rows of the feature matrix).
    min_per_class : smallest allowed number of training rows per class.

    Returns
    -------
    classes : (n_classes,) sorted unique labels (the column order everywhere).
    codes : (n_rows,) int64 index into ``classes``.
    """
    if y is None:
        raise InputError(None, "this detector needs known-class labels (y / --label-column)")
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n_rows:
        raise InputError(None, f"labels must have shape ({n_rows},); got {y.shape}")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise InputError(None, "labels contain NaN / inf; drop unlabelled rows first")
    elif y.dtype == object:
        missing = np.array([v is None or (isinstance(v, float) and v != v) for v in y])
        if missing.any():
            raise InputError(
                None,
                f"{int(missing.sum())} missing label(s), first at row {int(np.argmax(missing))}",
            )
        y = y.astype(str)
    classes, codes = np.unique(y, return_inverse=True)
    counts = np.bincount(codes, minlength=len(classes))
    small = [str(c) for c, n in zip(classes, counts, strict=True) if n < min_per_class]
    if small:
        raise InputError(None, f"class(es) {small} have fewer than {min_per_class} training rows")
    return classes, codes.astype(np.int64)


def classes_to_json(classes: np.ndarray) -> list:
    """Class labels as JSON-friendly Python values (str / int / float)."""
    return np.asarray(classes).tolist()


def classes_from_json(values: list) -> np.ndarray:
    return np.asarray(values)


class ScaledDetector(BaseDetector):
    """A detector with an optional stored standard scaler (``scale`` parameter).

    Subclasses implement ``_fit_scaled(Xs, y)``, ``_score_scaled(Xs)``,
    ``_model_state()`` and ``_set_model_state(arrays, state)`` on *scaled*
    features; ``_fit_scaled`` may set ``self._train_scores`` (n_train,) to give the
    threshold leave-self-out scores.
    """

    kind: ClassVar[str] = "detect._Scaled"

    scale: bool = True

    def fit(self, X, y=None):
        """As :meth:`BaseDetector.fit` (``X`` (n_samples, n_features), ``y`` labels if needed),
        with the optional scaler fitted first; returns self."""
        X, y = self._check_fit_input(X, y)
        self._train_scores = None
        Xs = self._fit_scaler(X)
        self._fit_scaled(Xs, y)
        train = self._train_scores if self._train_scores is not None else self._score_scaled(Xs)
        del self._train_scores
        self._set_threshold(train)
        return self

    # ------------------------------------------------------------- scaler
    def _fit_scaler(self, X: np.ndarray) -> np.ndarray:
        if not self.scale:
            self.scaler_mean_ = self.scaler_scale_ = None
            return X
        mean = X.mean(axis=0)
        std = X.std(axis=0)
        std[~(std > 0)] = 1.0
        self.scaler_mean_, self.scaler_scale_ = mean, std
        return (X - mean) / std

    def transform_features(self, X: np.ndarray) -> np.ndarray:
        """Apply the stored scaler to (already checked) features, (n, n_features)."""
        if getattr(self, "scaler_mean_", None) is None:
            return X
        return (X - self.scaler_mean_) / self.scaler_scale_

    def _score(self, X: np.ndarray) -> np.ndarray:
        return self._score_scaled(self.transform_features(X))

    def _fit(self, X, y):  # pragma: no cover - fit() is overridden
        raise NotImplementedError

    # -------------------------------------------------------- persistence
    def _get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays, state = self._model_state()
        arrays = dict(arrays)
        if getattr(self, "scaler_mean_", None) is not None:
            arrays["scaler/mean"] = np.asarray(self.scaler_mean_, dtype=np.float64)
            arrays["scaler/scale"] = np.asarray(self.scaler_scale_, dtype=np.float64)
        state = dict(state)
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            state["feature_names_in"] = [str(n) for n in names]
        return arrays, state

    def _set_state(self, arrays: dict[str, np.ndarray], state: dict[str, Any]) -> None:
        if "scaler/mean" in arrays:
            self.scaler_mean_ = np.asarray(arrays["scaler/mean"], dtype=np.float64)
            self.scaler_scale_ = np.asarray(arrays["scaler/scale"], dtype=np.float64)
            if self.scaler_mean_.shape != (self.n_features_in_,) or self.scaler_scale_.shape != (
                self.n_features_in_,
            ):
                raise ModelFileError(None, "stored scaler does not match the number of features")
        elif self.scale:
            raise ModelFileError(None, "model says scale=True but stores no scaler")
        else:
            self.scaler_mean_ = self.scaler_scale_ = None
        if "feature_names_in" in state:
            self.feature_names_in_ = np.asarray(state["feature_names_in"], dtype=object)
        self._set_model_state(arrays, state)

    # --------------------------------------------------------- to override
    def _fit_scaled(self, Xs: np.ndarray, y: np.ndarray | None) -> None:
        raise NotImplementedError

    def _score_scaled(self, Xs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _model_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        raise NotImplementedError

    def _set_model_state(self, arrays: dict[str, np.ndarray], state: dict[str, Any]) -> None:
        raise NotImplementedError


# ------------------------------------------------------------ nested models
def pack_detector(det: BaseDetector, prefix: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A fitted detector's arrays (keys prefixed ``prefix/``) and its JSON description."""
    arrays, state = det._get_state()
    meta = {
        "kind": det.kind,
        "params": det.get_params(deep=False),
        "threshold": float(det.threshold_),
        "n_features_in": int(det.n_features_in_),
        "state": state,
    }
    return {f"{prefix}/{k}": v for k, v in arrays.items()}, meta


def unpack_detector(
    arrays: dict[str, np.ndarray], meta: dict[str, Any], prefix: str
) -> BaseDetector:
    """Rebuild a detector written by :func:`pack_detector`."""
    klass = detector_class(meta["kind"])
    if klass is None:
        raise ModelFileError(None, f"unknown nested detector kind {meta['kind']!r}")
    det = klass(**meta["params"])
    det.threshold_ = float(meta["threshold"])
    det.n_features_in_ = int(meta["n_features_in"])
    start = prefix + "/"
    det._set_state(
        {k[len(start) :]: v for k, v in arrays.items() if k.startswith(start)}, meta["state"]
    )
    return det
