"""Run the discovery pipeline stage by stage, reusing finished stages.

Stages and what they leave in ``RUN_DIR``:

===========  ================================================================
input        events.parquet, files.parquet (+ sources.parquet: the simulation's
             truth, or failures.csv for real files), known_transients.csv
represent    stages/represent/event_features.parquet (per-file event features)
features     stages/features/features.parquet (+ the fitted feature model)
embed        embedding.parquet (obsreg_id, x, y) + stages/embed/embedder.safetensors
cluster      clusters.parquet, cluster_summary.parquet
candidates   candidates.parquet, candidates.fits, candidates.csv
significance significance.parquet (empirical false-alarm probabilities per file),
             stages/significance/ calibration, rates, trials and null tables
sources      candidates_by_source.parquet (one row per source, archival context)
completeness completeness.parquet, completeness.png (injection and recovery; when
             completeness.n_per_cell > 0)
report       report.html (+ gallery/ for simulated runs)
===========  ================================================================

``config.toml`` holds every setting of the run and ``run.json`` each stage's key, wall
time and whether it was reused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.atomic import atomic_path
from serendip.io.eventset import EventSet
from serendip.io.tables import read_table, write_table
from serendip.io.units import config_file_hash, provenance
from serendip.layout import RunLayout
from serendip.notices import Notice, NoticeLog
from serendip.pipeline.config import check_data_size, dump_config
from serendip.pipeline.stages import StageRecord, StageStore, stage_key

STAGES = (
    "input", "represent", "features", "embed", "cluster", "candidates", "significance",
    "sources", "completeness", "report",
)


class _Run:
    """State shared by the stages of one run (lazy loading of earlier outputs)."""

    def __init__(
        self, cfg: dict[str, Any], run_dir: Path, progress: bool, log: Callable[[str], None]
    ):
        self.cfg = cfg
        self.dir = run_dir
        self.layout = RunLayout(run_dir)
        self.store = StageStore(run_dir)
        self.progress = progress
        self.log = log
        self._events: EventSet | None = None

    @property
    def events(self) -> EventSet:
        if self._events is None:
            files = read_table(self.layout.files, columns=["obsreg_id"])
            self._events = EventSet.read(
                self.layout.events, order=files["obsreg_id"].astype(str).tolist()
            )
        return self._events

    def event_features(self) -> pd.DataFrame:
        """The represent stage's per-file event features."""
        return read_table(self.layout.event_features)


