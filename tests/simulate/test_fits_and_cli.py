"""write_fits_events layout, the round trip through the FITS reader, and `serendip simulate`."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from astropy.io import fits
from typer.testing import CliRunner

from serendip.io import read_table
from serendip.simulate import simulate_population, write_fits_events


@pytest.fixture(scope="module")
def small_pop():
    return simulate_population(30, seed=4, class_fractions={"steady": 1, "fxt": 1, "dip": 1})


def test_fits_layout(small_pop, tmp_path):
    paths = write_fits_events(small_pop, tmp_path, index=[0, 5, 29])
    assert [p.name for p in paths] == [
        f"{small_pop.sources['obsreg_id'].iloc[i]}_evt2.fits" for i in (0, 5, 29)
    ]
    for p, i in zip(paths, (0, 5, 29), strict=True):
        row = small_pop.sources.iloc[i]
        with fits.open(p) as hdul:
            hdul.verify("exception")  # standard-conforming cards and blocks
            assert [h.name for h in hdul] == ["PRIMARY", "EVENTS", "GTI"]
            ev, h = hdul["EVENTS"].data, hdul["EVENTS"].header
            assert ev.columns.names == ["time", "energy", "pi", "x", "y", "ccd_id"]
            assert ev.columns["energy"].unit == "eV" and ev.columns["time"].unit == "s"
            assert h["TELESCOP"] == "CHANDRA" and h["INSTRUME"] == "ACIS"
            assert h["OBS_ID"] == str(row["obsid"]) and h["OBSREGID"] == row["obsreg_id"]
            assert h["TSTART"] == row["tstart"] and h["TSTOP"] == row["tstop"]  # all digits
            assert h["EXPOSURE"] == pytest.approx(row["exposure"])
            assert h["MJDREF"] == 50814.0 and h["TIMEZERO"] == 0.0
            t, e = small_pop.events.events_of(i)
            np.testing.assert_array_equal(ev["time"], t)
            np.testing.assert_array_equal(ev["energy"], e)
            np.testing.assert_array_equal(ev["pi"], np.floor(e / 14.6).astype(int) + 1)
            assert (ev["ccd_id"] == row["ccd_id"]).all()
            if len(t) > 5:  # photons cluster on the source position
                assert (
                    abs(np.median(ev["x"]) - row["x"]) < 2
                    and abs(np.median(ev["y"]) - row["y"]) < 2
                )
            gti = hdul["GTI"].data
            assert gti.columns.names == ["START", "STOP"]
            assert gti["START"][0] == row["tstart"] and gti["STOP"][0] == row["tstop"]
            assert hdul["GTI"].header["CCD_ID"] == row["ccd_id"]


@pytest.mark.skipif(
    importlib.util.find_spec("serendip.io.eventfile") is None, reason="FITS reader not built yet"
)
def test_fits_round_trip_through_reader(small_pop, tmp_path):
    from serendip.io.eventfile import read_event_file

    paths = write_fits_events(small_pop, tmp_path)
    for i in (0, 7, 20, 29):
        ef = read_event_file(paths[i], obsreg_id=small_pop.sources["obsreg_id"].iloc[i])
        t, e = small_pop.events.events_of(i)
        np.testing.assert_allclose(ef.time, t, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(ef.energy, e)
        assert ef.meta["exposure"] == pytest.approx(small_pop.sources["exposure"].iloc[i])
        assert ef.meta["telescope"] == "CHANDRA"


def test_cli_simulate_writes_tables_and_fits(tmp_path):
    from serendip.cli import app

    out = tmp_path / "sim"
    res = CliRunner().invoke(
        app, ["simulate", "--n-sources", "25", "--seed", "2", "--out", str(out), "--fits"]
    )
    assert res.exit_code == 0, res.output
    src = read_table(out / "sources.parquet")
    assert len(src) == 25 and {"label", "expected_counts", "t_peak"} <= set(src.columns)
    ev = read_table(out / "events.parquet")
    assert list(ev.columns) == ["obsreg_id", "time", "energy"] and len(ev) == src["n_events"].sum()
    assert len(list((out / "fits").glob("*_evt2.fits"))) == 25
    # same seed through the library: same truth
    pop = simulate_population(25, seed=2)
    assert list(pop.sources["label"]) == list(src["label"])

    bad = CliRunner().invoke(
        app, ["simulate", "-n", "5", "--out", str(tmp_path / "x"), "--fraction", "nova=1"]
    )
    assert bad.exit_code != 0 and "unknown class" in bad.output
    assert not (tmp_path / "x" / "events.parquet").exists()
