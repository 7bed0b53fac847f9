"""The one PyTorch trainer of serendip: every network (autoencoders, DeepSets, Deep SVDD, the
classifiers of the latent and router detectors, the light-curve GRU) trains through :func:`train`.

It sits in ``features`` (the lowest layer with learned models) so that ``features`` and
``detect`` both import it. The recipe, identical for every model:

* **seeded**: weights are built inside :func:`seeded` (torch's global RNG forked and seeded,
  the caller's state restored afterwards); mini-batch order comes from
  ``numpy.random.default_rng([seed, 1])``; the validation split from
  :func:`split_validation` (seeded, optionally stratified);
* **Adam** (``lr``, ``weight_decay``) on shuffled mini-batches (a trailing batch of one row is
  merged into the previous one: BatchNorm needs two), optional gradient-norm clipping;
* **one early-stopping rule**: after every epoch the mean loss over the validation rows is
  computed in eval mode; an epoch *improves* when that loss is below
  ``best - min_delta * |best|``; training stops after ``patience`` epochs without
  improvement and the weights of the best epoch are restored. Epoch 0 is the initial weights
  (evaluated before any update), so a model that never improves keeps them. Without
  validation rows (tiny training sets, ``validation_fraction = 0``) the rule watches the
  training rows' loss, evaluated the same way;
* **progress**: ``verbose=True`` shows a progress bar (rich) with the current validation loss;
* **device**: ``device=None`` / ``"auto"`` picks CUDA when present and the CPU otherwise
  (the environment variable ``SERENDIP_DEVICE`` overrides the automatic choice);
  ``mixed_precision=True`` runs the forward pass under bfloat16 autocast on a GPU (ignored on
  the CPU). The network is returned on the CPU, in eval mode, so inference and saved weights
  do not depend on where it was trained.

The history returned (and stored by the models as ``history_``) is a dict: ``train_loss`` and
``val_loss`` (lists, entry k = after k epochs, entry 0 = initial weights), ``best_epoch``,
``epochs_run``, ``stopped_early``, ``device`` and ``seconds``.

Weights are saved as plain arrays (:func:`state_arrays`, :func:`load_state_arrays`) with the
architecture rebuilt from the model's settings: no pickle.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from serendip.errors import ModelFileError


# ------------------------------------------------------------------------------- device, seed
def select_device(device: str | None = None):
    """The ``torch.device`` to train on.

    Parameters
    ----------
    device : str or None
        ``None`` or ``"auto"``: ``$SERENDIP_DEVICE`` when set, else ``"cuda"`` when a GPU is
        present, else ``"cpu"``; any other value is passed to :class:`torch.device`.

    Returns
    -------
    torch.device
    """
    import torch

    if device in (None, "auto"):
        device = os.environ.get("SERENDIP_DEVICE") or (
            "cuda" if torch.cuda.is_available() else "cpu"
        )
    return torch.device(device)


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Run a block with torch's global RNG seeded (``None`` -> 0), restoring the caller's state.

    Parameters
    ----------
    seed : int or None
        Seed of the CPU (and, when present, CUDA) generators inside the block.
    """
    import torch

    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(0 if seed is None else int(seed))
        yield


def split_validation(
    n: int, fraction: float, seed: int | None, stratify: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of ``n`` rows into (train, validation) row numbers, both sorted int64.

    Parameters
    ----------
    n : int
        Number of rows.
    fraction : float
        Fraction of the rows held out for validation (0 = none).
    seed : int or None
        Seed of the split.
    stratify : ndarray, shape (n,), optional
        Class codes: the split keeps each class's share (scikit-learn's
        ``train_test_split``) when every class has at least two rows.

    Returns
    -------
    train, val : ndarray of int64
        ``val`` is empty when ``fraction`` is 0 or ``n`` is too small to hold out one row and
        keep two for training; training then watches the training loss.
    """
    n_val = int(round(fraction * n)) if fraction > 0 else 0
    if fraction > 0 and n >= 4:
        n_val = min(max(n_val, 1), n - 2)
    else:
        n_val = 0
    if n_val == 0:
        return np.arange(n, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if stratify is not None:
        counts = np.unique(np.asarray(stratify), return_counts=True)[1]
        if counts.min() >= 2 and n_val >= len(counts) and n - n_val >= len(counts):
            from sklearn.model_selection import train_test_split

            tr, va = train_test_split(
                np.arange(n), test_size=n_val, random_state=seed, stratify=stratify
            )
            return np.sort(tr).astype(np.int64), np.sort(va).astype(np.int64)
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_val:]).astype(np.int64), np.sort(perm[:n_val]).astype(np.int64)


def batches(rows: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Consecutive slices of ``rows`` of ``batch_size``; a trailing one-row batch is merged."""
    size = max(1, int(batch_size))
    out = [rows[a : a + size] for a in range(0, len(rows), size)]
    if len(out) > 1 and len(out[-1]) == 1:
        out[-2] = np.concatenate([out[-2], out.pop()])
    return out