# --------------------------------------------------------------------- stages
def _stage_input(run: _Run, out: Path) -> tuple[dict[str, Path], dict[str, Any]]:
    from serendip.pipeline import lc_stages

    if lc_stages.is_lightcurve_run(run.cfg):
        return lc_stages.stage_input(run)
    run.layout.lightcurves.unlink(missing_ok=True)
    inp = run.cfg["input"]
    info: dict[str, Any] = {}
    # files of the other kind of input (an earlier simulated or real run in the same folder)
    # would be read by later stages as if they described this input
    for stale in ("sources", "failures", "gtis", "regions", "artefacts", "background", "pileup",
                  "known_unmatched"):
        run.layout.path(stale).unlink(missing_ok=True)
    outputs = {"events": run.layout.events, "files": run.layout.files}
    if inp["simulate"]:
        from serendip.simulate import simulate_population

        if int(inp.get("field_observations", 0)) > 0:
            from serendip.simulate.field import simulate_field

            pop = simulate_field(int(inp["n_sources"]), int(inp["field_observations"]),
                                 seed=int(inp["seed"]))
        else:
            pop = simulate_population(int(inp["n_sources"]), seed=int(inp["seed"]))
        if inp.get("real_sky"):
            from serendip.simulate.realsky import add_real_sky

            pop = add_real_sky(pop, seed=int(inp["seed"]),
                               scan_fraction=float(inp.get("scan_fraction", 0.0)))
        outputs.update(pop.write(run.dir))
        run._events = pop.events
        info["labels"] = pop.sources["label"].value_counts().to_dict()
        known = pop.known_transients(float(inp["known_fraction"]), int(inp["seed"]))
    else:
        from serendip.io.ingest import ingest, write_ingest

        result = ingest(
            [Path(p) for p in inp["paths"]],
            band=tuple(inp["band_ev"]) if inp["band_ev"] else "auto",
            region=inp.get("region") or None,
            sources=inp.get("sources") or None,
            csc_band=inp.get("csc_band", "b"),
            progress=run.progress,
            quality=bool(inp.get("quality_filter", True)),
            barycentre=bool(inp.get("barycentre", True)),
            flare_screen=str(inp.get("flare_screen", "auto")),
            exposure=inp.get("exposure") or None,
            dither_exposure=bool(inp.get("dither_exposure", True)),
        )
        if result.events.n_files == 0:
            raise InputError(
                ", ".join(map(str, inp["paths"])),
                "no event file could be ingested; see failures.csv",
            )
        outputs.update(write_ingest(result, run.dir))
        run._events = result.events
        info["n_failures"] = len(result.failures)
        kt = inp["known_transients"]
        if kt and kt != "truth":
            from serendip.catalog.known import match_known_transients, read_known_list

            known, unmatched = match_known_transients(
                read_known_list(kt), result.files, float(inp.get("known_radius_arcsec", 5.0)), kt
            )
            outputs["known_unmatched"] = write_table(unmatched, run.layout.known_unmatched)
            info["n_known_unmatched"] = len(unmatched)
            known = known[["obsreg_id", "type"]]
        else:
            known = pd.DataFrame({"obsreg_id": pd.Series(dtype=str), "type": pd.Series(dtype=str)})
    known_path = run.layout.known
    write_table(known, known_path)
    outputs["known"] = known_path
    info.update(n_files=run.events.n_files, n_events=run.events.n_events, n_known=len(known))
    return outputs, info


def _stage_represent(run: _Run, out: Path) -> tuple[dict[str, Path], dict[str, Any]]:
    from serendip.pipeline import lc_stages
    from serendip.represent import event_features

    if lc_stages.is_lightcurve_run(run.cfg):
        return lc_stages.stage_represent(run)

    files = read_table(run.layout.files)
    gti_path = run.layout.gtis  # ingested FITS files; simulated runs have none
    gtis = read_table(gti_path) if gti_path.is_file() else None
    feats = event_features(run.events, files, gtis)
    path = run.layout.event_features
    write_table(feats, path)
    return {"event_features": path}, {"n_features": feats.shape[1] - 1}


def _stage_features(run: _Run, out: Path) -> tuple[dict[str, Path], dict[str, Any]]:
    from serendip.features import extract_features
    from serendip.pipeline import lc_stages

    if lc_stages.is_lightcurve_run(run.cfg):
        return lc_stages.stage_features(run)

    fc = run.cfg["features"]
    table = run.event_features()
    check_data_size(run.cfg, len(table), run.layout.config)
    _check_mixed_instruments(read_table(run.layout.files), bool(fc["allow_mixed"]))
    result = extract_features(
        fc["case"],
        events=run.events,
        n_components=int(fc["n_components"]) or None,
        event_table=table,
        files=read_table(run.layout.files),
        seed=int(run.cfg["input"]["seed"]),
        progress=run.progress,
        gtis=read_table(run.layout.gtis) if run.layout.gtis.is_file() else None,
        maps=fc["maps"],
    )
    frame = result.to_frame()
    path = run.layout.features
    write_table(frame, path)
    outputs = {"features": path}
    run.layout.map_scores.unlink(missing_ok=True)
    if result.scores:
        scores = pd.DataFrame({"obsreg_id": frame["obsreg_id"], **result.scores})
        outputs["map_scores"] = write_table(scores, run.layout.map_scores)
    if result.model is not None and hasattr(result.model, "save"):
        model_path = run.layout.feature_model
        result.model.save(model_path)
        outputs["model"] = model_path
    return outputs, {"n_columns": len(result.columns), "settings": result.settings}


