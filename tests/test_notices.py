"""The counted-warnings table (serendip.notices) and its place in a run directory."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from serendip.notices import NOTICE_COLUMNS, NoticeLog, default_log, notice


def test_notices_go_to_the_innermost_log_and_are_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="serendip"):
        with NoticeLog() as outer:
            notice("ingest", "band_cut", "kept 10 of 100", source="a.fits", count=90, total=100)
            with NoticeLog() as inner:
                notice("ingest", "nan_rows", "dropped 3 rows", count=3, total=50)
            notice("ingest", "dup", "dropped 2 duplicates", count=2, total=100, severity="info")
    assert [r.code for r in outer.records] == ["band_cut", "dup"]
    assert [r.code for r in inner.records] == ["nan_rows"]
    assert outer.records[0].fraction == pytest.approx(0.9)
    assert "a.fits: ingest/band_cut: kept 10 of 100" in caplog.text
    n_default = len(default_log())
    notice("x", "y", "outside any log")
    assert len(default_log()) == n_default + 1


def test_notice_table_round_trips_and_summarises(tmp_path):
    with NoticeLog() as log:
        notice("classify", "all_nan_column", "column powlaw_gamma is all NaN", source="t.csv",
               count=237, total=237, severity="error")
    path = log.write(tmp_path)
    df = pd.read_parquet(path)
    assert list(df.columns) == list(NOTICE_COLUMNS)
    assert df.loc[0, "count"] == 237 and df.loc[0, "severity"] == "error"
    assert (tmp_path / "warnings.csv").exists()
    assert "classify/all_nan_column: 1" in log.summary()
    (tmp_path / "e").mkdir()
    empty = NoticeLog().write(tmp_path / "e")
    assert list(pd.read_parquet(empty).columns) == list(NOTICE_COLUMNS)
    with pytest.raises(ValueError):
        notice("a", "b", "c", severity="fatal")
