"""Ready light-curve anomaly detection (astromcad's ``Detect`` and ``Custom``), prefix scores and plots.

* :func:`score_lightcurves` scores a user's light-curve table in one call with the model shipped
  in the package (a GRU classifier trained on :mod:`serendip.simulate.optical`, plus an isolation
  forest on its latent layer; see ``src/serendip/models/LIGHTCURVE.md``).
* :class:`LightCurveAnomalyDetector` trains the same pipeline on any labelled light curves
  (classifier -> penultimate-layer latent -> single isolation forest or MCIF).
* :class:`CustomLatentDetector` takes a user's own trained ``torch.nn.Module`` and the name of its
  latent layer, captures that layer with a forward hook and puts the forest on it.
* ``score_prefixes`` gives the score after every observation (the light curve as it grows) and
  :func:`plot_score_history` draws it above the light curve.

Scores: higher = more anomalous. The forest is stored as the latent vectors it was fitted on
(plus its seed) and refitted deterministically on load, so model files hold only arrays and JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from serendip.errors import InputError, ModelFileError
from serendip.paths import models_dir
from serendip.represent.lc_sequences import (
    CONTEXT_COLUMNS,
    LightCurveSequences,
    lightcurve_sequences,
)

KIND = "detect.LightCurveAnomalyDetector"
DEFAULT_MODEL_PATH = models_dir() / "lc_gru_default.safetensors"


# ------------------------------------------------------------------------------ forests on latents
class _ForestIF:
    """Single isolation forest; score = -sklearn score_samples (higher = more anomalous)."""

    def __init__(self, n_estimators: int, seed: int):
        self.n_estimators, self.seed = n_estimators, seed

    def fit(self, Z, y=None):
        try:
            from serendip.detect import IForest  # the project's detector when available

            self.model = IForest(n_estimators=self.n_estimators, random_state=self.seed)
            self.model.fit(Z)
            self._flip = False
        except ImportError:
            from sklearn.ensemble import IsolationForest

            self.model = IsolationForest(
                n_estimators=self.n_estimators, random_state=self.seed
            ).fit(Z)
            self._flip = True
        return self

    def score(self, Z) -> np.ndarray:
        s = self.model.score_samples(Z)
        return -s if self._flip else np.asarray(s, dtype=np.float64)


class _ForestMCIF:
    """One isolation forest per known class; score = minimum over classes.

    ``classes_`` is the sorted class list and column j of :meth:`score_matrix` is the forest of
    ``classes_[j]`` - the same order in which the forests were built (astromcad labels them
    in a different order than it computes them; not here).
    """

    def __init__(self, n_estimators: int, seed: int):
        self.n_estimators, self.seed = n_estimators, seed

    def fit(self, Z, y):
        y = np.asarray(y).astype(str)
        self.classes_ = np.unique(y)
        try:
            from serendip.detect import MCIF  # the project's detector when available

            self.model = MCIF(n_estimators=self.n_estimators, random_state=self.seed).fit(Z, y)
            if list(np.asarray(self.model.classes_).astype(str)) != list(self.classes_):
                raise RuntimeError("MCIF class order differs")
        except ImportError:
            from sklearn.ensemble import IsolationForest

            self.model = None
            self.forests_ = [
                IsolationForest(n_estimators=self.n_estimators, random_state=self.seed).fit(
                    Z[y == c]
                )
                for c in self.classes_
            ]
        return self

    def score_matrix(self, Z) -> np.ndarray:
        """(n, n_classes) scores; column j = forest of ``classes_[j]``."""
        if self.model is not None:
            mat, classes = self.model.score_matrix(Z)
            assert list(np.asarray(classes).astype(str)) == list(self.classes_)
            return np.asarray(mat, dtype=np.float64)
        return np.column_stack([-f.score_samples(Z) for f in self.forests_])

    def score(self, Z) -> np.ndarray:
        return self.score_matrix(Z).min(axis=1)


def _make_forest(kind: str, n_estimators: int, seed: int):
    if kind == "iforest":
        return _ForestIF(n_estimators, seed)
    if kind == "mcif":
        return _ForestMCIF(n_estimators, seed)
    raise ValueError(f"detector must be 'iforest' or 'mcif', not {kind!r}")


# ------------------------------------------------------------------------------ shared machinery
class _LatentAnomalyBase:
    """Sequences -> latent vectors -> forest score; subclasses provide the latents."""

    detector: str
    n_estimators: int
    seed: int
    max_len: int
    time_scale: float
    flux_scale: float
    detector_fit_per_class: int | None

    def sequences(
        self, table: pd.DataFrame, context: pd.DataFrame | None = None
    ) -> LightCurveSequences:
        """Padded sequences of ``table`` in this model's scaling (context from ``context`` if given)."""
        if context is not None and not all(c in context.columns for c in CONTEXT_COLUMNS):
            context = None
        return lightcurve_sequences(
            table,
            max_len=self.max_len,
            time_scale=self.time_scale,
            flux_scale=self.flux_scale,
            context=context,
        )

    # subclasses: _latents(seqs) -> (N, L); _prefix_latents(seqs) -> list of (len_i, L); classes_; _proba(Z)
    def _fit_forest(self, Z: np.ndarray, y: np.ndarray) -> None:
        y = np.asarray(y).astype(str)
        if self.detector_fit_per_class:
            rng = np.random.default_rng(self.seed)
            keep = []
            for c in np.unique(y):
                idx = np.flatnonzero(y == c)
                keep.append(
                    rng.choice(idx, size=min(len(idx), self.detector_fit_per_class), replace=False)
                )
            keep = np.sort(np.concatenate(keep))
            Z, y = Z[keep], y[keep]
        self.fit_latents_ = np.asarray(Z, dtype=np.float32)
        self.fit_labels_ = y
        self.forest_ = _make_forest(self.detector, self.n_estimators, self.seed).fit(
            self.fit_latents_.astype(np.float64), y
        )

    def score_sequences(self, seqs: LightCurveSequences) -> np.ndarray:
        """Anomaly score per light curve (N,), higher = more anomalous."""
        return self.forest_.score(self._latents(seqs).astype(np.float64))

    def score(self, table: pd.DataFrame, context: pd.DataFrame | None = None) -> pd.DataFrame:
        """Per object: ``object_id``, ``score`` (higher = more anomalous), ``predicted_class`` and
        ``p_<class>`` probabilities (column order = ``classes_``)."""
        seqs = self.sequences(table, context)
        Z = self._latents(seqs)
        out = pd.DataFrame(
            {"object_id": seqs.object_ids, "score": self.forest_.score(Z.astype(np.float64))}
        )
        self._domain_columns(out, seqs, Z)
        proba = self._proba(Z)
        if proba is not None:
            out["predicted_class"] = self.classes_[np.argmax(proba, axis=1)]
            for j, c in enumerate(self.classes_):
                out[f"p_{c}"] = proba[:, j]
        return out

    def fit_domain(self, seqs: LightCurveSequences, Z: np.ndarray) -> None:
        """Fit the out-of-domain check (:mod:`serendip.detect.lc_domain`) on training curves."""
        from serendip.detect.lc_domain import DomainCheck, sequence_descriptors

        self.domain_ = DomainCheck().fit(sequence_descriptors(seqs), Z)

    def _domain_columns(self, out: pd.DataFrame, seqs: LightCurveSequences, Z) -> None:
        """Add ``domain_score`` and ``out_of_domain`` to ``out`` and count the out-of-domain
        curves in a notice; a model saved without domain statistics says so once."""
        from serendip.detect.lc_domain import sequence_descriptors, warn_out_of_domain
        from serendip.notices import notice

        domain = getattr(self, "domain_", None)
        if domain is None:
            notice(
                "detect", "no_domain_check",
                "this light-curve model has no training-domain statistics, so curves unlike its "
                "training data cannot be flagged (refit or retrain it to add them)",
                count=len(out), total=len(out), severity="info",
            )  # fmt: skip
            return
        ds = domain.score(sequence_descriptors(seqs), Z)
        out["domain_score"] = ds
        out["out_of_domain"] = ds > domain.threshold_
        warn_out_of_domain(out["out_of_domain"].to_numpy())

    def score_prefixes(
        self, table: pd.DataFrame, context: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Score after each observation: one row per (object, prefix) with ``object_id``, ``n_obs``
        (prefix length, 1..n), ``time`` [days] of its last point and ``score``. An object with n
        observations (n <= max_len) gets exactly n rows."""
        seqs = self.sequences(table, context)
        per_obj = self._prefix_latents(seqs)
        lengths = np.array([len(z) for z in per_obj])
        Z = np.concatenate(per_obj).astype(np.float64)
        scores = self.forest_.score(Z)
        n_obs = np.concatenate([np.arange(1, k + 1) for k in lengths])
        rows = np.repeat(np.arange(len(lengths)), lengths)
        return pd.DataFrame(
            {
                "object_id": np.repeat(seqs.object_ids, lengths),
                "n_obs": n_obs,
                "time": seqs.time[rows, n_obs - 1],
                "score": scores,
            }
        )

    def plot_real_time(
        self, table: pd.DataFrame, object_id: str, context: pd.DataFrame | None = None, path=None
    ):
        """Plot the score against time above the light curve of ``object_id``; returns the figure."""
        sub = table[table["object_id"].astype(str) == str(object_id)]
        if sub.empty:
            raise InputError(None, f"object {object_id!r} is not in the light-curve table")
        ctx = (
            None if context is None else context[context["object_id"].astype(str) == str(object_id)]
        )
        hist = self.score_prefixes(sub, ctx)
        return plot_score_history(sub, hist, path=path, threshold=getattr(self, "threshold_", None))

    def _forest_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays = {"forest.latents": self.fit_latents_}
        labels = [str(c) for c in self.fit_labels_]
        uniq = sorted(set(labels))
        arrays["forest.label_index"] = np.searchsorted(np.asarray(uniq), np.asarray(labels)).astype(
            np.int32
        )
        settings = {"label_names": uniq, "threshold": getattr(self, "threshold_", None)}
        if getattr(self, "domain_", None) is not None:
            d_arrays, settings["domain"] = self.domain_.state()
            arrays.update(d_arrays)
        return arrays, settings

    def _restore_forest(self, arrays: dict[str, np.ndarray], settings: dict[str, Any]) -> None:
        names = np.asarray(settings["label_names"])
        self.fit_latents_ = np.asarray(arrays["forest.latents"], dtype=np.float32)
        self.fit_labels_ = names[np.asarray(arrays["forest.label_index"])]
        self.forest_ = _make_forest(self.detector, self.n_estimators, self.seed).fit(
            self.fit_latents_.astype(np.float64), self.fit_labels_
        )
        if settings.get("threshold") is not None:
            self.threshold_ = float(settings["threshold"])
        self.domain_ = None
        if settings.get("domain") is not None:
            from serendip.detect.lc_domain import DomainCheck

            self.domain_ = DomainCheck.from_state(arrays, settings["domain"])


class LightCurveAnomalyDetector(_LatentAnomalyBase):
    """GRU classifier + forest on its latent layer (astromcad's method), trained on labelled light curves.

    Parameters
    ----------
    classifier : a :class:`serendip.features.lc_classifier.GRUClassifier` (default settings if None).
    detector : ``"iforest"`` (one forest on all latents) or ``"mcif"`` (one per class, min score).
    max_len, time_scale, flux_scale : sequence form (see :func:`lightcurve_sequences`).
    detector_fit_per_class : at most this many objects per class fit the forest (None = all).
    n_estimators, seed : forest size and seed.
    budget : inspection budget (fraction) that sets ``threshold_`` on the training scores.
    """

    def __init__(
        self,
        classifier=None,
        detector: str = "iforest",
        max_len: int = 112,
        time_scale: float = 100.0,
        flux_scale: float = 100.0,
        detector_fit_per_class: int | None = 300,
        n_estimators: int = 200,
        seed: int = 0,
        budget: float = 0.15,
    ):
        self.classifier = classifier
        self.detector = detector
        self.max_len = max_len
        self.time_scale = time_scale
        self.flux_scale = flux_scale
        self.detector_fit_per_class = detector_fit_per_class
        self.n_estimators = n_estimators
        self.seed = seed
        self.budget = budget

    @property
    def classes_(self) -> np.ndarray:
        """Known classes of the classifier, in column order."""
        return self.classifier.classes_

    def fit(self, table: pd.DataFrame, labels: pd.DataFrame) -> LightCurveAnomalyDetector:
        """Train on a light-curve table and ``labels`` (object_id, label[, redshift, mw_ebv])."""
        from serendip.features.lc_classifier import GRUClassifier

        if "object_id" not in labels.columns or "label" not in labels.columns:
            raise InputError(None, "labels need columns object_id and label")
        lab = (
            labels.assign(object_id=labels["object_id"].astype(str))
            .drop_duplicates("object_id")
            .set_index("object_id")["label"]
        )
        ids = pd.unique(table["object_id"].astype(str))
        unlabelled = list(ids[~np.isin(ids, lab.index.to_numpy())])
        if unlabelled:
            raise InputError(
                None, f"no label for {len(unlabelled)} object(s), e.g. {unlabelled[:5]}"
            )
        seqs = self.sequences(table, labels)
        y = lab.reindex(seqs.object_ids.astype(str))
        if self.classifier is None:
            self.classifier = GRUClassifier(seed=self.seed)
        self.classifier.fit(seqs, y.to_numpy())
        Z = self.classifier.latent(seqs)
        self._fit_forest(Z, y.to_numpy())
        self.fit_domain(seqs, Z)
        self.threshold_ = float(
            np.quantile(self.forest_.score(self.fit_latents_.astype(np.float64)), 1 - self.budget)
        )
        return self

    def _latents(self, seqs):
        return self.classifier.latent(seqs)

    def _prefix_latents(self, seqs):
        z = self.classifier.step_latents(seqs)
        return [z[i, : max(int(k), 1)] for i, k in enumerate(seqs.lengths)]

    def _proba(self, Z):
        return self.classifier.proba_from_latent(Z)

    def classify(self, table: pd.DataFrame, context: pd.DataFrame | None = None) -> pd.DataFrame:
        """Class probabilities per object (index object_id, columns ``classes_``)."""
        seqs = self.sequences(table, context)
        return pd.DataFrame(
            self.classifier.predict_proba(seqs),
            index=pd.Index(seqs.object_ids, name="object_id"),
            columns=self.classes_,
        )

    def save(self, path: str | Path) -> Path:
        """Save classifier and latent detector to one safetensors file; returns the path."""
        from serendip.io.modelfile import save_model

        arrays, clf_settings = self.classifier.state()
        f_arrays, f_settings = self._forest_state()
        arrays.update(f_arrays)
        params = {
            k: getattr(self, k)
            for k in (
                "detector",
                "max_len",
                "time_scale",
                "flux_scale",
                "detector_fit_per_class",
                "n_estimators",
                "seed",
                "budget",
            )
        }
        return save_model(
            path, KIND, arrays, {"params": params, "classifier": clf_settings, "forest": f_settings}
        )

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL_PATH) -> LightCurveAnomalyDetector:
        """Load a model written by :meth:`save` (default: the shipped model)."""
        from serendip.features.lc_classifier import GRUClassifier
        from serendip.io.modelfile import load_model

        arrays, settings, _ = load_model(path, KIND)
        try:
            obj = cls(**settings["params"])
            obj.classifier = GRUClassifier.from_state(arrays, settings["classifier"])
            obj._restore_forest(arrays, settings["forest"])
        except Exception as exc:  # noqa: BLE001
            raise ModelFileError(
                path, f"contents do not fit a light-curve anomaly detector: {exc}"
            ) from exc
        return obj


class CustomLatentDetector(_LatentAnomalyBase):
    """A user's trained torch classifier + forest on one of its layers (astromcad's ``Custom``).

    Parameters
    ----------
    module : a trained ``torch.nn.Module`` called as ``module(x)`` or ``module(x, context)`` with
        x of shape (N, T, 4) float32 (the sequence form of :func:`lightcurve_sequences`).
    latent_layer : name of the submodule whose output is the latent space (as in
        ``module.named_modules()``); its output must be (N, L) or (N, T, L) (then the step of the
        last real observation is used).
    classes : class names of the module's outputs (optional; enables probabilities).
    detector, max_len, time_scale, flux_scale, n_estimators, seed, detector_fit_per_class :
        as in :class:`LightCurveAnomalyDetector`.
    """

    def __init__(
        self,
        module,
        latent_layer: str,
        classes=None,
        detector: str = "iforest",
        use_context: bool = False,
        max_len: int = 112,
        time_scale: float = 100.0,
        flux_scale: float = 100.0,
        n_estimators: int = 200,
        seed: int = 0,
        detector_fit_per_class: int | None = None,
    ):
        names = dict(module.named_modules())
        if latent_layer not in names:
            raise InputError(
                None,
                f"module has no layer {latent_layer!r}; layers: {[n for n in names if n][:20]}",
            )
        self.module = module
        self.latent_layer = latent_layer
        self.classes_ = None if classes is None else np.asarray(classes).astype(str)
        self.detector = detector
        self.use_context = use_context
        self.max_len = max_len
        self.time_scale = time_scale
        self.flux_scale = flux_scale
        self.n_estimators = n_estimators
        self.seed = seed
        self.detector_fit_per_class = detector_fit_per_class

    def _run(self, X: np.ndarray, C: np.ndarray | None, lengths: np.ndarray):
        import torch

        layer = dict(self.module.named_modules())[self.latent_layer]
        captured = {}
        handle = layer.register_forward_hook(
            lambda _m, _i, out: captured.__setitem__("z", out[0] if isinstance(out, tuple) else out)
        )
        self.module.eval()
        try:
            with torch.no_grad():
                x = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
                logits = (
                    self.module(x, torch.from_numpy(C))
                    if (self.use_context and C is not None)
                    else self.module(x)
                )
        finally:
            handle.remove()
        z = captured["z"].detach().numpy()
        if z.ndim == 3:
            z = z[np.arange(len(z)), np.maximum(lengths - 1, 0)]
        if logits.ndim == 3:
            logits = logits[torch.arange(len(logits)), torch.from_numpy(np.maximum(lengths - 1, 0))]
        return z, torch.softmax(logits, dim=-1).numpy()

    def _latents(self, seqs):
        out = []
        for s in range(0, len(seqs.X), 512):
            c = None if seqs.context is None else seqs.context[s : s + 512]
            out.append(self._run(seqs.X[s : s + 512], c, seqs.lengths[s : s + 512])[0])
        return np.concatenate(out)

    def _prefix_latents(self, seqs):
        res = []
        steps = np.arange(seqs.X.shape[1])
        for i, n in enumerate(seqs.lengths):  # one batch of all prefixes per object
            n = max(int(n), 1)
            k = np.arange(1, n + 1)
            Xp = seqs.X[i][None, :, :] * (steps[None, :] < k[:, None])[:, :, None]
            C = None if seqs.context is None else np.repeat(seqs.context[i : i + 1], n, axis=0)
            res.append(self._run(Xp.astype(np.float32), C, k)[0])
        return res

    def _proba(self, Z):
        return None

    def fit(self, table: pd.DataFrame, labels: pd.DataFrame) -> CustomLatentDetector:
        """Fit the forest on the latents of labelled light curves (the module is not retrained)."""
        seqs = self.sequences(table, labels if self.use_context else None)
        lab = (
            labels.assign(object_id=labels["object_id"].astype(str))
            .drop_duplicates("object_id")
            .set_index("object_id")["label"]
        )
        y = lab.reindex(seqs.object_ids.astype(str))
        if y.isna().any():
            raise InputError(None, f"no label for object(s) {list(y.index[y.isna()][:5])}")
        Z = self._latents(seqs)
        self._fit_forest(Z, y.to_numpy())
        self.fit_domain(seqs, Z)
        return self


# ------------------------------------------------------------------------------ one-call API
_DEFAULT: LightCurveAnomalyDetector | None = None


def load_default() -> LightCurveAnomalyDetector:
    """The light-curve anomaly detector shipped with serendip (cached after the first call)."""
    global _DEFAULT
    if _DEFAULT is None:
        if not DEFAULT_MODEL_PATH.is_file():
            raise ModelFileError(
                DEFAULT_MODEL_PATH,
                "shipped model missing; run python -m serendip.detect.lc_detect --train-default",
            )
        _DEFAULT = LightCurveAnomalyDetector.load(DEFAULT_MODEL_PATH)
    return _DEFAULT


def score_lightcurves(table: pd.DataFrame, context: pd.DataFrame | None = None) -> pd.DataFrame:
    """Score light curves with the shipped model, no training needed.

    ``table`` is a standard light-curve table (flux in microJansky or AB magnitudes, ZTF-like g/r
    bands, time in days); ``context`` optionally gives object_id, redshift, mw_ebv (unknown context is
    filled with redshift 0 and E(B-V) 0.05). Returns object_id, score (higher = more anomalous),
    predicted_class and per-class probabilities.
    """
    det = load_default()
    if det.classifier.n_context_:
        ids = pd.Series(table["object_id"].astype(str).unique(), name="object_id")
        base = pd.DataFrame({"object_id": ids, "redshift": 0.0, "mw_ebv": 0.05})
        if context is not None:
            ctx = context.assign(object_id=context["object_id"].astype(str)).set_index("object_id")
            base = base.set_index("object_id")
            base.update(ctx[[c for c in CONTEXT_COLUMNS if c in ctx.columns]])
            base = base.reset_index()
        context = base
    return det.score(table, context)


def plot_score_history(
    lightcurve: pd.DataFrame, history: pd.DataFrame, path=None, threshold: float | None = None
):
    """Two panels sharing the time axis: anomaly score after each observation (top) and the light
    curve per band (bottom). ``history`` is :meth:`score_prefixes` output for one object."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(
        2, 1, sharex=True, figsize=(7, 5), gridspec_kw={"height_ratios": [1, 1.4]}
    )
    ax1.plot(history["time"], history["score"], "k.-", lw=1)
    if threshold is not None:
        ax1.axhline(threshold, color="tab:red", ls="--", lw=1, label="alert threshold")
        ax1.legend(loc="best", fontsize=8)
    ax1.set_ylabel("anomaly score")
    value = "flux" if "flux" in lightcurve.columns else "mag"
    colours = {"g": "tab:green", "r": "tab:red", "i": "tab:purple", "R": "tab:red"}
    for band, sub in lightcurve.groupby("band"):
        ax2.errorbar(
            sub["time"],
            sub[value],
            sub[f"{value}_err"],
            fmt="o",
            ms=3,
            color=colours.get(band),
            label=band,
        )
    if value == "mag":
        ax2.invert_yaxis()
    ax2.set_ylabel("flux [uJy]" if value == "flux" else "mag")
    ax2.set_xlabel("time [days]")
    ax2.legend(fontsize=8)
    ax1.set_title(f"{lightcurve['object_id'].iloc[0]}: score as the light curve grows")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


