"""Features of many event files for a named case: :func:`extract_features`.

The cases themselves (name, representation, extractor, columns) are defined once, in
:data:`serendip.features.registry.FEATURE_CASES`. For PCA cases ``model=None`` fits a new PCA on
the given files, as the reference does; ``model="default"`` uses the PCA shipped with the
package. For the encoder cases ``model=None`` loads the shipped default encoder
(:func:`~serendip.features.registry.load_default_encoder`) so new files need no training;
``train=True`` trains a new one on the given files instead. ``model`` may also be a fitted
estimator or a path to a saved one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.features.registry import (
    DEFAULT_ENCODERS,
    FEATURE_CASES,
    MAP_MODES,
    REPRESENTATIONS,
    FeatureCase,
    load_default_encoder,
)
from serendip.io.eventset import EventSet


@dataclass
class FeatureResult:
    """Features of many files: ``features`` (n_files, n_columns) float32 in ``obsreg_id`` order."""

    case: str
    features: np.ndarray
    columns: list[str]
    obsreg_id: np.ndarray | None
    model: Any
    settings: dict[str, Any] = field(default_factory=dict)
    #: per-file scores computed on the representation itself, {name: (n_files,) float64}:
    #: ``map_deviance`` (mean squared deviance of the count-aware map or cube, i.e. its
    #: distance from a constant source; map / cube cases with ``maps="deviance"``)
    scores: dict[str, np.ndarray] = field(default_factory=dict)

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


def _representation(case: FeatureCase, events: EventSet, a: int, b: int, maps: str) -> np.ndarray:
    from serendip.represent import et_maps, etdt_cubes

    sub = events.slice_files(a, b) if (a, b) != (0, events.n_files) else events
    if maps == "reference":
        fn = et_maps if case.representation == "et" else etdt_cubes
        return fn(sub, normalize=case.normalize)
    from serendip.represent.deviance import deviance_maps, squash

    counts = et_maps(sub) if case.representation == "et" else etdt_cubes(sub, dense=True)
    dev = deviance_maps(counts)
    return squash(dev) if case.normalize else dev


def _check_maps(maps: str) -> str:
    if maps not in MAP_MODES:
        raise InputError(None, f"maps must be one of {sorted(MAP_MODES)}; got {maps!r}")
    return maps


def _chunked(fn, n: int, chunk: int, progress: bool, label: str) -> np.ndarray:
    """Concatenate ``fn(a, b)`` over file chunks (rich progress bar when ``progress``).

    Sparse cubes (:class:`~serendip.represent.sparse.SparseCubes`) stay sparse.
    """
    from serendip.represent.sparse import SparseCubes

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
    if parts and isinstance(parts[0], SparseCubes):
        return SparseCubes.concatenate(parts)
    return np.concatenate(parts, axis=0)


def files_without_energy(events: EventSet) -> np.ndarray:
    """obsreg_ids of the files with events but no finite energy: instruments without energy
    resolution (Chandra HRC), whose energies ingest never invents."""
    fin = np.isfinite(events.energy)
    n_fin = np.bincount(events.file_index[fin], minlength=events.n_files)
    return np.asarray(events.obsreg_id)[(n_fin == 0) & (events.counts > 0)]


def _check_energies(c, events: EventSet) -> None:
    """Refuse a case that needs energies for files without any; adapt the ``events`` case
    (their energy features are neutral), with a notice."""
    from serendip.notices import notice

    none = files_without_energy(events)
    if not len(none):
        return
    shown = ", ".join(map(str, none[:3])) + (" ..." if len(none) > 3 else "")
    if c.extractor == "events":
        notice("features", "no_energy_adapted", f"{len(none):,} of {events.n_files:,} files have no "
               f"photon energies (instrument without energy resolution: {shown}); case {c.name!r} "
               "uses their timing features and sets their energy features to the neutral value 0",
               count=len(none), total=events.n_files)
        return
    raise InputError(None, f"feature case {c.name!r} needs photon energies "
                     f"({REPRESENTATIONS[c.representation]}), but {len(none):,} of {events.n_files:,} "
                     f"files have none (instrument without energy resolution, e.g. Chandra HRC: {shown}); "
                     "use the 'events' case, which adapts (timing features only), or leave them out")


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
    gtis: pd.DataFrame | None = None,
    maps: str = "deviance",
) -> FeatureResult:
    """Features of every file for the named ``case`` (see :data:`~serendip.features.registry.FEATURE_CASES`).

    Parameters
    ----------
    case : "2D-PCA", "3D-PCA", "2D-AE", "3D-AE", "deepsets", "events" or "serendip".
    events : the files' events; needed by the event-based cases, and used to compute maps or
        cubes (in chunks of ``chunk_files``) when ``arrays`` is not given.
    arrays : precomputed maps (n, 24, 16) or cubes (n, 24, 16, 16) with the case's
        normalisation for ``maps`` (deviance: :func:`serendip.represent.deviance.deviance_maps`,
        squashed by :func:`~serendip.represent.deviance.squash` for AE cases; reference: raw
        counts for PCA cases, min-max normalised for AE cases).
    model : None (PCA: fit on these files; encoders: the shipped default), "default", a
        default-encoder name, a fitted estimator or a path to a saved model.
    n_components : PCA components (default 15 for 2D-PCA, 22 for 3D-PCA); 0 means default.
    train : train a new encoder on these files instead of loading the default (AE, deepsets).
    files : per-file table (obsreg_id, tstart, tstop) passed to ``event_features``.
    event_table : precomputed ``serendip.represent.event_features`` table (events cases).
    seed : seed of newly trained encoders.
    gtis : good-time intervals with their template weights (ingest's ``gtis.parquet``): the
        maps, cubes and event-set encoders then bin each file on its expected-count axis
        (:func:`serendip.represent.livetime.on_template_axis`: gaps closed, background and
        relative exposure normalised out), and the event features are computed with them.
    maps : how map and cube cases make their input count-aware (see
        :data:`~serendip.features.registry.MAP_MODES`): "deviance" (default) or "reference".

    Returns
    -------
    :class:`FeatureResult` with ``features`` (n_files, n_columns) float32 and the fitted
    ``model`` (save it with ``model.save(path)`` to reuse exactly these features).
    """
    c = FEATURE_CASES[case]  # UnknownNameError (an InputError) lists the cases
    case = c.name
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
    if events is not None:
        _check_energies(c, events)
    timing = events
    if events is not None and gtis is not None and len(gtis) and c.extractor != "events":
        from serendip.represent.livetime import on_template_axis

        timing = on_template_axis(events, gtis)
        settings["time_axis"] = "expected counts (good time x template weights)"
    if c.representation != "events":
        settings["maps"] = _check_maps(maps)
    default_model = c.deviance_model if maps == "deviance" and c.deviance_model else c.default_model

    def rep(a: int, b: int) -> np.ndarray:
        return arrays[a:b] if arrays is not None else _representation(c, timing, a, b, maps)

    def rep_all() -> np.ndarray:
        if arrays is not None:
            return arrays if hasattr(arrays, "indptr") else np.asarray(arrays)
        return _chunked(rep, n, chunk_files, progress, f"{case}: representation")

    if c.extractor == "pca":
        from serendip.features.pca import PCAFeatures

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
            if maps == "deviance" and model is not None and str(model) == "default":
                raise InputError(
                    None,
                    f"the shipped {case} PCA was fitted on reference (raw) maps; use "
                    'maps="reference" with model="default", or model=None to fit on the data',
                )
            est = _resolve_model(model, PCAFeatures, default_model)
            settings["model"] = (
                str(model) if isinstance(model, (str, Path)) else type(model).__name__
            )
        feats = _chunked(lambda a, b: est.transform(rep(a, b)), n, chunk_files, False, "")
        cols = [f"pca_{i:02d}" for i in range(feats.shape[1])]
    elif c.extractor in ("conv_ae", "dense_ae"):
        klass = DEFAULT_ENCODERS[default_model].load_class()
        if train:
            est = klass(seed=seed, verbose=progress).fit(rep_all())
            settings["model"] = f"trained on these files (seed {seed})"
        else:
            est = _resolve_model(model, klass, default_model)
            settings["model"] = str(model) if model is not None else f"default {default_model}"
        feats = _chunked(
            lambda a, b: est.transform(rep(a, b)), n, chunk_files, progress, f"{case}: encode"
        )
        cols = [f"ae_{i:02d}" for i in range(feats.shape[1])]
    else:
        parts, cols = [], []
        est = None
        if c.extractor in ("deepsets", "serendip"):
            from serendip.features.deepsets import DeepSetsEncoder

            if train:
                est = DeepSetsEncoder(seed=seed, verbose=progress).fit(timing)
                settings["model"] = f"trained on these files (seed {seed})"
            else:
                est = _resolve_model(model, DeepSetsEncoder, c.default_model)
                settings["model"] = (
                    str(model) if model is not None else f"default {c.default_model}"
                )
            parts.append(est.transform(timing))
            cols += [f"ds_{i:02d}" for i in range(parts[-1].shape[1])]
        if c.extractor in ("events", "serendip"):
            if event_table is None:
                from serendip.represent import event_features

                event_table = event_features(events, files, gtis)
            if len(event_table) != n:
                raise InputError("event features", f"has {len(event_table)} rows for {n} files")
            from serendip.features.event_block import event_block

            block, names = event_block(event_table)
            parts.append(block)
            cols += names
        feats = np.concatenate(parts, axis=1)
    scores: dict[str, np.ndarray] = {}
    if c.representation != "events" and maps == "deviance" and events is not None:
        scores["map_deviance"] = _chunked(
            lambda a, b: _map_deviance(c, timing, a, b), n, chunk_files, False, ""
        )
    feats = np.asarray(feats, dtype=np.float32)
    if not np.isfinite(feats).all():
        raise InputError(None, f"feature case {case!r} produced non-finite features")
    return FeatureResult(case, feats, cols, ids, est, settings, scores)


def _map_deviance(case: FeatureCase, events: EventSet, a: int, b: int) -> np.ndarray:
    """Mean squared deviance per file of files ``a..b`` (the unsquashed count-aware map)."""
    from dataclasses import replace

    plain = replace(case, normalize=False)
    d = _representation(plain, events, a, b, "deviance").astype(np.float64)
    return (d.reshape(len(d), -1) ** 2).mean(axis=1)
