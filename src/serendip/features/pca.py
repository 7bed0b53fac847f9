"""``PCAFeatures``: principal components of flattened maps or cubes, saved without pickle.

The reference pipeline (Dillmann et al. 2024) reduces raw-count E-t maps to 15 and raw E-t-dt
cubes to 22 principal components ("2D-PCA", "3D-PCA"). This class does the same, exactly as
``sklearn.decomposition.PCA(svd_solver="full")`` (same components, same sign convention), but

* fits from the covariance matrix accumulated in chunks of rows, so 100,000 cubes of 6,144
  bins never need one float64 copy of the whole table (memory O(d^2), d = bins per file);
* computes only the leading ``n_components`` eigenvectors (``scipy.linalg.eigh`` subset);
* saves ``mean_``, ``components_`` and the variances with :mod:`serendip.io.modelfile`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from serendip.errors import InputError, ModelFileError

KIND = "features.PCAFeatures"
#: bins per file from which the leading eigenvectors are found by Lanczos (eigsh) instead of eigh
_EIGSH_MIN_DIM = 2000
#: chunks with fewer non-zero bins than this fraction are accumulated as sparse matrices
_SPARSE_FRACTION = 0.05


def _as_rows(X, what: str = "X") -> np.ndarray:
    """(n, ...) array -> (n, d) view/copy, checking finiteness and non-emptiness."""
    X = np.asarray(X)
    if X.ndim < 2:
        raise InputError(
            None, f"{what} must have shape (n_files, ...) with at least 2 axes; got {X.shape}"
        )
    if X.shape[0] == 0:
        raise InputError(None, f"{what} has no rows (0 files)")
    X = X.reshape(X.shape[0], -1)
    if not np.isfinite(X).all():
        bad = int(np.argwhere(~np.isfinite(X))[0, 0])
        raise InputError(None, f"{what} has non-finite values (NaN or inf; first in row {bad})")
    return X


class PCAFeatures(TransformerMixin, BaseEstimator):
    """Principal components of (n_files, ...) arrays (flattened per file).

    Parameters
    ----------
    n_components : int
        Number of components kept (reference: 15 for E-t maps, 22 for E-t-dt cubes).
    chunk_rows : int
        Rows processed at once while fitting and transforming (bounds memory).

    Attributes (after ``fit``)
    --------------------------
    mean_ : (d,) float64, per-bin mean of the training rows.
    components_ : (n_components, d) float64, unit principal axes, sorted by variance,
        sign-fixed like scikit-learn (largest-magnitude loading positive).
    explained_variance_ : (n_components,) float64, variance along each axis (ddof=1).
    explained_variance_ratio_ : (n_components,) float64, fraction of the total variance.
    input_shape_ : tuple, per-file shape seen in ``fit`` (e.g. (24, 16)).
    """

    def __init__(self, n_components: int = 15, chunk_rows: int = 8192):
        self.n_components = n_components
        self.chunk_rows = chunk_rows

    # ----------------------------------------------------------------- fit
    def fit(self, X, y=None):
        """Fit on X of shape (n_files, ...) (any per-file shape; flattened); ``y`` is ignored.

        ``X`` may be a :class:`~serendip.represent.sparse.SparseCubes`: it is made dense
        one chunk of ``chunk_rows`` files at a time.
        """
        from serendip.represent.sparse import SparseCubes

        if isinstance(X, SparseCubes):
            self._fit_chunks(
                lambda a, b: X.dense(a, b).reshape(b - a, -1),
                X.n_files,
                X.cube_shape,
                max(1, int(self.chunk_rows)),
            )
            return self
        rows, shape = self._validated_rows(X, reset=True)
        step = max(1, int(self.chunk_rows))
        self._fit_chunks(lambda a, b: rows[a:b], rows.shape[0], shape, step)
        return self

    def _validated_rows(self, X, reset: bool) -> tuple[np.ndarray, tuple[int, ...]]:
        """(n, d) rows of X and the per-file shape, validated like scikit-learn's estimators.

        A 2-D table goes through :func:`sklearn.utils.validation.validate_data` (sets or
        checks ``n_features_in_`` / ``feature_names_in_``); maps and cubes (n, ...) are
        checked with ``check_array(allow_nd=True)``. Non-finite values raise InputError.
        """
        from sklearn.utils.validation import check_array, validate_data

        try:
            if getattr(X, "ndim", 2) == 2:
                arr = validate_data(
                    self, X, reset=reset, dtype=(np.float64, np.float32), ensure_all_finite=False
                )
            else:
                arr = check_array(
                    X, allow_nd=True, dtype=(np.float64, np.float32), ensure_all_finite=False
                )
        except ValueError as exc:
            raise InputError(None, str(exc)) from exc
        shape = tuple(int(s) for s in arr.shape[1:])
        if not reset and shape != self.input_shape_ and int(np.prod(shape)) != self.n_features_in_:
            raise InputError(
                None, f"PCA was fitted on per-file shape {self.input_shape_}; got {shape}"
            )
        return _as_rows(arr), shape

    def fit_chunks(
        self, get_chunk, n_rows: int, input_shape: tuple[int, ...], chunk_rows: int | None = None
    ):
        """Fit without holding all rows: ``get_chunk(start, stop)`` returns rows start:stop.

        Each chunk is an array (stop - start, *input_shape); it is requested twice (one pass
        for the mean, one for the covariance), so it must be deterministic. Used for 100,000
        E-t-dt cubes (2.5 GB as float32) computed chunk by chunk from the events.
        """

        def rows(a: int, b: int) -> np.ndarray:
            return _as_rows(np.asarray(get_chunk(a, b)), "chunk")

        return self._fit_chunks(
            rows,
            int(n_rows),
            tuple(int(s) for s in input_shape),
            int(chunk_rows or self.chunk_rows),
        )

    def _fit_chunks(self, rows, n: int, input_shape: tuple[int, ...], step: int):
        d = int(np.prod(input_shape))
        k = int(self.n_components)
        if n < 1:
            raise InputError(None, "no rows (0 files) to fit PCA on")
        if not 1 <= k <= min(n, d):
            raise InputError(
                None, f"n_components={k} must be between 1 and min(n_files, n_bins)={min(n, d)}"
            )
        step = max(1, step)
        mean = np.zeros(d, dtype=np.float64)
        for a in range(0, n, step):
            mean += rows(a, min(a + step, n)).sum(axis=0, dtype=np.float64)
        mean /= n
        if n * d <= 4_000_000:
            # small problem: exact SVD of the centred data, as scikit-learn's "full" solver
            Xc = (
                np.concatenate(
                    [rows(a, min(a + step, n)).astype(np.float64) for a in range(0, n, step)]
                )
                - mean
            )
            _, s, vt = np.linalg.svd(Xc, full_matrices=False)
            var_all = s**2 / max(n - 1, 1)
            comps = vt[:k]
            var = var_all[:k]
            total = var_all.sum()
        else:
            cov = np.zeros((d, d), dtype=np.float64)
            sparse_sum = None
            for a in range(0, n, step):
                r = rows(a, min(a + step, n))
                if sparse_sum is not None or (
                    a == 0 and np.count_nonzero(r) < _SPARSE_FRACTION * r.size
                ):
                    # maps / cubes of faint sources are mostly empty bins: sum x x^T sparsely
                    from scipy import sparse

                    sm = sparse.csr_matrix(r.astype(np.float64))
                    prod = (sm.T @ sm).tocsr()
                    sparse_sum = prod if sparse_sum is None else sparse_sum + prod
                else:
                    c = r.astype(np.float64) - mean
                    cov += c.T @ c
            if sparse_sum is not None:
                cov = sparse_sum.toarray() - n * np.outer(mean, mean)
            cov /= max(n - 1, 1)
            total = float(np.trace(cov))
            if d >= _EIGSH_MIN_DIM:
                from scipy.sparse.linalg import eigsh

                w, v = eigsh(cov, k=k, which="LA", v0=np.full(d, 1.0 / np.sqrt(d)), tol=0)
            else:
                from scipy.linalg import eigh

                w, v = eigh(cov, subset_by_index=[d - k, d - 1])
            order = np.argsort(w)[::-1]
            var = np.clip(w[order], 0.0, None)
            comps = v[:, order].T
        # scikit-learn's sign convention (svd_flip with u_based_decision=False)
        idx = np.argmax(np.abs(comps), axis=1)
        signs = np.sign(comps[np.arange(k), idx])
        signs[signs == 0] = 1.0
        self.components_ = comps * signs[:, None]
        self.mean_ = mean
        self.explained_variance_ = np.asarray(var, dtype=np.float64)
        self.explained_variance_ratio_ = (
            self.explained_variance_ / total if total > 0 else np.zeros(k)
        )
        self.input_shape_ = input_shape
        self.n_features_in_ = d
        return self

    # ----------------------------------------------------------- transform
    def transform(self, X) -> np.ndarray:
        """Project X (n_files, *input_shape_) onto the components -> (n_files, n_components) float64."""
        from serendip.represent.sparse import SparseCubes

        self._check_fitted()
        if isinstance(X, SparseCubes):  # dense one chunk at a time
            out = np.empty((len(X), self.components_.shape[0]), dtype=np.float64)
            for a, b, rows in X.batches(max(1, int(self.chunk_rows))):
                out[a:b] = self.transform(rows)
            return out
        rows, _ = self._validated_rows(X, reset=False)
        out = np.empty((rows.shape[0], self.components_.shape[0]), dtype=np.float64)
        step = max(1, int(self.chunk_rows))
        for a in range(0, rows.shape[0], step):
            out[a : a + step] = (
                rows[a : a + step].astype(np.float64) - self.mean_
            ) @ self.components_.T
        return out

    def inverse_transform(self, Z) -> np.ndarray:
        """Back-projection of (n, n_components) scores to (n, *input_shape_) float64."""
        self._check_fitted()
        Z = np.asarray(Z, dtype=np.float64)
        return (Z @ self.components_ + self.mean_).reshape((Z.shape[0], *self.input_shape_))

    def _check_fitted(self) -> None:
        """Raise :class:`sklearn.exceptions.NotFittedError` unless fitted or loaded."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "components_")

    # --------------------------------------------------------- persistence
    def save(self, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
        """Write the fitted PCA (float64 arrays + JSON settings) to a safetensors file."""
        from serendip.io.modelfile import save_model

        self._check_fitted()
        settings = {
            "params": self.get_params(deep=False),
            "input_shape": list(self.input_shape_),
            "n_features_in": int(self.n_features_in_),
            "extra": extra or {},
        }
        arrays = {
            "mean": self.mean_,
            "components": self.components_,
            "explained_variance": self.explained_variance_,
            "explained_variance_ratio": self.explained_variance_ratio_,
        }
        return save_model(path, KIND, arrays, settings)

    @classmethod
    def load(cls, path: str | Path) -> PCAFeatures:
        """Load a PCA written by :meth:`save`; malformed files raise ModelFileError."""
        from serendip.io.modelfile import load_model

        arrays, settings, _ = load_model(path, KIND)
        try:
            obj = cls(**settings["params"])
            obj.mean_ = np.asarray(arrays["mean"], dtype=np.float64)
            obj.components_ = np.asarray(arrays["components"], dtype=np.float64)
            obj.explained_variance_ = np.asarray(arrays["explained_variance"], dtype=np.float64)
            obj.explained_variance_ratio_ = np.asarray(
                arrays["explained_variance_ratio"], dtype=np.float64
            )
            obj.input_shape_ = tuple(int(s) for s in settings["input_shape"])
            obj.n_features_in_ = int(settings["n_features_in"])
            obj.training_info_ = dict(settings.get("extra", {}))
            d = int(np.prod(obj.input_shape_))
            k = int(obj.n_components)
            if (
                obj.mean_.shape != (d,)
                or obj.components_.shape != (k, d)
                or obj.explained_variance_.shape != (k,)
            ):
                raise ValueError(
                    f"array shapes mean {obj.mean_.shape}, components {obj.components_.shape} "
                    f"do not match input shape {obj.input_shape_} and n_components {k}"
                )
            if not (np.isfinite(obj.mean_).all() and np.isfinite(obj.components_).all()):
                raise ValueError("non-finite weights")
        except ModelFileError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ModelFileError(path, f"contents do not fit a PCAFeatures model: {exc}") from exc
        return obj
