"""PyTorch pieces shared by the deep detectors: the dense network builder and the glue to the
one trainer, :mod:`serendip.features.training` (seeding, validation split, early stopping,
device, float64 inference, weights as arrays).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from serendip.features.training import (  # noqa: F401  (re-exported for the detectors)
    TrainSettings,
    device_of,
    load_state_arrays,
    predict_batches,
    seeded,
    split_validation,
    state_arrays,
)
from serendip.features.training import train as _train


def mlp(
    sizes: Sequence[int], bias: bool = True, final_activation: bool = False, activation=nn.ReLU
) -> nn.Sequential:
    """Linear layers ``sizes[0] -> ... -> sizes[-1]`` with activations between them.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first.
    bias : bool
        Give the linear layers bias terms.
    final_activation : bool
        Put an activation after the last layer too.
    activation : type of torch.nn.Module
        Activation class (ReLU by default).
    """
    layers: list[tuple[str, nn.Module]] = []
    for i in range(len(sizes) - 1):
        layers.append((f"linear{i}", nn.Linear(sizes[i], sizes[i + 1], bias=bias)))
        if i < len(sizes) - 2 or final_activation:
            layers.append((f"act{i}", activation()))
    return nn.Sequential(OrderedDict(layers))


def to_tensor(X: np.ndarray) -> torch.Tensor:
    """(n, d) array as a contiguous float32 tensor."""
    return torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32))


def train_rows(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor],
    X: np.ndarray,
    y: np.ndarray | None = None,
    *,
    max_epochs: int = 100,
    patience: int = 10,
    batch_size: int = 256,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    validation_fraction: float = 0.1,
    seed: int | None = 0,
    verbose: bool = False,
    description: str = "training",
    stratify: np.ndarray | None = None,
) -> dict:
    """Train ``model`` on the rows of a feature matrix with :func:`serendip.features.training.train`.

    Parameters
    ----------
    model : torch.nn.Module
    loss_fn : callable ``(xb (b, d) float32, yb (b,) or None) -> torch scalar``
        Mean loss of a batch; the tensors are on the training device.
    X : ndarray, shape (n, d)
        Features (scaled).
    y : ndarray, shape (n,), optional
        Integer targets passed to ``loss_fn`` with the rows.
    max_epochs, patience, batch_size, lr, weight_decay, validation_fraction, seed, verbose,
    description : the training recipe (see :class:`~serendip.features.training.TrainSettings`).
    stratify : ndarray, shape (n,), optional
        Class codes for a stratified validation split.

    Returns
    -------
    dict
        The trainer's history.
    """
    from serendip.features.training import select_device

    device = select_device(None)
    Xt = to_tensor(X).to(device)
    yt = None if y is None else torch.as_tensor(np.asarray(y)).to(device)
    tr, va = split_validation(len(X), validation_fraction, seed, stratify)

    def batch_loss(rows: np.ndarray, training: bool) -> torch.Tensor:
        idx = torch.as_tensor(rows, device=device)
        return loss_fn(Xt[idx], None if yt is None else yt[idx])

    settings = TrainSettings(
        max_epochs=max_epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        patience=patience,
        seed=seed,
        verbose=verbose,
        description=description,
        device=str(device),
    )
    return _train(model, batch_loss, tr, va, settings)
