"""A LocalCluster (2 worker processes, 1 thread each) gives exactly the in-process results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.scale import classify_table, get_client, run_batch, write_simulated_tiles

from .conftest import SMALL


@pytest.fixture(scope="module")
def client():
    with get_client("local:2") as c:
        yield c


def test_local_cluster_equals_in_process(client, reference_run, tiles, tmp_path):
    res = run_batch(tiles, tmp_path / "dask", client=client, chunk_size=2, progress=False, **SMALL)
    assert res.summary["n_workers"] == 2
    # chunks really ran in the worker processes, not in this one
    import json
    import os

    pids = {
        json.loads(p.read_text())["pid"]
        for p in (tmp_path / "dask" / "stages" / "features").glob("chunk-*.json")
    }
    assert os.getpid() not in pids
    pd.testing.assert_frame_equal(res.scores, reference_run.scores)
    pd.testing.assert_frame_equal(
        pd.read_parquet(res.paths["features"]), pd.read_parquet(reference_run.paths["features"])
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(res.paths["candidates"]), pd.read_parquet(reference_run.paths["candidates"])
    )
    ref_model = (reference_run.out_dir / "model" / "iforest.safetensors").read_bytes()
    assert (tmp_path / "dask" / "model" / "iforest.safetensors").read_bytes() == ref_model


def test_tiles_generated_on_workers_equal_in_process(client, tiles, tmp_path):
    rep = write_simulated_tiles(
        tmp_path, 60, sources_per_tile=30, seed=5, client=client, progress=False
    )
    assert rep.computed == ["00000", "00001"]
    for tid in rep.computed:
        a = pd.read_parquet(tmp_path / f"chunk-{tid}.parquet")
        b = pd.read_parquet(tiles / f"chunk-{tid}.parquet")
        pd.testing.assert_frame_equal(a, b)


def _csc_table(n=600, seed=0):
    rng = np.random.default_rng(seed)
    h = rng.uniform(-0.8, 0.8, n)
    df = pd.DataFrame(
        {
            "name": [f"2CXO J{i:06d}" for i in range(n)],
            "ra": rng.uniform(0, 360, n),
            "dec": rng.uniform(-60, 60, n),
            "flux_aper_s": 1e-14 * (1 - h) * np.exp(rng.normal(0, 0.5, n)),
            "flux_aper_m": 1e-14 * np.exp(rng.normal(0, 0.5, n)),
            "flux_aper_h": 1e-14 * (1 + h) * np.exp(rng.normal(0, 0.5, n)),
            "significance": np.exp(rng.normal(2, 0.5, n)),
            "var_intra_prob_b": rng.uniform(0, 1, n),
            "var_inter_prob_b": rng.uniform(0, 1, n),
            "powlaw_gamma": rng.normal(1.8, 0.5, n),
        }
    )
    df.loc[5, "flux_aper_h"] = np.nan  # a detection with a missing flux still gets classes
    return df


def test_classify_table_in_chunks_on_dask_equals_whole_table(client, tmp_path):
    from serendip.classify.pipeline import run_classify

    df = _csc_table()
    src = tmp_path / "csc.parquet"
    df.to_parquet(src, row_group_size=128)
    whole, info1 = classify_table(
        src, tmp_path / "one.parquet", chunk_rows=10_000, scheduler="none", progress=False
    )
    chunked, info2 = classify_table(
        src, tmp_path / "many.parquet", chunk_rows=70, client=client, progress=False
    )
    assert info1["chunks"] == 1 and info2["chunks"] == 9
    a, b = pd.read_parquet(whole), pd.read_parquet(chunked)
    pd.testing.assert_frame_equal(a, b)
    assert a["row"].tolist() == list(range(600))
    p_cols = [c for c in a.columns if c.startswith("p_") and c != "p_class"]
    np.testing.assert_allclose(a[p_cols].sum(axis=1), 1.0, atol=1e-9)
    # the same probabilities as `serendip classify` with the shipped model (CSV input)
    csv = tmp_path / "csc.csv"
    df.to_csv(csv, index=False)
    from_csv, _ = classify_table(
        csv, tmp_path / "csv.parquet", chunk_rows=250, scheduler="none", progress=False
    )
    pd.testing.assert_frame_equal(pd.read_parquet(from_csv), a, check_exact=False, rtol=1e-12)
    run_classify(
        {
            "input": {"path": str(csv)},
            "model": {"kind": "shipped", "name": "csc_xray_grouped"},
            "output": {"formats": ["parquet"], "plots": False},
        },
        tmp_path / "ref",
    )
    ref = pd.read_parquet(tmp_path / "ref" / "detections.parquet")
    np.testing.assert_allclose(ref[p_cols].to_numpy(), a[p_cols].to_numpy(), rtol=1e-12, atol=0)
    assert (ref["class"].to_numpy() == a["class"].to_numpy()).all()
    # detections of one source combined into its master class, as serendip classify does
    srcs = pd.read_parquet(info1["sources_path"]).sort_values("name")
    ref_src = pd.read_parquet(tmp_path / "ref" / "sources.parquet").sort_values("name")
    assert info1["sources"] == df["name"].nunique() == len(srcs)
    np.testing.assert_allclose(srcs[p_cols].to_numpy(), ref_src[p_cols].to_numpy(), rtol=1e-12)
    assert (srcs["status"].to_numpy() == ref_src["status"].to_numpy()).all()


def test_cli_batch_classify_and_bad_model(tmp_path):
    from typer.testing import CliRunner

    from serendip.cli import app

    src = tmp_path / "csc.csv"
    _csc_table(200, seed=1).to_csv(src, index=False)
    out = tmp_path / "classes.parquet"
    args = ["batch-classify", str(src), "--out", str(out), "--chunk-rows", "64"]
    r = CliRunner().invoke(app, [*args, "--scheduler", "none", "--quiet"])
    assert r.exit_code == 0, r.output
    ref, _ = classify_table(src, tmp_path / "ref.parquet", scheduler="none", progress=False)
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(ref))
    r = CliRunner().invoke(app, [*args, "--scheduler", "none", "--model", "no_such_model"])
    assert r.exit_code == 2 and "no_such_model" in r.output
    broken = tmp_path / "broken.csv"
    broken.write_text("name,ra,dec\nx,1,2\n")
    r = CliRunner().invoke(
        app, ["batch-classify", str(broken), "--out", str(out), "--scheduler", "none"]
    )
    assert r.exit_code == 2 and "broken.csv" in r.output and "flux" in r.output
