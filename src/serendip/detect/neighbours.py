"""Nearest-neighbour detectors: kNN distance and the local outlier factor.

Both are *lazy* models - the fitted model is the (scaled) training set itself - so
they are saved as the training matrix plus settings, and the neighbour index is
rebuilt deterministically (exact search) on load; scores after loading are
identical to those before saving. Training scores used for ``threshold_`` exclude
each point from its own neighbour list.

With fewer training rows than ``n_neighbors + 1``, k is lowered to ``n_train - 1``
(as scikit-learn's ``LocalOutlierFactor`` does); the effective k is ``n_neighbors_``
and the change is recorded as a notice (``detect/n_neighbors_lowered``) and a warning.
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np

from serendip.detect._common import ScaledDetector
from serendip.errors import InputError, ModelFileError


def _effective_k(owner: str, n_neighbors: int, n_train: int, announce: bool) -> int:
    """k actually used: ``n_neighbors``, lowered to ``n_train - 1`` for small training sets.

    Raises ValueError for a non-positive k and InputError for fewer than 2 training rows;
    a lowered k is announced (notice + warning) when ``announce`` (at fit, not at load).
    """
    if not isinstance(n_neighbors, (int, np.integer)) or n_neighbors < 1:
        raise ValueError(f"n_neighbors must be a positive integer; got {n_neighbors!r}")
    if n_train < 2:
        raise InputError(
            None, f"{owner} needs at least 2 training rows; got n_samples={n_train}"
        )
    if n_neighbors < n_train:
        return int(n_neighbors)
    k = n_train - 1
    if announce:
        from serendip.notices import notice

        msg = (
            f"{owner}: n_neighbors={n_neighbors} is not below the {n_train} training rows; "
            f"using n_neighbors={k}"
        )
        notice("detect", "n_neighbors_lowered", msg, source=owner, count=1, total=1)
        warnings.warn(msg, UserWarning, stacklevel=3)
    return k


class KNN(ScaledDetector):
    """Distance to the k nearest training neighbours (Ramaswamy et al. 2000).

    Parameters
    ----------
    n_neighbors : k.
    method : "mean" (mean distance to the k neighbours) or "largest" (distance to the k-th).
    scale : standardise features first (recommended: distances mix units otherwise).
    contamination : training fraction above ``threshold_``.

    Score: Euclidean distance in scaled feature units, higher = more anomalous.
    """

    kind: ClassVar[str] = "detect.KNN"

    def __init__(
        self,
        n_neighbors: int = 5,
        method: str = "mean",
        scale: bool = True,
        contamination: float = 0.01,
    ):
        self.n_neighbors = n_neighbors
        self.method = method
        self.scale = scale
        self.contamination = contamination

    def _reduce(self, dist: np.ndarray) -> np.ndarray:
        return dist.mean(axis=1) if self.method == "mean" else dist[:, -1]

    def _build(self, Xs: np.ndarray, announce: bool = False) -> None:
        from sklearn.neighbors import NearestNeighbors

        if self.method not in ("mean", "largest"):
            raise ValueError(f"method must be 'mean' or 'largest'; got {self.method!r}")
        self.n_neighbors_ = _effective_k("KNN", self.n_neighbors, Xs.shape[0], announce)
        self.train_ = np.ascontiguousarray(Xs, dtype=np.float64)
        self.index_ = NearestNeighbors(n_neighbors=self.n_neighbors_).fit(self.train_)

    def _fit_scaled(self, Xs, y):
        self._build(Xs, announce=True)
        dist, _ = self.index_.kneighbors()  # excludes each point itself
        self._train_scores = self._reduce(dist)

    def _score_scaled(self, Xs):
        dist, _ = self.index_.kneighbors(Xs, n_neighbors=self.n_neighbors_)
        return self._reduce(dist)

    def _model_state(self):
        return {"train": self.train_}, {}

    def _set_model_state(self, arrays, state):
        train = arrays.get("train")
        if train is None or train.ndim != 2 or train.shape[1] != self.n_features_in_:
            raise ModelFileError(None, "kNN model has no training matrix of the right shape")
        self._build(train)


class LOF(ScaledDetector):
    """Local outlier factor (Breunig et al. 2000); score = LOF, about 1 for inliers.

    Parameters
    ----------
    n_neighbors : neighbourhood size.
    scale : standardise features first.
    contamination : training fraction above ``threshold_``.

    A baseline: at its defaults (k = 20, on standardised features) it ranks objects as PyOD's
    ``LOF`` does on the same features (both are scikit-learn's ``LocalOutlierFactor``); what it
    adds is the saved, reloadable model. Choose k on the inliers with
    :class:`serendip.evaluate.combine.InnerCVTuned` (``kind = "tuned"``).
    """

    kind: ClassVar[str] = "detect.LOF"

    def __init__(self, n_neighbors: int = 20, scale: bool = True, contamination: float = 0.01):
        self.n_neighbors = n_neighbors
        self.scale = scale
        self.contamination = contamination

    def _build(self, Xs: np.ndarray, announce: bool = False) -> None:
        from sklearn.neighbors import LocalOutlierFactor

        self.n_neighbors_ = _effective_k("LOF", self.n_neighbors, Xs.shape[0], announce)
        self.train_ = np.ascontiguousarray(Xs, dtype=np.float64)
        self.lof_ = LocalOutlierFactor(n_neighbors=self.n_neighbors_, novelty=True).fit(
            self.train_
        )

    def _fit_scaled(self, Xs, y):
        self._build(Xs, announce=True)
        self._train_scores = -self.lof_.negative_outlier_factor_

    def _score_scaled(self, Xs):
        return -self.lof_.score_samples(Xs)

    def _model_state(self):
        return {"train": self.train_}, {}

    def _set_model_state(self, arrays, state):
        train = arrays.get("train")
        if train is None or train.ndim != 2 or train.shape[1] != self.n_features_in_:
            raise ModelFileError(None, "LOF model has no training matrix of the right shape")
        self._build(train)
