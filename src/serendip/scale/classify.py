"""A CSC classifier applied to a big property table in row chunks (in process or on Dask).

:func:`classify_table` reads ``chunk_rows`` rows at a time on the workers (Parquet: the row
groups that overlap the chunk; CSV: ``skiprows``/``nrows``), builds the model's features
(:func:`serendip.classify.features.build_features`) and writes per-detection class
probabilities: the kept id/position columns, ``p_<class>`` per class, ``class`` and ``p_class``
as in ``serendip classify``'s detections table. Rows are classified independently, so the
result is the same for any chunking and any number of workers. The detections of one source
are then combined into a source-level (master) class
(:func:`serendip.classify.votes.source_votes`: mean probabilities, soft and hard vote,
unique / ambiguous), written beside the detections as ``<out stem>_sources.parquet``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.scale.chunks import (
    Chunk,
    chunk_key,
    file_fingerprint,
    map_chunks,
    merge_chunks,
    table_path,
)

KEEP_COLUMNS = ("name", "obsid", "obi", "region_id", "ra", "dec")


def _load_model(model: str):
    from serendip.classify.modelio import SHIPPED, load_classifier, load_shipped

    return load_shipped(model) if model in SHIPPED else load_classifier(model)


def count_rows(path: Path) -> int:
    """Rows of a Parquet or CSV table without loading it."""
    from serendip.io.tables import table_format

    fmt = table_format(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except Exception as exc:  # noqa: BLE001
            raise InputError(path, f"cannot be read as parquet: {exc}") from exc
    if fmt == "csv":
        with open(path, "rb") as fh:
            n = sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 20), b""))
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - 1))
            ends_nl = fh.read(1) == b"\n"
        return max(0, n - 1 + (0 if ends_nl else 1))
    raise InputError(path, "row-chunked classification reads Parquet or CSV tables")


def read_rows(path: str, start: int, stop: int) -> pd.DataFrame:
    """Rows ``start:stop`` of a Parquet or CSV table."""
    from serendip.io.tables import table_format

    p = Path(path)
    if table_format(p) == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(p)
        md = pf.metadata
        sizes = [md.row_group(i).num_rows for i in range(md.num_row_groups)]
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        groups = [i for i in range(len(sizes)) if bounds[i] < stop and bounds[i + 1] > start]
        t = pf.read_row_groups(groups)
        first = int(bounds[groups[0]]) if groups else 0
        return t.slice(start - first, stop - start).to_pandas()
    return pd.read_csv(p, skiprows=range(1, start + 1), nrows=stop - start)


def classify_rows(
    path: str, start: int, stop: int, model: str
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Class probabilities of rows ``start:stop`` of ``path`` (one worker task)."""
    from serendip.classify.features import build_features
    from serendip.classify.inputs import POSITION_ALIASES, name_column
    from serendip.classify.votes import prob_column

    t0 = time.perf_counter()
    clf, settings, _ = _load_model(model)
    df = read_rows(path, start, stop)
    col = name_column(df, path)
    if col != "name":
        df = df.rename(columns={col: "name"})
    df["name"] = df["name"].astype(str).str.strip()
    for std, aliases in POSITION_ALIASES.items():
        if std not in df.columns:
            found = next((a for a in aliases if a in df.columns), None)
            if found is not None:
                df = df.rename(columns={found: std})
    F = build_features(df, settings["feature_set"], source=path)[settings["feature_names"]]
    X = F.to_numpy()
    proba = clf.predict_proba(X)
    classes = [str(c) for c in clf.classes_]
    pred = clf.decide(proba) if hasattr(clf, "decide") else proba.argmax(axis=1)
    keep = [c for c in KEEP_COLUMNS if c in df.columns]
    out = df[keep].reset_index(drop=True).copy()
    out.insert(0, "row", np.arange(start, stop, dtype=np.int64))
    for j, c in enumerate(classes):
        out[prob_column(c)] = proba[:, j]
    out["class"] = np.asarray(classes, dtype=object)[pred].astype(str)
    out["p_class"] = proba[np.arange(len(out)), pred]
    if hasattr(clf, "out_of_domain"):
        out["n_out_of_domain"] = clf.out_of_domain(X).astype(np.int16)
    return out, {"rows": len(out), "seconds": time.perf_counter() - t0}


