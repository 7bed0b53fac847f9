"""The UMLCAXS classifier (Pérez-Díaz et al. 2024), reproduced as a scikit-learn estimator.

Steps (as in the paper and its code):

1. features: the 12 CSC detection properties; ``bb_kt``, ``var_ratio_b/h/s`` and
   ``var_newq_b`` are log-transformed with a floor and min-max scaled,
   ``powlaw_gamma`` is min-max scaled (:class:`~serendip.classify.transforms.LogMinMaxScaler`);
2. a full-covariance Gaussian mixture on *all* detections (labelled or not), K chosen
   by the BIC elbow (or given);
3. inside each cluster, the squared Mahalanobis distance of a detection to the labelled
   members of every class (pseudo-inverse covariance); a class with fewer than
   ``min_members`` members in the cluster (default: the number of features, UMLCAXS's
   singular-matrix rule) gets probability 0;
4. probabilities = softmin of the squared distances, ``exp(-d2 / T) / sum`` with T = 1
   in UMLCAXS (which makes them very peaked; ``temperature`` or a calibrator fixes that).

Differences, all explicit: missing features are imputed with training medians when
``impute=True`` (UMLCAXS dropped such rows); a detection whose cluster has no usable
class gets uniform probabilities (UMLCAXS produced NaN there).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import pinv
from sklearn.base import BaseEstimator, ClassifierMixin

from serendip.classify.gmm import bic_curve, elbow, fit_gmm, gmm_from_arrays, gmm_to_arrays
from serendip.classify.transforms import LogMinMaxScaler, MedianImputer


def umlcaxs_recipe(feature_set: str, columns=None, **overrides) -> tuple[list[str], dict]:
    """The UMLCAXS reproduction's feature columns and :class:`UmlcaxsClassifier` settings.

    One definition shared by ``serendip classify`` (``kind = "umlcaxs"``), its ``--cv``
    mode and ``benchmarks/bench_classify.py``, so they score the same method:

    * ``feature_set = "umlcaxs"`` (CSC per-detection tables): the 12 UMLCAXS features,
      ``bb_kt`` and the variability ratios log-scaled, ``powlaw_gamma`` min-max scaled;
    * "xray" / "xray+mw" (source-level tables such as MUWCLASS, which lack ``bb_kt`` and the
      ``var_*`` ratio inputs): the 6 UMLCAXS features such a table provides
      (``XRAY_UMLCAXS_SUBSET``), ``powlaw_gamma`` min-max scaled.

    ``columns`` restricts the set (``model.features``); ``overrides`` replace settings
    (``n_components``, ``temperature``). Returns ``(columns, settings)``.
    """
    from serendip.classify.features import (
        UMLCAXS_FEATURES,
        UMLCAXS_LOG,
        UMLCAXS_MINMAX,
        XRAY_UMLCAXS_SUBSET,
    )

    if feature_set == "umlcaxs":
        cols, log, mm = list(UMLCAXS_FEATURES), UMLCAXS_LOG, UMLCAXS_MINMAX
    else:
        cols, log, mm = list(XRAY_UMLCAXS_SUBSET), [], ["powlaw_gamma"]
    if columns:
        cols = list(columns)
    settings = {
        "log_columns": [cols.index(c) for c in log if c in cols],
        "minmax_columns": [cols.index(c) for c in mm if c in cols],
        "n_components": "bic",
    }
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return cols, settings


def labelled_mask(y) -> np.ndarray:
    """True where ``y`` holds a class (not None/NaN/empty string)."""
    y = np.asarray(y, dtype=object)
    return np.array([v is not None and v == v and str(v) != "" for v in y], dtype=bool)


class MahalanobisClusterClassifier(BaseEstimator, ClassifierMixin):
    """Per-cluster Mahalanobis classifier: class probabilities from distances to labelled members.

    ``fit(X, y, clusters)``: X (n, d) scaled features, y (n,) class names (None = unlabelled),
    clusters (n,) int cluster of each row. ``predict_proba(X, clusters)`` -> (n, n_classes).
    """

    def __init__(self, min_members: int | None = None, temperature: float = 1.0, classes=None):
        self.min_members = min_members
        self.temperature = temperature
        self.classes = classes

    def fit(self, X, y, clusters, n_clusters: int | None = None):
        """Fit per-(cluster, class) Gaussians on X (n, d), labels y (n,) and cluster ids (n,);
        returns self.
        """
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=object)
        clusters = np.asarray(clusters, dtype=np.int64)
        lab = labelled_mask(y)
        self.classes_ = np.array(
            sorted({str(v) for v in y[lab]}) if self.classes is None else list(self.classes),
            dtype=object,
        )
        K = int(n_clusters if n_clusters is not None else clusters.max() + 1)
        C, d = len(self.classes_), X.shape[1]
        mm = d if self.min_members is None else int(self.min_members)
        self.means_ = np.zeros((K, C, d))
        self.invcov_ = np.zeros((K, C, d, d))
        self.counts_ = np.zeros((K, C), dtype=np.int64)
        yi = np.full(len(y), -1)
        idx = {c: i for i, c in enumerate(self.classes_)}
        yi[lab] = [idx.get(str(v), -1) for v in y[lab]]
        for k in range(K):  # K x C small blocks, each vectorised over its members
            for c in range(C):
                m = (clusters == k) & (yi == c)
                n = int(m.sum())
                self.counts_[k, c] = n
                if n >= max(mm, 2):
                    Z = X[m]
                    self.means_[k, c] = Z.mean(axis=0)
                    self.invcov_[k, c] = pinv(np.cov(Z.T))
        self.valid_ = self.counts_ >= max(mm, 2)
        return self

    def distances(self, X, clusters) -> np.ndarray:
        """Squared Mahalanobis distances, (n, n_classes); inf where the class is unusable."""
        X = np.asarray(X, dtype=np.float64)
        clusters = np.asarray(clusters, dtype=np.int64)
        D = np.full((len(X), len(self.classes_)), np.inf)
        for k in range(self.valid_.shape[0]):
            rows = np.flatnonzero(clusters == k)
            if rows.size == 0:
                continue
            for c in np.flatnonzero(self.valid_[k]):
                diff = X[rows] - self.means_[k, c]
                D[rows, c] = np.abs(np.einsum("ni,ij,nj->n", diff, self.invcov_[k, c], diff))
        return D

    def predict_proba(self, X, clusters) -> np.ndarray:
        """Class probabilities (n, n_classes) from Mahalanobis distances within each row's
        cluster.
        """
        D = self.distances(X, clusters)
        z = -D / float(self.temperature)
        zmax = z.max(axis=1, keepdims=True)
        none = ~np.isfinite(zmax[:, 0])
        zmax[none] = 0.0
        e = np.exp(z - zmax)
        e[none] = 1.0  # no usable class in this cluster: uniform
        return e / e.sum(axis=1, keepdims=True)


class UmlcaxsClassifier(BaseEstimator, ClassifierMixin):
    """UMLCAXS reproduction: LogMinMax scaling -> GMM (K by BIC elbow) -> per-cluster Mahalanobis.

    Parameters
    ----------
    log_columns, minmax_columns : column indices transformed as in UMLCAXS.
    n_components : int, or "bic" to choose K by the BIC elbow over ``k_range``.
    min_members : minimum labelled members of a class in a cluster (default n_features).
    temperature : softmin temperature (1 = UMLCAXS).
    impute : fill NaN features with training medians (else NaN rows must not be passed).
    """

    def __init__(
        self,
        log_columns=(),
        minmax_columns=(),
        n_components="bic",
        k_range=tuple(range(1, 13)),
        min_members=None,
        temperature=1.0,
        impute=True,
        random_state=42,
    ):
        self.log_columns = log_columns
        self.minmax_columns = minmax_columns
        self.n_components = n_components
        self.k_range = k_range
        self.min_members = min_members
        self.temperature = temperature
        self.impute = impute
        self.random_state = random_state

    def _prep(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if self.impute:
            X = self.imputer_.transform(X)
        elif not np.isfinite(X).all():
            raise ValueError("features contain NaN; drop those rows or use impute=True")
        return self.scaler_.transform(X)

    def fit(self, X, y):
        """``X`` (n, d) features of all detections; ``y`` (n,) class or None (unlabelled)."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):  # small matrices: one BLAS thread is fastest
            return self._fit(X, y)

    def _fit(self, X, y):
        X = np.asarray(X, dtype=np.float64)
        self.imputer_ = MedianImputer().fit(X)
        Xi = self.imputer_.transform(X) if self.impute else X
        self.scaler_ = LogMinMaxScaler(self.log_columns, self.minmax_columns).fit(Xi)
        Z = self.scaler_.transform(Xi)
        if self.n_components == "bic":
            self.k_grid_ = np.asarray(self.k_range, dtype=np.int64)
            self.bic_ = bic_curve(Z, self.k_grid_, random_state=self.random_state)
            k = elbow(self.k_grid_, self.bic_)
        else:
            self.k_grid_, self.bic_ = np.array([], dtype=np.int64), np.array([])
            k = int(self.n_components)
        self.gmm_ = fit_gmm(Z, k, random_state=self.random_state)
        self.n_clusters_ = k
        cl = self.gmm_.predict(Z)
        self.mahal_ = MahalanobisClusterClassifier(self.min_members, self.temperature).fit(
            Z, y, cl, n_clusters=k
        )
        self.classes_ = self.mahal_.classes_
        return self

    def cluster_proba(self, X) -> np.ndarray:
        """GMM membership probabilities, (n, n_clusters)."""
        return self.gmm_.predict_proba(self._prep(X))

    def predict_cluster(self, X) -> np.ndarray:
        """Gaussian-mixture cluster of each row, (n_samples,) int."""
        return self.gmm_.predict(self._prep(X))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, (n_samples, n_classes); columns = ``classes_``."""
        Z = self._prep(X)
        self.mahal_.temperature = self.temperature
        return self.mahal_.predict_proba(Z, self.gmm_.predict(Z))

    def predict(self, X) -> np.ndarray:
        """Most probable class of each row, (n_samples,)."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    # ----------------------------------------------------------------- export
    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        """Fitted state as (arrays, JSON settings) for :mod:`serendip.io.modelfile`."""
        a = {
            "imputer_medians": self.imputer_.medians_,
            **self.scaler_.to_arrays("scaler_"),
            **gmm_to_arrays(self.gmm_),
        }
        a.update(
            {
                "mahal_means": self.mahal_.means_,
                "mahal_invcov": self.mahal_.invcov_,
                "mahal_counts": self.mahal_.counts_,
                "bic_k": self.k_grid_,
                "bic": self.bic_,
            }
        )
        settings = {
            "classes": [str(c) for c in self.classes_],
            "params": {
                k: (list(v) if isinstance(v, tuple | range) else v)
                for k, v in self.get_params().items()
            },
            "min_members_used": int(self.mahal_.min_members or self.gmm_.means_.shape[1]),
        }
        settings["params"]["log_columns"] = [int(i) for i in self.log_columns]
        settings["params"]["minmax_columns"] = [int(i) for i in self.minmax_columns]
        return a, settings

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], settings: dict) -> UmlcaxsClassifier:
        """Rebuild a classifier written by :meth:`to_arrays`."""
        p = dict(settings["params"])
        p["k_range"] = tuple(p.get("k_range", ()))
        obj = cls(**p)
        obj.imputer_ = MedianImputer()
        obj.imputer_.medians_ = a["imputer_medians"]
        obj.scaler_ = LogMinMaxScaler.from_arrays(a, "scaler_")
        obj.gmm_ = gmm_from_arrays(a)
        obj.n_clusters_ = len(obj.gmm_.weights_)
        obj.k_grid_, obj.bic_ = a["bic_k"], a["bic"]
        m = MahalanobisClusterClassifier(obj.min_members, obj.temperature)
        m.classes_ = np.array(settings["classes"], dtype=object)
        m.means_, m.invcov_, m.counts_ = a["mahal_means"], a["mahal_invcov"], a["mahal_counts"]
        m.valid_ = m.counts_ >= max(int(settings["min_members_used"]), 2)
        obj.mahal_ = m
        obj.classes_ = m.classes_
        return obj