# ------------------------------------------------------------------------------------ trainer
@dataclass(frozen=True)
class TrainSettings:
    """How to train (one recipe for every model; see the module docstring).

    Attributes
    ----------
    max_epochs : int
        Upper bound on training epochs.
    batch_size : int
        Rows per mini-batch.
    lr, weight_decay : float
        Adam's learning rate and L2 weight decay.
    patience : int
        Epochs without improvement before stopping.
    min_delta : float
        Relative improvement of the validation loss that counts as better.
    seed : int or None
        Seed of the mini-batch order.
    clip_grad_norm : float or None
        Clip the gradients' global norm to this value (None = no clipping).
    device : str or None
        Where to train (see :func:`select_device`).
    mixed_precision : bool
        bfloat16 autocast on a GPU.
    verbose : bool
        Show a progress bar.
    description : str
        Label of the progress bar.
    """

    max_epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 10
    min_delta: float = 1e-7
    seed: int | None = 0
    clip_grad_norm: float | None = None
    device: str | None = None
    mixed_precision: bool = False
    verbose: bool = False
    description: str = "training"


def train(
    net,
    batch_loss: Callable[[np.ndarray, bool], Any],
    train_rows: np.ndarray,
    val_rows: np.ndarray,
    settings: TrainSettings,
    *,
    parameters: Iterable | None = None,
) -> dict[str, Any]:
    """Train ``net`` with Adam and the early-stopping rule of the module docstring.

    Parameters
    ----------
    net : torch.nn.Module
        The network; moved to the training device for the run and returned on the CPU in
        eval mode with the weights of the best epoch.
    batch_loss : callable ``(rows, training) -> torch scalar``
        Mean loss of the given rows (ndarray of int64 row numbers). ``training`` is True for
        optimisation steps and False for evaluation (called under ``torch.no_grad``). It
        should put its tensors on :attr:`net`'s device (``device_of(net)``).
    train_rows, val_rows : ndarray of int64
        Rows to train on and to validate on (see :func:`split_validation`).
    settings : TrainSettings
    parameters : iterable of torch.nn.Parameter, optional
        The parameters to optimise (default: all of ``net``'s).

    Returns
    -------
    dict
        The history (see the module docstring).
    """
    import torch

    t0 = time.perf_counter()
    device = select_device(settings.device)
    net.to(device)
    amp = bool(settings.mixed_precision) and device.type == "cuda"
    opt = torch.optim.Adam(
        list(parameters) if parameters is not None else net.parameters(),
        lr=settings.lr,
        weight_decay=settings.weight_decay,
    )
    seed = 0 if settings.seed is None else int(settings.seed)
    rng = np.random.default_rng([seed, 1])
    train_rows = np.asarray(train_rows, dtype=np.int64)
    watch = np.asarray(val_rows, dtype=np.int64) if len(val_rows) else train_rows

    def autocast():
        if amp:
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def evaluate(rows: np.ndarray) -> float:
        net.eval()
        total = 0.0
        with torch.no_grad(), autocast():
            for b in batches(rows, max(int(settings.batch_size), 1024)):
                total += float(batch_loss(b, False)) * len(b)
        return total / max(len(rows), 1)

    hist: dict[str, Any] = {
        "train_loss": [evaluate(train_rows)],
        "val_loss": [evaluate(watch) if len(val_rows) else None],
        "best_epoch": 0,
        "epochs_run": 0,
        "stopped_early": False,
    }
    if hist["val_loss"][0] is None:
        hist["val_loss"][0] = hist["train_loss"][0]
    best, best_state, waited = hist["val_loss"][0], _copy_state(net), 0
    bar = _progress(settings.verbose, settings.description, int(settings.max_epochs))
    try:
        for epoch in range(1, int(settings.max_epochs) + 1):
            net.train()
            order = train_rows[rng.permutation(len(train_rows))]
            total = 0.0
            for rows in batches(order, settings.batch_size):
                opt.zero_grad(set_to_none=True)
                with autocast():
                    loss = batch_loss(rows, True)
                loss.backward()
                if settings.clip_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(net.parameters(), settings.clip_grad_norm)
                opt.step()
                total += float(loss.detach()) * len(rows)
            hist["train_loss"].append(total / max(len(order), 1))
            val = evaluate(watch)
            hist["val_loss"].append(val)
            hist["epochs_run"] = epoch
            if bar is not None:
                bar[0].update(
                    bar[1], advance=1, description=f"{settings.description} val={val:.4g}"
                )
            if val < best - float(settings.min_delta) * abs(best):
                best, best_state, waited = val, _copy_state(net), 0
                hist["best_epoch"] = epoch
            else:
                waited += 1
                if waited >= int(settings.patience):
                    hist["stopped_early"] = epoch < int(settings.max_epochs)
                    break
    finally:
        if bar is not None:
            bar[0].stop()
    net.load_state_dict(best_state)
    net.to("cpu")
    net.eval()
    hist["device"] = str(device)
    hist["seconds"] = round(time.perf_counter() - t0, 3)
    return hist


