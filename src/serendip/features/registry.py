"""Feature cases by name, and the default encoders shipped in ``serendip/models``.

One setting picks how files become feature vectors:

===========  ===================================  ==========================================
case         input                                extractor
===========  ===================================  ==========================================
2D-PCA       raw E-t maps (24 x 16)               PCA, 15 components, fitted on the data
3D-PCA       raw E-t-dt cubes (24 x 16 x 16)      PCA, 22 components, fitted on the data
2D-AE        normalised E-t maps                  convolutional autoencoder, 12 latent
3D-AE        normalised E-t-dt cubes              fully connected autoencoder, 24 latent
deepsets     raw events (time, energy)            DeepSets encoder, 16 (standardised)
events       per-file event features              fixed transform (``event_block``), 16
serendip     raw events                           DeepSets 16 + event block 16 (32 columns)
===========  ===================================  ==========================================

The first four are the reference cases of Dillmann et al. (2024). For PCA cases ``model=None``
fits a new PCA on the given files, as the reference does; ``model="default"`` uses the PCA shipped
with the package. For the encoder cases ``model=None`` loads the shipped default encoder
(:func:`load_default_encoder`) so new files need no training; ``train=True`` trains a new one on
the given files instead. ``model`` may also be a fitted estimator or a path to a saved one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from serendip.errors import InputError, ModelFileError
from serendip.features.conv_ae import ConvAutoencoder
from serendip.features.deepsets import DeepSetsEncoder
from serendip.features.dense_ae import DenseAutoencoder
from serendip.features.event_block import event_block
from serendip.features.pca import PCAFeatures
from serendip.io.eventset import EventSet


@dataclass(frozen=True)
class FeatureCase:
    """How one named case turns files into features."""

    name: str
    representation: str  # "et", "etdt" or "events"
    normalize: bool  # for maps / cubes
    extractor: str  # "pca", "conv_ae", "dense_ae", "deepsets", "events", "serendip"
    n_components: int | None  # PCA components or latent size
    default_model: str | None  # name in DEFAULT_ENCODERS
    description: str


CASES: dict[str, FeatureCase] = {
    c.name: c
    for c in (
        FeatureCase("2D-PCA", "et", False, "pca", 15, "et_pca", "raw E-t maps, PCA 15 components"),
        FeatureCase(
            "3D-PCA", "etdt", False, "pca", 22, "etdt_pca", "raw E-t-dt cubes, PCA 22 components"
        ),
        FeatureCase(
            "2D-AE",
            "et",
            True,
            "conv_ae",
            12,
            "et_conv_ae",
            "normalised E-t maps, conv autoencoder 12",
        ),
        FeatureCase(
            "3D-AE",
            "etdt",
            True,
            "dense_ae",
            24,
            "etdt_dense_ae",
            "normalised cubes, dense autoencoder 24",
        ),
        FeatureCase(
            "deepsets",
            "events",
            False,
            "deepsets",
            16,
            "deepsets",
            "raw events, DeepSets encoder 16",
        ),
        FeatureCase(
            "events", "events", False, "events", 14, None, "event features, fixed transform 14"
        ),
        FeatureCase(
            "serendip", "events", False, "serendip", 30, "deepsets", "DeepSets 16 + event block 14"
        ),
    )
}

#: name -> (class, file in serendip/models)
DEFAULT_ENCODERS: dict[str, tuple[type, str]] = {
    "et_conv_ae": (ConvAutoencoder, "et_conv_ae.safetensors"),
    "etdt_dense_ae": (DenseAutoencoder, "etdt_dense_ae.safetensors"),
    "deepsets": (DeepSetsEncoder, "deepsets.safetensors"),
    "et_pca": (PCAFeatures, "et_pca15.safetensors"),
    "etdt_pca": (PCAFeatures, "etdt_pca22.safetensors"),
}


def default_encoder_path(name: str) -> Path:
    """Path of the shipped default encoder ``name`` (see :data:`DEFAULT_ENCODERS`)."""
    from serendip.paths import models_dir

    if name not in DEFAULT_ENCODERS:
        raise InputError(
            None, f"unknown default encoder {name!r}; known: {sorted(DEFAULT_ENCODERS)}"
        )
    return models_dir() / DEFAULT_ENCODERS[name][1]


def load_default_encoder(name: str):
    """Load a default encoder shipped with serendip, e.g. ``load_default_encoder("et_conv_ae")``.

    Raises :class:`ModelFileError` when the file is missing (regenerate the defaults with
    ``python -m serendip.features.train_defaults``) or damaged.
    """
    klass, _ = DEFAULT_ENCODERS[name] if name in DEFAULT_ENCODERS else (None, None)
    path = default_encoder_path(name)
    if not path.is_file():
        raise ModelFileError(
            path, "default encoder not found; run `python -m serendip.features.train_defaults`"
        )
    return klass.load(path)


@dataclass
class FeatureResult:
    """Features of many files: ``features`` (n_files, n_columns) float32 in ``obsreg_id`` order."""

    case: str
    features: np.ndarray
    columns: list[str]
    obsreg_id: np.ndarray | None
    model: Any
    settings: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per file: ``obsreg_id`` (when known) then the feature columns."""
        df = pd.DataFrame(self.features, columns=self.columns)
        if self.obsreg_id is not None:
            df.insert(0, "obsreg_id", np.asarray(self.obsreg_id).astype(str))
        return df


