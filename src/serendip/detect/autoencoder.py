"""Reconstruction-error detectors: a dense autoencoder and a variational autoencoder.

Both work on the (optionally standardised) feature vector, train with Adam on a
seeded validation split with early stopping, and score a row by its mean squared
reconstruction error per feature (scaled units squared), higher = more anomalous.

The VAE's score is the mean over ``n_draws`` latent samples ``z = mu + sigma * eps_l``
rather than one random draw. The ``eps_l`` (n_draws, latent_dim) are drawn once
from ``random_state`` at fit time and stored with the model (common random
numbers): a row's score is a deterministic function of that row alone - it does
not depend on the batch it is scored in - and is identical after loading.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from serendip.detect import _torch as T
from serendip.detect._common import ScaledDetector
from serendip.errors import ModelFileError


class _DeepDetector(ScaledDetector):
    """Shared settings of the deep detectors (not registered as a model kind)."""

    kind: ClassVar[str] = "detect._Deep"

    def _train_kwargs(self) -> dict:
        return {
            "max_epochs": self.max_epochs,
            "patience": self.patience,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "validation_fraction": self.validation_fraction,
            "seed": self.random_state,
            "verbose": self.verbose,
        }


class _AENet(nn.Module):
    def __init__(self, n_features: int, hidden_sizes: Sequence[int], latent_dim: int):
        super().__init__()
        sizes = [n_features, *hidden_sizes, latent_dim]
        self.encoder = T.mlp(sizes)
        self.decoder = T.mlp(sizes[::-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class Autoencoder(_DeepDetector):
    """Dense autoencoder; score = mean squared reconstruction error per feature.

    Parameters
    ----------
    hidden_sizes : widths of the encoder's hidden layers (decoder mirrors them).
    latent_dim : bottleneck width.
    max_epochs, patience, batch_size, lr, weight_decay, validation_fraction :
        training settings (Adam, early stopping on the validation loss).
    scale : standardise features first (recommended).
    contamination : training fraction above ``threshold_``.
    random_state : seed of weights, split and batches.
    verbose : show a progress bar while training.
    """

    kind: ClassVar[str] = "detect.Autoencoder"

    def __init__(
        self,
        hidden_sizes: Sequence[int] = (64, 32),
        latent_dim: int = 8,
        max_epochs: int = 100,
        patience: int = 10,
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 1e-5,
        validation_fraction: float = 0.1,
        scale: bool = True,
        contamination: float = 0.01,
        random_state: int | None = 0,
        verbose: bool = False,
    ):
        self.hidden_sizes = hidden_sizes
        self.latent_dim = latent_dim
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.scale = scale
        self.contamination = contamination
        self.random_state = random_state
        self.verbose = verbose

    def _build(self) -> None:
        self.net_ = _AENet(self.n_features_in_, list(self.hidden_sizes), int(self.latent_dim))

    def _fit_scaled(self, Xs, y):
        with T.seeded(self.random_state):
            self._build()
            self.history_ = T.train_rows(
                self.net_,
                lambda xb, _yb: ((self.net_(xb) - xb) ** 2).mean(),
                Xs,
                description="autoencoder",
                **self._train_kwargs(),
            )

    def _score_scaled(self, Xs):
        return T.predict_batches(
            lambda xb: ((self.net_(xb) - xb) ** 2).mean(dim=1), Xs, modules=[self.net_]
        )

    def _model_state(self):
        return T.state_arrays(self.net_, "net"), {}

    def _set_model_state(self, arrays, state):
        self._build()
        T.load_state_arrays(self.net_, arrays, prefix="net")


class _VAENet(nn.Module):
    def __init__(self, n_features: int, hidden_sizes: Sequence[int], latent_dim: int):
        super().__init__()
        self.body = T.mlp([n_features, *hidden_sizes], final_activation=True)
        width = hidden_sizes[-1] if len(hidden_sizes) else n_features
        self.mu = nn.Linear(width, latent_dim)
        self.logvar = nn.Linear(width, latent_dim)
        self.decoder = T.mlp([latent_dim, *hidden_sizes[::-1], n_features])

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.mu(h), self.logvar(h).clamp(-20.0, 10.0)


class VAE(_DeepDetector):
    """Variational autoencoder; score = reconstruction error averaged over ``n_draws`` samples.

    Parameters
    ----------
    hidden_sizes, latent_dim : architecture (decoder mirrors the encoder).
    beta : weight of the KL term in the training loss (Gaussian likelihood, unit variance).
    n_draws : latent samples L averaged in the score (fixed, stored draws; see module doc).
    other parameters : as :class:`Autoencoder`.
    """

    kind: ClassVar[str] = "detect.VAE"

    def __init__(
        self,
        hidden_sizes: Sequence[int] = (64, 32),
        latent_dim: int = 8,
        beta: float = 1.0,
        n_draws: int = 16,
        max_epochs: int = 100,
        patience: int = 10,
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 1e-5,
        validation_fraction: float = 0.1,
        scale: bool = True,
        contamination: float = 0.01,
        random_state: int | None = 0,
        verbose: bool = False,
    ):
        self.hidden_sizes = hidden_sizes
        self.latent_dim = latent_dim
        self.beta = beta
        self.n_draws = n_draws
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.scale = scale
        self.contamination = contamination
        self.random_state = random_state
        self.verbose = verbose

    def _build(self) -> None:
        hidden = list(self.hidden_sizes)
        if not hidden:
            raise ValueError("VAE needs at least one hidden layer")
        self.net_ = _VAENet(self.n_features_in_, hidden, int(self.latent_dim))

    def _loss(self, xb: torch.Tensor, _yb) -> torch.Tensor:
        mu, logvar = self.net_.encode(xb)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        rec = ((self.net_.decoder(z) - xb) ** 2).sum(dim=1)
        kl = -0.5 * (1.0 + logvar - mu**2 - logvar.exp()).sum(dim=1)
        return (0.5 * rec + self.beta * kl).mean()

    def _fit_scaled(self, Xs, y):
        if int(self.n_draws) < 1:
            raise ValueError("n_draws must be >= 1")
        with T.seeded(self.random_state):
            self._build()
            self.history_ = T.train_rows(
                self.net_, self._loss, Xs, description="VAE", **self._train_kwargs()
            )
        gen = torch.Generator().manual_seed(
            0 if self.random_state is None else int(self.random_state) + 7919
        )
        self.draws_ = torch.randn(int(self.n_draws), int(self.latent_dim), generator=gen)

    def score_draws(self, X) -> np.ndarray:
        """Reconstruction error of each row under each stored latent draw, (n_samples, n_draws)."""
        self._check_fitted()
        Xs = self.transform_features(self._check_X(X))
        return self._draw_errors(Xs)

    def _draw_errors(self, Xs: np.ndarray) -> np.ndarray:
        def fn(xb: torch.Tensor) -> torch.Tensor:
            mu, logvar = self.net_.encode(xb)
            z = (
                mu[:, None, :]
                + torch.exp(0.5 * logvar)[:, None, :] * self.draws_.to(mu.dtype)[None, :, :]
            )  # (b, L, k)
            rec = self.net_.decoder(z)  # (b, L, d)
            return ((rec - xb[:, None, :]) ** 2).mean(dim=2)

        return T.predict_batches(
            fn, Xs, batch=max(256, 65536 // max(1, int(self.n_draws))), modules=[self.net_]
        )

    def _score_scaled(self, Xs):
        return self._draw_errors(Xs).mean(axis=1)

    def _model_state(self):
        arrays = T.state_arrays(self.net_, "net")
        arrays["draws"] = self.draws_.numpy().copy()
        return arrays, {}

    def _set_model_state(self, arrays, state):
        self._build()
        T.load_state_arrays(self.net_, arrays, prefix="net")
        draws = arrays.get("draws")
        if draws is None or draws.shape != (int(self.n_draws), int(self.latent_dim)):
            raise ModelFileError(None, "VAE latent draws missing or of the wrong shape")
        self.draws_ = torch.from_numpy(np.array(draws, dtype=np.float32))