def _check_mixed_instruments(files: pd.DataFrame, allowed: bool) -> None:
    """A notice (warning) when the files come from more than one mission / instrument and
    ``features.allow_mixed`` is false: one embedding of mixed instruments sorts files by
    instrument (response, background, PSF) before anything else."""
    from serendip.notices import notice

    cols = [c for c in ("telescope", "instrument") if c in files.columns]
    if not cols or len(files) == 0:
        return
    combo = files[cols].astype(str).agg("/".join, axis=1)
    counts = combo.value_counts()
    if len(counts) > 1 and not allowed:
        notice(
            "features",
            "mixed_instruments",
            f"the files come from {len(counts)} missions/instruments ("
            + ", ".join(f"{k}: {v}" for k, v in counts.items())
            + ") embedded and scored together: anomaly scores may sort them by instrument; "
            "run them separately, or set features.allow_mixed = true to accept this",
            count=int(len(files) - counts.iloc[0]),
            total=len(files),
        )


def _feature_matrix(run: _Run) -> tuple[np.ndarray, np.ndarray]:
    frame = read_table(run.layout.features)
    ids = frame["obsreg_id"].astype(str).to_numpy()
    X = frame.drop(columns=["obsreg_id"]).to_numpy(dtype=np.float64)
    return ids, X


def _stage_embed(run: _Run, out: Path) -> tuple[dict[str, Path], dict[str, Any]]:
    ec = run.cfg["embed"]
    ids, X = _feature_matrix(run)
    check_data_size(run.cfg, len(ids), run.layout.config)  # never lowered silently
    if ec["method"] == "tsne":
        from serendip.embed import TSNEEmbedder

        model = TSNEEmbedder(
            perplexity=float(ec["perplexity"]),
            learning_rate=ec["learning_rate"],
            n_iter=int(ec["n_iter"]),
            early_exaggeration=float(ec["early_exaggeration"]),
            init=ec["init"],
            random_state=int(ec["random_state"]),
            n_jobs=-1,
            standardize=True,
            verbose=run.progress,
        )
    else:
        from serendip.embed import UMAPEmbedder

        model = UMAPEmbedder(
            n_neighbors=int(ec["n_neighbors"]),
            min_dist=float(ec["min_dist"]),
            random_state=int(ec["random_state"]),
            standardize=True,
        )
    Y = model.fit_transform(X)
    path = run.layout.embedding
    write_table(pd.DataFrame({"obsreg_id": ids, "x": Y[:, 0], "y": Y[:, 1]}), path)
    model_path = run.layout.embedder
    model.save(model_path)
    return {"embedding": path, "model": model_path}, {}


def _stage_cluster(run: _Run, out: Path) -> tuple[dict[str, Path], dict[str, Any]]:
    from serendip.cluster import cluster_embedding, cluster_summary, known_types_for

    cc = run.cfg["cluster"]
    emb = read_table(run.layout.embedding)
    Y = emb[["x", "y"]].to_numpy()
    check_data_size(run.cfg, len(Y), run.layout.config)
    if cc["method"] == "dbscan":
        labels = cluster_embedding(
            Y, "dbscan", eps=cc["eps"], min_samples=int(cc["min_samples"])
        )
    else:
        labels = cluster_embedding(Y, "hdbscan", min_cluster_size=int(cc["min_cluster_size"]))
    known = read_table(run.layout.known)
    ids = emb["obsreg_id"].astype(str).to_numpy()
    feats = run.event_features()
    summary = cluster_summary(
        labels, known_types_for(ids, known), feats.drop(columns=["obsreg_id"])
    )
    path = run.layout.clusters
    write_table(pd.DataFrame({"obsreg_id": ids, "cluster": labels}), path)
    spath = run.layout.cluster_summary
    write_table(summary, spath)
    return {"clusters": path, "summary": spath}, {
        "n_clusters": int(labels.max()),
        "noise": int((labels == 0).sum()),
        "noise_fraction": float((labels == 0).mean()),
    }