def _resolve_model(model, klass: type, default_name: str | None):
    """Fitted estimator from an instance, a path, a default-encoder name or None (default)."""
    if model is None or (isinstance(model, str) and model == "default"):
        if default_name is None:
            return None
        return load_default_encoder(default_name)
    if isinstance(model, klass):
        return model
    if isinstance(model, str) and model in DEFAULT_ENCODERS:
        return load_default_encoder(model)
    if isinstance(model, (str, Path)):
        return klass.load(model)
    raise InputError(
        None,
        f"model must be a {klass.__name__}, a path or a default-encoder name; got {type(model).__name__}",
    )


def _representation(case: FeatureCase, events: EventSet, a: int, b: int) -> np.ndarray:
    from serendip.represent import et_maps, etdt_cubes

    sub = events.slice_files(a, b) if (a, b) != (0, events.n_files) else events
    fn = et_maps if case.representation == "et" else etdt_cubes
    return fn(sub, normalize=case.normalize)


def _chunked(fn, n: int, chunk: int, progress: bool, label: str) -> np.ndarray:
    """Concatenate ``fn(a, b)`` over file chunks (rich progress bar when ``progress``)."""
    bounds = list(range(0, n, chunk)) + [n]
    parts = []
    if progress:
        from rich.progress import Progress

        with Progress() as bar:
            task = bar.add_task(label, total=n)
            for a, b in zip(bounds[:-1], bounds[1:], strict=True):
                parts.append(fn(a, b))
                bar.update(task, advance=b - a)
    else:
        parts = [fn(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return np.concatenate(parts, axis=0)


def extract_features(
    case: str,
    events: EventSet | None = None,
    arrays: np.ndarray | None = None,
    model: Any = None,
    *,
    n_components: int | None = None,
    train: bool = False,
    files: pd.DataFrame | None = None,
    event_table: pd.DataFrame | None = None,
    seed: int = 0,
    chunk_files: int = 10_000,
    progress: bool = False,
) -> FeatureResult:
    """Features of every file for the named ``case`` (see :data:`CASES`).

    Parameters
    ----------
    case : "2D-PCA", "3D-PCA", "2D-AE", "3D-AE", "deepsets", "events" or "serendip".
    events : the files' events; needed by the event-based cases, and used to compute maps or
        cubes (in chunks of ``chunk_files``) when ``arrays`` is not given.
    arrays : precomputed maps (n, 24, 16) or cubes (n, 24, 16, 16) with the case's
        normalisation (raw counts for PCA cases, normalised for AE cases).
    model : None (PCA: fit on these files; encoders: the shipped default), "default", a
        default-encoder name, a fitted estimator or a path to a saved model.
    n_components : PCA components (default 15 for 2D-PCA, 22 for 3D-PCA); 0 means default.
    train : train a new encoder on these files instead of loading the default (AE, deepsets).
    files : per-file table (obsreg_id, tstart, tstop) passed to ``event_features``.
    event_table : precomputed ``serendip.represent.event_features`` table (events cases).
    seed : seed of newly trained encoders.

    Returns
    -------
    :class:`FeatureResult` with ``features`` (n_files, n_columns) float32 and the fitted
    ``model`` (save it with ``model.save(path)`` to reuse exactly these features).
    """
    if case not in CASES:
        raise InputError(None, f"unknown feature case {case!r}; use one of {list(CASES)}")
    c = CASES[case]
    if events is not None and not isinstance(events, EventSet):
        raise InputError(
            None, f"events must be a serendip.io.EventSet; got {type(events).__name__}"
        )
    if c.representation == "events" and events is None:
        raise InputError(None, f"feature case {case!r} works on raw events; pass events=EventSet")
    if c.representation != "events" and events is None and arrays is None:
        raise InputError(None, f"feature case {case!r} needs events or precomputed arrays")
    ids = events.obsreg_id if events is not None else None
    n = events.n_files if events is not None else len(arrays)
    settings: dict[str, Any] = {"case": case, "description": c.description}

    def rep(a: int, b: int) -> np.ndarray:
        return arrays[a:b] if arrays is not None else _representation(c, events, a, b)

    def rep_all() -> np.ndarray:
        if arrays is not None:
            return np.asarray(arrays)
        return _chunked(rep, n, chunk_files, progress, f"{case}: representation")

    if c.extractor == "pca":
        k = int(n_components) if n_components else int(c.n_components)
        settings["n_components"] = k
        if model is None or train:
            est = PCAFeatures(k)
            if arrays is not None:
                est.fit(arrays)
            else:
                shape = (24, 16) if c.representation == "et" else (24, 16, 16)
                est.fit_chunks(rep, n, shape, chunk_rows=chunk_files)
            settings["model"] = "fitted on these files"
        else:
            est = _resolve_model(model, PCAFeatures, c.default_model)
            settings["model"] = (
                str(model) if isinstance(model, (str, Path)) else type(model).__name__
            )
        feats = _chunked(lambda a, b: est.transform(rep(a, b)), n, chunk_files, False, "")
        cols = [f"pca_{i:02d}" for i in range(feats.shape[1])]
    elif c.extractor in ("conv_ae", "dense_ae"):
        klass = ConvAutoencoder if c.extractor == "conv_ae" else DenseAutoencoder
        if train:
            est = klass(seed=seed, verbose=progress).fit(rep_all())
            settings["model"] = f"trained on these files (seed {seed})"
        else:
            est = _resolve_model(model, klass, c.default_model)
            settings["model"] = str(model) if model is not None else f"default {c.default_model}"
        feats = _chunked(
            lambda a, b: est.transform(rep(a, b)), n, chunk_files, progress, f"{case}: encode"
        )
        cols = [f"ae_{i:02d}" for i in range(feats.shape[1])]
    else:
        parts, cols = [], []
        est = None
        if c.extractor in ("deepsets", "serendip"):
            if train:
                est = DeepSetsEncoder(seed=seed, verbose=progress).fit(events)
                settings["model"] = f"trained on these files (seed {seed})"
            else:
                est = _resolve_model(model, DeepSetsEncoder, c.default_model)
                settings["model"] = (
                    str(model) if model is not None else f"default {c.default_model}"
                )
            parts.append(est.transform(events))
            cols += [f"ds_{i:02d}" for i in range(parts[-1].shape[1])]
        if c.extractor in ("events", "serendip"):
            if event_table is None:
                from serendip.represent import event_features

                event_table = event_features(events, files)
            if len(event_table) != n:
                raise InputError("event features", f"has {len(event_table)} rows for {n} files")
            block, names = event_block(event_table)
            parts.append(block)
            cols += names
        feats = np.concatenate(parts, axis=1)
    feats = np.asarray(feats, dtype=np.float32)
    if not np.isfinite(feats).all():
        raise InputError(None, f"feature case {case!r} produced non-finite features")
    return FeatureResult(case, feats, cols, ids, est, settings)
