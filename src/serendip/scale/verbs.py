"""The single-stage verbs (ingest, represent, detect) in checkpointed chunks, on Dask.

Each function partitions its input, runs the chunks with :func:`serendip.scale.chunks.map_chunks`
(in this process with ``client=None``, else on Dask workers; resumable: finished chunks are
reused) and merges the chunk tables in input order into exactly what the in-process verb
writes:

* :func:`ingest_chunked` - event files in chunks of ``chunk_size`` files -> ``events.parquet``,
  ``files.parquet``, ``failures.csv`` (as :func:`serendip.io.ingest.write_ingest`). obsreg_ids
  are made unique over *all* files, as in process: each chunk records the ids as read (before
  :func:`serendip.io.ingest.unique_ids`), the driver applies ``unique_ids`` to all of them in
  input order and renames the ids of each chunk's events while streaming them into the output.
* :func:`represent_chunked` - ``represent --kind et|etdt|dedt|features`` in chunks of files of an
  ingest folder (every representation is per file).
* :func:`detect_chunked` - a saved detector applied to a Parquet/CSV table in row chunks; the
  rank (over all rows) is computed by the driver from the merged scores.

:func:`resolve_scheduler` implements the CLI default ``auto``: a local cluster only when there
are more than :data:`AUTO_MIN_CHUNKS` chunks, otherwise the plain in-process verb.

Memory: a worker holds one chunk (its files' events, or ``chunk_rows`` rows); the driver holds
the per-file tables (ingest: ~17 values per file; represent: the merged output, as in process) or the score
columns (detect: a few values per row), and one chunk of events at a time while merging.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.layout import RunLayout
from serendip.scale.chunks import (
    Chunk,
    chunk_failures,
    chunk_key,
    file_fingerprint,
    map_chunks,
    merge_chunks,
    table_path,
)

#: ``auto`` starts a local cluster only for more chunks than this
AUTO_MIN_CHUNKS = 2


def resolve_scheduler(scheduler: str | None, n_chunks: int) -> str:
    """``"auto"`` -> ``"local"`` when ``n_chunks > AUTO_MIN_CHUNKS`` else ``"none"``; others as given."""
    s = "auto" if scheduler is None else str(scheduler).strip()
    if s.lower() == "auto":
        return "local" if n_chunks > AUTO_MIN_CHUNKS else "none"
    from serendip.scale.client import parse_scheduler

    parse_scheduler(s)  # InputError when malformed
    return s


def _width(n: int) -> int:
    return max(6, len(str(n)))


# ---------------------------------------------------------------------------------- ingest
def ingest_chunk(
    paths: list[str],
    events_path: str,
    band: list[float] | None,
    regions: list | None,
    gain: list[float] | None,
    options: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Ingest ``paths`` (one worker task): events to ``events_path``, the files table returned.

    ``options``: further keywords of :func:`serendip.io.ingest.ingest` (``exposure`` as a path
    or ``"constant"``, ``quality``, ``barycentre``, ``dither_exposure``, ``flare_screen``).

    The returned table is ``files`` plus ``raw_obsreg_id``: the id as read, before
    :func:`serendip.io.ingest.unique_ids` made it unique within this chunk (the driver makes
    ids unique over all chunks). Info holds ``failures`` ([file, reason], ...) and ``n_events``.
    """
    from serendip.io.eventset import EventSet
    from serendip.io.ingest import ingest, unique_ids
    from serendip.io.tables import write_table

    res = ingest(
        paths,
        band=band if band is None or isinstance(band, str) else tuple(band),
        region=regions,
        progress=False,
        gain=None if gain is None else tuple(gain),
        unique=False,
        **(options or {}),
    )
    raw = np.asarray(res.events.obsreg_id, dtype=object).astype(str)
    ids = unique_ids(raw)
    events = EventSet(ids, res.events.offsets, res.events.time, res.events.energy)
    files = res.files.copy()
    files["obsreg_id"] = ids.astype(str)
    files["raw_obsreg_id"] = raw
    events.write(events_path)
    # good-time intervals, with the chunk-unique ids (renamed by the driver like the events)
    gtis = res.gtis.copy()
    gtis["obsreg_id"] = ids.astype(str)[gtis.pop("file_row").to_numpy(dtype=np.int64)]
    write_table(gtis, _gti_path(events_path))
    info = {
        "n_events": int(res.events.n_events),
        "failures": [list(r) for r in res.failures.itertuples(index=False, name=None)],
    }
    return files, info


