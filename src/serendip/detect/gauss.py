"""Gaussian density detector: squared Mahalanobis distance from the training mean.

The simplest density score of a feature space: a Gaussian (mean, covariance) fitted to the
training rows, the score of a row its squared Mahalanobis distance
``(x - m)^T C^-1 (x - m)`` (the negative log density up to constants), higher = more
anomalous. On PCA latents of count-aware E-t maps (:mod:`serendip.represent.deviance`) it is
the total structured departure from a constant rate, whatever time it happens at, which an
isolation forest (axis-parallel cuts) finds less well: see BENCHMARKS.md, "Anomaly-only
recall of simulated transients". The covariance gets a ridge of ``ridge`` times its mean
diagonal so that constant or collinear columns do not make it singular.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from serendip.detect._common import ScaledDetector
from serendip.errors import ModelFileError


class Mahalanobis(ScaledDetector):
    """Squared Mahalanobis distance from the training mean (a Gaussian density score).

    Parameters
    ----------
    ridge : added to the covariance's diagonal, as a fraction of its mean diagonal.
    scale : standardise features first (the distance itself is scale-free; scaling only
        conditions the covariance).
    contamination : training fraction above ``threshold_``.

    Score: squared Mahalanobis distance (dimensionless), higher = more anomalous; for
    Gaussian data it follows a chi-square law with ``n_features`` degrees of freedom.
    """

    kind: ClassVar[str] = "detect.Mahalanobis"

    def __init__(self, ridge: float = 1e-6, scale: bool = True, contamination: float = 0.01):
        self.ridge = ridge
        self.scale = scale
        self.contamination = contamination

    def _fit_scaled(self, Xs, y):
        if not (np.isfinite(self.ridge) and self.ridge >= 0):
            raise ValueError(f"ridge must be a finite number >= 0; got {self.ridge!r}")
        mean = Xs.mean(axis=0)
        d = Xs - mean
        cov = np.atleast_2d(d.T @ d / max(Xs.shape[0] - 1, 1))
        lift = self.ridge * max(float(np.mean(np.diag(cov))), 1e-12)
        self.location_ = mean
        self.precision_ = np.linalg.pinv(cov + lift * np.eye(cov.shape[0]), hermitian=True)

    def _score_scaled(self, Xs):
        d = Xs - self.location_
        return np.einsum("ij,jk,ik->i", d, self.precision_, d)

    def _model_state(self):
        return {"location": self.location_, "precision": self.precision_}, {}

    def _set_model_state(self, arrays, state):
        loc, prec = arrays.get("location"), arrays.get("precision")
        k = self.n_features_in_
        if loc is None or prec is None or loc.shape != (k,) or prec.shape != (k, k):
            raise ModelFileError(
                None, "Mahalanobis model has no location / precision of the right shape"
            )
        self.location_ = np.asarray(loc, dtype=np.float64)
        self.precision_ = np.asarray(prec, dtype=np.float64)
