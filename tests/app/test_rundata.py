"""RunData: alignment of the run's tables, rounding, partial tables."""

from __future__ import annotations

import numpy as np
import pytest

from serendip.app.rundata import RunData, _round
from serendip.errors import InputError
from serendip.io.tables import read_table, write_table

from .conftest import linked_copy


def test_round_to_four_significant_digits():
    rng = np.random.default_rng(1)
    v = rng.normal(size=2000) * 10.0 ** rng.integers(-8, 9, 2000)
    want = np.array([float(f"{x:.4g}") for x in v])  # 2000 test values
    np.testing.assert_allclose(_round(v), want, rtol=1e-12)
    assert [repr(x) for x in _round(np.array([0.123456, 98765.4, -1.5e-7])).tolist()] == [
        "0.1235",
        "98770.0",
        "-1.5e-07",
    ]
    out = _round(np.array([0.0, np.nan, np.inf]))
    assert out[0] == 0 and np.isnan(out[1]) and np.isinf(out[2])


def test_tables_aligned_to_the_embedding(explore_run):
    d = RunData(explore_run)
    d.wait_details()
    emb = read_table(explore_run / "embedding.parquet")
    cand = read_table(explore_run / "candidates.parquet")  # sorted by rank, not embedding order
    assert list(d.ids) == emb["obsreg_id"].astype(str).tolist()
    want = dict(zip(cand["obsreg_id"].astype(str), cand["rank"], strict=True))
    assert d.rank.tolist() == [want[i] for i in d.ids]
    assert d.candidates["obsreg_id"].astype(str).tolist() == list(d.ids)
    assert d.files["obsreg_id"].astype(str).tolist() == list(d.ids)
    truth = read_table(explore_run / "sources.parquet")
    lab = dict(zip(truth["obsreg_id"].astype(str), truth["label"], strict=True))
    assert d.truth_label().tolist() == [lab[i] for i in d.ids]
    assert d.features_std.shape[0] == d.n and np.isfinite(d.features_std).all()
    # robust standardisation, as the candidate catalogue's neighbour distances
    np.testing.assert_allclose(np.median(d.features_std, axis=0), 0.0, atol=1e-9)


def test_partial_optional_table(explore_run, tmp_path):
    run = linked_copy(explore_run, tmp_path / "run")
    files = read_table(explore_run / "files.parquet")
    (run / "files.parquet").unlink()
    write_table(files.iloc[::2], run / "files.parquet")  # every other file only
    d = RunData(run)
    missing = str(files["obsreg_id"].iloc[1])
    props = d.properties(d.row_of(missing))
    assert props["obsreg_id"] == missing and props["telescope"] is None
    assert props["tstart"] is None and props["score"] is not None
    assert d.et_map(d.row_of(missing)) is not None  # times then count from the first event


def test_inconsistent_required_table(explore_run, tmp_path):
    run = linked_copy(explore_run, tmp_path / "run")
    cand = read_table(explore_run / "candidates.parquet")
    (run / "candidates.parquet").unlink()
    write_table(cand.iloc[:-3], run / "candidates.parquet")
    with pytest.raises(InputError, match="candidates.parquet.*lacks 3 of the run's sources"):
        RunData(run)
    write_table(cand.iloc[[0, *range(len(cand))]], run / "candidates.parquet")
    with pytest.raises(InputError, match="appears more than once"):
        RunData(run)


def test_direct_event_reads_equal_the_loaded_events(explore_run):
    """Before the background load ends, a source's events are read straight from its row range
    of events.parquet; they must equal the fully loaded EventSet's, and so must the views."""
    import pyarrow.parquet as pq

    data = RunData(explore_run)
    rows = np.linspace(0, data.n - 1, 12).astype(int)
    direct = {r: data._read_event_rows(str(data.ids[r])) for r in rows}
    maps = {r: data.et_map(r) for r in rows[:3]}  # may take either path
    assert pq.ParquetFile(explore_run / "events.parquet").metadata.num_rows > 0
    ev = data.events()
    assert data._events_done.is_set()
    for r in rows:
        assert direct[r] is not None, r
        t, e = ev.events_of(r)
        np.testing.assert_array_equal(direct[r][0], t)
        np.testing.assert_array_equal(direct[r][1], e)
    for r, m in maps.items():
        assert m == data.et_map(r)
    assert data._read_event_rows("no-such-source") is None


def test_direct_event_reads_refuse_a_mismatched_order(explore_run, tmp_path):
    """If events.parquet is not stored in files.parquet's order, no wrong events are shown."""
    run = linked_copy(explore_run, tmp_path / "run")
    files = read_table(run / "files.parquet")
    (run / "files.parquet").unlink()
    write_table(files.iloc[::-1].reset_index(drop=True), run / "files.parquet")
    data = RunData(run)
    got = [data._read_event_rows(str(i)) for i in files["obsreg_id"].astype(str)[:20]]
    ev = data.events()
    for i, g in zip(files["obsreg_id"].astype(str)[:20], got, strict=True):
        if g is not None:  # only a range that really holds this source is accepted
            np.testing.assert_array_equal(g[0], ev.events_of(data.row_of(i))[0])
