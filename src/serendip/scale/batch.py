"""Survey-scale discovery run in chunks: ingest -> represent -> features -> anomaly scores.

:func:`run_batch` takes event files (FITS, via :mod:`serendip.io.ingest`) and/or event tables
(the long Parquet/CSV layout, e.g. eROSITA-like survey tiles) and writes into ``OUT``:

=============================  ==========================================================
``stages/features/chunk-*``    per chunk of ``chunk_size`` input files: ingest, per-file
                               event features (:func:`serendip.represent.event_features`)
                               and the "events" feature block (fixed transform, 16 columns)
``model/iforest.safetensors``  isolation forest fitted once on a seeded sample of files
``stages/scores/chunk-*``      per chunk: ``obsreg_id``, ``score`` (higher = more anomalous)
``features.parquet``           all chunks' features, in input order
``scores.parquet``             ``obsreg_id``, ``score``, ``rank`` (1 = most anomalous),
                               ``anomaly`` (score above the model threshold)
``candidates.parquet``         the ``n_top`` best-ranked files with their features
``failures.csv``               ``file``, ``reason`` for every input (or chunk) that failed
``summary.json``               settings, counts, chunks computed / reused, stage timings
=============================  ==========================================================

Chunks run in this process (``scheduler="none"``) or on Dask workers and are checkpointed
(:func:`serendip.scale.chunks.map_chunks`): a killed run resumes without redoing finished
chunks. Results do not depend on where chunks ran: every chunk is computed by the same
function from the same files, the fit sample is chosen by a seeded hash of ``obsreg_id``
(so it is also the same for any chunk size), the forest is fitted once in the driver with a
fixed seed, and tables are merged in input order.

Memory: a worker holds one chunk's events at a time (about 40 bytes per event while its
features are computed); the driver holds per-file scores (~60 bytes per file), the fit
sample (``n_fit`` x 16 floats) and one chunk table at a time while merging.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.atomic import atomic_path, digest_matches, file_digest
from serendip.scale.chunks import (
    Chunk,
    ChunkReport,
    chunk_failures,
    chunk_key,
    file_fingerprint,
    map_chunks,
    merge_chunks,
    remove_stale_temporaries,
    table_path,
)

FEATURE_DIR = Path("stages") / "features"
SCORE_DIR = Path("stages") / "scores"
MODEL_FILE = Path("model") / "iforest.safetensors"
MODEL_INFO = Path("model") / "model.json"


@dataclass(frozen=True)
class BatchSettings:
    """Settings of :func:`run_batch` (all part of the chunk and model keys).

    Parameters
    ----------
    chunk_size : input files per chunk (a survey tile table counts as one file).
    band : energy band [eV] kept at ingest, "auto" (each mission's standard band) or None for
        all energies.
    region, sources : region or source list for every file, "beside", or a manifest table
        (:mod:`serendip.io.region_plan`); None for whole files.
    n_estimators, max_samples : isolation-forest trees and rows per tree.
    n_fit : files in the seeded sample the forest is fitted on.
    contamination : fraction of the fit sample above the model's ``anomaly`` threshold.
    seed : seed of the fit sample and of the forest.
    n_top : rows of ``candidates.parquet``.
    exposure : relative exposure curve(s) for every chunk's ingest (a curve table path, e.g. an
        eROSITA srctool light curve or a table ``obsreg_id, start, stop, fracexp``, or
        ``"constant"``; :mod:`serendip.io.exposure`): survey-mode input is refused without it.
        A path's size and modification time are part of the chunk key.
    """

    chunk_size: int = 16
    band: tuple[float, float] | str | None = "auto"
    region: str | None = None
    sources: str | None = None
    n_estimators: int = 200
    max_samples: int = 256
    n_fit: int = 50_000
    contamination: float = 0.01
    seed: int = 0
    n_top: int = 100
    exposure: str | None = None

    def check(self) -> BatchSettings:
        """Raise InputError naming the setting when a value is out of range."""
        if self.chunk_size < 1:
            raise InputError("--chunk-size", f"must be >= 1, got {self.chunk_size}")
        if self.n_fit < 2 or self.n_estimators < 1 or self.max_samples < 2:
            raise InputError("settings", "need n_fit >= 2, n_estimators >= 1, max_samples >= 2")
        if not 0.0 < self.contamination < 0.5:
            raise InputError(
                "settings", f"contamination must be in (0, 0.5), got {self.contamination}"
            )
        if self.exposure not in (None, "", "constant") and not Path(self.exposure).is_file():
            raise InputError(self.exposure, "--exposure: no such exposure-curve file (a curve "
                             "table or 'constant')")
        if self.band is not None and not isinstance(self.band, str) and not 0 <= self.band[0] < self.band[1]:
            raise InputError("--band", f"need 0 <= LOW < HIGH [eV], got {self.band}")
        return self


@dataclass
class BatchResult:
    """Paths written by :func:`run_batch` and its summary (also in ``summary.json``)."""

    out_dir: Path
    paths: dict[str, Path]
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def scores(self) -> pd.DataFrame:
        """The per-source scores table of the batch run."""
        from serendip.io.tables import read_table

        return read_table(self.paths["scores"])


# ------------------------------------------------------------------ inputs
def discover_inputs(
    paths: str | Path | Iterable[str | Path],
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Event files and event tables named or found (recursively) in folders, sorted per folder.

    Hidden files (names starting with ``.``, e.g. temporaries) are skipped. Returns
    ``(files, failures)``; a missing path or a folder without inputs is a failure.
    """
    from serendip.io.eventfile import EVENT_FILE_SUFFIXES
    from serendip.io.ingest import discover
    from serendip.io.reference import TABLE_SUFFIXES

    if isinstance(paths, (str, Path)):
        paths = [paths]
    return discover(paths, tuple(EVENT_FILE_SUFFIXES) + tuple(TABLE_SUFFIXES))


