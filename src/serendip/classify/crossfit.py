"""serendip's default catalogue classifier: cross-fitted gradient boosting, Dirichlet-calibrated.

Fit (``X`` (n, d) with NaN allowed, ``y`` (n,) class names, ``groups`` (n,) source ids):

1. the labelled rows are binned once (:func:`~serendip.classify.trees.quantile_edges`:
   at most 255 bins per feature, the members share them), split into ``n_members`` folds
   grouped by source and stratified by class; one ``HistGradientBoostingClassifier``
   (100 iterations, learning rate 0.1, 31-leaf trees, L2-regularised, rows
   weighted by 1 / sqrt(class frequency) so that rare classes shape the trees without the
   full inverse-frequency weighting) is fitted on each fold's complement;
2. every row gets an out-of-fold prediction from the member that did not see it; a
   Dirichlet calibrator (:class:`~serendip.classify.calibration.DirichletCalibrator`) is
   fitted on these out-of-fold log-probabilities, so no source informs its own
   calibration and no extra model is trained for it;
3. prediction averages the members' log-probabilities (a bag of ``n_members`` models)
   and applies the calibrator.

The calibrator also undoes the members' class weighting: the probabilities are
calibrated for the training class mix; the decision rule
(``argmax``, ``balanced``, ``cost``; :mod:`serendip.classify.priors`) only picks the
reported class. The fit costs ``n_members`` boosting fits on (n_members - 1)/n_members of
the rows each, but one binning: scikit-learn bins every fit again, with weighted quantiles
when rows are weighted, which on a few thousand rows costs more than growing the trees.
The trees are grown on the bin indices and their thresholds turned back into feature
values (:func:`~serendip.classify.trees.codes_to_raw`), so they predict on raw features.
On the MUWCLASS table a fit takes x1.3-1.6 the time of one
``HistGradientBoostingClassifier(class_weight="balanced")`` fit on the same rows
(benchmarks/bench_classify.py, interleaved, one thread each).

Everything fitted is exported as arrays (:meth:`to_arrays`): trees as flat node arrays
(:mod:`serendip.classify.trees`), the calibrator's weights, the priors, the training
feature ranges used for the out-of-domain flag. No pickle.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from serendip.classify.calibration import calibrator_from_arrays, make_calibrator
from serendip.classify.priors import decide
from serendip.classify.splits import grouped_folds
from serendip.classify.trees import (
    codes_to_raw,
    export_hgb,
    hgb_predict_proba,
    quantile_edges,
    to_codes,
)

_EPS = 1e-12


class CrossFitBoostClassifier(BaseEstimator, ClassifierMixin):
    """Cross-fitted, calibrated gradient boosting (see the module docstring).

    Parameters
    ----------
    n_members : folds = boosted members (>= 2).
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization :
        settings of each member's ``HistGradientBoostingClassifier``.
    class_weight : weights of the members' training rows: None (the true mix), "sqrt"
        (1 / sqrt(class frequency)) or "balanced" (1 / class frequency).
    calibration : "dirichlet", "temperature", "isotonic" or "none".
    decision : "argmax", "balanced" or "cost" (then ``cost_matrix``, (C, C), rows = true
        class, columns = reported class, in ``classes_`` order).
    random_state : seed of the folds and the members.
    n_threads : OpenMP/BLAS threads while fitting.
    """

    def __init__(
        self,
        n_members=3,
        max_iter=100,
        learning_rate=0.1,
        max_leaf_nodes=31,
        min_samples_leaf=20,
        l2_regularization=1.0,
        class_weight="sqrt",
        calibration="dirichlet",
        decision="balanced",
        cost_matrix=None,
        random_state=0,
        n_threads=1,
    ):
        self.n_members = n_members
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.class_weight = class_weight
        self.calibration = calibration
        self.decision = decision
        self.cost_matrix = cost_matrix
        self.random_state = random_state
        self.n_threads = n_threads

    def _member(self, seed: int):
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=False,
            random_state=seed,
        )

    def fit(self, X, y, groups=None):
        """Fit on ``X`` (n, d), class names ``y`` (n,), source ids ``groups`` (n,; default: one
        source per row). Runs with at most ``n_threads`` threads."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.n_threads):
            return self._fit(X, y, groups)

    def _fit(self, X, y, groups):
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y).astype(str)
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        self.classes_ = np.unique(y)
        C = len(self.classes_)
        if C < 2:
            raise ValueError("training needs at least two classes")
        yi = np.searchsorted(self.classes_, y)
        counts = np.bincount(yi, minlength=C)
        if counts.min() < self.n_members:
            few = [
                f"{c} ({n})"
                for c, n in zip(self.classes_, counts, strict=True)
                if n < self.n_members
            ]
            raise ValueError(f"every class needs at least {self.n_members} training rows: {few}")
        self.priors_ = counts / len(yi)
        self.n_features_in_ = X.shape[1]
        finite = np.isfinite(X)
        self.empty_cols_ = ~finite.any(axis=0)
        big = np.where(finite, X, np.inf)
        self.feature_min_ = np.where(self.empty_cols_, np.nan, big.min(axis=0))
        self.feature_max_ = np.where(
            self.empty_cols_, np.nan, np.where(finite, X, -np.inf).max(axis=0)
        )
        X = self._design(X)
        # one binning of the labelled rows, shared by every member (see quantile_edges)
        edges = quantile_edges(X)
        codes = to_codes(X, edges)
        oof = np.zeros((len(y), C))
        self.members_ = []
        folds = grouped_folds(yi, groups, self.n_members, self.random_state)
        for m, (tr, te) in enumerate(folds):
            est = self._member(self.random_state + m).fit(
                codes[tr], yi[tr], sample_weight=self._weights(yi[tr], C)
            )
            p = np.full((len(te), C), _EPS)
            p[:, est.classes_] = est.predict_proba(codes[te])
            oof[te] = p
            self.members_.append(codes_to_raw(export_hgb(est), edges))
        self.oof_proba_ = oof
        self.calibrator_ = make_calibrator(self.calibration)
        if self.calibrator_ is not None:
            self.calibrator_.fit(oof, yi)
        return self

    def _weights(self, yi: np.ndarray, C: int) -> np.ndarray | None:
        """Training weights of the members' rows: ``class_weight`` None (the true mix),
        "balanced" (1 / class frequency) or "sqrt" (1 / sqrt(class frequency)), mean 1."""
        if self.class_weight is None:
            return None
        n = np.maximum(np.bincount(yi, minlength=C), 1).astype(np.float64)
        w = {"balanced": 1.0 / n, "sqrt": 1.0 / np.sqrt(n)}.get(self.class_weight)
        if w is None:
            raise ValueError(f"class_weight must be None, 'balanced' or 'sqrt', not {self.class_weight!r}")
        sw = w[yi]
        return sw / sw.mean()

    def _design(self, X: np.ndarray) -> np.ndarray:
        """Columns without a single training value are set to 0 (they carry nothing, and
        the boosting's binning fails on them)."""
        if not self.empty_cols_.any():
            return X
        X = X.copy()
        X[:, self.empty_cols_] = 0.0
        return X

    def predict_proba_uncalibrated(self, X) -> np.ndarray:
        """Geometric mean of the members' probabilities, (n, n_classes)."""
        X = self._design(np.asarray(X, dtype=np.float64))
        logp = np.zeros((len(X), len(self.classes_)))
        for a in self.members_:
            logp += np.log(np.clip(hgb_predict_proba(a, X), _EPS, 1.0))
        z = logp / len(self.members_)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated class probabilities (n, n_classes) in ``classes_`` order, for the
        training class mix (see :func:`serendip.classify.priors.shift_priors`)."""
        p = self.predict_proba_uncalibrated(X)
        return p if self.calibrator_ is None else self.calibrator_.transform(p)

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Class indices (n,) from probabilities under the ``decision`` rule."""
        return decide(proba, self.decision, self.priors_, self.cost_matrix)

    def predict(self, X) -> np.ndarray:
        """Decided class of each row, (n_samples,) (may be the abstention label)."""
        return self.classes_[self.decide(self.predict_proba(X))]

    def out_of_domain(self, X) -> np.ndarray:
        """(n,) number of features of each row outside the training range [min, max]."""
        X = np.asarray(X, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            out = (X < self.feature_min_) | (X > self.feature_max_)
        return out.sum(axis=1)

    # ----------------------------------------------------------------- export
    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        """Fitted state as (arrays, JSON settings) for :mod:`serendip.io.modelfile`."""
        a: dict[str, np.ndarray] = {
            "priors": self.priors_,
            "feature_min": self.feature_min_,
            "feature_max": self.feature_max_,
        }
        for m, arrays in enumerate(self.members_):
            a.update({f"m{m}_{k}": v for k, v in arrays.items()})
        if self.calibrator_ is not None:
            a.update(self.calibrator_.to_arrays())
        params = self.get_params()
        if params["cost_matrix"] is not None:
            params["cost_matrix"] = np.asarray(params["cost_matrix"], dtype=float).tolist()
        return a, {
            "classes": [str(c) for c in self.classes_],
            "params": params,
            "n_members_fitted": len(self.members_),
        }

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], settings: dict) -> CrossFitBoostClassifier:
        """Rebuild a classifier written by :meth:`to_arrays`."""
        obj = cls(**settings["params"])
        obj.classes_ = np.array(settings["classes"], dtype=object)
        obj.priors_ = a["priors"]
        obj.feature_min_, obj.feature_max_ = a["feature_min"], a["feature_max"]
        obj.n_features_in_ = len(obj.feature_min_)
        obj.empty_cols_ = ~np.isfinite(obj.feature_min_)
        obj.members_ = [
            {k[len(f"m{m}_") :]: v for k, v in a.items() if k.startswith(f"m{m}_")}
            for m in range(int(settings["n_members_fitted"]))
        ]
        obj.calibrator_ = calibrator_from_arrays(obj.calibration, a)
        return obj
