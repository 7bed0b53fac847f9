"""Classifier-latent anomaly detection (astromcad; Gupta et al. 2024).

A classifier is trained on the known classes; its penultimate ("latent") layer is
then a feature space organised by class, in which an anomaly detector is fitted on
the training objects: either MCIF (one isolation forest per class, minimum score)
or a single isolation forest over all classes. astromcad found the single forest
often does as well or better, so both are kept (``detector="mcif"`` / ``"iforest"``).

The classifier is by default a dense network (``MLPClassifierNet``) whose latent
layer is the module named ``"latent"``. Any ``torch.nn.Module`` mapping a float32
batch (batch, n_features) to class logits (batch, n_classes) can be passed instead,
together with the dotted name of its latent module (like astromcad's ``Custom``);
the latent vector is that module's output, read with a forward hook and flattened.

Persistence: the classifier's weights, the class order and the latent detector's
arrays go into one safetensors file. A default network is rebuilt from the
settings; a custom network's *code* cannot be stored without pickle, so load it
with ``ClassifierLatentDetector.load(path, classifier=MyNet(...))``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from serendip.detect import _torch as T
from serendip.detect._common import (
    ScaledDetector,
    classes_from_json,
    classes_to_json,
    encode_labels,
    pack_detector,
    unpack_detector,
)
from serendip.detect.isolation import IForest
from serendip.detect.mcif import MCIF
from serendip.errors import InputError, ModelFileError


class MLPClassifierNet(nn.Module):
    """Dense classifier ``body -> latent -> head``; ``latent`` is Linear + ReLU of width latent_dim."""

    def __init__(
        self, n_features: int, hidden_sizes: Sequence[int], latent_dim: int, n_classes: int
    ):
        super().__init__()
        hidden = list(hidden_sizes)
        self.body = T.mlp([n_features, *hidden], final_activation=True) if hidden else nn.Identity()
        width = hidden[-1] if hidden else n_features
        self.latent = nn.Sequential(nn.Linear(width, latent_dim), nn.ReLU())
        self.head = nn.Linear(latent_dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits (batch, n_classes) of a float32 batch (batch, n_features)."""
        return self.head(self.latent(self.body(x)))