# ------------------------------------------------------------- chunk work
def features_chunk(
    paths: list[str], band: list[float] | str | None, region: str | None = None,
    sources: str | None = None, exposure: str | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Ingest ``paths``, compute event features and the "events" feature block (one worker task).

    ``exposure``: the relative exposure curve(s) handed to :func:`serendip.io.ingest.ingest`
    (a path or ``"constant"``); they reach the features as the good-time weights.

    Returns the table (one row per ingested file: ``obsreg_id``, ``path``, the event features,
    the ``ev_*`` block) and info: ``n_files``, ``n_events``, per-file ``failures`` and the
    seconds spent in ``ingest``, ``represent`` and ``features``.
    """
    from serendip.features import extract_features
    from serendip.io.ingest import ingest
    from serendip.represent import event_features

    t0 = time.perf_counter()
    res = ingest(paths, band=band if band is None or isinstance(band, str) else tuple(band),
                 region=region, sources=sources, progress=False, exposure=exposure or None)
    t1 = time.perf_counter()
    info: dict[str, Any] = {
        "n_inputs": len(paths),
        "n_files": int(res.events.n_files),
        "n_events": int(res.events.n_events),
        "failures": [list(r) for r in res.failures.itertuples(index=False, name=None)],
        "ingest_s": t1 - t0,
        "represent_s": 0.0,
        "features_s": 0.0,
    }
    if res.events.n_files == 0:
        return pd.DataFrame({"obsreg_id": pd.Series(dtype=str)}), info
    ef = event_features(res.events, res.files, res.gtis)
    t2 = time.perf_counter()
    fr = extract_features("events", events=res.events, event_table=ef)
    t3 = time.perf_counter()
    table = ef.copy()
    table.insert(1, "path", res.files["path"].astype(str).to_numpy())
    block = pd.DataFrame(fr.features, columns=fr.columns)
    table = pd.concat([table.reset_index(drop=True), block], axis=1)
    info.update(represent_s=t2 - t1, features_s=t3 - t2)
    return table, info


def score_chunk(
    features_path: str, model_path: str, columns: list[str]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Anomaly score of one features chunk with the saved isolation forest (one worker task)."""
    import pyarrow.parquet as pq

    from serendip.detect.isolation import IForest

    t0 = time.perf_counter()
    tab = pq.read_table(features_path, columns=["obsreg_id", *columns]).to_pandas()
    model = IForest.load(model_path)
    X = tab[columns].to_numpy(dtype=np.float64)
    score = model.score_samples(X) if len(X) else np.zeros(0)
    out = pd.DataFrame({"obsreg_id": tab["obsreg_id"].astype(str).to_numpy(), "score": score})
    return out, {"n_files": len(out), "score_s": time.perf_counter() - t0}


def warm_up() -> float:
    """Import the chunk functions' modules and load their numba kernels in this process.

    Run it on every worker (``client.run(warm_up)``) before timing, so one-off start-up costs
    (imports, numba cache loading) are not counted as throughput. Returns the seconds spent.
    """
    from serendip.detect.isolation import IForest
    from serendip.features import extract_features
    from serendip.io.eventset import EventSet
    from serendip.io.ingest import ingest  # noqa: F401 - import cost only
    from serendip.represent import event_features

    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    per = {
        f"w{i}": (np.sort(rng.uniform(0, 1e4, 40)), rng.uniform(500, 7000, 40)) for i in range(8)
    }
    ev = EventSet.from_arrays(per)
    table = event_features(ev)
    X = extract_features("events", events=ev, event_table=table).features
    IForest(n_estimators=5, random_state=0).fit(X).score_samples(X)
    return time.perf_counter() - t0


# ------------------------------------------------------------ fit sample
def sample_hash(ids: np.ndarray, seed: int) -> np.ndarray:
    """Seeded 64-bit hash of each id (uint64); the same id and seed always give the same value."""
    key = hashlib.sha256(f"serendip-sample-{int(seed)}".encode()).hexdigest()[:16]
    return pd.util.hash_array(np.asarray(ids, dtype=object), hash_key=key, categorize=False)


def fit_sample(
    paths: Sequence[str | Path], columns: list[str], n_fit: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_fit`` files with the smallest seeded id hash, across all chunk tables.

    Returns ``(obsreg_id (k,), X (k, len(columns)) float64)`` ordered by hash: the same files
    in the same order whatever the chunking, reading one chunk at a time.
    """
    import pyarrow.parquet as pq

    keep_ids = np.zeros(0, dtype=object)
    keep_h = np.zeros(0, dtype=np.uint64)
    keep_X = np.zeros((0, len(columns)))
    for p in paths:
        t = pq.read_table(p, columns=["obsreg_id", *columns]).to_pandas()
        if len(t) == 0:
            continue
        ids = t["obsreg_id"].astype(str).to_numpy(dtype=object)
        h = sample_hash(ids, seed)
        all_ids = np.concatenate([keep_ids, ids])
        all_h = np.concatenate([keep_h, h])
        all_X = np.concatenate([keep_X, t[columns].to_numpy(dtype=np.float64)])
        order = np.argsort(all_h, kind="stable")[:n_fit]
        keep_ids, keep_h, keep_X = all_ids[order], all_h[order], all_X[order]
    return keep_ids, keep_X


# ------------------------------------------------------------------- run
def _write_json(path: Path, data: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=str))


def _stage_info(report: ChunkReport, keys: Sequence[str]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "wall_s": round(report.wall_s, 3),
        "chunks_computed": len(report.computed),
        "chunks_reused": len(report.reused),
        "chunks_failed": len(report.failed),
        "computed_ids": report.computed,
    }
    for k in keys:
        info[f"worker_{k}"] = round(
            sum(float(m["info"].get(k, 0.0)) for m in report.markers.values()), 3
        )
    return info


def run_batch(
    inputs: str | Path | Iterable[str | Path],
    out_dir: str | Path,
    *,
    scheduler: str | None = "local",
    client=None,
    settings: BatchSettings | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    **overrides: Any,
) -> BatchResult:
    """Run (or resume) the chunked discovery run of ``inputs`` into ``out_dir``.

    Parameters
    ----------
    inputs : event files, event tables and/or folders of them.
    out_dir : output folder (see module docstring); rerunning resumes in it.
    scheduler : "none", "local", "local:N" or a Dask scheduler address
        (:func:`serendip.scale.client.get_client`); ignored when ``client`` is given.
    client : an existing ``distributed.Client`` to use (not closed here).
    settings : :class:`BatchSettings`; ``overrides`` replace single fields
        (``chunk_size=4, seed=1``, ...).
    progress : rich progress bars on stderr.
    log : called with one line per stage.

    Raises :class:`InputError` when nothing could be ingested.
    """
    from serendip.scale.client import use_client, worker_count

    s = settings or BatchSettings()
    if overrides:
        s = BatchSettings(**{**asdict(s), **overrides})
    s.check()
    log = log or (lambda msg: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # partial merged tables of a run killed during the merge (.features.*.tmp.parquet, ...)
    for folder in (out, out / MODEL_FILE.parent):
        n_stale = remove_stale_temporaries(folder) if folder.is_dir() else 0
        if n_stale:
            log(f"removed {n_stale} partial output(s) left by an interrupted run in {folder}")
    inputs = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)  # may be a generator
    files, failures = discover_inputs(inputs)
    if not files:
        raise InputError(
            ", ".join(map(str, inputs)),
            "no event files or event tables found: " + "; ".join(r for _, r in failures[:3]),
        )
    band = s.band if s.band is None or isinstance(s.band, str) else [float(s.band[0]), float(s.band[1])]
    groups = [files[a : a + s.chunk_size] for a in range(0, len(files), s.chunk_size)]
    width = max(6, len(str(len(groups))))
    exposure = s.exposure or None
    exp_key = (file_fingerprint([exposure]) if exposure not in (None, "constant") else exposure)
    fchunks = [
        Chunk(
            f"{i:0{width}d}",
            chunk_key("features", file_fingerprint(g), band, s.region, s.sources,
                      *([exp_key] if exposure else [])),
            {"paths": [str(p) for p in g], "band": band, "region": s.region, "sources": s.sources,
             "exposure": exposure},
        )
        for i, g in enumerate(groups)
    ]
    started = time.perf_counter()
    with use_client(scheduler, client) as cl:
        n_workers = worker_count(cl)
        log(f"{len(files)} input file(s) in {len(fchunks)} chunk(s); {n_workers} worker(s)")
        # ---- 1. ingest + represent + features, per chunk
        frep = map_chunks(
            features_chunk, fchunks, out / FEATURE_DIR, cl, progress, label="features"
        )
        log(
            f"features: {len(frep.computed)} computed, {len(frep.reused)} reused, "
            f"{len(frep.failed)} failed in {frep.wall_s:.1f} s"
        )
        ok = [c for c in fchunks if c.id in frep.markers and frep.markers[c.id]["rows"] > 0]
        if not ok:
            _write_failures(out, failures, fchunks, frep, None)
            raise InputError(out, "no event file could be ingested; see failures.csv")
        fpaths = [table_path(out / FEATURE_DIR, c.id) for c in ok]
        columns = _block_columns()
        # ---- 2. the forest, fitted once on a seeded sample (reused when unchanged)
        t_fit = time.perf_counter()
        fit_settings = {
            "n_estimators": s.n_estimators,
            "max_samples": s.max_samples,
            "n_fit": s.n_fit,
            "contamination": s.contamination,
            "seed": s.seed,
            "columns": columns,
        }
        model_key = chunk_key("iforest", [c.key for c in ok], fit_settings)
        model_path = out / MODEL_FILE
        model_info = _read_json(out / MODEL_INFO)
        if model_info.get("key") == model_key and digest_matches(
            model_path, model_info.get("model_file", {})
        ):
            fit_reused = True
        else:
            from serendip.detect.isolation import IForest

            # the model is about to change: its info (key) must not vouch for it any more
            (out / MODEL_INFO).unlink(missing_ok=True)
            ids, X = fit_sample(fpaths, columns, s.n_fit, s.seed)
            det = IForest(
                n_estimators=s.n_estimators,
                max_samples=min(s.max_samples, len(X)),
                contamination=s.contamination,
                random_state=s.seed,
            ).fit(X)
            det.feature_names_in_ = np.asarray(columns, dtype=object)
            det.save(model_path)
            model_info = {
                "key": model_key,
                "n_sample": len(X),
                "threshold": det.threshold_,
                "settings": fit_settings,
                "sample_ids_sha256": hashlib.sha256("\n".join(ids).encode()).hexdigest(),
                "model_file": file_digest(model_path),
            }
            _write_json(out / MODEL_INFO, model_info)
            fit_reused = False
        fit_s = time.perf_counter() - t_fit
        log(f"model: {'reused' if fit_reused else 'fitted'} on {model_info['n_sample']} files")
        # ---- 3. scores, per chunk
        schunks = [
            Chunk(
                c.id,
                chunk_key("score", c.key, model_key),
                {
                    "features_path": str(table_path(out / FEATURE_DIR, c.id)),
                    "model_path": str(model_path),
                    "columns": columns,
                },
            )
            for c in ok
        ]
        srep = map_chunks(score_chunk, schunks, out / SCORE_DIR, cl, progress, label="scores")
        log(
            f"scores: {len(srep.computed)} computed, {len(srep.reused)} reused in {srep.wall_s:.1f} s"
        )
    # ---- 4. merge in input order
    t_merge = time.perf_counter()
    both = [c for c in ok if c.id in srep.markers]
    paths = _merge(out, both, float(model_info["threshold"]), s.n_top)
    n_dup = int(paths.pop("n_duplicate_ids"))
    if n_dup:
        log(f"warning: {n_dup} obsreg_id(s) occur in more than one input file; rows are kept")
    paths["model"] = model_path
    paths["failures"], n_failures = _write_failures(out, failures, fchunks, frep, srep)
    merge_s = time.perf_counter() - t_merge
    n_events = sum(int(frep.markers[c.id]["info"]["n_events"]) for c in both)
    summary = {
        "settings": asdict(s),
        "n_inputs": len(files),
        "n_chunks": len(fchunks),
        "n_files": int(sum(int(srep.markers[c.id]["rows"]) for c in both)),
        "n_events": n_events,
        "n_failures": n_failures,
        "n_duplicate_ids": n_dup,
        "n_workers": n_workers,
        "scheduler": "client" if client is not None else str(scheduler),
        "stages": {
            "features": _stage_info(frep, ["ingest_s", "represent_s", "features_s"]),
            "fit": {"wall_s": round(fit_s, 3), "reused": fit_reused},
            "scores": _stage_info(srep, ["score_s"]),
            "merge": {"wall_s": round(merge_s, 3)},
        },
        "total_s": round(time.perf_counter() - started, 3),
    }
    _write_json(out / "summary.json", summary)
    paths["summary"] = out / "summary.json"
    return BatchResult(out, paths, summary)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _block_columns() -> list[str]:
    from serendip.features.event_block import EVENT_BLOCK

    return list(EVENT_BLOCK)


def _merge(out: Path, chunks: Sequence[Chunk], threshold: float, n_top: int) -> dict[str, Path]:
    """features.parquet, scores.parquet (with rank) and candidates.parquet, in chunk order."""
    import pyarrow.parquet as pq

    from serendip.io.tables import write_table

    fpaths = [table_path(out / FEATURE_DIR, c.id) for c in chunks]
    spaths = [table_path(out / SCORE_DIR, c.id) for c in chunks]
    feat_path, n_feat = merge_chunks(fpaths, out / "features.parquet")
    parts = [pq.read_table(p).to_pandas() for p in spaths]
    scores = pd.concat(parts, ignore_index=True)
    if len(scores) != n_feat:
        raise RuntimeError(f"{len(scores)} scores for {n_feat} feature rows")
    sc = scores["score"].to_numpy()
    order = np.argsort(-sc, kind="stable")
    rank = np.empty(len(sc), dtype=np.int64)
    rank[order] = np.arange(1, len(sc) + 1)
    scores["rank"] = rank
    scores["anomaly"] = sc > threshold
    # only possible across chunks (ingest makes ids unique within one chunk)
    n_dup = int(scores["obsreg_id"].duplicated().sum())
    scores_path = write_table(scores, out / "scores.parquet")
    # candidates: the top rows, read back chunk by chunk (only chunks that hold one)
    top = np.sort(order[: max(0, n_top)])
    sizes = np.array([int(pq.ParquetFile(p).metadata.num_rows) for p in fpaths], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    picked = []
    for i in np.unique(np.searchsorted(starts, top, side="right") - 1):
        rows = top[(top >= starts[i]) & (top < starts[i + 1])] - starts[i]
        picked.append(pq.read_table(fpaths[i]).to_pandas().iloc[rows])
    cand = pd.concat(picked, ignore_index=True) if picked else pd.DataFrame()
    if len(cand):
        cand.insert(1, "score", sc[top])
        cand.insert(1, "rank", rank[top])
        cand = cand.sort_values("rank", kind="stable").reset_index(drop=True)
    cand_path = write_table(cand, out / "candidates.parquet")
    return {
        "features": feat_path,
        "scores": scores_path,
        "candidates": cand_path,
        "n_duplicate_ids": n_dup,
    }


def _write_failures(
    out: Path,
    failures: list[tuple[str, str]],
    fchunks: Sequence[Chunk],
    frep: ChunkReport,
    srep: ChunkReport | None,
) -> tuple[Path, int]:
    """failures.csv (``file``, ``reason``); returns its path and row count."""
    from serendip.io.tables import write_table

    rows = list(failures) + chunk_failures(fchunks, frep)
    paths_of = {c.id: c.args["paths"] for c in fchunks}
    if srep is not None:
        for cid, reason in srep.failed:
            rows.extend((p, f"chunk {cid} scoring failed: {reason}") for p in paths_of[cid])
    df = pd.DataFrame(rows, columns=["file", "reason"]).astype(str)
    return write_table(df, out / "failures.csv"), len(df)
