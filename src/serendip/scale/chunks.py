"""A checkpointed map over chunks: each chunk's table is written once, atomically, and reused.

:func:`map_chunks` runs ``func(**chunk.args)`` for every :class:`Chunk`, in this process
(``client=None``) or on Dask workers. ``func`` returns ``(table, info)``; the worker writes
``table`` to ``OUT/chunk-<id>.parquet`` (temporary name, then rename) and then the marker
``OUT/chunk-<id>.json`` holding the chunk's key (a hash of its inputs and settings), the row
count, the file size and ``info``. Only the small marker travels back to the driver, and the
driver keeps at most ``max_in_flight`` chunks running, so its memory does not grow with the
number of chunks; workers read their inputs from disk themselves (chunk args hold paths).

On a later call a chunk whose marker and table exist with the same key and size is reused,
not recomputed: a run killed at any moment (SIGKILL included) resumes where it stopped.
Temporary files left by a killed run (``.*.tmp*``, :func:`serendip.io.atomic.atomic_path`
names, also those of side outputs a chunk function writes into ``OUT``) are ignored and removed.
A chunk whose ``func`` raises is recorded as ``(chunk id, reason)`` and the others go on.

:func:`merge_chunks` concatenates chunk tables in chunk order (not completion order), streaming
one chunk at a time into the merged Parquet file, so the result does not depend on worker
count or timing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serendip.io.atomic import atomic_path

MARKER_VERSION = 1


@dataclass(frozen=True)
class Chunk:
    """One unit of work: a stable ``id`` (file-name safe), a ``key`` and JSON-able ``args``."""

    id: str
    key: str
    args: dict[str, Any]


@dataclass
class ChunkReport:
    """What :func:`map_chunks` did: chunk ids computed now, reused, failed (id, reason)."""

    computed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    markers: dict[str, dict[str, Any]] = field(default_factory=dict)
    wall_s: float = 0.0

    def ok_ids(self, chunks: Sequence[Chunk]) -> list[str]:
        """Ids of the chunks with a table, in chunk order."""
        return [c.id for c in chunks if c.id in self.markers]


def chunk_key(*parts: Any) -> str:
    """Deterministic 16-hex-digit key of JSON-able ``parts`` (settings, input fingerprints)."""
    from serendip import __version__

    blob = json.dumps([parts, __version__], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def file_fingerprint(paths: Sequence[str | Path]) -> list[list[Any]]:
    """``[[path, size, mtime_ns], ...]``: changes when an input file is replaced or edited."""
    out = []
    for p in paths:
        st = os.stat(p)
        out.append([str(p), int(st.st_size), int(st.st_mtime_ns)])
    return out


def table_path(out_dir: str | Path, chunk_id: str) -> Path:
    """Path of a chunk's output table."""
    return Path(out_dir) / f"chunk-{chunk_id}.parquet"


def marker_path(out_dir: str | Path, chunk_id: str) -> Path:
    """Path of a chunk's completion marker."""
    return Path(out_dir) / f"chunk-{chunk_id}.json"