def _gti_path(events_path: str | Path) -> Path:
    """Where a chunk's good-time intervals are kept, next to its events."""
    p = Path(events_path)
    return p.with_name(p.name.replace("events-", "gtis-", 1))


def ingest_chunked(
    inputs: str | Path | Iterable[str | Path],
    out_dir: str | Path,
    *,
    band: tuple[float, float] | str | None = "auto",
    region=None,
    gain: tuple[float, float] | None = None,
    chunk_size: int = 64,
    scheduler: str | None = "local",
    client=None,
    progress: bool = True,
    exposure: str | None = None,
    quality: bool = True,
    barycentre: bool = True,
    dither_exposure: bool = True,
    flare_screen: str = "auto",
) -> tuple[dict[str, Path], dict[str, Any]]:
    """:func:`serendip.io.ingest.ingest` + ``write_ingest`` in chunks of ``chunk_size`` files.

    ``exposure`` (a curve table path or ``"constant"``), ``quality``, ``barycentre``,
    ``dither_exposure`` and ``flare_screen`` are handed to every chunk's ingest; the exposure
    file's size and modification time are part of the chunk key, so a changed curve is
    recomputed.

    Writes ``OUT/events.parquet``, ``OUT/files.parquet``, ``OUT/failures.csv`` equal to the
    in-process verb's, and keeps the resumable chunk outputs in ``OUT/.chunks/ingest``.
    Returns ``(paths, summary)``; summary: ``n_files``, ``n_events``, ``n_failed``,
    ``chunks``, ``computed``, ``reused``, ``n_workers``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from serendip.io.atomic import atomic_path
    from serendip.io.eventfile import _check_band
    from serendip.io.ingest import (
        FAILURE_COLUMNS,
        FILES_COLUMNS,
        GTI_COLUMNS,
        _typed_files,
        discover,
        empty_gtis,
        unique_ids,
    )
    from serendip.io.regions import SourceRegion
    from serendip.io.tables import write_table
    from serendip.scale.client import use_client, worker_count

    if chunk_size < 1:
        raise InputError("--chunk-size", f"must be >= 1, got {chunk_size}")
    band = _check_band(band)
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    regions = (
        None if region is None
        else [region] if isinstance(region, SourceRegion)
        else region if isinstance(region, str)
        else list(region)
    )
    files, failures = discover(inputs)
    out = Path(out_dir)
    work = out / ".chunks" / "ingest"
    work.mkdir(parents=True, exist_ok=True)
    bandl = band if band is None or isinstance(band, str) else [float(band[0]), float(band[1])]
    gainl = None if gain is None else [float(gain[0]), float(gain[1])]
    groups = [files[a : a + chunk_size] for a in range(0, len(files), chunk_size)]
    w = _width(len(groups))
    if exposure not in (None, "constant") and not Path(str(exposure)).is_file():
        raise InputError(str(exposure), "exposure curve: no such file")
    options = {"exposure": exposure, "quality": bool(quality), "barycentre": bool(barycentre),
               "dither_exposure": bool(dither_exposure), "flare_screen": str(flare_screen)}
    defaults = {"exposure": None, "quality": True, "barycentre": True, "dither_exposure": True,
                "flare_screen": "auto"}
    opt_key = [] if options == defaults else [
        {**options, "exposure": file_fingerprint([exposure]) if exposure not in (None, "constant")
         else exposure}]
    chunks = [
        Chunk(
            f"{i:0{w}d}",
            chunk_key("ingest", file_fingerprint(g), bandl, repr(regions), gainl, *opt_key),
            {
                "paths": [str(p) for p in g],
                "events_path": str(work / f"events-{i:0{w}d}.parquet"),
                "band": bandl,
                "regions": regions,
                "gain": gainl,
                "options": options,
            },
        )
        for i, g in enumerate(groups)
    ]
    with use_client(scheduler, client) as cl:
        n_workers = worker_count(cl)
        rep = map_chunks(ingest_chunk, chunks, work, cl, progress, label="ingest")
    failures = list(failures) + chunk_failures(chunks, rep, "ingest chunk")
    ok = [c for c in chunks if c.id in rep.markers]
    parts = [pd.read_parquet(table_path(work, c.id)) for c in ok]
    sizes = [len(p) for p in parts]
    if parts and sum(sizes):
        tab = pd.concat(parts, ignore_index=True)
        final = unique_ids(tab["raw_obsreg_id"].to_numpy(dtype=object)).astype(str)
        local = tab["obsreg_id"].to_numpy(dtype=object).astype(str)
        tab["obsreg_id"] = final
        files_df = _typed_files(tab)
    else:
        final = local = np.zeros(0, dtype=object)
        files_df = _typed_files(
            pd.DataFrame({"obsreg_id": pd.Series(dtype=object)}).reindex(columns=FILES_COLUMNS)
        )
    out.mkdir(parents=True, exist_ok=True)
    # events: chunk by chunk, ids renamed from chunk-unique to run-unique
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n_events = 0
    events_path = RunLayout(out).events
    with atomic_path(events_path) as tmp:
        writer = None
        try:
            for k, c in enumerate(ok):
                if sizes[k] == 0:
                    continue
                ev = pd.read_parquet(c.args["events_path"])
                rename = dict(
                    zip(
                        local[starts[k] : starts[k + 1]],
                        final[starts[k] : starts[k + 1]],
                        strict=True,
                    )
                )
                ev["obsreg_id"] = ev["obsreg_id"].cat.rename_categories(rename)
                t = pa.Table.from_pandas(ev, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, t.schema)
                writer.write_table(t)
                n_events += len(ev)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            from serendip.io.eventset import EventSet

            EventSet(
                np.zeros(0, dtype=object), np.zeros(1, np.int64), np.zeros(0), np.zeros(0)
            ).to_frame().to_parquet(tmp, index=False)
    fail_df = pd.DataFrame(failures, columns=FAILURE_COLUMNS).astype(str)
    gti_parts = []
    for k, c in enumerate(ok):
        g = pd.read_parquet(_gti_path(c.args["events_path"]))
        if "weight" not in g.columns:  # a chunk written before intervals had weights
            from serendip.notices import notice

            g["weight"] = 1.0
            notice(
                "ingest",
                "gti_weight_filled",
                "chunk good-time intervals without a weight column: weight 1 (constant "
                "expected rate) assumed",
                source=_gti_path(c.args["events_path"]),
                count=len(g),
                total=len(g),
                severity="info",
            )
        rename = pd.Series(final[starts[k] : starts[k + 1]], index=local[starts[k] : starts[k + 1]])
        g["obsreg_id"] = rename.reindex(g["obsreg_id"].astype(str)).to_numpy()
        gti_parts.append(g)
    gtis = pd.concat(gti_parts, ignore_index=True) if gti_parts else empty_gtis()
    paths = {
        "events": events_path,
        "files": write_table(files_df, RunLayout(out).files),
        "failures": write_table(fail_df, RunLayout(out).failures),
        "gtis": write_table(gtis[GTI_COLUMNS], RunLayout(out).gtis),
    }
    summary = {
        "n_files": len(files_df),
        "n_events": n_events,
        "n_failed": len(fail_df),
        "chunks": len(chunks),
        "computed": len(rep.computed),
        "reused": len(rep.reused),
        "n_workers": n_workers,
    }
    return paths, summary


# ----------------------------------------------------------------------------- represent
def represent_chunk(
    events_path: str,
    files_path: str,
    start: int,
    stop: int,
    kind: str,
    options: dict[str, Any],
    array_path: str,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Representation ``kind`` of files ``start:stop`` of an ingest folder (one worker task).

    Features: the feature table is returned. Maps / cubes: the (n, ...) float32 array is
    written to ``array_path`` (``.npy``, atomically) and the table holds ``obsreg_id`` only.
    Info holds the representation's ``settings``.
    """
    import pyarrow.parquet as pq

    from serendip.io.atomic import atomic_path
    from serendip.io.eventset import EventSet
    from serendip.io.tables import read_table
    from serendip.represent.container import represent

    files = read_table(files_path).iloc[start:stop].reset_index(drop=True)
    ids = files["obsreg_id"].astype(str).tolist()
    t = pq.read_table(
        events_path, columns=["obsreg_id", "time", "energy"], filters=[("obsreg_id", "in", ids)]
    )
    df = t.to_pandas()
    df["obsreg_id"] = df["obsreg_id"].astype(str)
    events = EventSet.from_frame(df, order=ids, source=events_path)
    opts = dict(options)
    if kind != "features":
        opts["progress"] = False
    gti_path = RunLayout(Path(files_path).parent).gtis
    gtis = None
    if kind == "features" and gti_path.is_file():
        gtis = read_table(gti_path)
        gtis = gtis[gtis["obsreg_id"].astype(str).isin(ids)]
    rep = represent(
        events,
        kind,
        files=files if kind in ("et", "features") else None,
        gtis=gtis,
        **opts,
    )
    info = {"n_files": len(files), "n_events": int(events.n_events), "settings": rep.settings}
    if kind == "features":
        return rep.data, info
    from serendip.represent.sparse import save_array

    with atomic_path(array_path) as tmp, open(tmp, "wb") as fh:
        save_array(fh, rep.data)  # sparse cubes stay sparse
    return pd.DataFrame({"obsreg_id": np.asarray(rep.obsreg_id).astype(str)}), info


