"""``DeepSetsEncoder``: permutation-invariant features straight from raw (time, energy) events.

Why: maps and cubes bin every file onto a fixed grid, so short files are mostly empty bins and
long files lose their fine timing. A DeepSets network (Zaheer et al. 2017; proposed for event
files in Martinez-Galarza's "X-ray datasets: a machine learning perspective") encodes each event
separately, averages the event codes of a file and maps the average to the file's features:

    z(file) = rho( mean_i phi(x_i), log10 n, log10 span )

The mean over events makes the result independent of event order and defined for any number of
events (a file with one event gets its one event's code; an empty file gets phi-mean 0).

Per-event inputs ``x_i`` (computed for all files at once, see :func:`event_inputs`):

1. ``tau``: time scaled to [0, 1] over the file's event span (0 when the span is 0);
2. ``loge``: (log10 E[eV] - 3.27) / 0.57, about [-1, 1] over 0.5-7 keV;
3. ``ldt``: log10 of the gap to the next event (last event: the previous gap) over the file's
   mean gap, floored at 1e-3 of it, divided by 2 (0 for a one-event file);
4. ``lrate``: log10 of the local event density, i.e. the mean gap over the span of the +-4
   neighbouring events relative to the file's mean gap, divided by 2 (flares: negative gaps
   ratio -> positive density).

Events are put in a canonical order (file, time, energy) before ``ldt`` and ``lrate`` are
computed, so any permutation of a file's events gives identical inputs, hence identical output.

How it is trained (self-supervised, no labels): from ``z`` a small decoder predicts the file's
normalised E-t map (24 x 16, the reference representation), its normalised 32-bin light curve
(finer in time, so short spikes matter) and four summaries (log10 counts, hardness ratio
(H-S)/(H+S) at 2 keV, mean log energy, log10 span). Minimising the mean squared error of these
forces ``z`` to hold the spectral-timing shape of the file that the maps carry, plus the counts
and timing scale that normalised maps throw away, while the encoder itself never bins. Each
training step sees a random subset of at most ``max_events`` events per file (targets always
from all events); with mean pooling the code of a subset estimates the code of the whole file,
so this is both an augmentation and a bound on cost. Validation split and early stopping as in
:mod:`serendip.features.training`.
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
from serendip.io.eventset import EventSet

N_EVENT_INPUTS = 4
N_FILE_INPUTS = 2
N_SUMMARY = 4
MAP_T, MAP_E, LC_BINS = 24, 16, 32
E_MIN, E_MAX = 500.0, 7000.0
_LOGE_C, _LOGE_S = 3.27, 0.57
_K_LOCAL = 4


# --------------------------------------------------------------------------- inputs
def _canonical(events: EventSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(file index, time, energy) per event in canonical order: file, then time, then energy."""
    f = events.file_index
    order = np.lexsort((events.energy, events.time, f))
    return f[order], events.time[order], events.energy[order]


