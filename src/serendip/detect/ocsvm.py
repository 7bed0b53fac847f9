"""One-class SVM with an RBF kernel, exported to support vectors (no pickle).

scikit-learn's :class:`~sklearn.svm.OneClassSVM` (libsvm) finds the support
vectors; we keep ``support_vectors_`` (n_sv, d), the dual coefficients (n_sv,),
the intercept and gamma, and compute the decision function ourselves,
``f(x) = sum_i a_i exp(-gamma |x - sv_i|^2) + b``. The score is ``-f(x)``
(positive outside the learned support, higher = more anomalous). Fitted and loaded
models score through the same code, so the scores after loading are identical.

libsvm's training cost grows roughly quadratically with the number of rows, so at
most ``max_train`` rows (a seeded random subsample) are used to fit.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from serendip.detect._common import ScaledDetector
from serendip.errors import ModelFileError


class OCSVM(ScaledDetector):
    """One-class SVM (Schoelkopf et al. 2001), RBF kernel.

    Parameters
    ----------
    nu : upper bound on the training outlier fraction / lower bound on support vectors.
    gamma : RBF width in 1 / (scaled feature units)^2, or "scale" (1 / (d * var X)).
    max_train : fit on at most this many rows (seeded subsample); None = all.
    scale : standardise features first.
    contamination : training fraction above ``threshold_``.
    random_state : seed of the subsample.
    """

    kind: ClassVar[str] = "detect.OCSVM"

    def __init__(
        self,
        nu: float = 0.5,
        gamma: Any = "scale",
        max_train: int | None = 20000,
        scale: bool = True,
        contamination: float = 0.01,
        random_state: int | None = 0,
    ):
        self.nu = nu
        self.gamma = gamma
        self.max_train = max_train
        self.scale = scale
        self.contamination = contamination
        self.random_state = random_state

    def _fit_scaled(self, Xs, y):
        from sklearn.svm import OneClassSVM

        if self.max_train is not None and Xs.shape[0] > self.max_train:
            rows = np.random.default_rng(self.random_state).choice(
                Xs.shape[0], self.max_train, replace=False
            )
            Xfit = Xs[np.sort(rows)]
        else:
            Xfit = Xs
        svm = OneClassSVM(kernel="rbf", nu=self.nu, gamma=self.gamma).fit(Xfit)
        self.support_vectors_ = np.ascontiguousarray(svm.support_vectors_, dtype=np.float64)
        self.dual_coef_ = np.ascontiguousarray(svm.dual_coef_[0], dtype=np.float64)
        self.intercept_ = float(svm.intercept_[0])
        self.gamma_ = float(svm._gamma)

    def decision_values(self, Xs: np.ndarray, chunk: int = 2048) -> np.ndarray:
        """libsvm's decision function f(x) (n,) on scaled features, computed in chunks."""
        sv = self.support_vectors_
        sv_sq = np.einsum("ij,ij->i", sv, sv)
        out = np.empty(Xs.shape[0])
        for start in range(0, Xs.shape[0], chunk):
            xb = Xs[start : start + chunk]
            d2 = np.einsum("ij,ij->i", xb, xb)[:, None] + sv_sq[None, :] - 2.0 * xb @ sv.T
            np.maximum(d2, 0.0, out=d2)
            out[start : start + chunk] = (
                np.exp(-self.gamma_ * d2) @ self.dual_coef_ + self.intercept_
            )
        return out

    def _score_scaled(self, Xs):
        return -self.decision_values(Xs)

    def _model_state(self):
        arrays = {"support_vectors": self.support_vectors_, "dual_coef": self.dual_coef_}
        return arrays, {"intercept": self.intercept_, "gamma": self.gamma_}

    def _set_model_state(self, arrays, state):
        sv, coef = arrays.get("support_vectors"), arrays.get("dual_coef")
        if (
            sv is None
            or coef is None
            or sv.ndim != 2
            or sv.shape[1] != self.n_features_in_
            or coef.shape != (sv.shape[0],)
        ):
            raise ModelFileError(
                None, "OCSVM support vectors / dual coefficients missing or of the wrong shape"
            )
        self.support_vectors_ = np.ascontiguousarray(sv, dtype=np.float64)
        self.dual_coef_ = np.ascontiguousarray(coef, dtype=np.float64)
        self.intercept_ = float(state["intercept"])
        self.gamma_ = float(state["gamma"])