def represent_chunked(
    directory: str | Path,
    out: str | Path | None = None,
    *,
    kind: str = "features",
    options: dict[str, Any] | None = None,
    chunk_size: int = 4096,
    scheduler: str | None = "local",
    client=None,
    progress: bool = True,
) -> tuple[Path, dict[str, Any]]:
    """``serendip represent DIR --kind KIND`` in chunks of ``chunk_size`` files of ``files.parquet``.

    Every representation is computed per file, so the chunks' rows concatenated in file order
    equal the in-process result. Writes ``out`` (default: ``DIR/<default file name>``, as the
    in-process verb) and keeps the chunk outputs (resumable) in ``DIR/.chunks/<kind>-<key>``.
    The driver holds the merged output (as the in-process verb does), one chunk per worker.
    Returns ``(out, summary)``.
    """
    import pyarrow.parquet as pq

    from serendip.represent.container import (
        KINDS,
        Representation,
        default_filename,
        save_representation,
    )
    from serendip.scale.client import use_client, worker_count

    directory = Path(directory)
    options = {k: v for k, v in (options or {}).items() if k != "progress"}
    if kind not in KINDS:
        raise InputError(None, f"--kind must be one of {list(KINDS)}, got {kind!r}")
    events_path, files_path = RunLayout(directory).events, RunLayout(directory).files
    for p in (events_path, files_path):
        if not p.is_file():
            raise InputError(p, "no such file (chunked represent needs an ingest folder)")
    if chunk_size < 1:
        raise InputError("--chunk-size", f"must be >= 1, got {chunk_size}")
    n = int(pq.ParquetFile(files_path).metadata.num_rows)
    fp = file_fingerprint([events_path, files_path])
    run_key = chunk_key("represent", kind, options, fp)
    work = directory / ".chunks" / f"{kind}-{run_key}"
    w = _width(n // chunk_size + 1)
    chunks = [
        Chunk(
            f"{i:0{w}d}",
            chunk_key(run_key, a, min(a + chunk_size, n)),
            {
                "events_path": str(events_path),
                "files_path": str(files_path),
                "start": a,
                "stop": min(a + chunk_size, n),
                "kind": kind,
                "options": options,
                "array_path": str(work / f"array-{i:0{w}d}.npy"),
            },
        )
        for i, a in enumerate(range(0, n, chunk_size))
    ]
    with use_client(scheduler, client) as cl:
        n_workers = worker_count(cl)
        rep = map_chunks(represent_chunk, chunks, work, cl, progress, label=kind)
    if rep.failed:
        cid, reason = rep.failed[0]
        raise InputError(directory, f"{len(rep.failed)} chunk(s) failed, e.g. {cid}: {reason}")
    if not chunks:
        raise InputError(files_path, "no files to represent")
    parts = [pd.read_parquet(table_path(work, c.id)) for c in chunks]
    table = pd.concat(parts, ignore_index=True)
    ids = table["obsreg_id"].to_numpy(dtype=object)
    settings = rep.markers[chunks[0].id]["info"]["settings"]
    if kind == "features":
        data: Any = table
    else:
        from serendip.represent.sparse import SparseCubes, load_array

        arrays = [load_array(c.args["array_path"]) for c in chunks]
        sparse = isinstance(arrays[0], SparseCubes)
        data = SparseCubes.concatenate(arrays) if sparse else np.concatenate(arrays, axis=0)
    merged = Representation(kind, data, ids, settings)
    out = Path(out) if out is not None else directory / default_filename(merged)
    save_representation(merged, out)
    return out, {
        "n_files": len(ids),
        "shape": list(np.shape(data)),
        "chunks": len(chunks),
        "computed": len(rep.computed),
        "reused": len(rep.reused),
        "n_workers": n_workers,
    }


def ingest_files(
    inputs: str | Path | Iterable[str | Path],
    out_dir: str | Path,
    *,
    band: tuple[float, float] | str | None = "auto",
    region=None,
    gain: tuple[float, float] | None = None,
    chunk_size: int = 64,
    scheduler: str | None = "auto",
    progress: bool = True,
    sources=None,
    csc_band: str = "b",
    quality: bool = True,
    barycentre: bool = True,
    exposure=None,
    dither_exposure: bool = True,
    flare_screen: str = "auto",
) -> tuple[dict[str, Path], dict[str, Any]]:
    """``serendip ingest``: event files into ``out_dir``, in process or in chunks.

    A source list (``sources``), a CSC band other than ``"b"`` or exposure curves given as a
    table in memory (a DataFrame or mapping) are applied in this process; an exposure curve
    file (or ``"constant"``), the event screening, barycentring, dither exposure and flare
    screening switches (``quality``, ``barycentre``, ``exposure``, ``dither_exposure``,
    ``flare_screen``: see :func:`serendip.io.ingest.ingest`) go to every chunk.

    With ``scheduler="auto"`` the files are ingested in chunks of ``chunk_size`` on a local
    Dask cluster (:func:`ingest_chunked`) when they make more than :data:`AUTO_MIN_CHUNKS`
    chunks, else in this process (:func:`serendip.io.ingest.ingest`); both write the same
    files. Returns ``(paths, summary)``; summary: ``n_files`` (ingested), ``n_events``,
    ``failures`` (DataFrame: file, reason), ``chunks`` (0 in process) and, when chunked,
    ``n_workers``, ``computed``, ``reused``.
    """
    from serendip.io.ingest import discover, ingest, write_ingest

    if chunk_size < 1:
        raise InputError("--chunk-size", f"must be >= 1, got {chunk_size}")
    s = "auto" if scheduler is None else str(scheduler)
    if isinstance(exposure, Path):
        exposure = str(exposure)
    if sources is not None or csc_band != "b" or not (exposure is None or isinstance(exposure, str)):
        mode = "none"
    elif s.strip().lower() == "auto":
        mode = resolve_scheduler("auto", -(-len(discover(inputs)[0]) // chunk_size))
    else:
        mode = resolve_scheduler(s, 0)
    if mode.lower() == "none":
        result = ingest(inputs, band=band, region=region, progress=progress, gain=gain,
                        sources=sources, csc_band=csc_band, quality=quality, barycentre=barycentre,
                        exposure=exposure, dither_exposure=dither_exposure,
                        flare_screen=flare_screen)
        paths = write_ingest(result, out_dir)
        summary = {"n_files": result.n_ok, "n_events": result.events.n_events, "chunks": 0}
        return paths, {**summary, "failures": result.failures}
    paths, summary = ingest_chunked(
        inputs, out_dir, band=band, region=region, gain=gain, chunk_size=chunk_size,
        scheduler=mode, progress=progress, exposure=exposure, quality=quality,
        barycentre=barycentre, dither_exposure=dither_exposure, flare_screen=flare_screen,
    )  # fmt: skip
    failures = pd.read_csv(paths["failures"], dtype=str, keep_default_na=False)
    return paths, {**summary, "failures": failures}


# ---------------------------------------------------------------------------------- detect
def table_columns(path: Path) -> list[str]:
    """Column names of a Parquet or CSV table without reading its rows."""
    from serendip.io.tables import table_format

    if table_format(path) == "parquet":
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(path).schema_arrow.names)
    return list(pd.read_csv(path, nrows=0).columns)


def detect_rows(
    model: str,
    path: str,
    start: int,
    stop: int,
    id_column: str | None,
    drop_missing: bool,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Scores of rows ``start:stop`` of ``path`` with the saved detector ``model`` (one worker task).

    Columns: the id column (or ``row``, the global row number), ``score`` and the per-class
    columns of ``serendip detect``; rank and anomaly flag are added by the driver.
    """
    from serendip.detect.base import BaseDetector
    from serendip.detect.scoring import score_rows
    from serendip.scale.classify import read_rows

    det = BaseDetector.load(model)
    cols = [str(c) for c in det.feature_names_in_]
    df = read_rows(path, start, stop)
    res, keep = score_rows(det, df, cols, path, id_column, drop_missing, row_offset=start)
    return res, {"rows": int(stop - start), "dropped": int((~keep).sum())}


def detect_chunked(
    model: str | Path,
    table: str | Path,
    out: str | Path,
    *,
    id_column: str | None = None,
    drop_missing: bool = False,
    chunk_rows: int = 1_000_000,
    scheduler: str | None = "local",
    client=None,
    progress: bool = True,
) -> tuple[pd.DataFrame, float, dict[str, Any]]:
    """``serendip detect`` in row chunks: the same scores table, written to ``out``.

    ``table`` must be Parquet or CSV. Chunk outputs are kept (resumable) in
    ``<out>.chunks/``. Returns ``(scores table, model threshold, summary)``.
    """
    from serendip.detect.base import BaseDetector
    from serendip.detect.scoring import add_rank, find_id_column
    from serendip.io.tables import write_table
    from serendip.scale.classify import count_rows
    from serendip.scale.client import use_client, worker_count

    model, table, out = Path(model).resolve(), Path(table), Path(out)
    if chunk_rows < 1:
        raise InputError("--chunk-rows", f"must be >= 1, got {chunk_rows}")
    if not table.is_file():
        raise InputError(table, "no such file")
    det = BaseDetector.load(model)  # bad model -> error now, not once per chunk
    names = getattr(det, "feature_names_in_", None)
    if names is None:
        raise InputError(
            model, "model stores no feature column names (it was not trained by train-detector)"
        )
    header = pd.DataFrame(columns=table_columns(table))
    idc = find_id_column(header, id_column, table)
    from serendip.io.tables import require_columns

    require_columns(header, [str(c) for c in names], table)
    n = count_rows(table)
    if n == 0:
        raise InputError(table, "table has no rows")
    work = out.with_name(out.name + ".chunks")
    fp = file_fingerprint([table, model])
    w = _width(n // chunk_rows + 1)
    chunks = [
        Chunk(
            f"{i:0{w}d}",
            chunk_key("detect", fp, a, min(a + chunk_rows, n), idc, drop_missing),
            {
                "model": str(model),
                "path": str(table),
                "start": a,
                "stop": min(a + chunk_rows, n),
                "id_column": idc,
                "drop_missing": drop_missing,
            },
        )
        for i, a in enumerate(range(0, n, chunk_rows))
    ]
    with use_client(scheduler, client) as cl:
        n_workers = worker_count(cl)
        rep = map_chunks(detect_rows, chunks, work, cl, progress, label="detect")
    if rep.failed:
        cid, reason = rep.failed[0]
        raise InputError(table, f"{len(rep.failed)} chunk(s) failed, e.g. chunk {cid}: {reason}")
    merged, _ = merge_chunks([table_path(work, c.id) for c in chunks], work / "merged.parquet")
    res = add_rank(pd.read_parquet(merged), det.threshold_)
    write_table(res, out)
    dropped = sum(int(m["info"].get("dropped", 0)) for m in rep.markers.values())
    return (
        res,
        float(det.threshold_),
        {
            "rows": len(res),
            "dropped": dropped,
            "chunks": len(chunks),
            "computed": len(rep.computed),
            "reused": len(rep.reused),
            "n_workers": n_workers,
        },
    )


def detect_file(
    model: str | Path,
    table: str | Path,
    out: str | Path,
    *,
    id_column: str | None = None,
    drop_missing: bool = False,
    scheduler: str | None = "auto",
    chunk_rows: int = 1_000_000,
    progress: bool = True,
) -> tuple[pd.DataFrame, float, dict[str, Any]]:
    """Score every row of the table file ``table`` with a saved detector and write ``out``.

    A Parquet or CSV table of more than :data:`AUTO_MIN_CHUNKS` chunks of ``chunk_rows`` rows
    (or any, with an explicit ``scheduler`` other than ``"none"``) is scored in row chunks
    (:func:`detect_chunked`); otherwise in this process
    (:func:`serendip.detect.scoring.score_table`). Both give the same table.

    Returns ``(scores table, model threshold, summary)``; summary has ``rows``, ``dropped``,
    ``chunks`` (0 in process) and ``n_workers``.
    """
    from serendip.io.tables import table_format, write_table

    table, out = Path(table), Path(out)
    if table.is_file() and table_format(table) in ("parquet", "csv"):
        from serendip.scale.classify import count_rows

        s = "auto" if scheduler is None else str(scheduler)
        n_chunks = -(-count_rows(table) // max(1, chunk_rows)) if s.strip().lower() == "auto" else 0
        mode = resolve_scheduler(s, n_chunks)
        if mode.lower() != "none":
            res, threshold, summary = detect_chunked(
                model, table, out, id_column=id_column, drop_missing=drop_missing,
                chunk_rows=chunk_rows, scheduler=mode, progress=progress,
            )  # fmt: skip
            if summary["dropped"]:
                from serendip.notices import notice

                notice(
                    "detect", "missing_features",
                    f"dropped {summary['dropped']} row(s) with missing / non-finite features",
                    source=str(table), count=summary["dropped"], total=count_rows(table),
                )  # fmt: skip
            return res, threshold, summary
    from serendip.detect.scoring import load_scorer, score_table
    from serendip.io.tables import read_table

    det = load_scorer(model)
    df = read_table(table)
    res = score_table(det, df, id_column=id_column, drop_missing=drop_missing, source=table)
    write_table(res, out)
    summary = {"rows": len(res), "dropped": len(df) - len(res), "chunks": 0, "n_workers": 1}
    return res, float(det.threshold_), summary
