"""Mission-aware bands and event hygiene: a Fermi GBM TTE file keeps its NaI band; a user band
wins; cuts over half a file are warnings with counts; duplicates, NaN rows and keV-looking
unit-less energies are counted notices, never silent."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from typer.testing import CliRunner

from serendip.errors import InputError
from serendip.io.eventfile import MAX_NAN_FRACTION, read_event_file
from serendip.io.ingest import ingest, large_cuts
from serendip.io.missions import MISSIONS, identify_mission, mission_table
from serendip.notices import NoticeLog


def gbm_tte(path, n=20000, seed=0, detnam="NAI_03"):
    """A Fermi GBM TTE-like file: PHA channels, EBOUNDS (keV, 128 log channels 4 keV-2 MeV), GTI."""
    rng = np.random.default_rng(seed)
    edges = np.geomspace(4.0, 2000.0, 129)
    energy_kev = np.minimum(5.0 * (1 - rng.random(n)) ** (-1 / 0.8), 1999.0)  # power law from 5 keV
    pha = np.searchsorted(edges, energy_kev) - 1
    t = np.sort(6.0e8 + rng.uniform(0, 300, n))
    ev = fits.BinTableHDU.from_columns(
        [fits.Column("TIME", "D", unit="s", array=t), fits.Column("PHA", "I", array=pha)], name="EVENTS")
    eb = fits.BinTableHDU.from_columns([
        fits.Column("CHANNEL", "I", array=np.arange(128)),
        fits.Column("E_MIN", "E", unit="keV", array=edges[:-1]),
        fits.Column("E_MAX", "E", unit="keV", array=edges[1:])], name="EBOUNDS")
    gti = fits.BinTableHDU.from_columns([fits.Column("START", "D", array=[6.0e8]),
                                         fits.Column("STOP", "D", array=[6.0e8 + 300])], name="GTI")
    prim = fits.PrimaryHDU()
    for h in (prim.header, ev.header):
        h.update(TELESCOP="GLAST", INSTRUME="GBM", DETNAM=detnam, OBS_ID="bn240101001")
    fits.HDUList([prim, eb, ev, gti]).writeto(path)
    return path, pha, edges


def test_mission_table_is_complete():
    names = set(mission_table()["mission"])
    for m in ("Chandra", "XMM-Newton", "Swift-XRT", "eROSITA", "NICER", "NuSTAR", "RXTE",
              "Einstein Probe WXT", "Einstein Probe FXT", "Fermi GBM", "Fermi LAT"):
        assert m in names
    assert all(m.band_reference for m in MISSIONS if m.band_ev is not None)
    assert identify_mission("GLAST", "GBM", "BGO_00").band_ev == (2.0e5, 4.0e7)
    assert identify_mission("GLAST", "GBM", "NAI_11").band_ev == (8.0e3, 1.0e6)
    assert identify_mission("CHANDRA", "HRC-I").band_ev == (100.0, 10000.0)
    assert identify_mission("XMM", "EMOS1").name == "XMM-Newton"


def test_gbm_tte_keeps_its_mission_band(tmp_path):
    p, pha, edges = gbm_tte(tmp_path / "glg_tte_n3_bn240101001.fit")
    with NoticeLog() as log:
        ef = read_event_file(p)
    mid = 0.5 * (edges[:-1] + edges[1:])[pha] * 1e3
    want = (mid >= 8e3) & (mid <= 1e6)
    assert ef.meta["band"] == (8e3, 1e6) and ef.n_events == int(want.sum()) > 0.5 * len(pha)
    assert ef.meta["energy_source"] == "PHA via EBOUNDS (channel mid-energy)"
    assert not [r for r in log.records if r.severity != "info"]
    # the old Chandra default would keep a few percent, and now says so loudly
    with NoticeLog() as log:
        old = read_event_file(p, band=(500.0, 7000.0))
    (cut,) = [r for r in log.records if r.code == "band_cut"]
    assert cut.severity == "warning" and cut.count == len(pha) - old.n_events and cut.total == len(pha)
    assert list(large_cuts(log)["source"]) == [str(p)]
    # a Quantity band wins too
    q = read_event_file(p, band=(20, 200) * u.keV)
    assert q.meta["band"] == (2e4, 2e5)


def test_cli_summary_lists_files_losing_half(tmp_path):
    from serendip.cli import app

    p, *_ = gbm_tte(tmp_path / "tte.fits")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["ingest", str(p), "--band", "500", "7000", "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    assert "removed more than half" in r.output and "band_cut" in r.output
    w = pd.read_csv(out / "warnings.csv")
    assert (w["code"] == "band_cut").sum() == 1


def test_duplicates_dropped_and_counted(tmp_path, fitsmaker):
    hd = fitsmaker.event_hdul(n=50, seed=1)
    d = hd[1].data
    rows = np.r_[np.arange(50), [3, 3, 17]]  # three exact copies
    hd[1] = fits.BinTableHDU(data=d[np.sort(rows)], header=hd[1].header)
    # same time, different energy: not a duplicate
    t = hd[1].data["time"].copy()
    t[40] = t[41]
    hd[1].data["time"] = t
    p = tmp_path / "dup.fits"
    hd.writeto(p)
    with NoticeLog() as log:
        ef = read_event_file(p, band=None)
    (dup,) = [r for r in log.records if r.code == "duplicate_events"]
    assert (dup.count, dup.total) == (3, 53) and ef.n_events == 50 and ef.meta["n_duplicates"] == 3


def test_nan_rows_dropped_then_rejected(tmp_path, fitsmaker):
    t = np.sort(1.0e8 + np.random.default_rng(2).uniform(0, 1000, 40))
    t[[5, 6, 7]] = np.nan
    p = fitsmaker.write_events(tmp_path / "few.fits", time=t, n=40)
    with NoticeLog() as log:
        ef = read_event_file(p, band=None)
    (nan,) = [r for r in log.records if r.code == "nan_time"]
    assert (nan.count, nan.total, ef.n_events) == (3, 40, 37)
    t[: int(MAX_NAN_FRACTION * 40) + 1] = np.nan
    q = fitsmaker.write_events(tmp_path / "many.fits", time=t, n=40)
    with pytest.raises(InputError, match=r"21 of 40 events have NaN/inf TIME .*more than 50%"):
        read_event_file(q)


def test_kev_looking_energy_without_unit(tmp_path, fitsmaker):
    e_kev = np.random.default_rng(4).uniform(0.6, 6.5, 30)
    p = fitsmaker.write_events(tmp_path / "kev.fits", energy=e_kev, energy_unit=None, n=30)
    with NoticeLog() as log:
        ef = read_event_file(p)
    (g,) = [r for r in log.records if r.code == "energy_unit_guessed"]
    assert g.severity == "warning" and "keV" in g.message
    assert ef.n_events == 30 and ef.energy.min() > 500 and "keV" in ef.meta["energy_source"]
    # eV without a unit on a Chandra file: the Chandra convention, an info notice
    q = fitsmaker.write_events(tmp_path / "ev.fits", energy=e_kev * 1e3, energy_unit=None, n=30)
    with NoticeLog() as log:
        assert read_event_file(q).n_events == 30
    assert [r.severity for r in log.records if r.code == "energy_unit_guessed"] == ["info"]


def test_ingest_records_band_per_file(tmp_path, fitsmaker):
    p, *_ = gbm_tte(tmp_path / "tte.fits")
    q = fitsmaker.write_events(tmp_path / "acis.fits", seed=3)
    res = ingest([p, q], progress=False)
    assert list(zip(res.files["band_low_ev"], res.files["band_high_ev"], strict=True)) == [
        (8e3, 1e6), (500.0, 7000.0)]


def test_readme_shows_the_mission_table():
    from pathlib import Path

    from serendip.io.missions import band_table_markdown

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    shown = text.split("<!-- mission-bands -->\n", 1)[1].split("\n<!-- /mission-bands -->", 1)[0]
    assert shown == band_table_markdown()
    section = text.split("## Your own data", 1)[1].split("\n## ", 1)[0]
    for product in ("regevt3", "--region psr.reg", "--sources", "XMM", "eROSITA", "Swift XRT",
                    "NICER", "NuSTAR", "Fermi GBM"):
        assert product in section


def test_event_table_hygiene(tmp_path):
    from serendip.io.reference import read_event_table

    p = tmp_path / "eventfiles_table.csv"
    p.write_text("obsreg_id,time,energy\n1_1,1.0,1.2\n1_1,2.0,3.5\n1_1,2.0,3.5\n1_1,nan,2.0\n"
                 "2_1,nan,1.0\n2_1,nan,1.0\n2_1,3.0,1.0\n")
    with NoticeLog() as log:
        res = read_event_table(p, band=(500.0, 7000.0))
    codes = {r.code: r for r in log.records}
    assert set(codes) >= {"energy_unit_guessed", "duplicate_events", "nan_time"}
    assert codes["duplicate_events"].count == 2  # 1_1 at t=2 and 2_1 (nan, 1.0) repeated
    assert list(res.files["obsreg_id"]) == ["1_1"] and list(res.files["n_events"]) == [2]
    assert "2 of 3 events have NaN/inf time" in res.failures["reason"].iloc[0]