def source_classes(detections: str | Path, out: str | Path) -> tuple[Path, int]:
    """Source-level (master) classes from a merged detections table: one row per ``name``.

    Reads only ``name`` and the ``p_<class>`` columns; memory ~ rows x classes x 8 bytes
    (1.3 million detections, 4 classes: about 40 MB). Returns ``(path, n_sources)``.
    """
    import pyarrow.parquet as pq

    from serendip.classify.votes import source_votes
    from serendip.io.tables import write_table

    names = pq.ParquetFile(detections).schema_arrow.names
    pcols = [c for c in names if c.startswith("p_") and c != "p_class" and not c.endswith("_train")]
    keep = ["name"] + [c for c in ("ra", "dec") if c in names]
    t = pq.read_table(detections, columns=keep + pcols).to_pandas()
    classes = [c[2:] for c in pcols]
    src = source_votes(
        t[pcols].to_numpy(dtype=np.float64), t["name"].to_numpy(), classes, extra=t[keep[1:]]
    )
    return write_table(src, Path(out)), len(src)


def classify_table(
    table: str | Path,
    out: str | Path,
    *,
    model: str = "csc_xray_grouped",
    chunk_rows: int = 100_000,
    scheduler: str | None = "local",
    client=None,
    progress: bool = True,
    work_dir: str | Path | None = None,
    sources: bool = True,
) -> tuple[Path, dict[str, Any]]:
    """Classify every row of ``table`` (Parquet or CSV) with a shipped or saved classifier.

    Parameters
    ----------
    table : CSC property table (the columns the model's feature set needs).
    out : merged output table (Parquet), one row per input row, input order.
    model : shipped model name (``serendip.classify.modelio.SHIPPED``) or a model file path.
    chunk_rows : rows per chunk (memory per worker ~ chunk_rows, or one Parquet row group).
    scheduler, client : where chunks run (see :func:`serendip.scale.client.get_client`).
    work_dir : folder of the resumable chunk outputs (default ``<out>.chunks``).
    sources : also write the source-level classes, ``<out stem>_sources.parquet``.

    Returns ``(out path, summary)``; summary has ``rows``, ``chunks``, ``sources`` (count) and
    ``sources_path``, and the chunk report counts.
    """
    from serendip.scale.client import use_client

    table = Path(table)
    if not table.is_file():
        raise InputError(table, "no such file")
    if chunk_rows < 1:
        raise InputError("--chunk-rows", f"must be >= 1, got {chunk_rows}")
    # a shipped name as given, a model file by absolute path (workers may run elsewhere)
    model_id = str(Path(model).resolve()) if Path(str(model)).suffix else str(model)
    _load_model(model_id)  # bad model -> error now, not once per chunk
    n = count_rows(table)
    if n == 0:
        raise InputError(table, "table has no rows")
    out = Path(out)
    work = Path(work_dir) if work_dir is not None else out.with_name(out.name + ".chunks")
    fp = file_fingerprint([table])
    if Path(model_id).is_file():
        fp += file_fingerprint([model_id])
    chunks = [
        Chunk(
            f"{i:06d}",
            chunk_key("classify", fp, model_id, a, min(a + chunk_rows, n)),
            {"path": str(table), "start": a, "stop": min(a + chunk_rows, n), "model": model_id},
        )
        for i, a in enumerate(range(0, n, chunk_rows))
    ]
    with use_client(scheduler, client) as cl:
        rep = map_chunks(classify_rows, chunks, work, cl, progress, label="classify")
    if rep.failed:
        cid, reason = rep.failed[0]
        raise InputError(table, f"{len(rep.failed)} chunk(s) failed, e.g. chunk {cid}: {reason}")
    path, rows = merge_chunks([table_path(work, c.id) for c in chunks], out)
    if sources:
        spath, n_src = source_classes(path, out.with_name(out.stem + "_sources.parquet"))
    return path, {
        "sources_path": str(spath) if sources else None,
        "sources": n_src if sources else 0,
        "rows": rows,
        "chunks": len(chunks),
        "computed": len(rep.computed),
        "reused": len(rep.reused),
        "wall_s": rep.wall_s,
    }
