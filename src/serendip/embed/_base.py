"""Shared machinery of the embedders: input checks, optional scaling, model files.

An embedder maps a feature matrix ``X`` (n_files, n_features) float to a 2-D (or
``n_components``-D) embedding (n_files, n_components) float64 with no physical unit.
A fitted embedder keeps its (scaled) training features and its embedding; that is all
that is needed to place new files into the embedding later, and it is what
:meth:`BaseEmbedder.save` writes (safetensors + JSON, never pickle).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from serendip.errors import InputError, ModelFileError


class BaseEmbedder(TransformerMixin, BaseEstimator):
    """Common base: ``fit`` / ``fit_transform`` / ``transform`` / ``save`` / ``load``.

    Subclasses implement ``_fit_embed(Xs) -> embedding`` and ``_transform(Xs) -> coords``
    on the scaled features ``Xs`` and ``_restore()`` (rebuild transient state after load).
    """

    kind: ClassVar[str] = "embed.Base"
    _registry: ClassVar[dict[str, type[BaseEmbedder]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        BaseEmbedder._registry[cls.kind] = cls

    # ------------------------------------------------------------------ API
    def fit(self, X, y=None):
        """Embed the training features ``X`` (n_files, n_features); sets ``embedding_``."""
        X = check_features(X)
        if X.shape[0] < 5:
            raise InputError(None, f"need at least 5 files to build an embedding, got {X.shape[0]}")
        self.n_features_in_ = X.shape[1]
        if getattr(self, "standardize", False):
            self.mean_ = X.mean(axis=0)
            scale = X.std(axis=0)
            self.scale_ = np.where(scale > 0, scale, 1.0)
        else:
            self.mean_ = np.zeros(X.shape[1])
            self.scale_ = np.ones(X.shape[1])
        self.train_features_ = self._scale(X)
        self.embedding_ = np.asarray(self._fit_embed(self.train_features_), dtype=np.float64)
        return self

    def fit_transform(self, X, y=None, **fit_params) -> np.ndarray:
        """Fit and return the embedding of the training files, (n_files, n_components)."""
        return self.fit(X).embedding_.copy()

    def transform(self, X) -> np.ndarray:
        """Place new files into the existing embedding (it is not recomputed).

        ``X`` (n_new, n_features) -> (n_new, n_components) float64.
        """
        self._check_fitted()
        X = check_features(X)
        if X.shape[1] != self.n_features_in_:
            raise InputError(None, f"expected {self.n_features_in_} features, got {X.shape[1]}")
        return np.asarray(self._transform(self._scale(X)), dtype=np.float64)

    # ------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write the fitted embedder (training features, embedding, scaler, settings)."""
        from serendip.io.modelfile import save_model

        self._check_fitted()
        arrays = {
            "train_features": self.train_features_,
            "embedding": self.embedding_,
            "mean": self.mean_,
            "scale": self.scale_,
        }
        settings = {
            "params": self.get_params(deep=False),
            "n_features_in": int(self.n_features_in_),
        }
        return save_model(path, self.kind, arrays, settings)

    @classmethod
    def load(cls, path: str | Path) -> BaseEmbedder:
        """Load an embedder saved by :meth:`save` (any kind when called on the base class)."""
        from serendip.io.modelfile import load_model

        expected = None if cls is BaseEmbedder else cls.kind
        arrays, settings, kind = load_model(path, expected)
        klass = BaseEmbedder._registry.get(kind)
        if klass is None:
            raise ModelFileError(path, f"unknown embedder kind {kind!r}")
        try:
            obj = klass(**settings["params"])
            obj.n_features_in_ = int(settings["n_features_in"])
            obj.train_features_ = np.asarray(arrays["train_features"])
            obj.embedding_ = np.asarray(arrays["embedding"], dtype=np.float64)
            obj.mean_ = np.asarray(arrays["mean"], dtype=np.float64)
            obj.scale_ = np.asarray(arrays["scale"], dtype=np.float64)
            if obj.train_features_.shape != (obj.embedding_.shape[0], obj.n_features_in_):
                raise ValueError("training features and embedding do not match in shape")
            obj._restore()
        except ModelFileError:
            raise
        except Exception as exc:  # noqa: BLE001 - any inconsistency is a bad model file
            raise ModelFileError(path, f"contents do not fit a {kind} embedder: {exc}") from exc
        return obj

    # -------------------------------------------------------------- helpers
    def _scale(self, X: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(((X - self.mean_) / self.scale_).astype(np.float32))

    def _check_fitted(self) -> None:
        if not hasattr(self, "embedding_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit() first")

    def _fit_embed(self, Xs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _transform(self, Xs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _restore(self) -> None:
        """Rebuild whatever is needed for ``transform`` from the loaded arrays."""


def check_features(X, source: str | Path | None = None) -> np.ndarray:
    """``X`` as a finite 2-D float64 array, or :class:`InputError` naming the problem."""
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise InputError(
            source, f"features must be a 2-D array (n_files, n_features); got shape {X.shape}"
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(source, f"empty feature matrix, shape {X.shape}")
    if not np.all(np.isfinite(X)):
        row, col = np.argwhere(~np.isfinite(X))[0]
        raise InputError(
            source, f"non-finite feature value at row {row}, column {col}; impute or drop first"
        )
    return X