def _stage_candidates(run: _Run, out: Path) -> tuple[dict[str, Path], dict[str, Any]]:
    from serendip.catalog import write_candidates
    from serendip.pipeline.ranking import rank_features

    kc = run.cfg["candidates"]
    ids, X = _feature_matrix(run)
    check_data_size(run.cfg, len(ids), run.layout.config)
    lc_run = bool(run.cfg["input"].get("lightcurves"))
    cands = rank_features(
        ids,
        X,
        run.event_features(),
        read_table(run.layout.known),
        clusters=read_table(run.layout.clusters)["cluster"].to_numpy(),
        embedding=read_table(run.layout.embedding)[["x", "y"]].to_numpy(),
        anomaly=kc["anomaly"],
        k=int(kc["k_neighbours"]),
        nn_span=float(kc["nn_span"]),
        n_estimators=int(kc["n_estimators"]),
        random_state=int(kc["random_state"]),
        files=None if lc_run else read_table(run.layout.files),
        artefacts=read_table(run.layout.artefacts) if run.layout.artefacts.is_file() else None,
        events=None if lc_run else run.events,
        background=read_table(run.layout.background) if run.layout.background.is_file() else None,
        gtis=read_table(run.layout.gtis) if run.layout.gtis.is_file() else None,
        case=None if lc_run else run.cfg["features"]["case"],
        extra_scores=None if lc_run else _map_scores(run, ids),
    )
    sha = config_file_hash(RunLayout(run.dir).config)
    paths = write_candidates(cands, run.dir, meta=provenance(config_sha=sha))
    outputs = {f"candidates_{fmt}": Path(p) for fmt, p in paths.items()}
    from serendip.catalog.nuisance import nuisance_audit

    files = None if lc_run or not run.layout.files.is_file() else read_table(run.layout.files)
    audit = nuisance_audit(cands, files)
    outputs["nuisance"] = write_table(audit, run.layout.nuisance)
    info = {
        "n_candidates": len(cands),
        "anomaly_rule": cands.attrs.get("ANOMALY", ""),
        "nuisance_bins_flagged": int(audit["flagged"].sum()),
    }
    return outputs, info


def _stage_sources(run: _Run, out: Path) -> tuple[dict[str, Path], dict[str, Any]]:
    from serendip.pipeline.sources_stage import stage_sources

    return stage_sources(run)


def _stage_completeness(run: _Run, out: Path) -> tuple[dict[str, Path], dict[str, Any]]:
    cc = run.cfg["completeness"]
    for name in ("completeness", "completeness_plot"):
        run.layout.path(name).unlink(missing_ok=True)
    if int(cc["n_per_cell"]) == 0 or run.cfg["input"].get("lightcurves"):
        return {}, {"n_injections": 0}
    from serendip.pipeline.completeness import completeness

    table = completeness(run.dir, n_per_cell=int(cc["n_per_cell"]),
                         top_fraction=float(cc["top_fraction"]), seed=int(cc["seed"]))
    info = {"n_injections": len(table)}
    if len(table):
        info.update(recovered=float(table["recovered"].mean()),
                    recovered_anomaly=float(table["recovered_anomaly"].mean()))
    return {"completeness": run.layout.completeness,
            "completeness_plot": run.layout.completeness_plot}, info


def _map_scores(run: _Run, ids: np.ndarray) -> dict[str, np.ndarray] | None:
    """The features stage's per-file map scores aligned with ``ids``, or None."""
    path = run.layout.map_scores
    if not path.is_file():
        return None
    df = read_table(path)
    df = df.assign(obsreg_id=df["obsreg_id"].astype(str)).set_index("obsreg_id").reindex(ids)
    return {c: df[c].to_numpy(np.float64) for c in df.columns}


