"""ingest / represent --kind features / detect with --scheduler: chunked on Dask == in process."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from serendip.cli import app
from serendip.io.ingest import ingest, read_ingest, write_ingest
from serendip.scale import get_client
from serendip.scale.verbs import ingest_chunked, resolve_scheduler


@pytest.fixture(scope="module")
def client():
    with get_client("local:2") as c:
        yield c


def _table(path, ids, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for oid in ids:
        t = np.sort(rng.uniform(0, 1e4, 25))
        rows.append(
            pd.DataFrame({"obsreg_id": oid, "time": t, "energy": rng.uniform(600, 6000, 25)})
        )
    pd.concat(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def inputs(tiles, tmp_path_factory):
    """8 tiles, copies of 2 of them (ids repeated across chunks), ids a | a | a.2, 1 bad, 1 missing."""
    import shutil

    d = tmp_path_factory.mktemp("inputs")
    files = sorted(tiles.glob("chunk-*.parquet"))
    for k in (0, 3):
        files.append(shutil.copy(files[k], d / f"copy-{k}.parquet"))
    files.append(_table(d / "fa.csv", ["a"], 1))
    files.append(_table(d / "fb.csv", ["a"], 2))  # fa, fb: one chunk (size 2); fc: the next
    files.append(_table(d / "fc.csv", ["a.2"], 3))
    (d / "bad.csv").write_text("obsreg_id,time,energy\nx,abc,1000\n")
    return [*map(str, files), str(d / "bad.csv"), str(d / "missing.parquet")]


def _assert_same_ingest(a, b):
    ra, rb = read_ingest(a), read_ingest(b)
    pd.testing.assert_frame_equal(ra.files, rb.files)
    pd.testing.assert_frame_equal(ra.failures, rb.failures)
    pd.testing.assert_frame_equal(ra.gtis, rb.gtis)
    pd.testing.assert_frame_equal(
        pd.read_parquet(a / "events.parquet"), pd.read_parquet(b / "events.parquet")
    )
    assert np.array_equal(ra.events.offsets, rb.events.offsets)
    assert np.array_equal(ra.events.time, rb.events.time)
    return ra


def test_ingest_chunked_on_dask_equals_in_process(client, inputs, tmp_path):
    ref = tmp_path / "ref"
    write_ingest(ingest(inputs, progress=False), ref)
    paths, summary = ingest_chunked(
        inputs, tmp_path / "dask", chunk_size=2, client=client, progress=False
    )
    assert summary["chunks"] == 7 and summary["n_workers"] == 2
    res = _assert_same_ingest(ref, tmp_path / "dask")
    ids = res.files["obsreg_id"].tolist()
    # a | a | a.2: the second "a" becomes a.3 because a.2 is taken, over all chunks
    assert ids[-3:] == ["a", "a.3", "a.2"]
    assert sum(i.endswith(".2") for i in ids) == 30 + 30 + 1  # the two copied tiles, and a.2
    assert len(res.failures) == 2 and "missing.parquet" in res.failures["file"].iloc[0]
    # chunks ran on the workers, not here
    import os

    pids = {
        json.loads(p.read_text())["pid"]
        for p in (tmp_path / "dask" / ".chunks" / "ingest").glob("*.json")
    }
    assert os.getpid() not in pids and len(pids) >= 1
    # a rerun reuses every chunk and rewrites the same outputs
    _, again = ingest_chunked(inputs, tmp_path / "dask", chunk_size=2, client=None, progress=False)
    assert again["reused"] == 7 and again["computed"] == 0
    _assert_same_ingest(ref, tmp_path / "dask")


def test_resolve_scheduler():
    assert resolve_scheduler("auto", 2) == "none"
    assert resolve_scheduler("auto", 3) == "local"
    assert resolve_scheduler("local:2", 1) == "local:2"
    from serendip.errors import InputError

    with pytest.raises(InputError, match="scheduler"):
        resolve_scheduler("bogus", 5)


def test_cli_verbs_on_dask_equal_in_process(client, inputs, tmp_path):
    addr = client.scheduler.address
    run = CliRunner()

    def ok(*args):
        r = run.invoke(app, [str(a) for a in args])
        assert r.exit_code == 0, r.output
        return " ".join(r.output.split())  # rich wraps long lines

    # ---- ingest: explicit scheduler vs none; the auto default stays in process for 2 chunks
    ok("ingest", *inputs, "--out", tmp_path / "i0", "--scheduler", "none", "-q")
    out = ok(
        "ingest", *inputs, "--out", tmp_path / "i1", "--scheduler", addr, "--chunk-size", "3", "-q"
    )
    assert "5 chunk(s) on 2 worker(s)" in out
    _assert_same_ingest(tmp_path / "i0", tmp_path / "i1")
    ok("ingest", *inputs[:4], "--out", tmp_path / "i2", "--chunk-size", "2", "-q")
    assert not (tmp_path / "i2" / ".chunks").exists()
    # ---- represent --kind features
    d = tmp_path / "i0"
    ok(
        "represent",
        d,
        "--kind",
        "features",
        "--out",
        tmp_path / "f0.parquet",
        "--scheduler",
        "none",
    )
    out = ok(
        "represent",
        d,
        "--kind",
        "features",
        "--out",
        tmp_path / "f1.parquet",
        "--scheduler",
        addr,
        "--chunk-size",
        "70",
    )
    assert "5 chunk(s) on 2 worker(s)" in out
    from serendip.represent.container import load_representation

    f0, f1 = (
        load_representation(tmp_path / "f0.parquet"),
        load_representation(tmp_path / "f1.parquet"),
    )
    assert f0.kind == f1.kind == "features" and f0.settings == f1.settings
    pd.testing.assert_frame_equal(f0.data, f1.data)
    assert len(f0.data) == 303
    # ---- map kinds: E-t maps with tstart from files.parquet, normalised dE-dt maps
    for kind, extra in (
        ("et", ["--bins", "12,8", "--time-mode", "absolute"]),
        ("dedt", ["--normalize"]),
        ("etdt", ["--bins", "6,4,4"]),  # sparse cubes, chunks kept sparse
    ):
        a, b = tmp_path / f"{kind}0.npz", tmp_path / f"{kind}1.npz"
        ok("represent", d, "--kind", kind, *extra, "--out", a, "--scheduler", "none")
        out = ok(
            "represent",
            d,
            "--kind",
            kind,
            *extra,
            "--out",
            b,
            "--scheduler",
            addr,
            "--chunk-size",
            "100",
        )
        assert "4 chunk(s) on 2 worker(s)" in out
        ra, rb = load_representation(a), load_representation(b)
        assert ra.data.shape[0] == 303 and ra.data.dtype == rb.data.dtype
        assert np.array_equal(ra.data, rb.data) and np.array_equal(ra.obsreg_id, rb.obsreg_id)
        assert ra.settings == rb.settings and ra.data.any()
    # ---- detect: a saved forest, scores in row chunks
    cols = [
        c for c in f0.data.columns if c != "obsreg_id" and pd.api.types.is_float_dtype(f0.data[c])
    ]
    cols = [c for c in cols if np.isfinite(f0.data[c]).all()][:4]
    model = tmp_path / "m.safetensors"
    ok(
        "train-detector",
        tmp_path / "f0.parquet",
        "--detector",
        "iforest",
        "--features",
        ",".join(cols),
        "--out",
        model,
    )
    ok(
        "detect",
        model,
        tmp_path / "f0.parquet",
        "--out",
        tmp_path / "s0.parquet",
        "--scheduler",
        "none",
    )
    out = ok(
        "detect",
        model,
        tmp_path / "f0.parquet",
        "--out",
        tmp_path / "s1.parquet",
        "--scheduler",
        addr,
        "--chunk-rows",
        "64",
    )
    assert "5 chunk(s) on 2 worker(s)" in out
    s0, s1 = pd.read_parquet(tmp_path / "s0.parquet"), pd.read_parquet(tmp_path / "s1.parquet")
    pd.testing.assert_frame_equal(s0, s1)
    assert list(s0.columns[:4]) == ["obsreg_id", "score", "rank", "anomaly"]
    assert sorted(s1["rank"]) == list(range(1, 304))
    # no id column, a missing feature, --drop-missing, CSV input: row numbers are global
    t = f0.data.drop(columns=["obsreg_id"])
    t.loc[100, cols[0]] = np.nan
    t.to_csv(tmp_path / "t.csv", index=False)
    common = ["--drop-missing", "--out"]
    ok("detect", model, tmp_path / "t.csv", *common, tmp_path / "c0.csv", "--scheduler", "none")
    ok(
        "detect",
        model,
        tmp_path / "t.csv",
        *common,
        tmp_path / "c1.csv",
        "--scheduler",
        addr,
        "--chunk-rows",
        "50",
    )
    c0, c1 = pd.read_csv(tmp_path / "c0.csv"), pd.read_csv(tmp_path / "c1.csv")
    pd.testing.assert_frame_equal(c0, c1)
    assert len(c1) == 302 and 100 not in set(c1["row"]) and c1["row"].iloc[-1] == 302
    # without --drop-missing the chunk's error names the file and the problem
    r = run.invoke(
        app,
        [
            "detect",
            str(model),
            str(tmp_path / "t.csv"),
            "--out",
            str(tmp_path / "x.csv"),
            "--scheduler",
            addr,
            "--chunk-rows",
            "50",
        ],
    )
    assert r.exit_code == 2 and "t.csv" in r.output and "non-finite" in r.output


def test_ingest_real_fits_files_chunked_equals_in_process(client, real_data, tmp_path):
    """Real FITS event files (Chandra, NICER, RXTE) and non-event FITS files: same tables."""
    folders = [real_data / n for n in ("stingray_testdata", "pint_testdata")]
    folders = [str(f) for f in folders if f.is_dir()]
    if not folders:
        pytest.skip("no FITS event-file folders in the real-data set")
    write_ingest(ingest(folders, progress=False), tmp_path / "ref")
    _, summary = ingest_chunked(
        folders, tmp_path / "dask", chunk_size=3, client=client, progress=False
    )
    assert summary["chunks"] >= 2
    res = _assert_same_ingest(tmp_path / "ref", tmp_path / "dask")
    assert len(res.files) >= 2


def test_resume_fills_weight_of_chunk_intervals_written_without_it(tmp_path):
    """Chunks from before intervals had weights resume with weight 1 (counted), not a KeyError."""
    from serendip.notices import NoticeLog

    files = [str(_table(tmp_path / f"f{k}.csv", [f"s{k}"], k)) for k in range(3)]
    ref, _ = ingest_chunked(files, tmp_path / "run", chunk_size=2, client=None, progress=False)
    want = pd.read_parquet(ref["gtis"])
    old = sorted((tmp_path / "run").rglob("gtis-*.parquet"))
    assert old
    for p in old:
        pd.read_parquet(p).drop(columns="weight").to_parquet(p, index=False)
    with NoticeLog() as seen:
        paths, again = ingest_chunked(
            files, tmp_path / "run", chunk_size=2, client=None, progress=False
        )
    assert again["computed"] == 0
    pd.testing.assert_frame_equal(pd.read_parquet(paths["gtis"]), want)
    assert (want["weight"] == 1.0).all()
    assert sum(n.code == "gti_weight_filled" for n in seen.records) == len(old)
