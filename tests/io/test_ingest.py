"""ingest / write_ingest / the CLI: unique ids, event tables, round trip through EventSet.read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from serendip.io.eventset import EventSet
from serendip.io.ingest import (
    FAILURE_COLUMNS,
    FILES_COLUMNS,
    ingest,
    read_ingest,
    unique_ids,
    write_ingest,
)
from serendip.io.regions import CircleRegion


@pytest.fixture
def mixed(tmp_path, fitsmaker):
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    fitsmaker.write_events(d / "a.fits", obs_id="754", seed=1)
    fitsmaker.write_events(
        d / "sub" / "b.fits.gz", obs_id="754", seed=2
    )  # same OBS_ID: made unique
    fitsmaker.write_events(d / "sub" / "c.evt", obs_id="801", seed=3, n=50)
    (d / "notes.txt").write_text("not an event file, not picked up from a folder")
    return d


def test_unique_ids():
    out = unique_ids(["a", "b", "a", "a.2", "a"])
    assert list(out) == ["a", "b", "a.3", "a.2", "a.4"]
    assert len(set(out)) == 5


def test_ingest_folder_and_round_trip(tmp_path, mixed):
    res = ingest([mixed], progress=False)
    assert list(res.files.columns) == FILES_COLUMNS
    assert list(res.files["obsreg_id"]) == ["754", "754.2", "801"]
    assert list(res.files["n_events"]) == [20, 20, 50]
    assert res.failures.empty and list(res.failures.columns) == FAILURE_COLUMNS
    out = tmp_path / "out"
    paths = write_ingest(res, out)
    assert sorted(p.name for p in out.iterdir()) == [
        "artefacts.parquet",  # Chandra ACIS files: counts per frame, dither power
        "events.parquet",
        "failures.csv",
        "files.parquet",
        "gtis.parquet",
        "pileup.parquet",  # counts per frame of each source over time (framed detectors)
    ]
    # each FITS file's good-time intervals, keyed by the unique ids
    assert set(read_ingest(out).gtis["obsreg_id"]) <= set(res.files["obsreg_id"])
    assert paths["failures"].read_text().strip() == "file,reason"  # header even when empty
    back = EventSet.read(
        out / "events.parquet", order=pd.read_parquet(out / "files.parquet")["obsreg_id"].tolist()
    )
    np.testing.assert_array_equal(back.obsreg_id, res.events.obsreg_id)
    np.testing.assert_array_equal(back.offsets, res.events.offsets)
    np.testing.assert_array_equal(back.time, res.events.time)
    np.testing.assert_array_equal(back.energy, res.events.energy)
    again = read_ingest(out)
    pd.testing.assert_frame_equal(again.files, res.files)
    # the counts-per-frame series: every source's events in its bins, under the unique ids
    assert set(again.pileup["obsreg_id"]) == set(res.files["obsreg_id"])
    per_src = again.pileup.groupby("obsreg_id")["counts"].sum()
    assert per_src.to_dict() == dict(zip(res.files["obsreg_id"], res.files["n_events"]))
    # the events of each file equal a direct read
    from serendip.io.eventfile import read_event_file

    ef = read_event_file(mixed / "sub" / "c.evt")
    t, e = res.events.events_of(2)
    np.testing.assert_array_equal(t, ef.time)
    np.testing.assert_array_equal(e, ef.energy)


def test_reference_table_input(tmp_path, mixed):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "obsreg_id": ["10_1"] * 5 + ["10_2"] * 4 + ["10_3"] * 3 + ["754"] * 2,
            "time": np.r_[
                rng.uniform(0, 10, 5), [3.0, 1.0, np.nan, 2.0], [1.0, 2.0, 3.0], [5.0, 6.0]
            ],
            "energy": np.r_[
                rng.uniform(600, 6000, 5), [1000.0] * 4, [100.0, 200.0, 9000.0], [700.0, np.nan]
            ],
            "extra": "ignored",
        }
    )
    p = tmp_path / "eventfiles_table.csv"
    df.to_csv(p, index=False)
    res = ingest([mixed / "a.fits", p], progress=False)
    # 10_2 has a NaN time (1 of 4: dropped and counted), 10_3 has nothing in band; '754'
    # clashes with a.fits
    assert list(res.files["obsreg_id"]) == ["754", "10_1", "10_2", "754.2"]
    assert list(res.files["n_events"]) == [20, 5, 3, 1]
    t, _ = res.events.events_of(1)
    np.testing.assert_array_equal(t, np.sort(df["time"][:5].to_numpy()))
    reasons = dict(zip(res.failures["file"], res.failures["reason"], strict=True))
    assert "zero events after cuts" in reasons[f"{p} [10_3]"]
    # a region cannot be applied to a table without positions
    res2 = ingest([p], region=CircleRegion.physical(1, 1, 1), progress=False)
    assert res2.n_ok == 0 and "no sky positions" in res2.failures["reason"].iloc[0]
    # parquet works too
    df.to_parquet(tmp_path / "t.parquet")
    assert ingest([tmp_path / "t.parquet"], progress=False).n_ok == 3


def test_ingest_with_regions_names_and_empty_regions(tmp_path, fitsmaker):
    p = fitsmaker.write_events(tmp_path / "f.fits", n=300, seed=4)
    regs = [CircleRegion.physical(4096.5, 4096.5, 4.0), CircleRegion.physical(10.0, 10.0, 2.0)]
    res = ingest([p], region=regs, progress=False)
    assert list(res.files["obsreg_id"]) == ["9999_1"]
    assert res.failures["file"].iloc[0] == f"{p} [9999_2]"
    assert "zero events after cuts" in res.failures["reason"].iloc[0]
    assert res.files["region"].iloc[0].startswith("circle(x=4096.5")


def test_cli_ingest(tmp_path, mixed, corpus):
    from serendip.cli import app

    runner = CliRunner()
    out = tmp_path / "run"
    r = runner.invoke(
        app, ["ingest", str(mixed), str(corpus / "nan_times.fits"), "--out", str(out), "-q"]
    )
    assert r.exit_code == 0, r.output
    assert "3 file(s)/region(s) ingested" in r.output and "1" in r.output
    fails = pd.read_csv(out / "failures.csv")
    assert list(fails.columns) == ["file", "reason"] and len(fails) == 1
    assert "NaN/inf TIME" in fails["reason"].iloc[0]
    assert len(pd.read_parquet(out / "files.parquet")) == 3

    r = runner.invoke(
        app, ["ingest", str(corpus / "empty.fits"), "--out", str(tmp_path / "run2"), "-q"]
    )
    assert r.exit_code == 2
    assert "nothing could be ingested" in r.output
    assert (tmp_path / "run2" / "failures.csv").exists()

    r = runner.invoke(
        app,
        [
            "ingest",
            str(mixed / "a.fits"),
            "--out",
            str(tmp_path / "run3"),
            "-q",
            "--band",
            "2000",
            "3000",
            "--region",
            "phys:4096.5,4096.5,50",
        ],
    )
    assert r.exit_code == 0, r.output
    e = pd.read_parquet(tmp_path / "run3" / "events.parquet")
    assert e["energy"].between(2000, 3000).all() and set(e["obsreg_id"]) == {"754_1"}

    r = runner.invoke(
        app, ["ingest", str(mixed), "--out", str(tmp_path / "run4"), "--region", "box(1,2)"]
    )
    assert r.exit_code == 2 and "cannot parse box" in r.output
    r = runner.invoke(app, ["ingest", "--help"])
    assert r.exit_code == 0 and "--band" in r.output
