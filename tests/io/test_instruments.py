"""Instrument knowledge at ingest: each instrument's standard event screening (counted,
switchable), capabilities (HRC gets no invented energies, GBM times relative to the trigger,
Swift WT/PC and XMM cameras told apart) and time systems (a non-barycentred file is corrected
and says so; UTC shown next to mission seconds)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from serendip.errors import InputError
from serendip.io.eventfile import read_event_file
from serendip.io.ingest import ingest
from serendip.io.missions import identify_mission
from serendip.io.timesys import Barycentre, utc_iso
from serendip.notices import NoticeLog


def events_file(path, columns, header, gti=(1.0e8, 1.0e8 + 1000.0), n=None):
    """A small event file: ``columns`` {name: (format, array)}; ``header`` keywords go into
    the primary and events headers."""
    cols = [fits.Column(k, fmt, array=a, unit="s" if k == "TIME" else None) for k, (fmt, a) in columns.items()]
    ev = fits.BinTableHDU.from_columns(cols, name="EVENTS")
    g = fits.BinTableHDU.from_columns([fits.Column("START", "D", array=[gti[0]]),
                                       fits.Column("STOP", "D", array=[gti[1]])], name="GTI")
    prim = fits.PrimaryHDU()
    for h in (prim.header, ev.header):
        h.update(header)
    fits.HDUList([prim, ev, g]).writeto(path)
    return path


def _times(n, seed=0, t0=1.0e8, span=1000.0):
    return np.sort(np.random.default_rng(seed).uniform(t0, t0 + span, n))


def test_chandra_status_and_grades_are_screened_counted_and_switchable(tmp_path):
    n = 400
    rng = np.random.default_rng(1)
    grade = rng.integers(0, 8, n)
    status = np.zeros((n, 32), bool)
    status[::10, 5] = True  # an afterglow-like flag on every 10th event
    p = events_file(tmp_path / "acis.fits", {
        "TIME": ("D", _times(n)), "ENERGY": ("E", np.full(n, 1500.0)), "GRADE": ("I", grade),
        "STATUS": ("32X", status)}, {"TELESCOP": "CHANDRA", "INSTRUME": "ACIS", "OBS_ID": "1"})
    want = np.isin(grade, [0, 2, 3, 4, 6]) & ~status.any(1)
    with NoticeLog() as log:
        ef = read_event_file(p)
    (rec,) = [r for r in log.records if r.code == "quality_cut"]
    assert ef.n_events == want.sum() and rec.count == n - want.sum() and rec.total == n
    assert "GRADE in 0,2,3,4,6" in rec.message and ef.meta["n_quality"] == n - want.sum()
    assert read_event_file(p, quality=False).n_events == n
    res = ingest([p], progress=False)
    assert int(res.files["n_quality"].iloc[0]) == n - want.sum()


@pytest.mark.parametrize("instrume, limit", [("EPN", 4), ("EMOS1", 12), ("EMOS2", 12)])
def test_xmm_pattern_and_flag_per_camera(tmp_path, instrume, limit):
    n = 300
    rng = np.random.default_rng(2)
    pattern, flag = rng.integers(0, 30, n), np.where(rng.random(n) < 0.2, 4, 0)
    p = events_file(tmp_path / f"{instrume}.fits", {
        "TIME": ("D", _times(n)), "PI": ("J", np.full(n, 1000)), "PATTERN": ("I", pattern),
        "FLAG": ("J", flag)}, {"TELESCOP": "XMM", "INSTRUME": instrume, "SUBMODE": "PrimeSmallWindow"})
    ef = read_event_file(p)
    assert ef.n_events == int(((pattern <= limit) & (flag == 0)).sum())
    assert ef.meta["mode"] == "PrimeSmallWindow"


@pytest.mark.parametrize("mode, limit, imaging", [("WINDOWED", 2, "1d"), ("PHOTON", 12, "2d")])
def test_swift_grades_by_mode(tmp_path, mode, limit, imaging):
    n = 300
    grade = np.random.default_rng(3).integers(0, 32, n)
    p = events_file(tmp_path / "xrt.fits", {
        "TIME": ("D", _times(n)), "PI": ("J", np.full(n, 100)), "GRADE": ("I", grade)},
        {"TELESCOP": "SWIFT", "INSTRUME": "XRT", "DATAMODE": mode})
    ef = read_event_file(p)
    assert ef.n_events == int((grade <= limit).sum())
    assert ef.meta["imaging"] == imaging and ef.meta["mode"] == mode
    assert identify_mission("SWIFT", "XRT", modes={"DATAMODE": mode}).imaging == imaging


def test_erosita_flag_mask(tmp_path):
    n = 200
    flag = np.where(np.arange(n) % 4 == 0, 0x20, 0).astype(np.int64)  # 0x20 is in the mask
    flag[1::4] = 0x1  # outside the mask: kept
    p = events_file(tmp_path / "em01.fits", {
        "TIME": ("D", _times(n)), "PI": ("E", np.full(n, 1000.0)), "FLAG": ("K", flag)},
        {"TELESCOP": "eROSITA", "INSTRUME": "TM1", "OBS_MODE": "POINTING"})
    assert read_event_file(p).n_events == n - n // 4


def test_missing_quality_columns_are_said(tmp_path):
    n = 100
    p = events_file(tmp_path / "a.fits", {"TIME": ("D", _times(n)), "ENERGY": ("E", np.full(n, 900.0))},
                    {"TELESCOP": "CHANDRA", "INSTRUME": "ACIS"})
    with NoticeLog() as log:
        assert read_event_file(p).n_events == n
    assert any(r.code == "quality_column_missing" and "GRADE" in r.message for r in log.records)


def test_hrc_gets_no_invented_energies(tmp_path):
    n = 500
    p = events_file(tmp_path / "hrcf.fits", {
        "TIME": ("D", _times(n)), "PI": ("J", np.random.default_rng(4).integers(1, 255, n)),
        "X": ("E", np.full(n, 16384.0)), "Y": ("E", np.full(n, 16384.0))},
        {"TELESCOP": "CHANDRA", "INSTRUME": "HRC-I", "OBS_ID": "2"})
    with NoticeLog() as log:
        ef = read_event_file(p)
    assert ef.n_events == n and np.isnan(ef.energy).all()
    assert ef.meta["has_energy"] is False and "not invented" in ef.meta["energy_source"]
    assert any(r.code == "no_energy_resolution" for r in log.records)
    with pytest.raises(InputError, match="no usable energy resolution"):
        read_event_file(p, band=(500.0, 7000.0))
    res = ingest([p], progress=False)
    assert not res.files["has_energy"].iloc[0] and res.events.n_events == n
    # the run's later stages read the events back: NaN energies mean "no energy" there too
    from serendip.io.ingest import read_ingest, write_ingest

    write_ingest(res, p.parent / "run")
    back = read_ingest(p.parent / "run")
    assert back.events.n_events == n and np.isnan(back.events.energy).all()


def test_gbm_times_are_relative_to_the_trigger(tmp_path):
    n, trig = 1000, 7.0e8 + 123.456
    edges = np.geomspace(4.0, 2000.0, 129)
    t = np.sort(np.random.default_rng(5).uniform(trig - 100, trig + 200, n))
    ev = fits.BinTableHDU.from_columns([fits.Column("TIME", "D", unit="s", array=t),
                                        fits.Column("PHA", "I", array=np.full(n, 40))], name="EVENTS")
    eb = fits.BinTableHDU.from_columns([
        fits.Column("CHANNEL", "I", array=np.arange(128)),
        fits.Column("E_MIN", "E", unit="keV", array=edges[:-1]),
        fits.Column("E_MAX", "E", unit="keV", array=edges[1:])], name="EBOUNDS")
    gti = fits.BinTableHDU.from_columns([fits.Column("START", "D", array=[trig - 100]),
                                         fits.Column("STOP", "D", array=[trig + 200])], name="GTI")
    prim = fits.PrimaryHDU()
    for h in (prim.header, ev.header):
        h.update(TELESCOP="GLAST", INSTRUME="GBM", DETNAM="NAI_00", TRIGTIME=trig,
                 TSTART=trig - 100, TSTOP=trig + 200, MJDREFI=51910, MJDREFF=7.428703703703703e-4,
                 TIMESYS="TT", TIMEREF="LOCAL")
    fits.HDUList([prim, eb, ev, gti]).writeto(tmp_path / "glg_tte_n0_bn.fit")
    ef = read_event_file(tmp_path / "glg_tte_n0_bn.fit", barycentre=False)
    np.testing.assert_allclose(ef.time, t - trig, atol=1e-6)
    assert ef.meta["time_origin"] == trig and ef.meta["tstart"] == pytest.approx(-100.0)
    assert ef.good_times[0][0] == pytest.approx(-100.0)
    assert identify_mission("GLAST", "GBM").imaging == "none"
    res = ingest([tmp_path / "glg_tte_n0_bn.fit"], progress=False, barycentre=False)
    # UTC of the trigger-relative start = UTC of the mission time TRIGTIME - 100
    assert res.files["tstart_utc"].iloc[0] == utc_iso(trig - 100, 51910.00074287037, "TT")[0]


def test_a_non_barycentred_file_is_corrected_and_says_so(tmp_path):
    n, ra, dec = 2000, 83.633, 22.0145
    t = _times(n, t0=3.0e8, span=20000.0)
    hdr = {"TELESCOP": "NICER", "INSTRUME": "XTI", "TIMESYS": "TT", "TIMEREF": "LOCAL",
           "MJDREFI": 56658, "MJDREFF": 7.775925925925930e-4, "RA_OBJ": ra, "DEC_OBJ": dec}
    p = events_file(tmp_path / "ni.evt", {"TIME": ("D", t), "PI": ("J", np.full(n, 150))}, hdr,
                    gti=(3.0e8, 3.0e8 + 20000.0))
    with NoticeLog() as log:
        ef = read_event_file(p)
    # reference: astropy's own light travel time (geocentre) and TT -> TDB
    from astropy.coordinates import EarthLocation, SkyCoord
    from astropy.time import Time, TimeDelta

    mjdref = 56658 + 7.775925925925930e-4
    tt = Time(mjdref, format="mjd", scale="tt", location=EarthLocation.from_geocentric(0, 0, 0, unit="m"))
    tt = tt + TimeDelta(t[[0, n // 2, -1]], format="sec")
    ltt = tt.light_travel_time(SkyCoord(ra, dec, unit="deg"))
    ref = (tt.tdb + ltt - Time(mjdref, format="mjd", scale="tdb")).sec
    np.testing.assert_allclose(ef.time[[0, n // 2, -1]], ref, atol=1e-5)
    assert 1.0 < np.max(np.abs(ef.time - t)) < 510.0
    assert ef.meta["timesys"] == "TDB" and ef.meta["timeref"] == "SOLARSYSTEM"
    assert "barycentred by serendip" in ef.meta["time_correction"]
    assert any(r.code == "barycentred" for r in log.records)
    # the good-time intervals move with the events: none falls outside
    assert ef.good_times[0][0] <= ef.time[0] and ef.time[-1] <= ef.good_times[1][-1]
    off = read_event_file(p, barycentre=False)
    np.testing.assert_array_equal(off.time, t)
    assert off.meta["time_correction"] == "" and off.meta["timeref"] == "LOCAL"
    # already barycentred: left alone
    hdr2 = {**hdr, "TIMEREF": "SOLARSYSTEM", "TIMESYS": "TDB"}
    p2 = events_file(tmp_path / "ni_bary.evt", {"TIME": ("D", t), "PI": ("J", np.full(n, 150))}, hdr2,
                     gti=(3.0e8, 3.0e8 + 20000.0))
    np.testing.assert_array_equal(read_event_file(p2).time, t)


def test_barycentre_per_source_position():
    b = Barycentre(0.0, 86400.0, 58000.0, "TT")
    t = np.array([0.0, 43200.0, 86400.0])
    # the difference between two directions equals the difference of their corrections
    d = b.difference(t, 10.0, 20.0, 10.2, 20.1)
    np.testing.assert_allclose(d, b.correction(t, 10.2, 20.1) - b.correction(t, 10.0, 20.0), atol=1e-9)
    assert 0 < np.max(np.abs(d)) < 500.0 * np.radians(0.25)


def test_utc_iso_of_mission_seconds():
    # Chandra: MJDREF 50814 TT = 1998-01-01T00:00:00 TT = 1997-12-31T23:58:56.816 UTC
    assert utc_iso(0.0, 50814.0, "TT")[0] == "1997-12-31T23:58:56.816"
    assert utc_iso(np.nan, 50814.0, "TT")[0] == "" and utc_iso(0.0, None)[0] == ""


def test_non_imaging_files_refuse_regions_and_wt_mode_is_said(tmp_path):
    n = 200
    cols = {"TIME": ("D", _times(n)), "PI": ("J", np.full(n, 150)),
            "X": ("E", np.full(n, 500.0)), "Y": ("E", np.full(n, 500.0))}
    p = events_file(tmp_path / "ni.evt", cols, {"TELESCOP": "NICER", "INSTRUME": "XTI"})
    res = ingest([p], region="phys:500,500,10", progress=False)
    assert res.n_ok == 0 and "not an imaging instrument" in res.failures["reason"].iloc[0]
    p = events_file(tmp_path / "wt.evt", {**cols, "PI": ("J", np.full(n, 100))},
                    {"TELESCOP": "SWIFT", "INSTRUME": "XRT", "DATAMODE": "WINDOWED"})
    with NoticeLog() as log:
        res = ingest([p], region="phys:500,500,10", progress=False)
    assert res.n_ok == 1 and any(r.code == "one_dimensional_mode" for r in log.records)


def test_feature_cases_refuse_or_adapt_files_without_energies():
    from serendip.features.extract import extract_features
    from serendip.io.eventset import EventSet

    rng = np.random.default_rng(6)
    counts = np.full(60, 40)
    t = np.concatenate([np.sort(rng.uniform(0, 1e4, k)) for k in counts])
    e = rng.uniform(500, 7000, len(t)).astype(np.float32)
    e[:80] = np.nan  # the first two files: HRC, no energies
    ids = np.array([f"f{i}" for i in range(len(counts))], dtype=object)
    ev = EventSet(ids, np.concatenate([[0], np.cumsum(counts)]), t, e)
    with pytest.raises(InputError, match="needs photon energies.*f0, f1"):
        extract_features("2D-PCA", events=ev)
    with NoticeLog() as log:
        res = extract_features("events", events=ev)
    assert np.isfinite(res.features).all()
    (rec,) = [r for r in log.records if r.code == "no_energy_adapted"]
    assert rec.count == 2 and rec.total == 60


def test_explorer_dates_follow_the_files_time_system():
    from serendip.app.sourceview import iso_dates, time_zero

    trig = 7.0e8
    # a GBM file: times relative to its trigger; the date is the trigger's + the offset
    tz = time_zero(-100.0, "GLAST", 51910.00074287037, "TT", trig)
    assert tz["iso"] == utc_iso(trig - 100.0, 51910.00074287037, "TT")[0][:19] + "Z"
    assert tz["origin_s"] == trig
    d = iso_dates([-100.0, 0.0], ["GLAST", "CHANDRA"], [51910.00074287037, np.nan], ["TT", ""],
                  [trig, 0.0])
    assert d[0] == tz["iso"] and d[1] == "1997-12-31T23:58:56Z"


def test_candidates_show_burst_times_in_utc():
    import pandas as pd

    from serendip.catalog.candidates import with_observation_columns

    files = pd.DataFrame({"obsreg_id": ["a", "g"], "tstart": [0.0, -100.0], "tstop": [1000.0, 200.0],
                          "mjdref": [50814.0, 51910.00074287037], "timesys": ["TT", "TT"],
                          "time_origin": [0.0, 7.0e8]})
    cands = pd.DataFrame({"obsreg_id": ["g", "a"], "n_events": [10, 10], "rate": [1.0, 1.0],
                          "duration": [300.0, 1000.0], "burst_t_frac": [0.5, 0.0],
                          "burst_width_frac": [0.1, 0.1]})
    out = with_observation_columns(cands, files)
    assert out["burst_time"].tolist() == [50.0, 0.0]
    assert out["burst_time_utc"].tolist() == [utc_iso(7.0e8 + 50.0, 51910.00074287037)[0],
                                              "1997-12-31T23:58:56.816"]


def test_real_nicer_files_barycentred_only_when_not_already(real_data):
    """sgr1830kgfilt.evt.gz is at TIMEREF=LOCAL (TT): corrected for RA_OBJ/DEC_OBJ and said so;
    ngc300nicer_bary.evt.gz is at SOLARSYSTEM: left alone."""
    p = real_data / "pint_testdata/sgr1830kgfilt.evt.gz"
    raw = read_event_file(p, band=None, barycentre=False)
    ef = read_event_file(p, band=None)
    with fits.open(p) as h:
        hd = h["EVENTS"].header
        ra, dec = hd["RA_OBJ"], hd["DEC_OBJ"]
        mjdref = hd["MJDREFI"] + hd["MJDREFF"]
    b = Barycentre(raw.time[0], raw.time[-1], mjdref, "TT")
    np.testing.assert_allclose(ef.time - raw.time, b.correction(raw.time, ra, dec), atol=1e-6)
    assert 10.0 < np.max(np.abs(ef.time - raw.time)) < 500.0
    assert ef.meta["timeref"] == "SOLARSYSTEM" and "barycentred by serendip" in ef.meta["time_correction"]
    q = real_data / "pint_testdata/ngc300nicer_bary.evt.gz"
    np.testing.assert_array_equal(read_event_file(q, band=None).time,
                                  read_event_file(q, band=None, barycentre=False).time)
