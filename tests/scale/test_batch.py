"""``run_batch`` in process: outputs, determinism, chunk-size invariance, bad inputs, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from serendip.errors import InputError
from serendip.scale import run_batch
from serendip.scale.client import parse_scheduler

from .conftest import SMALL


def test_outputs_are_complete_and_consistent(reference_run, tiles):
    res = reference_run
    s = res.summary
    scores = res.scores
    feats = pd.read_parquet(res.paths["features"])
    assert s["n_inputs"] == 8 and s["n_chunks"] == 4 and s["n_files"] == 240
    assert len(scores) == len(feats) == 240 and scores["obsreg_id"].is_unique
    assert (scores["obsreg_id"].to_numpy() == feats["obsreg_id"].to_numpy()).all()
    # every file's events were counted once
    assert s["n_events"] == int(feats["n_events"].sum()) > 10_000
    sc = scores["score"].to_numpy()
    assert np.all((sc > 0) & (sc <= 1))
    assert sorted(scores["rank"]) == list(range(1, 241))
    assert sc[scores["rank"].to_numpy() == 1][0] == sc.max()
    thr = json.loads((res.out_dir / "model" / "model.json").read_text())["threshold"]
    assert (scores["anomaly"] == (scores["score"] > thr)).all()
    cand = pd.read_parquet(res.paths["candidates"])
    assert cand["rank"].tolist() == list(range(1, 11))
    top = scores.sort_values("rank").head(10)
    assert cand["obsreg_id"].tolist() == top["obsreg_id"].tolist()
    np.testing.assert_array_equal(cand["score"].to_numpy(), top["score"].to_numpy())
    assert {"ev_log_counts", "burst_sig", "path"} <= set(cand.columns)
    assert s["stages"]["features"]["chunks_computed"] == 4
    assert s["stages"]["features"]["worker_represent_s"] > 0


def test_same_inputs_and_seed_give_identical_outputs(reference_run, tiles, tmp_path):
    again = run_batch(
        tiles, tmp_path / "again", scheduler="none", chunk_size=2, progress=False, **SMALL
    )
    pd.testing.assert_frame_equal(again.scores, reference_run.scores)
    pd.testing.assert_frame_equal(
        pd.read_parquet(again.paths["features"]), pd.read_parquet(reference_run.paths["features"])
    )
    other_seed = run_batch(
        tiles,
        tmp_path / "seed1",
        scheduler="none",
        chunk_size=2,
        progress=False,
        **{**SMALL, "seed": 1},
    )
    assert not np.array_equal(other_seed.scores["score"], reference_run.scores["score"])


def test_chunk_size_does_not_change_results(reference_run, tiles, tmp_path):
    for size in (1, 3, 8):
        res = run_batch(
            tiles, tmp_path / f"c{size}", scheduler="none", chunk_size=size, progress=False, **SMALL
        )
        assert res.summary["n_chunks"] == -(-8 // size)
        pd.testing.assert_frame_equal(res.scores, reference_run.scores)


def test_rerun_reuses_every_chunk_and_the_model(reference_run, tiles, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(reference_run.out_dir, out)
    res = run_batch(tiles, out, scheduler="none", chunk_size=2, progress=False, **SMALL)
    st = res.summary["stages"]
    assert st["features"]["chunks_reused"] == 4 and st["features"]["chunks_computed"] == 0
    assert st["scores"]["chunks_reused"] == 4 and st["fit"]["reused"] is True
    pd.testing.assert_frame_equal(res.scores, reference_run.scores)


def test_bad_input_file_is_recorded_and_the_rest_go_on(tiles, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for p in sorted(tiles.glob("chunk-*.parquet"))[:3]:
        shutil.copy(p, inputs / p.name)
    (inputs / "chunk-99999.parquet").write_bytes(b"not a parquet file")
    pd.DataFrame({"obsreg_id": ["a"], "time": [1.0]}).to_parquet(inputs / "no_energy.parquet")
    res = run_batch(
        inputs, tmp_path / "out", scheduler="none", chunk_size=2, progress=False, **SMALL
    )
    fails = pd.read_csv(res.paths["failures"])
    assert len(res.scores) == 90
    assert any("chunk-99999.parquet" in f for f in fails["file"])
    row = fails[fails["file"].str.contains("no_energy")].iloc[0]
    assert "energy" in row["reason"]


def test_nothing_to_ingest_raises_input_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no event files"):
        run_batch(tmp_path / "empty", tmp_path / "out", scheduler="none", progress=False)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.parquet").write_bytes(b"junk")
    with pytest.raises(InputError, match="no event file could be ingested"):
        run_batch(bad, tmp_path / "out2", scheduler="none", progress=False)
    assert "x.parquet" in (tmp_path / "out2" / "failures.csv").read_text()


def test_scheduler_spec_parsing():
    assert parse_scheduler("none") == ("none", None)
    assert parse_scheduler(None) == ("local", None)
    assert parse_scheduler("local:3") == ("local", 3)
    assert parse_scheduler("tcp://10.0.0.1:8786") == ("address", None)
    for bad in ("local:0", "localhost", "8786"):
        with pytest.raises(InputError, match="--scheduler"):
            parse_scheduler(bad)


def test_cli_batch_in_process(reference_run, tiles, tmp_path):
    from serendip.cli import app

    out = tmp_path / "cli"
    args = [
        "batch",
        str(tiles),
        "--out",
        str(out),
        "--scheduler",
        "none",
        "--chunk-size",
        "2",
        "--n-fit",
        "200",
        "--n-estimators",
        "40",
        "--top",
        "10",
        "--quiet",
    ]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    pd.testing.assert_frame_equal(pd.read_parquet(out / "scores.parquet"), reference_run.scores)
    r = CliRunner().invoke(app, ["batch", str(tiles), "--out", str(out), "--scheduler", "bogus"])
    assert r.exit_code == 2 and "--scheduler" in r.output


def test_same_ids_in_two_inputs_are_counted_not_lost(tiles, tmp_path):
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        shutil.copy(tiles / "chunk-00000.parquet", tmp_path / d / "tile.parquet")
    res = run_batch(
        [tmp_path / "a", tmp_path / "b"],
        tmp_path / "out",
        scheduler="none",
        chunk_size=1,
        progress=False,
        **SMALL,
    )
    assert res.summary["n_duplicate_ids"] == 30 and len(res.scores) == 60
    # the two copies are the same files, so they get the same features and scores
    sc = res.scores["score"].to_numpy()
    np.testing.assert_array_equal(sc[:30], sc[30:])


def test_fits_event_files_and_broken_ones(tmp_path):
    """FITS inputs go through io.ingest per chunk; a broken file is a failure row, not a crash."""
    from serendip.features import extract_features
    from serendip.io.ingest import ingest
    from serendip.represent import event_features
    from serendip.simulate import simulate_population
    from serendip.simulate.fitsout import write_fits_events

    pop = simulate_population(12, seed=3)
    folder = tmp_path / "obs"
    paths = write_fits_events(pop, folder)
    broken = sorted((Path(__file__).parents[1] / "data" / "broken_events").glob("*.fits"))[:2]
    for p in broken:
        shutil.copy(p, folder / p.name)
    res = run_batch(
        folder,
        tmp_path / "out",
        scheduler="none",
        chunk_size=5,
        progress=False,
        **{**SMALL, "n_fit": 50},
    )
    assert res.summary["n_inputs"] == 14 and res.summary["n_chunks"] == 3
    fails = pd.read_csv(res.paths["failures"])
    for p in broken:
        assert fails["file"].str.contains(p.name, regex=False).any(), p.name
    # the chunked features equal one in-process ingest of all good files
    whole = ingest(paths, progress=False)
    ef = event_features(whole.events, whole.files)
    block = extract_features("events", events=whole.events, event_table=ef).to_frame()
    feats = pd.read_parquet(res.paths["features"]).set_index("obsreg_id")
    assert len(feats) == 12
    for col in ("n_events", "bb_n_blocks", "ks_pvalue", "burst_sig"):
        np.testing.assert_array_equal(
            feats.loc[ef["obsreg_id"], col].to_numpy(), ef[col].to_numpy()
        )
    np.testing.assert_array_equal(
        feats.loc[block["obsreg_id"], "ev_log_counts"].to_numpy(), block["ev_log_counts"].to_numpy()
    )
