"""Completeness by injection and recovery (issue 16 item 5): transients injected into the
run's own sources are re-scored with the run's settings; bright ones are recovered, faint
ones much less, and the table, plot and report section are written."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from serendip.pipeline.completeness import completeness, completeness_summary, update_report


@pytest.fixture(scope="module")
def run_copy(small_run, tmp_path_factory):
    dst = tmp_path_factory.mktemp("compl") / "run"
    shutil.copytree(small_run, dst)
    return dst


def test_injections_recovered_by_counts_and_written(run_copy):
    table = completeness(run_copy, n_per_cell=3, counts=(8.0, 400.0), seed=1)
    assert len(table) == 2 * 2 * 2 * 3  # kinds x durations x counts x n_per_cell
    assert {"rank", "anomaly_rank", "host", "host_exposure", "n_added"} <= set(table.columns)
    cands = pd.read_parquet(run_copy / "candidates.parquet")
    top = set(cands.sort_values("rank")["obsreg_id"].head(int(table["top_k"].iloc[0])))
    known = set(pd.read_csv(run_copy / "known_transients.csv")["obsreg_id"].astype(str))
    assert not (set(table["host"]) & (top | known))  # hosts were ordinary sources
    # the photons really went in: about the expected counts
    assert np.median(table["n_added"] / table["counts"]) == pytest.approx(1.0, abs=0.25)
    s = completeness_summary(table, by=("counts",)).set_index("counts")
    assert s.loc[400.0, "recovered"] >= 0.9 and s.loc[8.0, "recovered"] <= 0.5
    assert (run_copy / "completeness.parquet").is_file() and (run_copy / "completeness.png").is_file()


def test_report_shows_completeness(run_copy):
    from serendip.pipeline import load_config
    from serendip.report import write_report

    if not (run_copy / "completeness.parquet").is_file():
        completeness(run_copy, n_per_cell=1, counts=(400.0,), seed=2)
    write_report(run_copy, settings={"config": load_config()}, n_top=3)
    assert update_report(run_copy) is not None
    text = (run_copy / "report.html").read_text()
    assert "Completeness (injection and recovery)" in text and "data:image/png;base64" in text
    assert "host background rate" in text  # the simulated run knows each host's background