def _stage_significance(run: _Run, out: Path) -> tuple[dict[str, Path], dict[str, Any]]:
    """Empirical false-alarm probabilities: the candidate scoring on time-scrambled files
    (:func:`serendip.catalog.significance.empirical_significance`)."""
    from serendip.notices import notice

    sc = run.cfg["significance"]
    names = ("significance", "significance_calibration", "significance_rates",
             "significance_trials", "significance_null")
    for name in names:  # files of an earlier setting must not outlive it
        run.layout.path(name).unlink(missing_ok=True)
    if run.cfg["input"].get("lightcurves") or int(sc["n_scrambles"]) == 0:
        why = ("light-curve runs have no event times to scramble"
               if run.cfg["input"].get("lightcurves") else "significance.n_scrambles = 0")
        notice("significance", "not_calibrated",
               f"no empirical false-alarm probabilities ({why}): the report and the explorer "
               "show no probability for the score terms")
        return {}, {"calibrated": False}
    from serendip.catalog.significance import empirical_significance
    from serendip.pipeline.ranking import MAP_SCORES, anomaly_detectors

    kc, fc = run.cfg["candidates"], run.cfg["features"]
    rule = anomaly_detectors(kc["anomaly"], fc["case"])
    ids, X = _feature_matrix(run)
    extra = _map_scores(run, ids) or {}
    maps = tuple(r for r in rule if r in MAP_SCORES and r in extra)
    dets = tuple(r for r in rule if r not in MAP_SCORES) or (() if maps else ("iforest",))
    order = run.events.obsreg_id.astype(str)
    pos = pd.Series(np.arange(len(ids)), index=ids).reindex(order).to_numpy()
    model = run.layout.feature_model if run.layout.feature_model.is_file() else None
    res = empirical_significance(
        run.events,
        read_table(run.layout.candidates),
        run.event_features(),
        files=read_table(run.layout.files),
        gtis=read_table(run.layout.gtis) if run.layout.gtis.is_file() else None,
        case=fc["case"], detectors=dets, map_scores=maps,
        X=X[pos], extra_scores={k: v[pos] for k, v in extra.items()},
        feature_model=model, maps=fc["maps"],
        n_scrambles=int(sc["n_scrambles"]), seed=int(sc["seed"]),
        threshold=float(sc["fap_threshold"]), n_bins=int(sc["count_bins"]),
        random_state=int(kc["random_state"]), n_estimators=int(kc["n_estimators"]),
    )
    outputs = {
        "significance": write_table(res.table, run.layout.significance),
        "calibration": write_table(res.calibration, run.layout.significance_calibration),
        "rates": write_table(res.rates, run.layout.significance_rates),
        "trials": write_table(res.trials, run.layout.significance_trials),
        "null": write_table(res.null, run.layout.significance_null),
    }
    allr = res.rates[res.rates["chosen"] & (res.rates["term"] == "all terms")].iloc[0]
    return outputs, {
        "calibrated": True,
        "n_null": len(res.null),
        "n_significant": int(res.table["above_threshold"].sum()),
        "false_per_1000": float(allr["false_per_1000"]),
        "terms": [c[5:] for c in res.table.columns if c.startswith("stat_")],
    }


def _stage_report(run: _Run, out: Path) -> tuple[dict[str, Path], dict[str, Any]]:
    from serendip.report import write_class_gallery, write_report

    outputs: dict[str, Path] = {}
    summary = read_table(run.layout.cluster_summary)
    settings = {"config": run.cfg, "stages": _stage_table(run)}
    lc_path = run.layout.lightcurves
    path = write_report(
        run.dir, settings=settings, cluster_table=summary, n_top=int(run.cfg["report"]["n_top"]),
        lightcurves=read_table(lc_path) if run.cfg["input"].get("lightcurves") else None,
    )
    outputs["report"] = Path(path)
    sources_path = run.layout.sources
    if sources_path.exists():
        gallery = write_class_gallery(run.events, read_table(sources_path), run.layout.gallery)
        outputs.update({f"gallery_{k}": Path(v) for k, v in gallery.items()})
    return outputs, {}


def _stage_table(run: _Run) -> dict[str, Any]:
    out = {}
    for name in STAGES:
        p = run.store.manifest_path(name)
        if p.is_file():
            m = json.loads(p.read_text())
            out[name] = {"key": m["key"], "seconds": round(m["seconds"], 2)}
    return out


