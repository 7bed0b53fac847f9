"""Detectors by name for the evaluation harness: serendip's own, PyOD's and scikit-learn's.

``make_detector(kind, params)`` returns an object with ``fit(X, y=None)`` and
``score_samples(X)`` (higher = more anomalous):

* ``"IForest"``, ``"MCIF"``, ... or ``"detect.IForest"``: a :class:`serendip.detect.BaseDetector`
  subclass (or its short name, from :data:`serendip.detect.registry.DETECTORS`);
* ``"pyod.IForest"``, ``"pyod.KNN"``, ``"pyod.ECOD"``, any ``pyod.<Class>``: PyOD at the given
  (default) settings, scored with its ``decision_function`` (higher = outlier in PyOD);
* ``"sklearn.IsolationForest"``, ``"sklearn.LocalOutlierFactor"``, ``"sklearn.OneClassSVM"``:
  scikit-learn with the sign flipped (``-score_samples``);
* ``"tuned"`` (params ``detector``, ``grid``, ``params``, ...): settings chosen by
  leave-one-inlier-class-out on the training rows only
  (:class:`serendip.evaluate.combine.InnerCVTuned`);
* ``"rank_average"`` (params ``members``): mean rank percentile of several detectors
  (:class:`serendip.evaluate.combine.RankAverage`).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from serendip.errors import ConfigError

#: the PyOD class -> module map for the common baselines (others are searched for)
_PYOD_MODULES = {
    "IForest": "pyod.models.iforest",
    "KNN": "pyod.models.knn",
    "ECOD": "pyod.models.ecod",
    "LOF": "pyod.models.lof",
    "OCSVM": "pyod.models.ocsvm",
    "COPOD": "pyod.models.copod",
    "HBOS": "pyod.models.hbos",
    "PCA": "pyod.models.pca",
    "AutoEncoder": "pyod.models.auto_encoder",
    "VAE": "pyod.models.vae",
    "DeepSVDD": "pyod.models.deep_svdd",
}


#: detectors made of detectors (:mod:`serendip.evaluate.combine`)
COMBINED = ("tuned", "rank_average")


class PyODDetector:
    """A PyOD model behind the harness interface; y is ignored, score = ``decision_function``."""

    def __init__(self, name: str, **params: Any):
        module = _PYOD_MODULES.get(name, f"pyod.models.{name.lower()}")
        try:
            klass = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(None, f"unknown PyOD detector {name!r} ({exc})") from exc
        self.name = name
        self.model = klass(**params)

    def fit(self, X, y=None):
        """Fit the wrapped PyOD model on X (n, d); returns self."""
        self.model.fit(np.asarray(X, dtype=np.float64))
        return self

    def score_samples(self, X) -> np.ndarray:
        """PyOD's raw score (its ``decision_function``), (n,), higher = more anomalous."""
        return np.asarray(
            self.model.decision_function(np.asarray(X, dtype=np.float64)), dtype=np.float64
        )


class SklearnDetector:
    """A scikit-learn outlier model; score = -``score_samples`` so higher = more anomalous."""

    def __init__(self, name: str, **params: Any):
        if name == "IsolationForest":
            from sklearn.ensemble import IsolationForest as klass
        elif name == "LocalOutlierFactor":
            from sklearn.neighbors import LocalOutlierFactor as klass

            params.setdefault("novelty", True)
        elif name == "OneClassSVM":
            from sklearn.svm import OneClassSVM as klass
        else:
            raise ConfigError(None, f"unknown scikit-learn detector {name!r}")
        self.name = name
        self.model = klass(**params)

    def fit(self, X, y=None):
        """Fit the wrapped scikit-learn model on X (n, d); returns self."""
        self.model.fit(np.asarray(X, dtype=np.float64))
        return self

    def score_samples(self, X) -> np.ndarray:
        """Minus scikit-learn's ``score_samples``, (n,), higher = more anomalous."""
        return -np.asarray(
            self.model.score_samples(np.asarray(X, dtype=np.float64)), dtype=np.float64
        )


def make_detector(kind: str, params: dict[str, Any] | None = None):
    """A fresh, unfitted detector of ``kind`` (see the module docstring) with ``params``."""
    params = dict(params or {})
    if kind in COMBINED:
        from serendip.evaluate import combine

        klass = combine.InnerCVTuned if kind == "tuned" else combine.RankAverage
        try:
            return klass(**params)
        except (TypeError, KeyError, IndexError, ValueError) as exc:
            raise ConfigError(None, f"bad parameters for {kind}: {exc}") from exc
    if kind.startswith("pyod."):
        return PyODDetector(kind[5:], **params)
    if kind.startswith("sklearn."):
        return SklearnDetector(kind[8:], **params)
    name = kind[7:] if kind.startswith("detect.") else kind
    from serendip.detect.registry import DETECTORS

    # a short name ("iforest"), a class name ("IForest") or a model-file kind ("detect.IForest")
    entry = next(
        (
            e
            for e in DETECTORS.values()
            if name.lower() in (e.name, e.class_name.lower(), e.kind[7:].lower())
        ),
        None,
    )
    if entry is None:
        known = [e.class_name for e in DETECTORS.values()]
        raise ConfigError(
            None,
            f"unknown detector {kind!r}; serendip detectors: {known} (short names "
            f"{DETECTORS.names()}), or pyod.<Name>, sklearn.<Name>",
        )
    try:
        return entry.load_class()(**params)
    except TypeError as exc:
        raise ConfigError(None, f"bad parameters for {kind}: {exc}") from exc


def available_serendip_detectors() -> list[str]:
    """Class names of the serendip detectors (:data:`serendip.detect.registry.DETECTORS`)."""
    from serendip.detect.registry import DETECTORS

    return sorted(e.class_name for e in DETECTORS.values())