def event_inputs(events: EventSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-event and per-file encoder inputs ``(x, file_of_event, file_inputs)``; see :func:`_inputs`."""
    x, f, file_inputs, _ = _inputs(events)
    return x, f, file_inputs


def _inputs(events: EventSet) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-event and per-file inputs of the encoder, for all files at once.

    Returns ``(x, file_of_event, file_inputs)``: ``x`` (n_events, 4) float32 columns tau, loge,
    ldt, lrate (see module docstring), in canonical order; ``file_of_event`` (n_events,) int64;
    ``file_inputs`` (n_files, 2) float32: log10(n_events)/4 and log10(1 + span [s])/6;
    last, the energies [eV] in canonical order.
    """
    f, t, e = _canonical(events)
    counts = events.counts
    starts = events.offsets[:-1]
    n = len(t)
    x = np.zeros((n, N_EVENT_INPUTS), dtype=np.float32)
    if n:
        last = events.offsets[1:] - 1
        nonempty = counts > 0
        tmin = np.zeros(len(counts))
        tmax = np.zeros(len(counts))
        tmin[nonempty] = t[starts[nonempty]]
        tmax[nonempty] = t[last[nonempty]]
        span = tmax - tmin
        span_e = span[f]
        safe_span = np.where(span_e > 0, span_e, 1.0)
        x[:, 0] = np.where(span_e > 0, (t - tmin[f]) / safe_span, 0.0)
        x[:, 1] = (np.log10(np.maximum(e.astype(np.float64), 1.0)) - _LOGE_C) / _LOGE_S
        mean_gap = span / np.maximum(counts - 1, 1)
        mg = mean_gap[f]
        ok = (counts[f] > 1) & (mg > 0)
        mg_safe = np.where(ok, mg, 1.0)
        pos = np.arange(n) - starts[f]  # position within file
        nxt = np.minimum(np.arange(n) + 1, last[f])
        prv = np.maximum(np.arange(n) - 1, starts[f])
        gap = np.where(pos < counts[f] - 1, t[nxt] - t, t - t[prv])
        x[:, 2] = np.where(ok, np.log10(np.maximum(gap / mg_safe, 1e-3)) / 2.0, 0.0)
        hi = np.minimum(np.arange(n) + _K_LOCAL, last[f])
        lo = np.maximum(np.arange(n) - _K_LOCAL, starts[f])
        width = (t[hi] - t[lo]) / np.maximum(hi - lo, 1) / mg_safe
        x[:, 3] = np.where(ok & (hi > lo), -np.log10(np.maximum(width, 1e-3)) / 2.0, 0.0)
        span_f = span
    else:
        span_f = np.zeros(len(counts))
    file_inputs = np.stack(
        [np.log10(np.maximum(counts, 1)) / 4.0, np.log10(1.0 + span_f) / 6.0], axis=1
    ).astype(np.float32)
    return x, f, file_inputs, e


def training_targets(events: EventSet) -> np.ndarray:
    """Self-supervised targets per file, (n_files, 24*16 + 32 + 4) float32.

    Normalised E-t map (reference binning, 0.5-7 keV, per-file min-max), normalised 32-bin
    light curve of all events (divided by its maximum), then log10(n)/4, hardness ratio
    (H-S)/(H+S) with H above 2 keV, mean loge, log10(1 + span [s])/6.
    """
    x, f, file_inputs, e = _inputs(events)
    nf = events.n_files
    tau = x[:, 0].astype(np.float64)
    le = np.log10(e.astype(np.float64))
    edges = np.linspace(np.log10(E_MIN), np.log10(E_MAX), MAP_E + 1)
    eb = np.searchsorted(edges, le, side="right") - 1
    eb[le == edges[-1]] = MAP_E - 1
    inband = (eb >= 0) & (eb < MAP_E)
    tb = np.minimum((tau * MAP_T).astype(np.int64), MAP_T - 1)
    flat = f[inband] * (MAP_T * MAP_E) + tb[inband] * MAP_E + eb[inband]
    maps = (
        np.bincount(flat, minlength=nf * MAP_T * MAP_E)
        .reshape(nf, MAP_T * MAP_E)
        .astype(np.float64)
    )
    lo, hi = maps.min(axis=1, keepdims=True), maps.max(axis=1, keepdims=True)
    maps = np.where(hi > lo, (maps - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0)
    lb = np.minimum((tau * LC_BINS).astype(np.int64), LC_BINS - 1)
    lc = (
        np.bincount(f * LC_BINS + lb, minlength=nf * LC_BINS)
        .reshape(nf, LC_BINS)
        .astype(np.float64)
    )
    lc = lc / np.maximum(lc.max(axis=1, keepdims=True), 1.0)
    hard = np.bincount(f, weights=(e >= 2000.0).astype(np.float64), minlength=nf)
    cnt = np.bincount(f, minlength=nf).astype(np.float64)
    hr = np.where(cnt > 0, (2 * hard - cnt) / np.maximum(cnt, 1.0), 0.0)
    mean_le = np.bincount(f, weights=x[:, 1].astype(np.float64), minlength=nf) / np.maximum(
        cnt, 1.0
    )
    summ = np.stack([file_inputs[:, 0], hr, mean_le, file_inputs[:, 1]], axis=1)
    return np.concatenate([maps, lc, summ], axis=1).astype(np.float32)


# ---------------------------------------------------------------------------- network
def _build_net(width: int, latent_dim: int, n_targets: int):
    import torch
    from torch import nn

    class _Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.phi = nn.Sequential(
                nn.Linear(N_EVENT_INPUTS, width),
                nn.LeakyReLU(0.1),
                nn.Linear(width, width),
                nn.LeakyReLU(0.1),
                nn.Linear(width, width),
                nn.LeakyReLU(0.1),
            )
            self.rho = nn.Sequential(
                nn.Linear(width + N_FILE_INPUTS, width),
                nn.LeakyReLU(0.1),
                nn.Linear(width, latent_dim),
            )
            self.decoder = nn.Sequential(
                nn.Linear(latent_dim, 2 * width),
                nn.LeakyReLU(0.1),
                nn.Linear(2 * width, n_targets),
            )

        def encode(self, x, seg, n_files, file_inputs):
            """x (N, 4) events, seg (N,) file number in [0, n_files), file_inputs (n_files, 2)."""
            h = self.phi(x)
            # mean over each file's events, accumulated in float64 (order-free to ~1e-7)
            pooled = torch.zeros(n_files, h.shape[1], dtype=torch.float64, device=h.device).index_add_(
                0, seg, h.double()
            )
            cnt = torch.bincount(seg, minlength=n_files).clamp_min(1).to(torch.float64)
            pooled = (pooled / cnt[:, None]).to(h.dtype)
            return self.rho(torch.cat([pooled, file_inputs], dim=1))

    return _Net()


def _subsample(seg: np.ndarray, max_events: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of at most ``max_events`` random events per file (seg sorted by file)."""
    if max_events <= 0 or len(seg) == 0:
        return np.arange(len(seg))
    key = rng.random(len(seg))
    order = np.lexsort((key, seg))
    s = seg[order]
    first = np.searchsorted(s, s, side="left")
    rank = np.arange(len(s)) - first
    return np.sort(order[rank < max_events])


class DeepSetsEncoder(TransformerMixin, BaseEstimator):
    """Permutation-invariant encoder of raw event files: EventSet -> (n_files, latent_dim).

    Parameters
    ----------
    latent_dim : size of the file code (default 16).
    width : width of the per-event network phi and of rho.
    max_events : events per file seen in one training step (random subset; 0 = all).
    epochs, batch_files, lr, weight_decay, l2_latent, val_fraction, patience, min_delta, seed, verbose : recipe
        Training recipe (Adam, early stopping on the validation loss; see module docstring).
    event_chunk : events encoded at once by ``transform`` (bounds memory; any file length works).
    standardize : return codes standardised by the mean and standard deviation of the training
        files' codes (stored with the model), so every feature has about unit scale.
    """

    kind: ClassVar[str] = "features.DeepSetsEncoder"

    def __init__(
        self,
        latent_dim: int = 16,
        width: int = 64,
        max_events: int = 256,
        epochs: int = 60,
        batch_files: int = 256,
        lr: float = 2e-3,
        weight_decay: float = 0.0,
        l2_latent: float = 1e-4,
        val_fraction: float = 0.1,
        patience: int = 6,
        min_delta: float = 1e-3,
        seed: int = 0,
        verbose: bool = False,
        event_chunk: int = 262144,
        standardize: bool = True,
    ):
        self.latent_dim = latent_dim
        self.width = width
        self.max_events = max_events
        self.epochs = epochs
        self.batch_files = batch_files
        self.lr = lr
        self.weight_decay = weight_decay
        self.l2_latent = l2_latent
        self.val_fraction = val_fraction
        self.patience = patience
        self.min_delta = min_delta
        self.seed = seed
        self.verbose = verbose
        self.event_chunk = event_chunk
        self.standardize = standardize

    def __sklearn_tags__(self):
        """scikit-learn tags: the input is a :class:`~serendip.io.EventSet`, not an array.

        Every file is a variable-length set of events, so ``two_d_array`` is False and
        scikit-learn's generic checks (which feed 2-D arrays) are not run; ``clone``,
        parameters and ``NotFittedError`` before ``fit`` are tested in tests/features.
        """
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags

    @staticmethod
    def _check_events(events) -> EventSet:
        if not isinstance(events, EventSet):
            raise InputError(
                None, f"DeepSetsEncoder needs a serendip.io.EventSet; got {type(events).__name__}"
            )
        if events.n_files == 0:
            raise InputError(None, "event set has no files")
        if not (np.isfinite(events.time).all() and np.isfinite(events.energy).all()):
            raise InputError(None, "event set has non-finite time or energy values")
        if (events.energy <= 0).any():
            raise InputError(None, "event set has energies <= 0 eV")
        return events

    def _check_fitted(self) -> None:
        """Raise :class:`sklearn.exceptions.NotFittedError` unless fitted or loaded."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "net_")

    # ------------------------------------------------------------------ fit
    def fit(self, events: EventSet, y=None):
        """Train self-supervised on the files of ``events`` (labels ``y`` are ignored)."""
        import torch

        events = self._check_events(events)
        if events.n_files < 2:
            raise InputError(
                None, f"DeepSetsEncoder.fit needs at least 2 files; got {events.n_files}"
            )
        x, seg, file_in = event_inputs(events)
        targets = training_targets(events)
        n_targets = targets.shape[1]
        with seeded(self.seed):
            self.net_ = _build_net(int(self.width), int(self.latent_dim), n_targets)
        starts = events.offsets
        device = select_device(None)
        xt = torch.from_numpy(x).to(device)
        ft = torch.from_numpy(file_in).to(device)
        tt = torch.from_numpy(targets).to(device)
        # target weights: the map, the light curve and the summaries count equally
        w = np.concatenate(
            [
                np.full(MAP_T * MAP_E, 1.0 / (MAP_T * MAP_E)),
                np.full(LC_BINS, 1.0 / LC_BINS),
                np.full(N_SUMMARY, 1.0 / N_SUMMARY),
            ]
        )
        wt = torch.from_numpy((w / 3.0).astype(np.float32)).to(device)
        rng = np.random.default_rng(self.seed + 1)
        l2 = float(self.l2_latent)
        max_ev = int(self.max_events)

        def batch_loss(rows: np.ndarray, training: bool):
            rows = np.sort(rows)
            cnt = starts[rows + 1] - starts[rows]
            idx = np.repeat(
                starts[rows] - np.concatenate([[0], np.cumsum(cnt)[:-1]]), cnt
            ) + np.arange(cnt.sum())
            local = np.repeat(np.arange(len(rows)), cnt)
            sub_rng = rng if training else np.random.default_rng(self.seed + 2)
            keep = _subsample(local, max_ev, sub_rng)
            idx, local = idx[keep], local[keep]
            rows_t = torch.as_tensor(rows, device=device)
            z = self.net_.encode(
                xt[torch.as_tensor(idx, device=device)],
                torch.as_tensor(local, device=device),
                len(rows),
                ft[rows_t],
            )
            pred = self.net_.decoder(z)
            loss = torch.sum(((pred - tt[rows_t]) ** 2) * wt, dim=1).mean()
            if l2 > 0:
                loss = loss + l2 * torch.mean(torch.sum(z**2, dim=1))
            return loss

        train_idx, val_idx = split_validation(events.n_files, self.val_fraction, self.seed)
        settings = TrainSettings(
            max_epochs=self.epochs,
            batch_size=self.batch_files,
            lr=self.lr,
            weight_decay=self.weight_decay,
            patience=self.patience,
            min_delta=self.min_delta,
            seed=self.seed,
            device=str(device),
            verbose=self.verbose,
            description="DeepSetsEncoder",
        )
        self.history_ = train(self.net_, batch_loss, train_idx, val_idx, settings)
        self.n_targets_ = int(n_targets)
        self.n_train_ = int(len(train_idx))
        self.code_mean_ = np.zeros(int(self.latent_dim), dtype=np.float32)
        self.code_std_ = np.ones(int(self.latent_dim), dtype=np.float32)
        raw = self._encode(events.select(train_idx))
        self.code_mean_ = raw.mean(axis=0).astype(np.float32)
        self.code_std_ = np.maximum(raw.std(axis=0), 1e-6).astype(np.float32)
        return self

    # ------------------------------------------------------------ transform
    def transform(self, events: EventSet) -> np.ndarray:
        """File codes, (n_files, latent_dim) float32; every event of every file is used.

        Standardised by the training codes' mean and standard deviation when ``standardize``.
        """
        self._check_fitted()
        z = self._encode(self._check_events(events))
        if self.standardize:
            z = (z - self.code_mean_) / self.code_std_
        return z.astype(np.float32)

    def _encode(self, events: EventSet) -> np.ndarray:
        """Raw (unstandardised) codes of every file, (n_files, latent_dim) float32."""
        import torch

        x, seg, file_in = event_inputs(events)
        out = np.empty((events.n_files, int(self.latent_dim)), dtype=np.float32)
        # file ranges holding at most ~event_chunk events (a single larger file is its own chunk)
        cum = events.offsets
        bounds = [0]
        while bounds[-1] < events.n_files:
            a = bounds[-1]
            b = int(np.searchsorted(cum, cum[a] + int(self.event_chunk), side="right")) - 1
            bounds.append(min(max(b, a + 1), events.n_files))
        self.net_.eval()
        with torch.no_grad():
            for a, b in zip(bounds[:-1], bounds[1:], strict=True):
                ea, eb = cum[a], cum[b]
                z = self.net_.encode(
                    torch.from_numpy(x[ea:eb]),
                    torch.from_numpy(seg[ea:eb] - a),
                    b - a,
                    torch.from_numpy(file_in[a:b]),
                )
                out[a:b] = z.numpy()
        return out

    def reconstruction_error(self, events: EventSet) -> np.ndarray:
        """Weighted squared error of the predicted targets per file, (n_files,) float64."""
        import torch

        self._check_fitted()
        z = torch.from_numpy(self._encode(self._check_events(events)))
        with torch.no_grad():
            pred = self.net_.decoder(z).numpy()
        t = training_targets(events)
        w = np.concatenate(
            [
                np.full(MAP_T * MAP_E, 1.0 / (MAP_T * MAP_E)),
                np.full(LC_BINS, 1.0 / LC_BINS),
                np.full(N_SUMMARY, 1.0 / N_SUMMARY),
            ]
        )
        return (((pred - t) ** 2) * w / 3.0).sum(axis=1).astype(np.float64)

    # ---------------------------------------------------------- persistence
    def save(
        self, path: str | Path, *, half: bool = False, extra: dict[str, Any] | None = None
    ) -> Path:
        """Save weights and JSON settings (inputs, targets, recipe, history)."""
        from serendip.io.modelfile import save_model

        self._check_fitted()
        settings = {
            "params": self.get_params(deep=False),
            "n_targets": int(self.n_targets_),
            "input_shape": ["n_events", N_EVENT_INPUTS],
            "normalisation": "per-event tau, loge=(log10 E-3.27)/0.57, ldt, lrate (see DeepSetsEncoder docs)",
            "recipe": {
                "optimiser": "Adam",
                "loss": "self-supervised: weighted MSE of normalised E-t map, 32-bin light curve, 4 summaries",
                "validation": f"random {self.val_fraction:.0%} of files (seed {self.seed})",
                "early_stopping": f"patience {self.patience} epochs, relative min_delta {self.min_delta}",
            },
            "history": getattr(self, "history_", {}),
            "n_train": int(getattr(self, "n_train_", 0)),
            "weights_dtype": "float16" if half else "float32",
            "extra": extra or dict(getattr(self, "training_info_", {})),
        }
        arrays = state_arrays(self.net_, half=half)
        arrays["code_mean"] = self.code_mean_
        arrays["code_std"] = self.code_std_
        return save_model(path, self.kind, arrays, settings)

    @classmethod
    def load(cls, path: str | Path) -> DeepSetsEncoder:
        """Load a model written by :meth:`save`; malformed files raise ModelFileError."""
        from serendip.io.modelfile import load_model

        arrays, settings, _ = load_model(path, cls.kind)
        try:
            obj = cls(**settings["params"])
            obj.n_targets_ = int(settings["n_targets"])
            obj.history_ = settings.get("history", {})
            obj.n_train_ = int(settings.get("n_train", 0))
            obj.training_info_ = settings.get("extra", {})
            with seeded(0):
                obj.net_ = _build_net(int(obj.width), int(obj.latent_dim), obj.n_targets_)
            obj.code_mean_ = np.asarray(arrays.pop("code_mean"), dtype=np.float32).reshape(-1)
            obj.code_std_ = np.asarray(arrays.pop("code_std"), dtype=np.float32).reshape(-1)
            if obj.code_mean_.shape != (int(obj.latent_dim),) or obj.code_std_.shape != (
                int(obj.latent_dim),
            ):
                raise ValueError("code_mean / code_std do not match latent_dim")
            if not (np.isfinite(obj.code_mean_).all() and (obj.code_std_ > 0).all()):
                raise ValueError("code_mean / code_std are not finite and positive")
        except Exception as exc:  # noqa: BLE001
            raise ModelFileError(
                path, f"settings do not describe a DeepSetsEncoder: {exc}"
            ) from exc
        load_state_arrays(obj.net_, arrays, path)
        return obj