_STAGE_FUNCS = {
    "input": (_stage_input, lambda c: c["input"], []),
    "represent": (_stage_represent, lambda c: {"band_ev": c["input"]["band_ev"]}, ["input"]),
    "features": (_stage_features, lambda c: c["features"], ["input", "represent"]),
    "embed": (_stage_embed, lambda c: c["embed"], ["features"]),
    "cluster": (_stage_cluster, lambda c: c["cluster"], ["embed", "represent"]),
    "candidates": (_stage_candidates, lambda c: c["candidates"], ["features", "cluster"]),
    "significance": (_stage_significance, lambda c: c["significance"], ["candidates"]),
    "sources": (_stage_sources, lambda c: c["sources"], ["candidates"]),
    "completeness": (_stage_completeness, lambda c: c["completeness"], ["candidates"]),
    "report": (
        _stage_report, lambda c: c["report"], ["candidates", "significance", "sources", "completeness"]
    ),
}


def run_pipeline(
    cfg: dict[str, Any],
    run_dir: str | Path,
    *,
    progress: bool = True,
    stop_after: str | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, StageRecord]:
    """Run (or resume) the pipeline in ``run_dir`` with the resolved configuration ``cfg``.

    A stage is skipped when its manifest records the same key (its settings plus the keys
    and output digests of its inputs) and its outputs still have the digests the manifest
    records (see :mod:`serendip.pipeline.stages`). ``stop_after`` ends the run after that
    stage.
    Returns the :class:`StageRecord` of every stage run or reused.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    log = log or (lambda msg: None)
    _remove_stale_temporaries(run_dir, log)
    dump_config(cfg, RunLayout(run_dir).config)
    run = _Run(cfg, run_dir, progress, log)
    records: dict[str, StageRecord] = {}
    for name in STAGES:
        func, settings_of, inputs = _STAGE_FUNCS[name]
        settings = settings_of(cfg)
        key = stage_key(name, settings, [f"{records[i].key}:{records[i].content}" for i in inputs])
        done = run.store.finished(name, key)
        if done is not None:
            log(f"{name}: unchanged, reused ({done.seconds:.1f} s when computed)")
            records[name] = done
        else:
            log(f"{name}: running")
            # its outputs are about to change: no manifest may vouch for them any more
            run.store.invalidate(name)
            started = time.perf_counter()
            with NoticeLog() as stage_notices:
                outputs, info = func(run, run.store.stage_dir(name))
            outputs["notices"] = stage_notices.write(run.store.stage_dir(name), "notices")
            records[name] = run.store.record(name, key, outputs, settings, started, info)
            log(f"{name}: done in {records[name].seconds:.1f} s")
        if stop_after == name:
            break
    _write_run_json(run_dir, records)
    _write_warnings(run_dir, records, log)
    return records


def _write_warnings(run_dir: Path, records: dict[str, StageRecord], log) -> None:
    """Gather every stage's counted notices (also those of reused stages, from their stage
    folders) into the run's warnings table ``warnings.parquet`` / ``warnings.csv`` and log
    the end-of-run summary."""
    all_notices = NoticeLog()
    for name in records:
        path = RunLayout(run_dir).notices(name)
        if path.exists():
            df = read_table(path)
            all_notices.extend(
                Notice(**{k: r[k] for k in df.columns}) for r in df.to_dict("records")
            )
    all_notices.write(run_dir)
    for line in all_notices.summary().splitlines():
        log(line)


def _remove_stale_temporaries(run_dir: Path, log: Callable[[str], None]) -> None:
    """Delete partial outputs (``.<name>.*.tmp.<ext>``, see :func:`serendip.io.atomic.atomic_path`)
    that a killed run left in ``run_dir``, its ``stages/`` folders or the report's
    ``gallery/``; no finished output is ever written under such a name."""
    stale = [
        *run_dir.glob(".*.tmp*"),
        *run_dir.glob("stages/*/.*.tmp*"),
        *run_dir.glob("gallery/.*.tmp*"),
    ]
    for path in stale:
        if path.is_file():
            path.unlink()
            log(f"removed a partial output left by an interrupted run: {path.name}")


def _write_run_json(run_dir: Path, records: dict[str, StageRecord]) -> None:
    data = {
        name: {
            "key": r.key,
            "seconds": round(r.seconds, 3),
            "reused": r.reused,
            "outputs": r.outputs,
            "info": r.info,
        }
        for name, r in records.items()
    }
    with atomic_path(RunLayout(run_dir).run_json) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=str))
