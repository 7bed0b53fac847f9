"""The checkpointed chunk map: reuse, recompute on change, failures, temporaries, ordered merge."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from serendip.scale.chunks import (
    Chunk,
    chunk_key,
    map_chunks,
    marker_path,
    merge_chunks,
    table_path,
)


def square_table(start: int, n: int, fail: bool = False):
    """A small table x, x^2 (module-level so Dask could pickle it)."""
    if fail:
        raise ValueError(f"chunk starting at {start} is broken")
    x = np.arange(start, start + n, dtype=np.int64)
    return pd.DataFrame({"x": x, "y": x.astype(np.float64) ** 2}), {"n": n}


def _chunks(n_chunks=5, size=4, fail=()):
    return [
        Chunk(
            f"{i:03d}",
            chunk_key("sq", i * size, size, i in fail),
            {"start": i * size, "n": size, "fail": i in fail},
        )
        for i in range(n_chunks)
    ]


def test_map_chunks_writes_reuses_and_recomputes(tmp_path):
    chunks = _chunks()
    rep = map_chunks(square_table, chunks, tmp_path, progress=False)
    assert rep.computed == [c.id for c in chunks] and not rep.reused and not rep.failed
    mtimes = {c.id: marker_path(tmp_path, c.id).stat().st_mtime_ns for c in chunks}
    m = json.loads(marker_path(tmp_path, "002").read_text())
    assert m["key"] == chunks[2].key and m["rows"] == 4 and m["info"] == {"n": 4}

    rep2 = map_chunks(square_table, chunks, tmp_path, progress=False)
    assert rep2.reused == [c.id for c in chunks] and not rep2.computed
    assert {c.id: marker_path(tmp_path, c.id).stat().st_mtime_ns for c in chunks} == mtimes

    # a changed setting changes the key: only that chunk is recomputed
    changed = list(chunks)
    changed[3] = Chunk("003", chunk_key("sq", 12, 4, "v2"), {"start": 100, "n": 4})
    rep3 = map_chunks(square_table, changed, tmp_path, progress=False)
    assert rep3.computed == ["003"] and len(rep3.reused) == 4
    assert pd.read_parquet(table_path(tmp_path, "003"))["x"].tolist() == [100, 101, 102, 103]


def test_failed_chunk_is_recorded_and_others_finish(tmp_path):
    chunks = _chunks(fail={1})
    rep = map_chunks(square_table, chunks, tmp_path, progress=False)
    assert [f[0] for f in rep.failed] == ["001"]
    assert "chunk starting at 4 is broken" in rep.failed[0][1]
    assert rep.computed == ["000", "002", "003", "004"]
    assert not table_path(tmp_path, "001").exists() and not marker_path(tmp_path, "001").exists()
    # a failed chunk is retried on the next run (no marker), the others are reused
    rep2 = map_chunks(square_table, chunks, tmp_path, progress=False)
    assert [f[0] for f in rep2.failed] == ["001"] and len(rep2.reused) == 4


def test_partial_temporaries_and_damaged_tables_are_not_trusted(tmp_path):
    chunks = _chunks(3)
    map_chunks(square_table, chunks, tmp_path, progress=False)
    # what a SIGKILL during a write leaves: a half-written temporary beside the outputs
    tmp = tmp_path / ".chunk-001.x8k2.tmp.parquet"
    tmp.write_bytes(b"PAR1 half a parquet file")
    side = tmp_path / ".events-001.q7z1.tmp.parquet"  # ... also of a chunk's side output
    side.write_bytes(b"PAR1 half")
    # a table replaced behind our back (size no longer matches its marker)
    table_path(tmp_path, "002").write_bytes(b"garbage")
    # a table without a marker (the run died between the table and its marker)
    marker_path(tmp_path, "000").unlink()
    rep = map_chunks(square_table, chunks, tmp_path, progress=False)
    assert rep.computed == ["000", "002"] and rep.reused == ["001"]
    assert not tmp.exists() and not side.exists()
    path, n = merge_chunks([table_path(tmp_path, c.id) for c in chunks], tmp_path / "all.parquet")
    assert n == 12
    assert pd.read_parquet(path)["x"].tolist() == list(range(12))


def test_merge_follows_the_given_order_not_completion_order(tmp_path):
    chunks = _chunks(4)
    map_chunks(square_table, chunks[::-1], tmp_path, progress=False)  # computed last-first
    path, n = merge_chunks([table_path(tmp_path, c.id) for c in chunks], tmp_path / "m.parquet")
    df = pd.read_parquet(path)
    assert n == 16 and df["x"].tolist() == list(range(16))
    np.testing.assert_array_equal(df["y"].to_numpy(), np.arange(16.0) ** 2)


def test_duplicate_chunk_ids_are_rejected(tmp_path):
    c = _chunks(1)[0]
    with pytest.raises(ValueError, match="unique"):
        map_chunks(square_table, [c, c], tmp_path, progress=False)
