"""Nearest-neighbour detectors: kNN distance and the local outlier factor.

Both are *lazy* models - the fitted model is the (scaled) training set itself - so
they are saved as the training matrix plus settings, and the neighbour index is
rebuilt deterministically (exact search) on load; scores after loading are
identical to those before saving. Training scores used for ``threshold_`` exclude
each point from its own neighbour list.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from serendip.detect._common import ScaledDetector
from serendip.errors import InputError, ModelFileError


def _check_k(n_neighbors: int, n_train: int) -> None:
    if not isinstance(n_neighbors, (int, np.integer)) or n_neighbors < 1:
        raise ValueError(f"n_neighbors must be a positive integer; got {n_neighbors!r}")
    if n_neighbors >= n_train:
        raise InputError(
            None,
            f"n_neighbors={n_neighbors} needs more than {n_neighbors} training rows; got {n_train}",
        )


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

    def _build(self, Xs: np.ndarray) -> None:
        from sklearn.neighbors import NearestNeighbors

        if self.method not in ("mean", "largest"):
            raise ValueError(f"method must be 'mean' or 'largest'; got {self.method!r}")
        _check_k(self.n_neighbors, Xs.shape[0])
        self.train_ = np.ascontiguousarray(Xs, dtype=np.float64)
        self.index_ = NearestNeighbors(n_neighbors=self.n_neighbors).fit(self.train_)

    def _fit_scaled(self, Xs, y):
        self._build(Xs)
        dist, _ = self.index_.kneighbors()  # excludes each point itself
        self._train_scores = self._reduce(dist)

    def _score_scaled(self, Xs):
        dist, _ = self.index_.kneighbors(Xs, n_neighbors=self.n_neighbors)
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
    """

    kind: ClassVar[str] = "detect.LOF"

    def __init__(self, n_neighbors: int = 20, scale: bool = True, contamination: float = 0.01):
        self.n_neighbors = n_neighbors
        self.scale = scale
        self.contamination = contamination

    def _build(self, Xs: np.ndarray) -> None:
        from sklearn.neighbors import LocalOutlierFactor

        _check_k(self.n_neighbors, Xs.shape[0])
        self.train_ = np.ascontiguousarray(Xs, dtype=np.float64)
        self.lof_ = LocalOutlierFactor(n_neighbors=self.n_neighbors, novelty=True).fit(self.train_)

    def _fit_scaled(self, Xs, y):
        self._build(Xs)
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
