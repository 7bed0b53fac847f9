"""Deep SVDD (Ruff et al. 2018) and its multi-class form (ALeRCE's MCDSVDD).

The network ``phi`` is a dense network *without bias terms* (a bias would let it map
everything onto the centre - the hypersphere collapse) with leaky-ReLU activations.
Training has two phases:

1. warm start: ``phi`` is the encoder of an autoencoder (bias-free decoder too),
   trained on reconstruction error;
2. the centre ``c`` is the mean of ``phi(x)`` over the training rows (coordinates
   closer to 0 than ``eps`` pushed to +-eps), then ``phi`` is trained to minimise
   ``mean ||phi(x) - c||^2`` (with weight decay); ``c`` is fixed.

Score: ``||phi(x) - c||^2``, higher = more anomalous. The multi-class version keeps
one centre per known class (class means of the warm-started ``phi``), pulls every
training object towards its *own* class centre, and scores by the squared distance
to the *nearest* centre. The centres used in training are stored and used for
scoring; ``score_matrix`` returns the distances to every centre with ``classes_``
giving the column order.

``loss_history_`` holds the SVDD-phase training loss, entry 0 being the loss at the
warm-start weights before any SVDD update.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from serendip.detect import _torch as T
from serendip.detect._common import classes_from_json, classes_to_json, encode_labels
from serendip.detect.autoencoder import _DeepDetector
from serendip.errors import ModelFileError


def _push_from_zero(c: torch.Tensor, eps: float) -> torch.Tensor:
    c = c.clone()
    small = c.abs() < eps
    c[small & (c < 0)] = -eps
    c[small & (c >= 0)] = eps
    return c


class _SVDDNets(nn.Module):
    def __init__(self, n_features: int, hidden_sizes: Sequence[int], rep_dim: int):
        super().__init__()
        sizes = [n_features, *hidden_sizes, rep_dim]
        self.phi = T.mlp(sizes, bias=False, activation=nn.LeakyReLU)
        self.decoder = T.mlp(sizes[::-1], bias=False, activation=nn.LeakyReLU)


class DeepSVDD(_DeepDetector):
    """One-class Deep SVDD with an autoencoder warm start; score = ||phi(x) - c||^2.

    Parameters
    ----------
    hidden_sizes : widths of phi's hidden layers.
    rep_dim : output dimension of phi.
    pretrain_epochs : maximum autoencoder warm-start epochs (early stopping applies).
    eps : smallest allowed |c_j|.
    other parameters : as :class:`~serendip.detect.Autoencoder`.
    """

    kind: ClassVar[str] = "detect.DeepSVDD"

    def __init__(
        self,
        hidden_sizes: Sequence[int] = (64, 32),
        rep_dim: int = 16,
        pretrain_epochs: int = 50,
        eps: float = 0.1,
        max_epochs: int = 100,
        patience: int = 10,
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 1e-6,
        validation_fraction: float = 0.1,
        scale: bool = True,
        contamination: float = 0.01,
        random_state: int | None = 0,
        verbose: bool = False,
    ):
        self.hidden_sizes = hidden_sizes
        self.rep_dim = rep_dim
        self.pretrain_epochs = pretrain_epochs
        self.eps = eps
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

    # -------------------------------------------------------------- fit
    def _build(self) -> None:
        self.nets_ = _SVDDNets(self.n_features_in_, list(self.hidden_sizes), int(self.rep_dim))

    def _pretrain(self, Xs: np.ndarray) -> None:
        nets = self.nets_
        kw = self._train_kwargs() | {"max_epochs": self.pretrain_epochs}
        self.pretrain_history_ = T.train_rows(
            nets,
            lambda xb, _yb: ((nets.decoder(nets.phi(xb)) - xb) ** 2).mean(),
            Xs,
            description="warm start (autoencoder)",
            **kw,
        )

    def embed(self, X) -> np.ndarray:
        """phi(x) for each row, (n_samples, rep_dim)."""
        self._check_fitted()
        Xs = self.transform_features(self._check_X(X))
        return T.predict_batches(self.nets_.phi, Xs, modules=[self.nets_])

    def _fit_scaled(self, Xs, y):
        with T.seeded(self.random_state):
            self._build()
            self._pretrain(Xs)
            with torch.no_grad():
                phi = torch.as_tensor(
                    T.predict_batches(self.nets_.phi, Xs, modules=[self.nets_]),
                    dtype=torch.float32,
                )
            self._set_centres(phi, y)
            history = T.train_rows(
                self.nets_.phi,
                self._svdd_loss,
                Xs,
                self._train_labels,
                description=type(self).__name__,
                **self._train_kwargs(),
            )
        self.loss_history_ = history["train_loss"]
        self.val_loss_history_ = history["val_loss"]

    def _set_centres(self, phi: torch.Tensor, y) -> None:
        self.center_ = _push_from_zero(phi.mean(dim=0), float(self.eps))
        self._train_labels = None

    def _svdd_loss(self, xb: torch.Tensor, _yb) -> torch.Tensor:
        return ((self.nets_.phi(xb) - self.center_.to(xb.device)) ** 2).sum(dim=1).mean()

    def _score_scaled(self, Xs):
        return T.predict_batches(
            lambda xb: ((self.nets_.phi(xb) - self.center_.to(xb.dtype)) ** 2).sum(dim=1),
            Xs,
            modules=[self.nets_],
        )

    # ------------------------------------------------------ persistence
    def _model_state(self):
        arrays = T.state_arrays(self.nets_, "nets")
        arrays["center"] = self.center_.numpy().copy()
        return arrays, {}

    def _set_model_state(self, arrays, state):
        self._build()
        T.load_state_arrays(self.nets_, arrays, prefix="nets")
        c = arrays.get("center")
        if c is None or c.shape != (int(self.rep_dim),):
            raise ModelFileError(None, "Deep SVDD centre missing or of the wrong shape")
        self.center_ = torch.from_numpy(np.array(c, dtype=np.float32))


class MultiClassDeepSVDD(DeepSVDD):
    """Multi-class Deep SVDD: one centre per known class, score = distance to the nearest.

    ``fit(X, y)`` needs the class labels ``y``. ``centers_`` (n_classes, rep_dim) are
    the class means of the warm-started phi (pushed from 0 by ``eps``); each training
    row is pulled to the centre of its own class. ``classes_`` gives the row order of
    ``centers_`` and the column order of :meth:`score_matrix`.
    """

    kind: ClassVar[str] = "detect.MultiClassDeepSVDD"
    needs_labels: ClassVar[bool] = True

    def _set_centres(self, phi: torch.Tensor, y) -> None:
        classes, codes = encode_labels(y, phi.shape[0])
        self.classes_ = classes
        idx = torch.as_tensor(codes)
        sums = torch.zeros(len(classes), phi.shape[1]).index_add_(0, idx, phi)
        counts = torch.bincount(idx, minlength=len(classes)).to(phi.dtype)[:, None]
        self.centers_ = _push_from_zero(sums / counts, float(self.eps))
        self._train_labels = codes

    def _svdd_loss(self, xb: torch.Tensor, yb) -> torch.Tensor:
        return ((self.nets_.phi(xb) - self.centers_.to(xb.device)[yb]) ** 2).sum(dim=1).mean()

    def _distances(self, Xs: np.ndarray) -> np.ndarray:
        return T.predict_batches(
            lambda xb: torch.cdist(self.nets_.phi(xb), self.centers_.to(xb.dtype)) ** 2,
            Xs,
            modules=[self.nets_],
        )

    def score_matrix(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Squared distances to every class centre, ``(scores (n_samples, n_classes), classes)``.

        Column k is the distance to the centre of ``classes[k]``; ``classes`` is ``classes_``.
        """
        self._check_fitted()
        return self._distances(self.transform_features(self._check_X(X))), self.classes_.copy()

    def _score_scaled(self, Xs):
        return self._distances(Xs).min(axis=1)

    def _model_state(self):
        arrays = T.state_arrays(self.nets_, "nets")
        arrays["centers"] = self.centers_.numpy().copy()
        return arrays, {"classes": classes_to_json(self.classes_)}

    def _set_model_state(self, arrays, state):
        self._build()
        T.load_state_arrays(self.nets_, arrays, prefix="nets")
        self.classes_ = classes_from_json(state["classes"])
        c = arrays.get("centers")
        if c is None or c.shape != (len(self.classes_), int(self.rep_dim)):
            raise ModelFileError(None, "class centres missing or not one per stored class")
        self.centers_ = torch.from_numpy(np.array(c, dtype=np.float32))