# --------------------------------------------------------------------------- default model recipe
#: the recipe of the shipped model (src/serendip/models/lc_gru_default.safetensors)
DEFAULT_RECIPE = {
    "n_per_class": 800,
    "sim_seed": 2024,
    "n_days": 150,
    "max_len": 112,
    "classifier": {
        "hidden_size": 64,
        "latent_size": 16,
        "max_epochs": 100,
        "batch_size": 128,
        "lr": 3e-3,
        "patience": 8,
        "seed": 0,
    },
    "detector_fit_per_class": 300,
    "detector": "mcif",
    "torch_threads": 2,
}


def train_default(out: str | Path | None = None, verbose: bool = True) -> Path:
    """Train the shipped light-curve model from :data:`DEFAULT_RECIPE` and save it to ``out``."""
    import time

    import torch

    from serendip.features.lc_classifier import GRUClassifier
    from serendip.simulate.optical import COMMON_CLASSES, simulate_lightcurves

    r = DEFAULT_RECIPE
    torch.set_num_threads(r["torch_threads"])
    t0 = time.perf_counter()
    table, meta = simulate_lightcurves(
        r["n_per_class"], COMMON_CLASSES, seed=r["sim_seed"], n_days=r["n_days"]
    )
    det = LightCurveAnomalyDetector(
        classifier=GRUClassifier(**r["classifier"], verbose=verbose),
        detector=r["detector"],
        max_len=r["max_len"],
        detector_fit_per_class=r["detector_fit_per_class"],
    )
    det.fit(table, meta)
    path = det.save(out or DEFAULT_MODEL_PATH)
    if verbose:
        print(
            f"trained on {len(meta)} simulated light curves in {time.perf_counter() - t0:.0f} s -> {path}"
        )
    return path


