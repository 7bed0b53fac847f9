"""A GRU light-curve classifier (PyTorch) whose penultimate layer is a latent space for anomaly detection.

The network (astromcad's design): a GRU over the padded sequence (N, T, 4) -> the hidden state at
each step, concatenated with the host context (redshift, MW E(B-V)) -> a ``latent`` layer
(Linear + tanh, ``latent_size`` units) -> class logits. Because the GRU is causal and padding sits
after the data, the latent vector at step k is exactly the latent of the first k+1 observations:
scores on every prefix of a light curve come from one forward pass.

Training is seeded, uses class-balanced cross-entropy, random-prefix augmentation (so early,
partial light curves are classified sensibly) and early stopping on a validation split.

The default model shipped with serendip (this classifier plus a detector on its latent layer)
is reproduced with::

    python -m serendip.detect.lc_detect --train-default

(see ``src/serendip/models/LIGHTCURVE.md`` for the recipe and its runtime).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from serendip.errors import InputError
from serendip.represent.lc_sequences import LightCurveSequences

KIND = "features.GRUClassifier"


def _torch():
    import torch

    return torch


def build_network(
    n_features: int, n_context: int, hidden_size: int, latent_size: int, n_classes: int
):
    """The GRU network as a ``torch.nn.Module`` with submodules ``gru``, ``latent`` and ``head``."""
    torch = _torch()
    nn = torch.nn

    class GRUNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.n_context = n_context
            self.gru = nn.GRU(n_features, hidden_size, num_layers=1, batch_first=True)
            self.latent = nn.Sequential(nn.Linear(hidden_size + n_context, latent_size), nn.Tanh())
            self.head = nn.Linear(latent_size, n_classes)

        def step_latents(self, x, context=None):
            """Latent vector after every step: (N, T, latent_size)."""
            out, _ = self.gru(x)
            if self.n_context:
                out = torch.cat([out, context[:, None, :].expand(-1, out.shape[1], -1)], dim=2)
            return self.latent(out)

        def forward(self, x, context=None, last=None):
            """Logits (N, n_classes) at step ``last`` (default: the final step of ``x``)."""
            z = self.step_latents(x, context)
            if last is None:
                return self.head(z[:, -1])
            return self.head(z[torch.arange(z.shape[0]), last])

    return GRUNet()


class GRUClassifier:
    """Seeded GRU classifier for padded light curves (scikit-learn-like ``fit`` / ``predict_proba``).

    Parameters
    ----------
    hidden_size, latent_size : GRU state and latent-layer widths.
    use_context : use host context (redshift, MW E(B-V)) when the sequences carry it.
    max_epochs, batch_size, lr : optimisation (Adam).
    patience : epochs without validation-loss improvement before stopping (best weights kept).
    val_fraction : stratified validation split taken from the training objects.
    prefix_augment : fraction of training examples cut to a random prefix (>= ``min_prefix`` points).
    seed : seeds the split, the weights and the batches.
    """

    def __init__(
        self,
        hidden_size: int = 32,
        latent_size: int = 16,
        use_context: bool = True,
        max_epochs: int = 25,
        batch_size: int = 256,
        lr: float = 5e-3,
        patience: int = 5,
        val_fraction: float = 0.15,
        prefix_augment: float = 0.5,
        min_prefix: int = 4,
        seed: int = 0,
        verbose: bool = False,
    ):
        self.hidden_size = hidden_size
        self.latent_size = latent_size
        self.use_context = use_context
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.patience = patience
        self.val_fraction = val_fraction
        self.prefix_augment = prefix_augment
        self.min_prefix = min_prefix
        self.seed = seed
        self.verbose = verbose

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Settings as a dict (scikit-learn style)."""
        keys = (
            "hidden_size",
            "latent_size",
            "use_context",
            "max_epochs",
            "batch_size",
            "lr",
            "patience",
        )
        keys += ("val_fraction", "prefix_augment", "min_prefix", "seed", "verbose")
        return {k: getattr(self, k) for k in keys}

    # ------------------------------------------------------------------ fit
    def fit(self, seqs: LightCurveSequences, y) -> GRUClassifier:
        """Train on padded sequences ``seqs`` (N objects) with labels ``y`` (N,) of any hashable type.

        Trained by :func:`serendip.features.training.train` (stratified validation split,
        early stopping, gradient norm clipped to 5); ``history_`` is the trainer's history.
        """
        torch = _torch()
        from serendip.features.training import (
            TrainSettings,
            seeded,
            select_device,
            split_validation,
            train,
        )

        y = np.asarray(y).astype(str)
        if len(y) != len(seqs.X):
            raise InputError(None, f"{len(y)} labels for {len(seqs.X)} light curves")
        self.classes_ = np.unique(y)
        yi = np.searchsorted(self.classes_, y)
        self.n_context_ = (
            int(seqs.context.shape[1]) if (self.use_context and seqs.context is not None) else 0
        )
        self.max_len_ = int(seqs.X.shape[1])
        rng = np.random.default_rng(self.seed)
        tr, va = split_validation(len(y), self.val_fraction, self.seed, stratify=yi)
        with seeded(self.seed):
            self.net_ = build_network(
                4, self.n_context_, self.hidden_size, self.latent_size, len(self.classes_)
            )
        net = self.net_
        device = select_device(None)
        X = torch.from_numpy(seqs.X).to(device)
        C = torch.from_numpy(seqs.context).to(device) if self.n_context_ else None
        lengths = seqs.lengths
        Y = torch.from_numpy(yi.astype(np.int64)).to(device)
        w = len(tr) / (
            len(self.classes_) * np.maximum(np.bincount(yi[tr], minlength=len(self.classes_)), 1)
        )
        weight = torch.tensor(w, dtype=torch.float32, device=device)

        def batch_loss(b: np.ndarray, training: bool):
            last = lengths[b] - 1
            if training:  # random-prefix augmentation
                cut = rng.random(len(b)) < self.prefix_augment
                lo = np.minimum(self.min_prefix, lengths[b]) - 1
                last = last.copy()
                last[cut] = rng.integers(lo[cut], lengths[b][cut])
            tmax = int(last.max()) + 1
            bt = torch.as_tensor(b, device=device)
            logits = net(
                X[bt, :tmax], None if C is None else C[bt], torch.as_tensor(last, device=device)
            )
            return torch.nn.functional.cross_entropy(logits, Y[bt], weight=weight)

        settings = TrainSettings(
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            patience=self.patience,
            min_delta=1e-4,
            seed=self.seed,
            clip_grad_norm=5.0,
            device=str(device),
            verbose=self.verbose,
            description="GRUClassifier",
        )
        self.history_ = train(net, batch_loss, tr, va, settings)
        self.best_val_loss_ = float(self.history_["val_loss"][self.history_["best_epoch"]])
        return self

    # -------------------------------------------------------------- predict
    def _check(self, seqs: LightCurveSequences):
        if not hasattr(self, "net_"):
            raise RuntimeError("GRUClassifier is not fitted; call fit() first")
        if self.n_context_ and seqs.context is None:
            raise InputError(
                None, "this classifier uses host context (redshift, mw_ebv); pass context="
            )

    def step_latents(self, seqs: LightCurveSequences, batch: int = 512) -> np.ndarray:
        """Latent vector after every observation: (N, T, latent_size) float32 (padding steps included)."""
        torch = _torch()
        self._check(seqs)
        out = []
        with torch.no_grad():
            for s in range(0, len(seqs.X), batch):
                x = torch.from_numpy(seqs.X[s : s + batch])
                c = torch.from_numpy(seqs.context[s : s + batch]) if self.n_context_ else None
                out.append(self.net_.step_latents(x, c).numpy())
        return np.concatenate(out)

    def latent(self, seqs: LightCurveSequences) -> np.ndarray:
        """Latent vector of each whole light curve: (N, latent_size) float32."""
        z = self.step_latents(seqs)
        return z[np.arange(len(z)), np.maximum(seqs.lengths - 1, 0)]

    def proba_from_latent(self, z: np.ndarray) -> np.ndarray:
        """Class probabilities (..., n_classes) from latent vectors (..., latent_size)."""
        torch = _torch()
        with torch.no_grad():
            return torch.softmax(
                self.net_.head(torch.from_numpy(np.asarray(z, np.float32))), dim=-1
            ).numpy()

    def predict_proba(self, seqs: LightCurveSequences) -> np.ndarray:
        """(N, n_classes) probabilities, columns in ``classes_`` order."""
        return self.proba_from_latent(self.latent(seqs))

    def predict(self, seqs: LightCurveSequences) -> np.ndarray:
        """Most probable class of each light curve, (N,)."""
        return self.classes_[np.argmax(self.predict_proba(seqs), axis=1)]

    # ---------------------------------------------------------- persistence
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Weights (arrays) and JSON settings of the fitted classifier."""
        arrays = {f"net.{k}": v.detach().cpu().numpy() for k, v in self.net_.state_dict().items()}
        settings = {
            "params": self.get_params(),
            "classes": [str(c) for c in self.classes_],
            "n_context": self.n_context_,
            "max_len": self.max_len_,
            "best_val_loss": getattr(self, "best_val_loss_", None),
        }
        return arrays, settings

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], settings: dict[str, Any]) -> GRUClassifier:
        """Rebuild a classifier from :meth:`state`."""
        torch = _torch()
        obj = cls(**settings["params"])
        obj.classes_ = np.asarray(settings["classes"])
        obj.n_context_ = int(settings["n_context"])
        obj.max_len_ = int(settings["max_len"])
        obj.net_ = build_network(
            4, obj.n_context_, obj.hidden_size, obj.latent_size, len(obj.classes_)
        )
        sd = {
            k[4:]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith("net.")
        }
        obj.net_.load_state_dict(sd)
        obj.net_.eval()
        return obj

    def save(self, path: str | Path) -> Path:
        """Save to a safetensors file (no pickle); returns the path."""
        from serendip.io.modelfile import save_model

        arrays, settings = self.state()
        return save_model(path, KIND, arrays, settings)

    @classmethod
    def load(cls, path: str | Path) -> GRUClassifier:
        """Load a classifier written by :meth:`save`."""
        from serendip.io.modelfile import load_model

        arrays, settings, _ = load_model(path, KIND)
        return cls.from_state(arrays, settings)