def device_of(net):
    """The device of ``net``'s first parameter or buffer (CPU for a module without any)."""
    import torch

    for t in net.parameters():
        return t.device
    for t in net.buffers():
        return t.device
    return torch.device("cpu")


def _copy_state(net) -> dict:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def _progress(verbose: bool, description: str, total: int):
    if not verbose:
        return None
    from serendip.progress import progress_bar

    prog = progress_bar()
    task = prog.add_task(description, total=total)
    prog.start()
    return prog, task


# ---------------------------------------------------------------------------------- inference
def predict_batches(
    fn: Callable, X: np.ndarray, batch: int = 8192, *, modules: Iterable = ()
) -> np.ndarray:
    """Apply ``fn`` (no grad) to the rows of ``X`` in batches, in float64.

    Parameters
    ----------
    fn : callable ``(torch.Tensor (b, ...)) -> torch.Tensor (b, ...)``
    X : ndarray, shape (n, ...)
    batch : int
        Rows per call.
    modules : iterable of torch.nn.Module
        Networks ``fn`` uses: they run in float64 for the call (and are returned to float32),
        so that a row's result depends on the other rows of its batch only at the 1e-15
        level (float32 matrix products differ at 1e-7, failing scikit-learn's invariance
        checks).

    Returns
    -------
    ndarray, shape (n, ...), float64
    """
    import torch

    modules = list(modules)
    Xt = torch.as_tensor(np.ascontiguousarray(X, dtype=np.float64))
    out = []
    for m in modules:
        m.double()
    try:
        with torch.no_grad():
            for s in range(0, len(Xt), batch):
                out.append(fn(Xt[s : s + batch]).double().numpy())
    finally:
        for m in modules:
            m.float()
    return np.concatenate(out, axis=0)


# -------------------------------------------------------------------------------- weights I/O
def state_arrays(net, prefix: str = "", half: bool = False) -> dict[str, np.ndarray]:
    """The module's ``state_dict`` as numpy arrays.

    Parameters
    ----------
    net : torch.nn.Module
    prefix : str
        Prepended to every key as ``prefix/name`` (none when empty).
    half : bool
        Store float32 tensors as float16 (to ship small files).

    Returns
    -------
    dict of str to ndarray
    """
    out = {}
    for k, v in net.state_dict().items():
        a = v.detach().cpu().numpy().copy()
        if half and a.dtype == np.float32:
            a = a.astype(np.float16)
        out[f"{prefix}/{k}" if prefix else k] = a
    return out


def load_state_arrays(
    net, arrays: dict[str, np.ndarray], path: str | Path | None = None, prefix: str = ""
) -> None:
    """Load arrays written by :func:`state_arrays` into ``net`` (strict names and shapes).

    Parameters
    ----------
    net : torch.nn.Module
    arrays : dict of str to ndarray
        Keys ``name`` (or ``prefix/name``); other keys are ignored when ``prefix`` is given.
    path : str or Path, optional
        The model file, named in errors.
    prefix : str
        Key prefix used by :func:`state_arrays`.

    Raises
    ------
    ModelFileError
        Missing, unexpected, misshapen or non-finite weights.
    """
    import torch

    if prefix:
        start = prefix + "/"
        arrays = {k[len(start) :]: v for k, v in arrays.items() if k.startswith(start)}
    ref = net.state_dict()
    missing = sorted(set(ref) - set(arrays))
    unexpected = sorted(set(arrays) - set(ref))
    if missing or unexpected:
        raise ModelFileError(
            path,
            f"network weights do not fit the architecture: missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}",
        )
    state = {}
    for k, r in ref.items():
        a = np.asarray(arrays[k])
        if r.dim() == 0 and a.shape in ((), (1,)):
            a = a.reshape(())  # safetensors stores scalars (BatchNorm counters) as shape (1,)
        if tuple(a.shape) != tuple(r.shape):
            raise ModelFileError(
                path,
                f"network weights do not fit the architecture: {k!r} has shape {a.shape}, "
                f"the network needs {tuple(r.shape)}",
            )
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ModelFileError(path, f"weight {k!r} holds non-finite values")
        state[k] = torch.from_numpy(np.ascontiguousarray(a).astype(r.numpy().dtype, copy=False))
    net.load_state_dict(state, strict=True)
    net.eval()