def add_domain_check(path: str | Path | None = None) -> Path:
    """Add the out-of-domain statistics of the recipe's training curves to a model trained by
    :func:`train_default` (classifier and forest arrays are kept as they are); returns the path.

    The training set is re-simulated from :data:`DEFAULT_RECIPE` (deterministic) and turned into
    sequences and latents, on which :class:`serendip.detect.lc_domain.DomainCheck` is fitted.
    """
    from serendip.detect.lc_domain import DomainCheck, sequence_descriptors
    from serendip.features.lc_classifier import GRUClassifier
    from serendip.io.modelfile import load_model, save_model
    from serendip.simulate.optical import COMMON_CLASSES, simulate_lightcurves

    r = DEFAULT_RECIPE
    path = Path(path or DEFAULT_MODEL_PATH)
    arrays, settings, _ = load_model(path, KIND)
    det = LightCurveAnomalyDetector(**settings["params"])  # no forest refit needed here
    det.classifier = GRUClassifier.from_state(arrays, settings["classifier"])
    table, meta = simulate_lightcurves(
        r["n_per_class"], COMMON_CLASSES, seed=r["sim_seed"], n_days=r["n_days"]
    )
    seqs = det.sequences(table, meta)
    dom = DomainCheck().fit(sequence_descriptors(seqs), det.classifier.latent(seqs))
    d_arrays, settings["forest"]["domain"] = dom.state()
    arrays = {k: v for k, v in arrays.items() if not k.startswith("domain.")} | d_arrays
    return save_model(path, KIND, arrays, settings)


def main(argv: list[str] | None = None) -> None:
    """``python -m serendip.detect.lc_detect --train-default [--out PATH]`` (or ``--add-domain-check``)."""
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--train-default", action="store_true", help="train the shipped model from the recipe"
    )
    p.add_argument(
        "--out", default=None, help="where to write it (default: the packaged model path)"
    )
    p.add_argument(
        "--add-domain-check", action="store_true",
        help="add the training-domain statistics to an existing default-recipe model (--out)",
    )  # fmt: skip
    a = p.parse_args(argv)
    if a.add_domain_check:
        print(add_domain_check(a.out))
        return
    if not a.train_default:
        p.error("nothing to do; pass --train-default")
    train_default(a.out)


if __name__ == "__main__":
    main()
