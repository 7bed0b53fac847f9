"""PyTorch plumbing shared by the deep detectors: networks, seeded training, weights I/O.

Training is seeded without touching the global RNG (:func:`seeded`), runs on the
CPU, holds out a validation split, stops early when the validation loss has not
improved for ``patience`` epochs and restores the best weights. Weights are saved
as plain arrays (``state_dict``) with the architecture rebuilt from the settings.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from serendip.errors import ModelFileError


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Run the block with torch's CPU RNG seeded, restoring the global state after."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0 if seed is None else int(seed))
        yield


def mlp(
    sizes: Sequence[int], bias: bool = True, final_activation: bool = False, activation=nn.ReLU
) -> nn.Sequential:
    """Linear layers ``sizes[0] -> ... -> sizes[-1]`` with activations between them."""
    layers: list[tuple[str, nn.Module]] = []
    for i in range(len(sizes) - 1):
        layers.append((f"linear{i}", nn.Linear(sizes[i], sizes[i + 1], bias=bias)))
        if i < len(sizes) - 2 or final_activation:
            layers.append((f"act{i}", activation()))
    return nn.Sequential(OrderedDict(layers))


def to_tensor(X: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32))


def split_validation(n: int, fraction: float, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train_rows, val_rows); tiny sets validate on the training rows."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    n_val = int(round(fraction * n))
    if n_val < 1 or n - n_val < 2:
        return np.sort(order), np.sort(order)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def train(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor],
    X: np.ndarray,
    y: np.ndarray | None = None,
    *,
    params: Sequence[torch.nn.Parameter] | None = None,
    max_epochs: int = 100,
    patience: int = 10,
    batch_size: int = 256,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    validation_fraction: float = 0.1,
    seed: int | None = 0,
    verbose: bool = False,
    description: str = "training",
) -> dict[str, list[float]]:
    """Minimise ``loss_fn(xb, yb)`` (mean loss of a batch) with Adam and early stopping.

    Returns the history ``{"train": [...], "val": [...]}``; entry 0 is the loss of
    the initial weights (before any update), entry k the loss after epoch k. The
    model ends with the weights of the best validation epoch.
    """
    rows_tr, rows_va = split_validation(len(X), validation_fraction, seed)
    Xt = to_tensor(X)
    yt = None if y is None else torch.as_tensor(np.asarray(y))
    opt = torch.optim.Adam(
        list(params) if params is not None else model.parameters(), lr=lr, weight_decay=weight_decay
    )
    rng = np.random.default_rng(None if seed is None else seed + 1)

    def evaluate(rows: np.ndarray) -> float:
        model.eval()
        total = 0.0
        with torch.no_grad():
            for s in range(0, len(rows), 8192):
                idx = torch.as_tensor(rows[s : s + 8192])
                total += float(loss_fn(Xt[idx], None if yt is None else yt[idx])) * len(idx)
        return total / len(rows)

    history = {"train": [evaluate(rows_tr)], "val": [evaluate(rows_va)]}
    best, best_state, waited = history["val"][0], _copy_state(model), 0
    bar = _progress(verbose, description, max_epochs)
    try:
        for _epoch in range(max_epochs):
            model.train()
            order = rows_tr[rng.permutation(len(rows_tr))]
            total = 0.0
            for s in range(0, len(order), batch_size):
                idx = torch.as_tensor(order[s : s + batch_size])
                loss = loss_fn(Xt[idx], None if yt is None else yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(idx)
            history["train"].append(total / len(order))
            history["val"].append(evaluate(rows_va))
            if bar is not None:
                bar[0].update(
                    bar[1], advance=1, description=f"{description} val={history['val'][-1]:.4g}"
                )
            if history["val"][-1] < best - 1e-7 * abs(best):
                best, best_state, waited = history["val"][-1], _copy_state(model), 0
            else:
                waited += 1
                if waited >= patience:
                    break
    finally:
        if bar is not None:
            bar[0].stop()
    model.load_state_dict(best_state)
    model.eval()
    return history


def _copy_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _progress(verbose: bool, description: str, total: int):
    if not verbose:
        return None
    from serendip.progress import progress_bar

    prog = progress_bar()
    task = prog.add_task(description, total=total)
    prog.start()
    return prog, task


def predict_batches(
    fn: Callable[[torch.Tensor], torch.Tensor], X: np.ndarray, batch: int = 8192
) -> np.ndarray:
    """Apply ``fn`` (no grad) to X in batches; returns float64 numpy."""
    Xt = to_tensor(X)
    out = []
    with torch.no_grad():
        for s in range(0, len(Xt), batch):
            out.append(fn(Xt[s : s + batch]).double().numpy())
    return np.concatenate(out, axis=0)


def state_arrays(module: nn.Module, prefix: str) -> dict[str, np.ndarray]:
    """``state_dict`` of ``module`` as numpy arrays with keys ``prefix/name``."""
    return {
        f"{prefix}/{k}": v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()
    }


def load_state_arrays(module: nn.Module, arrays: dict[str, np.ndarray], prefix: str) -> None:
    """Load weights written by :func:`state_arrays`; shape mismatches raise ModelFileError."""
    start = prefix + "/"
    sd = {
        k[len(start) :]: torch.from_numpy(np.array(v))
        for k, v in arrays.items()
        if k.startswith(start)
    }
    try:
        module.load_state_dict(sd, strict=True)
    except RuntimeError as exc:
        raise ModelFileError(None, f"network weights do not fit the architecture: {exc}") from exc
    module.eval()
