"""Hierarchical routing detector (ALeRCE anomaly detector; Perez-Carrasco et al. 2023).

A top-level classifier assigns each object to a *branch* (e.g. transient /
stochastic / periodic) and the anomaly detector of that branch, trained only on
that branch's known objects, scores it.

Raw scores of different detectors (or of one detector on different branches) are
not on one scale, so every branch score is calibrated against that branch's own
training scores (leave-self-out where the detector provides them):

* inside the training range: the within-branch training-score quantile,
  ``q(s)`` = linear interpolation of ``s`` in the sorted training scores at levels
  ``(i + 0.5) / n``, so ``q`` is in (0, 1) and means "more anomalous than a fraction
  q of the branch's training objects";
* above the largest training score ``s_max``: ``1 + log1p((s - s_max) / IQR)``,
  with IQR the branch's inter-quartile range of training scores - so objects beyond
  every training object keep their order instead of all tying at 1.

Calibrated scores are comparable across branches; ``threshold_`` (from
``contamination``) is taken on the calibrated training scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from serendip.detect import _torch as T
from serendip.detect._common import (
    ScaledDetector,
    classes_from_json,
    classes_to_json,
    encode_labels,
    pack_detector,
    unpack_detector,
)
from serendip.detect.latent import MLPClassifierNet, train_classifier
from serendip.errors import InputError, ModelFileError


def calibrate(scores: np.ndarray, reference_sorted: np.ndarray) -> np.ndarray:
    """Map raw scores to the comparable scale described in the module docstring."""
    ref = reference_sorted
    n = len(ref)
    levels = (np.arange(n) + 0.5) / n
    q = np.interp(scores, ref, levels)
    s_max = ref[-1]
    iqr = float(np.subtract(*np.quantile(ref, [0.75, 0.25])))
    if not iqr > 0:
        iqr = float(np.std(ref)) or 1e-12
    above = scores > s_max
    q[above] = 1.0 + np.log1p((scores[above] - s_max) / iqr)
    return q


class HierarchicalRouter(ScaledDetector):
    """Route each object to its branch's detector, with scores made comparable.

    Parameters
    ----------
    branches : mapping ``branch name -> list of classes`` (e.g. ``{"periodic": ["RRL",
        "CEP"], "transient": ["SNIa", "SNII"]}``); every training label must be in
        exactly one branch. None: each class is its own branch.
    detector : name of the per-branch detector (see :data:`serendip.detect.DETECTORS`).
    detector_params : keyword arguments of the per-branch detectors; multi-class
        detectors (MCIF, MCDSVDD, ...) get the fine class labels of their branch.
    hidden_sizes : hidden widths of the top-level (router) classifier.
    max_epochs, patience, batch_size, lr, validation_fraction : router training.
    scale : standardise features before routing and branch detection.
    contamination : training fraction above ``threshold_`` (calibrated scale).
    random_state : seed of the router and of the branch detectors.
    verbose : progress bars while training.
    """

    kind: ClassVar[str] = "detect.HierarchicalRouter"
    needs_labels: ClassVar[bool] = True

    def __init__(
        self,
        branches: dict[str, Sequence] | None = None,
        detector: str = "iforest",
        detector_params: dict[str, Any] | None = None,
        hidden_sizes: Sequence[int] = (64, 32),
        max_epochs: int = 100,
        patience: int = 10,
        batch_size: int = 256,
        lr: float = 1e-3,
        validation_fraction: float = 0.1,
        scale: bool = True,
        contamination: float = 0.01,
        random_state: int | None = 0,
        verbose: bool = False,
    ):
        self.branches = branches
        self.detector = detector
        self.detector_params = detector_params
        self.hidden_sizes = hidden_sizes
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.lr = lr
        self.validation_fraction = validation_fraction
        self.scale = scale
        self.contamination = contamination
        self.random_state = random_state
        self.verbose = verbose

    # ---------------------------------------------------------------- fit
    def _branch_of(self, labels: np.ndarray) -> np.ndarray:
        if self.branches is None:
            return labels.astype(str)
        lookup: dict[str, str] = {}
        for name, members in self.branches.items():
            for m in members:
                if str(m) in lookup:
                    raise ValueError(
                        f"class {m!r} is in two branches ({lookup[str(m)]!r}, {name!r})"
                    )
                lookup[str(m)] = str(name)
        keys = labels.astype(str)
        unknown = sorted(set(np.unique(keys)) - set(lookup))
        if unknown:
            raise InputError(
                None, f"class(es) {unknown[:10]} are in no branch of {sorted(lookup.values())}"
            )
        return np.array([lookup[k] for k in keys])

    def _new_branch_detector(self):
        from serendip.detect.registry import make_detector

        params = dict(self.detector_params or {})
        params.setdefault("contamination", self.contamination)
        det = make_detector(self.detector, **params)
        if "random_state" in det.get_params() and "random_state" not in params:
            det.set_params(random_state=self.random_state)
        if "verbose" in det.get_params() and "verbose" not in params:
            det.set_params(verbose=self.verbose)
        return det

    def _fit_scaled(self, Xs, y):
        labels = np.asarray(y)
        self.classes_, codes = encode_labels(labels, Xs.shape[0])
        fine = self.classes_[codes]
        self.branches_, bcodes = encode_labels(self._branch_of(fine), Xs.shape[0])
        with T.seeded(self.random_state):
            self.router_ = MLPClassifierNet(
                self.n_features_in_, list(self.hidden_sizes), 16, len(self.branches_)
            )
            self.router_history_ = train_classifier(
                self.router_,
                Xs,
                bcodes,
                len(self.branches_),
                max_epochs=self.max_epochs,
                patience=self.patience,
                batch_size=self.batch_size,
                lr=self.lr,
                weight_decay=0.0,
                validation_fraction=self.validation_fraction,
                seed=self.random_state,
                verbose=self.verbose,
                description="router",
            )
        self.branch_detectors_, self.reference_ = [], []
        train_scores = np.empty(Xs.shape[0])
        for b in range(len(self.branches_)):
            rows = bcodes == b
            det = self._new_branch_detector()
            det.fit(Xs[rows], fine[rows] if getattr(det, "needs_labels", False) else None)
            raw = getattr(det, "training_scores_", None)
            raw = det.score_samples(Xs[rows]) if raw is None else raw
            ref = np.sort(np.asarray(raw, dtype=np.float64))
            self.branch_detectors_.append(det)
            self.reference_.append(ref)
            train_scores[rows] = calibrate(raw, ref)
        self._train_scores = train_scores

    # ------------------------------------------------------------ routing
    def branch_proba(self, X) -> np.ndarray:
        """Router probabilities (n_samples, n_branches); columns = ``branches_``."""
        self._check_fitted()
        return self._proba(self.transform_features(self._check_X(X)))

    def _proba(self, Xs: np.ndarray) -> np.ndarray:
        return T.predict_batches(
            lambda xb: torch.softmax(self.router_(xb), dim=1), Xs, modules=[self.router_]
        )

    def predict_branch(self, X) -> np.ndarray:
        """Branch each row is routed to, (n_samples,) of names from ``branches_``."""
        return self.branches_[np.argmax(self.branch_proba(X), axis=1)]

    def score_routed(self, X, branches) -> np.ndarray:
        """Calibrated scores with the branch of each row given (e.g. by an external classifier)."""
        self._check_fitted()
        Xs = self.transform_features(self._check_X(X))
        branches = np.asarray(branches).astype(str)
        if branches.shape != (Xs.shape[0],):
            raise InputError(
                None, f"branches must have shape ({Xs.shape[0]},); got {branches.shape}"
            )
        index = {str(b): i for i, b in enumerate(self.branches_)}
        unknown = sorted(set(np.unique(branches)) - set(index))
        if unknown:
            raise InputError(None, f"unknown branch(es) {unknown}; known: {list(self.branches_)}")
        return self._score_codes(Xs, np.array([index[b] for b in branches], dtype=np.int64))

    def _score_codes(self, Xs: np.ndarray, codes: np.ndarray) -> np.ndarray:
        out = np.empty(Xs.shape[0])
        for b, det in enumerate(self.branch_detectors_):
            rows = codes == b
            if rows.any():
                out[rows] = calibrate(det.score_samples(Xs[rows]), self.reference_[b])
        return out

    def _score_scaled(self, Xs):
        return self._score_codes(Xs, np.argmax(self._proba(Xs), axis=1))

    # -------------------------------------------------------- persistence
    def _model_state(self):
        arrays = T.state_arrays(self.router_, "router")
        metas = []
        for b, det in enumerate(self.branch_detectors_):
            a, meta = pack_detector(det, f"branch{b}")
            arrays.update(a)
            arrays[f"reference{b}"] = self.reference_[b]
            metas.append(meta)
        state = {
            "classes": classes_to_json(self.classes_),
            "branches": classes_to_json(self.branches_),
            "branch_detectors": metas,
        }
        return arrays, state

    def _set_model_state(self, arrays, state):
        self.classes_ = classes_from_json(state["classes"])
        self.branches_ = classes_from_json(state["branches"])
        metas = state["branch_detectors"]
        if len(metas) != len(self.branches_):
            raise ModelFileError(
                None, "router stores a different number of branch detectors than branches"
            )
        self.router_ = MLPClassifierNet(
            self.n_features_in_, list(self.hidden_sizes), 16, len(self.branches_)
        )
        T.load_state_arrays(self.router_, arrays, prefix="router")
        self.branch_detectors_ = [
            unpack_detector(arrays, m, f"branch{b}") for b, m in enumerate(metas)
        ]
        self.reference_ = []
        for b in range(len(self.branches_)):
            ref = arrays.get(f"reference{b}")
            if ref is None or ref.ndim != 1 or len(ref) == 0 or np.any(np.diff(ref) < 0):
                raise ModelFileError(None, f"calibration scores of branch {b} missing or unsorted")
            self.reference_.append(np.asarray(ref, dtype=np.float64))
