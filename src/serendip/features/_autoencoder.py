"""Base class of the map/cube autoencoders: scikit-learn style, PyTorch CPU, saved without pickle.

Subclasses provide the network (``_build_net``) and the expected input shape; this class does
input checks, the seeded training with a validation split and early stopping
(:mod:`serendip.features.training`), ``transform`` / ``reconstruct`` /
``reconstruction_error`` in batches, and ``save`` / ``load`` through
:mod:`serendip.io.modelfile` (weights as safetensors, settings as JSON: input shape,
normalisation, training recipe, training history).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from serendip.errors import InputError, ModelFileError
from serendip.features.training import (
    TrainSettings,
    load_state_arrays,
    seeded,
    select_device,
    split_validation,
    state_arrays,
    train,
)


class BaseAutoencoder(TransformerMixin, BaseEstimator):
    """Autoencoder on normalised (values in [0, 1]) fixed-shape arrays; ``transform`` gives the latent.

    Subclasses set ``kind``, ``normalisation`` (a sentence stored with the model) and implement
    ``_build_net(input_shape)`` returning a module with ``encoder`` and ``decoder`` attributes.
    """

    kind: ClassVar[str] = "features.BaseAutoencoder"
    normalisation: ClassVar[str] = "per-file min-max scaled to [0, 1]"
    fixed_input_shape: ClassVar[tuple[int, ...] | None] = None

    def __init__(
        self,
        latent_dim: int = 12,
        epochs: int = 100,
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        l2_latent: float = 1e-4,
        val_fraction: float = 0.1,
        patience: int = 8,
        min_delta: float = 1e-3,
        seed: int = 0,
        verbose: bool = False,
    ):
        self.latent_dim = latent_dim
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.l2_latent = l2_latent
        self.val_fraction = val_fraction
        self.patience = patience
        self.min_delta = min_delta
        self.seed = seed
        self.verbose = verbose

    def __sklearn_tags__(self):
        """scikit-learn tags: the input is a stack of normalised maps or cubes, not a 2-D table.

        ``check_estimator`` feeds 2-D tables of unbounded values, which these models refuse on
        purpose (their input is ``represent.et_maps`` / ``etdt_cubes`` with ``normalize=True``,
        values in [0, 1], and the decoder ends in a sigmoid), so ``two_d_array`` is False and
        scikit-learn's generic checks are not run; ``clone``, ``get_params`` / ``set_params``,
        pipelines and ``NotFittedError`` before ``fit`` are tested in tests/features.
        """
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        return tags

    # -------------------------------------------------------------- network
    def _build_net(self, input_shape: tuple[int, ...]):
        raise NotImplementedError

    # --------------------------------------------------------------- checks
    def _check_X(self, X, fitting: bool = False) -> np.ndarray:
        """``X`` checked: a float32 array, or a SparseCubes kept sparse (dense per batch)."""
        from serendip.represent.sparse import SparseCubes

        sparse = isinstance(X, SparseCubes)
        if not sparse:
            X = np.asarray(X, dtype=np.float32)
        expected = (
            self.fixed_input_shape
            if fitting
            else getattr(self, "input_shape_", self.fixed_input_shape)
        )
        if X.ndim < 2 or X.shape[0] == 0:
            raise InputError(
                None,
                f"{type(self).__name__} needs an array (n_files, ...) with n_files >= 1; got {X.shape}",
            )
        if expected is not None and tuple(X.shape[1:]) != tuple(expected):
            raise InputError(
                None,
                f"{type(self).__name__} expects per-file shape {tuple(expected)}; got {X.shape[1:]}",
            )
        values = X.data if sparse else X
        if not np.isfinite(values).all():
            raise InputError(None, "input has non-finite values")
        lo = float(values.min()) if values.size else 0.0
        hi = float(values.max()) if values.size else 0.0
        if sparse and X.nnz < X.n_files * X.n_cells:  # cells not stored are 0
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise InputError(
                None,
                f"{type(self).__name__} expects normalised inputs in [0, 1] (represent with normalize=True); "
                f"got values in [{lo:.3g}, {hi:.3g}]",
            )
        return X

    def _check_fitted(self) -> None:
        """Raise :class:`sklearn.exceptions.NotFittedError` unless fitted or loaded."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "net_")

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Train on X (n_files, *input_shape) with values in [0, 1]; ``y`` is ignored."""
        import torch

        X = self._check_X(X, fitting=True)
        if X.shape[0] < 2:
            raise InputError(
                None, f"{type(self).__name__}.fit needs at least 2 files; got {X.shape[0]}"
            )
        self.input_shape_ = tuple(int(s) for s in X.shape[1:])
        with seeded(self.seed):
            self.net_ = self._build_net(self.input_shape_)
        device = select_device(None)
        # sparse inputs (SparseCubes) are made dense one batch at a time
        Xt = torch.from_numpy(X).to(device) if isinstance(X, np.ndarray) else None
        train_idx, val_idx = split_validation(len(X), self.val_fraction, self.seed)
        l2 = float(self.l2_latent)

        def batch_loss(rows: np.ndarray, training: bool):
            x = (
                Xt[torch.as_tensor(rows, device=device)]
                if Xt is not None
                else torch.from_numpy(X.select(rows).dense()).to(device)
            )
            z = self.net_.encoder(x)
            rec = self.net_.decoder(z)
            loss = torch.mean((rec - x) ** 2)
            if l2 > 0:
                loss = loss + l2 * torch.mean(torch.sum(z**2, dim=1))
            return loss

        settings = TrainSettings(
            max_epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            patience=self.patience,
            min_delta=self.min_delta,
            seed=self.seed,
            device=str(device),
            verbose=self.verbose,
            description=type(self).__name__,
        )
        self.history_ = train(self.net_, batch_loss, train_idx, val_idx, settings)
        self.n_train_ = int(len(train_idx))
        self.n_features_in_ = int(np.prod(self.input_shape_))
        return self

    # ------------------------------------------------------------ inference
    def _apply(self, X, fn, chunk: int = 4096) -> np.ndarray:
        import torch

        self._check_fitted()
        X = self._check_X(X)
        from serendip.represent.sparse import as_dense_batches

        self.net_.eval()
        outs = []
        with torch.no_grad():
            for _, _, rows in as_dense_batches(X, chunk):
                outs.append(fn(torch.from_numpy(rows)).numpy())
        return np.concatenate(outs, axis=0)

    def transform(self, X) -> np.ndarray:
        """Latent features, (n_files, latent_dim) float32."""
        self._check_fitted()
        return self._apply(X, self.net_.encoder)

    def reconstruct(self, X) -> np.ndarray:
        """Decoded inputs, (n_files, *input_shape_) float32 in [0, 1]."""
        self._check_fitted()
        return self._apply(X, lambda x: self.net_.decoder(self.net_.encoder(x)))

    def reconstruction_error(self, X) -> np.ndarray:
        """Mean squared reconstruction error per file, (n_files,) float64 (an anomaly score)."""
        self._check_fitted()
        from serendip.represent.sparse import as_dense_batches

        X = self._check_X(X)
        rec = self.reconstruct(X).reshape(len(X), -1)
        out = np.empty(len(X), dtype=np.float64)
        for a, b, rows in as_dense_batches(X, 4096):
            out[a:b] = np.mean((rec[a:b] - rows.reshape(b - a, -1)) ** 2, axis=1, dtype=np.float64)
        return out

    # ---------------------------------------------------------- persistence
    def save(
        self, path: str | Path, *, half: bool = False, extra: dict[str, Any] | None = None
    ) -> Path:
        """Save weights (float16 when ``half``, to ship small files) and JSON settings."""
        from serendip.io.modelfile import save_model

        self._check_fitted()
        settings = {
            "params": self.get_params(deep=False),
            "input_shape": list(self.input_shape_),
            "normalisation": self.normalisation,
            "recipe": {
                "optimiser": "Adam",
                "loss": "mean squared reconstruction error + l2_latent * mean squared latent norm",
                "validation": f"random {self.val_fraction:.0%} of files (seed {self.seed})",
                "early_stopping": f"patience {self.patience} epochs, relative min_delta {self.min_delta}",
            },
            "history": getattr(self, "history_", {}),
            "n_train": int(getattr(self, "n_train_", 0)),
            "weights_dtype": "float16" if half else "float32",
            "extra": extra or dict(getattr(self, "training_info_", {})),
        }
        return save_model(path, self.kind, state_arrays(self.net_, half=half), settings)

    @classmethod
    def load(cls, path: str | Path):
        """Load a model saved by :meth:`save`; malformed or tampered files raise ModelFileError."""
        from serendip.io.modelfile import load_model

        arrays, settings, _ = load_model(path, cls.kind)
        try:
            obj = cls(**settings["params"])
            shape = tuple(int(s) for s in settings["input_shape"])
            if cls.fixed_input_shape is not None and shape != cls.fixed_input_shape:
                raise ValueError(f"input shape {shape} is not {cls.fixed_input_shape}")
            obj.input_shape_ = shape
            obj.n_features_in_ = int(np.prod(shape))
            obj.history_ = settings.get("history", {})
            obj.n_train_ = int(settings.get("n_train", 0))
            obj.training_info_ = settings.get("extra", {})
            with seeded(0):
                obj.net_ = obj._build_net(shape)
        except Exception as exc:  # noqa: BLE001
            raise ModelFileError(path, f"settings do not describe a {cls.__name__}: {exc}") from exc
        load_state_arrays(obj.net_, arrays, path)
        return obj