def train_classifier(
    net: nn.Module, Xs: np.ndarray, codes: np.ndarray, n_classes: int, **train_kwargs
) -> dict:
    """Train ``net`` with class-balanced cross-entropy; returns the loss history."""
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    weights = torch.as_tensor(
        len(codes) / (n_classes * np.maximum(counts, 1.0)), dtype=torch.float32
    )
    with torch.no_grad():
        out = net(T.to_tensor(Xs[:2]))
    if out.ndim != 2 or out.shape[1] != n_classes:
        raise InputError(
            None,
            f"classifier must output logits (batch, {n_classes}); got shape {tuple(out.shape)}",
        )
    def loss(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(net(xb), yb, weight=weights.to(xb.device))

    return T.train_rows(net, loss, Xs, codes, **train_kwargs)


class ClassifierLatentDetector(ScaledDetector):
    """Anomalies in the penultimate layer of a classifier of the known classes.

    Parameters
    ----------
    classifier : None (default dense network) or a ``torch.nn.Module`` giving logits.
    latent_layer : dotted name of the module whose output is the latent vector
        ("latent" for the default network).
    hidden_sizes, latent_dim : default network's hidden widths and latent width.
    detector : "mcif" (one forest per class, min score) or "iforest" (one forest).
    n_estimators, max_samples : isolation-forest settings.
    max_epochs, patience, batch_size, lr, weight_decay, validation_fraction :
        classifier training (Adam, class-balanced cross-entropy, early stopping).
    scale : standardise the input features first.
    contamination : training fraction above ``threshold_``.
    random_state : seed of network, split, batches and forests.
    verbose : progress bar while training.

    ``fit(X, y)`` needs class labels. ``classes_`` is the class order of
    :meth:`predict_proba` and (with MCIF) of :meth:`score_matrix`.
    """

    kind: ClassVar[str] = "detect.ClassifierLatent"
    needs_labels: ClassVar[bool] = True

    def __init__(
        self,
        classifier: nn.Module | None = None,
        latent_layer: str = "latent",
        hidden_sizes: Sequence[int] = (64, 32),
        latent_dim: int = 16,
        detector: str = "mcif",
        n_estimators: int = 100,
        max_samples: Any = "auto",
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
        self.classifier = classifier
        self.latent_layer = latent_layer
        self.hidden_sizes = hidden_sizes
        self.latent_dim = latent_dim
        self.detector = detector
        self.n_estimators = n_estimators
        self.max_samples = max_samples
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

    # ------------------------------------------------------------ network
    def _build(self, n_classes: int) -> None:
        if self.classifier is None:
            self.net_ = MLPClassifierNet(
                self.n_features_in_, list(self.hidden_sizes), int(self.latent_dim), n_classes
            )
        else:
            if not isinstance(self.classifier, nn.Module):
                raise TypeError(
                    f"classifier must be a torch.nn.Module; got {type(self.classifier).__name__}"
                )
            self.net_ = copy.deepcopy(self.classifier).float()
        try:
            self.net_.get_submodule(self.latent_layer)
        except AttributeError as exc:
            names = [n for n, _ in self.net_.named_modules() if n]
            raise InputError(
                None, f"classifier has no layer {self.latent_layer!r}; its layers: {names[:20]}"
            ) from exc

    def _make_detector(self):
        common = {
            "n_estimators": self.n_estimators,
            "max_samples": self.max_samples,
            "scale": False,
        }
        common |= {"contamination": self.contamination, "random_state": self.random_state}
        if self.detector == "mcif":
            return MCIF(**common)
        if self.detector == "iforest":
            return IForest(**common)
        raise ValueError(f"detector must be 'mcif' or 'iforest'; got {self.detector!r}")

    def _latent(self, Xs: np.ndarray) -> np.ndarray:
        module = self.net_.get_submodule(self.latent_layer)
        grabbed: list[torch.Tensor] = []
        hook = module.register_forward_hook(
            lambda _m, _i, out: grabbed.append(out.reshape(out.shape[0], -1))
        )
        try:

            def fn(xb: torch.Tensor) -> torch.Tensor:
                grabbed.clear()
                self.net_(xb)
                return grabbed[-1]

            return T.predict_batches(fn, Xs, modules=[self.net_])
        finally:
            hook.remove()

    def __sklearn_tags__(self):
        """Detector tags plus transformer tags (:meth:`transform` gives the latent vectors)."""
        from sklearn.utils import TransformerTags

        tags = super().__sklearn_tags__()
        tags.transformer_tags = TransformerTags()
        return tags

    # ----------------------------------------------------------------- fit
    def _fit_scaled(self, Xs, y):
        self._make_detector()  # validate the choice before training
        self.classes_, codes = encode_labels(y, Xs.shape[0])
        with T.seeded(self.random_state):
            self._build(len(self.classes_))
            self.history_ = train_classifier(
                self.net_,
                Xs,
                codes,
                len(self.classes_),
                max_epochs=self.max_epochs,
                patience=self.patience,
                batch_size=self.batch_size,
                lr=self.lr,
                weight_decay=self.weight_decay,
                validation_fraction=self.validation_fraction,
                seed=self.random_state,
                verbose=self.verbose,
                description="classifier",
            )
        Z = self._latent(Xs)
        self.latent_detector_ = self._make_detector().fit(
            Z, self.classes_[codes] if self.detector == "mcif" else None
        )

    # ------------------------------------------------------------- scoring
    def _score_scaled(self, Xs):
        return self.latent_detector_.score_samples(self._latent(Xs))

    def transform(self, X) -> np.ndarray:
        """Latent vectors, (n_samples, latent width)."""
        self._check_fitted()
        return self._latent(self.transform_features(self._check_X(X)))

    def fit_transform(self, X, y=None) -> np.ndarray:
        """Fit on ``X`` (n_samples, n_features) with labels ``y``; latent vectors of ``X``."""
        return self.fit(X, y).transform(X)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n_samples, n_classes); columns = ``classes_``."""
        self._check_fitted()
        Xs = self.transform_features(self._check_X(X))
        return T.predict_batches(
            lambda xb: torch.softmax(self.net_(xb), dim=1), Xs, modules=[self.net_]
        )

    def predict_class(self, X) -> np.ndarray:
        """Most probable known class of each row, (n_samples,)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score_matrix(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Per-class MCIF scores in latent space and their class order (MCIF only)."""
        if self.detector != "mcif":
            raise ValueError("score_matrix needs detector='mcif'")
        self._check_fitted()
        return self.latent_detector_.score_matrix(self.transform(X))

    # --------------------------------------------------------- persistence
    def _model_state(self):
        arrays = T.state_arrays(self.net_, "classifier")
        inner_arrays, inner_meta = pack_detector(self.latent_detector_, "latent_detector")
        arrays.update(inner_arrays)
        state = {
            "classes": classes_to_json(self.classes_),
            "latent_detector": inner_meta,
            "custom_classifier": None
            if self.classifier is None
            else type(self.classifier).__name__,
        }
        return arrays, state

    def _set_model_state(self, arrays, state):
        custom = state.get("custom_classifier")
        if custom is not None and self.classifier is None:
            raise ModelFileError(
                None,
                f"was trained with a custom classifier ({custom}); load it with "
                "ClassifierLatentDetector.load(path, classifier=<a module of the same architecture>)",
            )
        self.classes_ = classes_from_json(state["classes"])
        self._build(len(self.classes_))
        T.load_state_arrays(self.net_, arrays, prefix="classifier")
        self.latent_detector_ = unpack_detector(arrays, state["latent_detector"], "latent_detector")

    def save(self, path: str | Path) -> Path:
        """Save without pickle; a custom classifier's weights are stored, not its code."""
        from serendip.io.modelfile import save_model

        self._check_fitted()
        arrays, state = self._get_state()
        params = self.get_params(deep=False)
        params["classifier"] = None
        settings = {
            "params": params,
            "threshold": self.threshold_,
            "n_features_in": int(self.n_features_in_),
            "state": state,
        }
        return save_model(path, self.kind, arrays, settings)

    @classmethod
    def load(
        cls, path: str | Path, classifier: nn.Module | None = None
    ) -> ClassifierLatentDetector:
        """Load a saved model; pass ``classifier`` (same architecture) if it was custom."""
        from serendip.io.modelfile import load_model

        arrays, settings, _kind = load_model(path, cls.kind)
        try:
            obj = cls(**(settings["params"] | {"classifier": classifier}))
            obj.threshold_ = float(settings["threshold"])
            obj.n_features_in_ = int(settings["n_features_in"])
            obj._set_state(arrays, settings["state"])
        except ModelFileError as exc:
            raise ModelFileError(path, exc.problem) from exc
        except Exception as exc:  # noqa: BLE001
            raise ModelFileError(
                path, f"model contents do not fit a {cls.kind} detector: {exc}"
            ) from exc
        return obj
