"""Feature transforms with array-only state (exportable without pickle).

* :class:`MedianImputer`: NaN -> training median per column;
* :class:`LogMinMaxScaler`: the UMLCAXS transform - for "log" columns
  ``log(x + floor)`` with ``floor`` = (smallest non-zero training value) / 10, then
  min-max scaling to [0, 1]; "minmax" columns are only min-max scaled; other columns
  pass through unchanged;
* :class:`Standardizer`: (x - mean) / std.
All take and return (n_samples, n_features) float64 arrays.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class MedianImputer(BaseEstimator, TransformerMixin):
    """Replace NaN by the column median of the training data (0 for all-NaN columns)."""

    def fit(self, X, y=None):
        """Learn each column's median over finite values of X (n, d); returns self."""
        X = np.asarray(X, dtype=np.float64)
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                med = np.nanmedian(X, axis=0)
        self.medians_ = np.where(np.isfinite(med), med, 0.0)
        return self

    def transform(self, X):
        """X (n, d) with non-finite values replaced by the column medians (a copy)."""
        X = np.array(X, dtype=np.float64, copy=True)
        bad = ~np.isfinite(X)
        X[bad] = np.broadcast_to(self.medians_, X.shape)[bad]
        return X


class LogMinMaxScaler(BaseEstimator, TransformerMixin):
    """UMLCAXS scaling. ``log_columns`` / ``minmax_columns``: column indices."""

    def __init__(self, log_columns=(), minmax_columns=()):
        self.log_columns = log_columns
        self.minmax_columns = minmax_columns

    def _mode(self, d: int) -> np.ndarray:
        mode = np.zeros(d, dtype=np.int64)
        mode[list(self.minmax_columns)] = 1
        mode[list(self.log_columns)] = 2
        return mode

    def _log(self, X: np.ndarray) -> np.ndarray:
        X = X.copy()
        for j in np.flatnonzero(self.mode_ == 2):
            with np.errstate(invalid="ignore", divide="ignore"):
                v = np.log(X[:, j] + self.floor_[j])
            v[~np.isfinite(v)] = np.nan
            X[:, j] = v
        return X

    def fit(self, X, y=None):
        """Learn the per-column log flag, floor and min/max of X (n, d); returns self."""
        X = np.asarray(X, dtype=np.float64)
        d = X.shape[1]
        self.mode_ = self._mode(d)
        self.floor_ = np.zeros(d)
        for j in np.flatnonzero(self.mode_ == 2):
            col = X[:, j]
            nz = col[np.isfinite(col) & (col != 0)]
            self.floor_[j] = (np.min(np.abs(nz)) / 10.0) if nz.size else 1e-10
        L = self._log(X)
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                self.min_ = np.nan_to_num(np.nanmin(L, axis=0), nan=0.0)
                self.max_ = np.nan_to_num(np.nanmax(L, axis=0), nan=1.0)
        return self

    def transform(self, X):
        """X (n, d) log-scaled where chosen, then min-max scaled to about [0, 1]."""
        X = np.asarray(X, dtype=np.float64)
        L = self._log(X)
        scale = np.where(self.max_ > self.min_, self.max_ - self.min_, 1.0)
        S = (L - self.min_) / scale
        keep = self.mode_ == 0
        S[:, keep] = X[:, keep]
        return S

    def to_arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """Fitted state as arrays with keys ``prefix`` + name."""
        return {
            prefix + "mode": self.mode_,
            prefix + "floor": self.floor_,
            prefix + "min": self.min_,
            prefix + "max": self.max_,
        }

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], prefix: str = "") -> LogMinMaxScaler:
        """Rebuild from :meth:`to_arrays`."""
        mode = np.asarray(a[prefix + "mode"], dtype=np.int64)
        obj = cls(
            log_columns=tuple(np.flatnonzero(mode == 2)),
            minmax_columns=tuple(np.flatnonzero(mode == 1)),
        )
        obj.mode_, obj.floor_, obj.min_, obj.max_ = (
            mode,
            a[prefix + "floor"],
            a[prefix + "min"],
            a[prefix + "max"],
        )
        return obj


class Standardizer(BaseEstimator, TransformerMixin):
    """(x - mean) / std per column (std 0 -> 1); NaN must be imputed first."""

    def fit(self, X, y=None):
        """Learn column means and standard deviations of X (n, d); returns self."""
        X = np.asarray(X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)
        sd = X.std(axis=0)
        self.scale_ = np.where(sd > 0, sd, 1.0)
        return self

    def transform(self, X):
        """(X - mean) / scale, (n, d) float64."""
        return (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_
