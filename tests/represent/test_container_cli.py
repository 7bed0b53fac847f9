"""represent() / save / load round trips, the CLI verb, and real Chandra events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from serendip.errors import InputError
from serendip.io import EventSet
from serendip.represent import (
    et_maps,
    etdt_cubes,
    load_representation,
    represent,
    save_representation,
)
from serendip.represent.reference import reference_et, reference_etdt

from ._events import random_files


@pytest.fixture(scope="module")
def events() -> EventSet:
    return EventSet.from_arrays(random_files(30, seed=8))


@pytest.mark.parametrize("kind", ["et", "etdt", "dedt", "features"])
def test_round_trip(events, kind, tmp_path):
    rep = represent(events, kind)
    assert rep.kind == kind and len(rep) == events.n_files
    path = tmp_path / ("r.parquet" if kind == "features" else "r.npz")
    save_representation(rep, path)
    back = load_representation(path)
    assert back.kind == kind and list(back.obsreg_id) == list(events.obsreg_id)
    if kind == "features":
        pd.testing.assert_frame_equal(back.data, rep.data)
    else:
        np.testing.assert_array_equal(back.data, rep.data)
    assert back.settings == rep.settings


def test_settings_and_errors(events, tmp_path):
    rep = represent(events, "et", normalize=True, t_bins=12)
    assert rep.settings == {"normalize": True, "t_bins": 12}
    assert rep.data.shape == (events.n_files, 12, 16) and rep.data.max() == 1.0
    with pytest.raises(InputError, match="unknown representation"):
        represent(events, "xyz")
    with pytest.raises(InputError, match="bad option"):
        represent(events, "et", nonsense=3)
    with pytest.raises(InputError, match="no such"):
        load_representation(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(InputError, match="cannot be read"):
        load_representation(bad)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(InputError, match="missing"):
        load_representation(tmp_path / "other.npz")
    with pytest.raises(InputError, match=".npz"):
        save_representation(rep, tmp_path / "r.txt")


def test_cli(events, tmp_path):
    from serendip.cli import app

    files = pd.DataFrame(
        {"obsreg_id": list(events.obsreg_id)[::-1], "tstart": 5e8, "tstop": 5e8 + 2e5}
    )
    events.write(tmp_path / "events.parquet")
    files.to_parquet(tmp_path / "files.parquet")
    runner = CliRunner()
    r = runner.invoke(
        app, ["represent", str(tmp_path), "--kind", "etdt", "--normalize", "--bins", "12,8,4"]
    )
    assert r.exit_code == 0, r.output
    rep = load_representation(tmp_path / "etdt_12-8-4_normTrue.npz")
    assert list(rep.obsreg_id) == list(files.obsreg_id)  # order of files.parquet
    ev = events.select(np.arange(events.n_files)[::-1])
    np.testing.assert_array_equal(
        rep.data, etdt_cubes(ev, t_bins=12, e_bins=8, dt_bins=4, normalize=True)
    )
    out = tmp_path / "abs.npz"
    r = runner.invoke(
        app,
        ["represent", str(tmp_path), "--kind", "et", "--time-mode", "absolute", "--out", str(out)],
    )
    assert r.exit_code == 0, r.output
    np.testing.assert_array_equal(
        load_representation(out).data, et_maps(ev, time_mode="absolute", files=files)
    )
    r = runner.invoke(app, ["represent", str(tmp_path), "--kind", "features"])
    assert r.exit_code == 0 and (tmp_path / "features.parquet").exists()
    r = runner.invoke(app, ["represent", str(tmp_path), "--kind", "et", "--bins", "3"])
    assert r.exit_code == 2 and "needs 2 positive integers" in r.output
    r = runner.invoke(app, ["represent", str(tmp_path / "nope"), "--kind", "et"])
    assert r.exit_code == 2 and "no such folder" in r.output


@pytest.mark.realdata
def test_real_chandra_events_equal_reference(real_data):
    from astropy.io import fits

    path = real_data / "stingray_testdata" / "chandra_test.fits"
    with fits.open(path) as hdul:
        d = hdul[1].data
        t = np.asarray(d["time"], dtype=np.float64)
        e = np.asarray(d["energy"], dtype=np.float32)
    order = np.argsort(t, kind="stable")
    t, e = t[order], e[order]
    # split the 945 s slice into 20 "files" of consecutive events
    parts = np.array_split(np.arange(len(t)), 20)
    ev = EventSet.from_arrays({f"m82_{k}": (t[p], e[p]) for k, p in enumerate(parts)})
    m = et_maps(ev)
    c = etdt_cubes(ev)
    for i in range(ev.n_files):
        np.testing.assert_array_equal(m[i], reference_et(*ev.events_of(i)))
        np.testing.assert_array_equal(c[i], reference_etdt(*ev.events_of(i)))
    assert m.sum() == np.sum((e >= 500) & (e <= 7000))