def read_marker(out_dir: str | Path, chunk: Chunk) -> dict[str, Any] | None:
    """The chunk's marker when it finished with ``chunk.key`` and its table is intact."""
    mp = marker_path(out_dir, chunk.id)
    tp = table_path(out_dir, chunk.id)
    if not (mp.is_file() and tp.is_file()):
        return None
    try:
        m = json.loads(mp.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(m, dict) or m.get("key") != chunk.key or m.get("id") != chunk.id:
        return None
    st = tp.stat()
    if int(m.get("bytes", -1)) != st.st_size:
        return None
    if "mtime_ns" in m and int(m["mtime_ns"]) != st.st_mtime_ns:
        return None  # rewritten since its marker (by a run with other settings)
    return m


def run_chunk(
    func: Callable[..., tuple[Any, dict[str, Any]]], chunk: Chunk, out_dir: str
) -> dict[str, Any]:
    """Compute one chunk and write its table then its marker (runs on the worker).

    Returns the marker dict, or ``{"id", "error"}`` when ``func`` raised.
    """
    from serendip.io.tables import write_table

    started = time.perf_counter()
    # the table is about to change: no marker (of an earlier key) may vouch for it
    marker_path(out_dir, chunk.id).unlink(missing_ok=True)
    try:
        table, info = func(**chunk.args)
        tp = write_table(table, table_path(out_dir, chunk.id))
    except Exception as exc:  # noqa: BLE001 - one bad chunk never stops the others
        return {"id": chunk.id, "error": f"{type(exc).__name__}: {exc}"}
    marker = {
        "id": chunk.id,
        "key": chunk.key,
        "version": MARKER_VERSION,
        "rows": int(len(table)),
        "bytes": int(tp.stat().st_size),
        "mtime_ns": int(tp.stat().st_mtime_ns),
        "seconds": time.perf_counter() - started,
        "pid": os.getpid(),
        "info": info,
    }
    with atomic_path(marker_path(out_dir, chunk.id)) as tmp:
        tmp.write_text(json.dumps(marker, default=_json_default))
    return marker


def _json_default(obj: Any) -> Any:
    """numpy scalars and arrays as in model files; anything else as its text."""
    from serendip.io.modelfile import _json_default as numpy_default

    try:
        return numpy_default(obj)
    except TypeError:
        return str(obj)


def remove_stale_temporaries(out_dir: str | Path) -> int:
    """Delete the :func:`~serendip.io.atomic.atomic_path` temporaries (``.*.tmp*``) a killed
    run left in ``out_dir`` (chunk tables, markers, side outputs); returns how many."""
    n = 0
    for p in Path(out_dir).glob(".*.tmp*"):
        if p.is_file():
            p.unlink(missing_ok=True)
            n += 1
    return n


def map_chunks(
    func: Callable[..., tuple[Any, dict[str, Any]]],
    chunks: Sequence[Chunk],
    out_dir: str | Path,
    client=None,
    progress: bool = True,
    *,
    max_in_flight: int | None = None,
    label: str = "chunks",
) -> ChunkReport:
    """Compute (or reuse) every chunk; see the module docstring.

    Parameters
    ----------
    func : module-level function (picklable) ``func(**chunk.args) -> (DataFrame, info dict)``.
    chunks : the chunks, in the order their tables are merged; ids must be unique.
    out_dir : folder for ``chunk-<id>.parquet`` and ``chunk-<id>.json``.
    client : a ``distributed.Client`` or None (run in this process).
    progress : rich progress bar on stderr.
    max_in_flight : chunks submitted but not finished at once (default 2 per worker).
    label : progress-bar text.
    """
    from serendip.progress import progress_bar

    ids = [c.id for c in chunks]
    if len(set(ids)) != len(ids):
        raise ValueError("chunk ids must be unique")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    report = ChunkReport()
    started = time.perf_counter()
    todo = []
    for c in chunks:
        m = read_marker(out, c)
        if m is None:
            todo.append(c)
        else:
            report.reused.append(c.id)
            report.markers[c.id] = m

    def handle(res: dict[str, Any]) -> None:
        if "error" in res:
            report.failed.append((res["id"], res["error"]))
        else:
            report.computed.append(res["id"])
            report.markers[res["id"]] = res

    with progress_bar(progress, eta=True) as bar:
        task = bar.add_task(label, total=len(chunks), completed=len(report.reused))
        if client is None:
            for c in todo:
                handle(run_chunk(func, c, str(out)))
                bar.advance(task)
        elif todo:
            from distributed import as_completed

            from serendip.scale.client import worker_count

            limit = max_in_flight or 2 * worker_count(client)
            pending = iter(todo)
            by_future = {}

            def submit(c: Chunk):
                # the output folder is part of the task key: the same chunk written to two
                # folders through one client must run twice, not share a cached result
                key = f"{label}-{c.id}-{chunk_key(str(out.resolve()), c.key)}"
                fut = client.submit(run_chunk, func, c, str(out), key=key, pure=False)
                by_future[fut.key] = c
                return fut

            first = [submit(c) for c in itertools.islice(pending, limit)]
            ac = as_completed(first)
            for fut in ac:
                c = by_future.pop(fut.key)
                try:
                    handle(fut.result())
                except Exception as exc:  # noqa: BLE001 - worker died, memory limit, ...
                    handle({"id": c.id, "error": f"worker failed: {type(exc).__name__}: {exc}"})
                fut.release()
                bar.advance(task)
                nxt = next(pending, None)
                if nxt is not None:
                    ac.add(submit(nxt))
    done = set(report.computed) | set(report.reused) | {f[0] for f in report.failed}
    if len(done) != len(chunks):  # pragma: no cover - would be a bug in the loop above
        raise RuntimeError(f"{len(chunks) - len(done)} chunk(s) were neither run nor reused")
    order = {cid: i for i, cid in enumerate(ids)}
    report.computed.sort(key=order.__getitem__)
    report.failed.sort(key=lambda f: order[f[0]])
    report.wall_s = time.perf_counter() - started
    return report


def chunk_failures(
    chunks: Sequence[Chunk], report: ChunkReport, what: str = "chunk"
) -> list[tuple[str, str]]:
    """``(file, reason)`` rows of a chunk map over files (chunk args hold ``paths``).

    First the per-file failures the chunks recorded (``info["failures"]``), in chunk order,
    then every file of each chunk that failed as a whole (``"<what> <id> failed: ..."``).
    """
    rows: list[tuple[str, str]] = []
    for c in chunks:
        m = report.markers.get(c.id)
        if m is not None:
            rows.extend(tuple(r) for r in m["info"].get("failures", []))
    paths_of = {c.id: c.args["paths"] for c in chunks}
    for cid, reason in report.failed:
        rows.extend((p, f"{what} {cid} failed: {reason}") for p in paths_of[cid])
    return rows


def merge_chunks(paths: Sequence[str | Path], out_path: str | Path) -> tuple[Path, int]:
    """Concatenate Parquet chunk tables in the given order into ``out_path`` (atomic).

    Streams one chunk at a time (memory ~ one chunk). Chunks with no rows are skipped; the
    schema of the first non-empty chunk is used and later chunks are cast to it.
    Returns ``(out_path, n_rows)``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out_path = Path(out_path)
    n_rows = 0
    writer = None
    schema = None
    empty_schema = None
    with atomic_path(out_path) as tmp:
        try:
            for p in paths:
                t = pq.read_table(p)
                if t.num_rows == 0:
                    if empty_schema is None:
                        empty_schema = t.schema
                    continue
                t = t.replace_schema_metadata(None)
                if writer is None:
                    schema = t.schema
                    writer = pq.ParquetWriter(tmp, schema)
                elif t.schema != schema:
                    t = t.select(schema.names).cast(schema)
                writer.write_table(t)
                n_rows += t.num_rows
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            base = empty_schema if empty_schema is not None else pa.schema([])
            pq.write_table(base.empty_table(), tmp)
    return out_path, n_rows
