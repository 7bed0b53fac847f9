"""serendip's classifier: Gaussian-mixture memberships + features -> gradient boosting, calibrated.

* the GMM (full covariance, K given or by the BIC elbow) is fitted, unsupervised, on the
  standardised, median-imputed features of all rows; its membership probabilities
  (n, K) are appended to the raw features (NaN kept: the trees route missing values);
* a ``HistGradientBoostingClassifier`` is trained on the labelled rows;
* probabilities are calibrated (temperature or isotonic) on out-of-fold predictions from
  folds grouped by source, so no source informs its own calibration;
* ``decision="balanced"`` predicts argmax p(c|x) / prior(c) - the Bayes decision for
  balanced accuracy - while the stored probabilities stay calibrated for the training
  class mix; ``decision="argmax"`` predicts the most probable class.

Everything fitted is exported as arrays (:meth:`to_arrays`), so the model is saved with
:mod:`serendip.io.modelfile` and predicts with numpy alone after loading.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from serendip.classify.calibration import IsotonicCalibrator, TemperatureScaler, make_calibrator
from serendip.classify.gmm import bic_curve, elbow, fit_gmm, gmm_from_arrays, gmm_to_arrays
from serendip.classify.splits import grouped_folds
from serendip.classify.transforms import MedianImputer, Standardizer
from serendip.classify.trees import export_hgb, hgb_predict_proba


class ClusterBoostClassifier(BaseEstimator, ClassifierMixin):
    """GMM memberships + features -> calibrated gradient boosting.

    Parameters
    ----------
    n_components : GMM components (int) or "bic" (elbow over ``k_range``); 0 = no GMM features.
    max_iter, learning_rate, max_leaf_nodes, l2_regularization, min_samples_leaf : boosting settings.
    class_weight : None or "balanced" (sample weights inverse to class frequency).
    calibration : "temperature", "isotonic" or "none".
    calibration_folds : grouped folds for the out-of-fold predictions the calibrator is fitted on.
    decision : "balanced" or "argmax" (see module doc).
    """

    def __init__(
        self,
        n_components=6,
        k_range=tuple(range(1, 13)),
        max_iter=200,
        learning_rate=0.05,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        class_weight=None,
        calibration="temperature",
        calibration_folds=4,
        decision="balanced",
        random_state=0,
        n_threads=1,
    ):
        self.n_components = n_components
        self.k_range = k_range
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.class_weight = class_weight
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.decision = decision
        self.random_state = random_state
        self.n_threads = n_threads

    # ------------------------------------------------------------ internals
    def _design(self, X: np.ndarray) -> np.ndarray:
        if self.empty_cols_.any():  # columns with no training values carry no information
            X = X.copy()
            X[:, self.empty_cols_] = 0.0
        if self.gmm_ is None:
            return X
        Z = self.std_.transform(self.imputer_.transform(X))
        return np.hstack([X, self.gmm_.predict_proba(Z)])

    def _boost(self):
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            class_weight=self.class_weight,
            early_stopping=False,
            random_state=self.random_state,
        )

    # ------------------------------------------------------------------ API
    def fit(self, X, y, groups=None, X_unlabelled=None):
        """See :meth:`_fit`; runs with at most ``n_threads`` OpenMP/BLAS threads (small tables
        fit fastest single-threaded, and a shared machine is not oversubscribed)."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.n_threads):
            return self._fit(X, y, groups, X_unlabelled)

    def _fit(self, X, y, groups=None, X_unlabelled=None):
        """Fit on ``X`` (n, d) with class names ``y`` (n,); ``groups`` (n,) source ids for the
        calibration folds (default: every row its own source). ``X_unlabelled`` (m, d), optional,
        joins the unsupervised GMM fit only."""
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y).astype(str)
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        self.classes_ = np.unique(y)
        yi = np.searchsorted(self.classes_, y)
        self.priors_ = np.bincount(yi, minlength=len(self.classes_)) / len(yi)
        self.empty_cols_ = ~np.isfinite(X).any(axis=0)
        allX = (
            X
            if X_unlabelled is None
            else np.vstack([X, np.asarray(X_unlabelled, dtype=np.float64)])
        )
        self.imputer_ = MedianImputer().fit(allX)
        self.std_ = Standardizer().fit(self.imputer_.transform(allX))
        self.k_grid_, self.bic_ = np.array([], dtype=np.int64), np.array([])
        if self.n_components == 0:
            self.gmm_ = None
        else:
            Z = self.std_.transform(self.imputer_.transform(allX))
            if self.n_components == "bic":
                self.k_grid_ = np.asarray(self.k_range, dtype=np.int64)
                self.bic_ = bic_curve(Z, self.k_grid_, random_state=self.random_state)
                k = elbow(self.k_grid_, self.bic_)
            else:
                k = int(self.n_components)
            self.gmm_ = fit_gmm(Z, k, random_state=self.random_state)
        D = self._design(X)
        self.calibrator_ = make_calibrator(self.calibration)
        if self.calibrator_ is not None:
            oof = np.zeros((len(y), len(self.classes_)))
            for tr, te in grouped_folds(yi, groups, self.calibration_folds, self.random_state):
                m = self._boost().fit(D[tr], yi[tr])
                p = np.zeros((len(te), len(self.classes_)))
                p[:, m.classes_] = m.predict_proba(D[te])
                oof[te] = p
            self.calibrator_.fit(oof, yi)
        self.boost_ = self._boost().fit(D, yi)
        if len(self.boost_.classes_) != len(self.classes_):
            raise ValueError("every class needs training rows")
        self.tree_arrays_ = export_hgb(self.boost_)
        return self

    def predict_proba_uncalibrated(self, X) -> np.ndarray:
        """Class probabilities before calibration, (n_samples, n_classes); columns = ``classes_``.
        """
        return hgb_predict_proba(self.tree_arrays_, self._design(np.asarray(X, dtype=np.float64)))

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated class probabilities, (n, n_classes) in ``classes_`` order."""
        p = self.predict_proba_uncalibrated(X)
        return p if self.calibrator_ is None else self.calibrator_.transform(p)

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Class indices from probabilities under the ``decision`` rule."""
        if self.decision == "balanced":
            return (proba / np.maximum(self.priors_, 1e-12)).argmax(axis=1)
        return proba.argmax(axis=1)

    def predict(self, X) -> np.ndarray:
        """Decided class of each row, (n_samples,) (may be the abstention label)."""
        return self.classes_[self.decide(self.predict_proba(X))]

    def cluster_proba(self, X) -> np.ndarray:
        """GMM memberships (n, K); empty (n, 0) without a GMM."""
        X = np.asarray(X, dtype=np.float64)
        if self.gmm_ is None:
            return np.zeros((len(X), 0))
        return self.gmm_.predict_proba(self.std_.transform(self.imputer_.transform(X)))

    # ----------------------------------------------------------------- export
    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        """Fitted state as (arrays, JSON settings) for :mod:`serendip.io.modelfile`."""
        a = dict(self.tree_arrays_)
        a.update(
            {
                "imputer_medians": self.imputer_.medians_,
                "std_mean": self.std_.mean_,
                "std_scale": self.std_.scale_,
                "priors": self.priors_,
                "empty_cols": self.empty_cols_.astype(np.uint8),
                "bic_k": self.k_grid_,
                "bic": self.bic_,
            }
        )
        if self.gmm_ is not None:
            a.update(gmm_to_arrays(self.gmm_))
        if self.calibrator_ is not None:
            a.update(self.calibrator_.to_arrays())
        params = {
            k: (list(v) if isinstance(v, tuple | range) else v)
            for k, v in self.get_params().items()
        }
        return a, {"classes": [str(c) for c in self.classes_], "params": params}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], settings: dict) -> ClusterBoostClassifier:
        """Rebuild a classifier written by :meth:`to_arrays`."""
        p = dict(settings["params"])
        p["k_range"] = tuple(p.get("k_range", ()))
        obj = cls(**p)
        obj.classes_ = np.array(settings["classes"], dtype=object)
        obj.imputer_ = MedianImputer()
        obj.imputer_.medians_ = a["imputer_medians"]
        obj.std_ = Standardizer()
        obj.std_.mean_, obj.std_.scale_ = a["std_mean"], a["std_scale"]
        obj.priors_ = a["priors"]
        obj.empty_cols_ = a["empty_cols"].astype(bool)
        obj.k_grid_, obj.bic_ = a["bic_k"], a["bic"]
        obj.gmm_ = gmm_from_arrays(a) if "gmm_weights" in a else None
        obj.tree_arrays_ = {k: v for k, v in a.items() if k.startswith("hgb_")}
        if obj.calibration == "temperature":
            obj.calibrator_ = TemperatureScaler.from_arrays(a)
        elif obj.calibration == "isotonic":
            obj.calibrator_ = IsotonicCalibrator.from_arrays(a)
        else:
            obj.calibrator_ = None
        return obj
