"""Training helpers shared by the PyTorch encoders: seeding, splits, early stopping, I/O.

Every encoder trains the same way (the "recipe" stored with the model):

* a seeded random validation split of the files (``val_fraction``);
* Adam (``lr``, ``weight_decay``) on shuffled mini-batches, shuffling from a seeded
  ``torch.Generator`` (the global torch RNG is left untouched);
* early stopping on the validation loss: training stops when it has not improved by
  more than ``min_delta`` (relative) for ``patience`` epochs, and the weights of the best
  epoch are restored;
* deterministic given ``seed`` on a fixed number of torch threads (CPU).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from serendip.errors import ModelFileError


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block with torch's global RNG seeded, restoring the caller's RNG state afterwards."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        yield


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split of ``n`` rows into (train, validation) index arrays (sorted)."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_val = int(round(val_fraction * n)) if val_fraction > 0 else 0
    if val_fraction > 0 and n >= 4:
        n_val = min(max(n_val, 1), n - 2)
    elif n < 4:
        n_val = 0
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def _batches(idx: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Consecutive batches; a trailing batch of one row is merged (BatchNorm needs >= 2)."""
    out = [idx[a : a + batch_size] for a in range(0, len(idx), batch_size)]
    if len(out) > 1 and len(out[-1]) == 1:
        out[-2] = np.concatenate([out[-2], out.pop()])
    return out


def fit_with_early_stopping(
    net,
    batch_loss: Callable[[np.ndarray, bool], Any],
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    patience: int,
    min_delta: float,
    seed: int,
    verbose: bool = False,
    desc: str = "training",
) -> dict[str, Any]:
    """Train ``net`` with Adam and early stopping; returns the history dict.

    ``batch_loss(rows, training)`` returns the mean loss (torch scalar) of the given rows;
    it is called in train mode with gradients and in eval mode under ``no_grad`` for
    validation. History keys: ``train_loss``, ``val_loss`` (per epoch), ``best_epoch``
    (0-based), ``epochs_run``, ``stopped_early``.
    """
    import torch

    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    hist: dict[str, Any] = {
        "train_loss": [],
        "val_loss": [],
        "best_epoch": -1,
        "epochs_run": 0,
        "stopped_early": False,
    }
    best = np.inf
    best_state = None
    since_best = 0
    progress = _progress(verbose)
    with progress if progress is not None else contextlib.nullcontext():
        task = progress.add_task(desc, total=epochs) if progress is not None else None
        for epoch in range(int(epochs)):
            net.train()
            order = train_idx[torch.randperm(len(train_idx), generator=gen).numpy()]
            tot, cnt = 0.0, 0
            for rows in _batches(order, batch_size):
                opt.zero_grad(set_to_none=True)
                loss = batch_loss(rows, True)
                loss.backward()
                opt.step()
                tot += float(loss.detach()) * len(rows)
                cnt += len(rows)
            hist["train_loss"].append(tot / max(cnt, 1))
            if len(val_idx):
                net.eval()
                vt, vc = 0.0, 0
                with torch.no_grad():
                    for rows in _batches(val_idx, max(batch_size, 1024)):
                        vt += float(batch_loss(rows, False)) * len(rows)
                        vc += len(rows)
                val = vt / vc
            else:
                val = hist["train_loss"][-1]
            hist["val_loss"].append(val)
            hist["epochs_run"] = epoch + 1
            if task is not None:
                progress.update(task, advance=1, description=f"{desc} (val loss {val:.4g})")
            if val < best * (1.0 - min_delta) or best_state is None:
                best = val
                best_state = copy.deepcopy(net.state_dict())
                hist["best_epoch"] = epoch
                since_best = 0
            else:
                since_best += 1
                if len(val_idx) and since_best >= patience:
                    hist["stopped_early"] = True
                    break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return hist


def _progress(verbose: bool):
    if not verbose:
        return None
    from serendip.progress import progress_bar

    return progress_bar()


def state_arrays(net, half: bool = False) -> dict[str, np.ndarray]:
    """The module's state dict as numpy arrays (floating tensors as float16 when ``half``)."""
    out = {}
    for k, v in net.state_dict().items():
        a = v.detach().cpu().numpy()
        if half and a.dtype == np.float32:
            a = a.astype(np.float16)
        out[k] = a
    return out


def load_state_arrays(net, arrays: dict[str, np.ndarray], path: str | Path) -> None:
    """Load numpy arrays into ``net`` (strict: same names and shapes); errors -> ModelFileError."""
    import torch

    ref = net.state_dict()
    missing = sorted(set(ref) - set(arrays))
    unexpected = sorted(set(arrays) - set(ref))
    if missing or unexpected:
        raise ModelFileError(
            path,
            f"weights do not match the network: missing {missing[:5]}, unexpected {unexpected[:5]}",
        )
    state = {}
    for k, r in ref.items():
        a = np.asarray(arrays[k])
        if r.dim() == 0 and a.shape in ((), (1,)):
            a = a.reshape(())  # safetensors stores scalars (BatchNorm counters) as shape (1,)
        if tuple(a.shape) != tuple(r.shape):
            raise ModelFileError(
                path, f"weight {k!r} has shape {a.shape}, the network needs {tuple(r.shape)}"
            )
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ModelFileError(path, f"weight {k!r} holds non-finite values")
        state[k] = torch.from_numpy(np.ascontiguousarray(a).astype(r.numpy().dtype, copy=False))
    net.load_state_dict(state, strict=True)
    net.eval()
