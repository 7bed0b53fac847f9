"""read_event_file on synthetic files: missions' gains, units, TIMEZERO, GTIs, band, sorting, exposure."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from serendip.errors import InputError
from serendip.io.eventfile import file_stem, read_event_file


def _write(path, hdul):
    hdul.writeto(path, overwrite=True)
    return path


def test_chandra_like_file_round_values(tmp_path, fitsmaker):
    e = np.array([499.9, 500.0, 1000.0, 7000.0, 7000.1] * 4)
    p = fitsmaker.write_events(tmp_path / "acis.fits", energy=e, seed=3)
    ef = read_event_file(p)
    # band is inclusive at both ends: 500.0 and 7000.0 kept, 499.9 and 7000.1 cut
    assert ef.n_events == 12
    assert set(np.unique(ef.energy).tolist()) == {500.0, 1000.0, 7000.0}
    assert ef.energy.dtype == np.float32 and ef.time.dtype == np.float64
    assert np.all(np.diff(ef.time) >= 0)
    m = ef.meta
    assert (m["telescope"], m["instrument"], m["obsid"]) == ("CHANDRA", "ACIS", "9999")
    assert m["energy_source"] == "energy column [eV]"
    assert m["n_raw"] == 20 and m["n_outside_band"] == 8 and m["n_events"] == 12
    assert m["exposure"] == pytest.approx(1000.0) and m["exposure_source"].startswith("GTIs")
    assert ef.obsreg_id == "9999"
    all_e = read_event_file(p, band=None)
    assert all_e.n_events == 20


def test_pi_fallback_for_chandra_without_energy(tmp_path, fitsmaker):
    e = np.linspace(600, 6000, 20)
    p = fitsmaker.write_events(tmp_path / "noener.fits", energy=e, energy_name=None)
    ef = read_event_file(p)
    assert ef.meta["energy_source"] == "PI x 14.6 eV"
    np.testing.assert_allclose(ef.energy, np.round(e / 14.6) * 14.6, rtol=1e-6)


@pytest.mark.parametrize(
    "telescope,instrument,pi,expected_ev,source",
    [
        ("XMM", "EPN", [600, 1500, 6999], [600, 1500, 6999], "PI [eV]"),
        ("eROSITA", "TM1", [600, 1500, 6999], [600, 1500, 6999], "PI [eV]"),
        ("NICER", "XTI", [60, 150, 690], [600, 1500, 6900], "PI x 10 eV"),
        ("NuSTAR", "FPMA", [0, 35, 100], [1600, 3000, 5600], "PI x 40 eV + 1600 eV"),
        ("SWIFT", "XRT", [60, 150, 690], [600, 1500, 6900], "PI x 10 eV"),
        ("SUZAKU", "XIS0", [200, 1000], [730, 3650], "PI x 3.65 eV"),
    ],
)
def test_mission_gains(tmp_path, telescope, instrument, pi, expected_ev, source):
    pi = np.asarray(pi)
    t = 5.0e8 + np.arange(len(pi), dtype=float)
    ev = fits.BinTableHDU.from_columns(
        [fits.Column("TIME", "D", unit="s", array=t), fits.Column("PI", "J", array=pi)],
        name="EVENTS",
    )
    ev.header.update(TELESCOP=telescope, INSTRUME=instrument, OBS_ID="0123", EXPOSURE=42.0)
    p = _write(tmp_path / "m.evt", fits.HDUList([fits.PrimaryHDU(), ev]))
    ef = read_event_file(p, band=None)
    np.testing.assert_allclose(ef.energy, expected_ev, rtol=1e-6)
    assert ef.meta["energy_source"] == source
    assert ef.meta["exposure"] == 42.0 and ef.meta["exposure_source"] == "EXPOSURE keyword"


def test_energy_kev_unit_and_ogip_uppercase(tmp_path):
    t = 10.0 + np.arange(5, dtype=float)
    ev = fits.BinTableHDU.from_columns(
        [
            fits.Column("TIME", "D", array=t),
            fits.Column("ENERGY", "E", unit="keV", array=[0.4, 0.6, 2.0, 6.9, 9.0]),
        ],
        name="EVENTS",
    )
    ev.header["TELESCOP"] = "SOMESAT"
    p = _write(tmp_path / "ogip.fits", fits.HDUList([fits.PrimaryHDU(), ev]))
    ef = read_event_file(p, band=(500.0, 7000.0))
    np.testing.assert_allclose(ef.energy, [600, 2000, 6900], rtol=1e-6)
    assert ef.meta["energy_source"] == "ENERGY column [keV] x 1000"
    assert ef.obsreg_id == "ogip"  # no OBS_ID: file stem
    assert ef.meta["exposure_source"].startswith("event time span")


def test_ebounds_and_user_gain(tmp_path):
    pha = np.array([0, 1, 2, 3, 7])
    ev = fits.BinTableHDU.from_columns(
        [fits.Column("TIME", "D", array=np.arange(5.0)), fits.Column("PHA", "I", array=pha)],
        name="EVENTS",
    )
    ev.header["TELESCOP"] = "XTE"
    eb = fits.BinTableHDU.from_columns(
        [
            fits.Column("CHANNEL", "J", array=[0, 1, 2, 3]),
            fits.Column("E_MIN", "E", unit="keV", array=[0.5, 1.0, 2.0, 4.0]),
            fits.Column("E_MAX", "E", unit="keV", array=[1.0, 2.0, 4.0, 8.0]),
        ],
        name="EBOUNDS",
    )
    p = _write(tmp_path / "ebounds.fits", fits.HDUList([fits.PrimaryHDU(), ev, eb]))
    ef = read_event_file(p, band=None)
    # channel 7 is not in EBOUNDS: no valid energy, dropped and counted
    np.testing.assert_allclose(ef.energy, [750, 1500, 3000, 6000])
    assert ef.meta["n_bad_energy"] == 1 and "EBOUNDS" in ef.meta["energy_source"]
    # without EBOUNDS the RXTE file is rejected, with a user gain it is read
    p2 = _write(tmp_path / "xte.fits", fits.HDUList([fits.PrimaryHDU(), ev]))
    with pytest.raises(InputError, match=r"gain=\(ev_per_channel, offset_ev\)"):
        read_event_file(p2)
    ef2 = read_event_file(p2, band=None, gain=(100.0, 500.0))
    np.testing.assert_allclose(ef2.energy, pha * 100.0 + 500.0)
    assert ef2.meta["energy_source"] == "PHA x 100 eV + 500 eV (user gain)"
    with pytest.raises(InputError, match="ev_per_channel > 0"):
        read_event_file(p2, gain=(-1.0, 0.0))


def test_timezero_applied_to_events_and_gtis(tmp_path, fitsmaker):
    t = 1.0e8 + np.arange(0.0, 100.0, 5.0)  # 20 events over [1e8, 1e8+95]
    # GTI [1e8+50, 1e8+200] in file time; TIMEZERO shifts events and GTIs by +3 s alike
    hd = fitsmaker.event_hdul(time=t, gti=[(1.0e8 + 50.0, 1.0e8 + 200.0)], header={"TIMEZERO": 3.0})
    hd[2].header["TIMEZERO"] = 3.0
    p = _write(tmp_path / "tz.fits", hd)
    ef = read_event_file(p)
    np.testing.assert_allclose(ef.time, t[t >= 1.0e8 + 50.0] + 3.0)
    assert ef.meta["timezero"] == 3.0 and ef.meta["n_outside_gti"] == 10
    assert ef.meta["tstart"] == pytest.approx(1.0e8 + 3.0)


def test_per_ccd_gtis_and_dead_time(tmp_path, fitsmaker):
    hd = fitsmaker.event_hdul(
        n=40, seed=5, gti=[(1.0e8, 1.0e8 + 400.0)], gti_ccd=7, header={"DTCOR": 0.9}
    )
    ccd = np.array([7, 3] * 20, dtype=np.int16)
    hd[1].data["ccd_id"] = ccd
    g3 = fits.BinTableHDU.from_columns(
        [
            fits.Column("START", "D", array=[1.0e8 + 600.0]),
            fits.Column("STOP", "D", array=[1.0e8 + 1000.0]),
        ],
        name="GTI",
    )
    g3.header["CCD_ID"] = 3
    hd.append(g3)
    p = _write(tmp_path / "ccd.fits", hd)
    ef = read_event_file(p, band=None)
    t, c = hd[1].data["time"], ccd
    want = ((c == 7) & (t <= 1.0e8 + 400.0)) | ((c == 3) & (t >= 1.0e8 + 600.0))
    np.testing.assert_allclose(ef.time, t[want])
    assert ef.meta["n_outside_gti"] == int((~want).sum())
    assert ef.meta["exposure"] == pytest.approx(800.0 * 0.9)
    assert "DTCOR" in ef.meta["exposure_source"]


def test_unsorted_times_are_sorted(tmp_path, fitsmaker):
    t = 1.0e8 + np.array([5.0, 1.0, 3.0, 2.0, 4.0, 0.5])
    e = np.array([1000.0, 2000.0, 3000.0, 4000.0, 5000.0, 6000.0])
    p = _write(tmp_path / "unsorted.fits", fitsmaker.event_hdul(time=t, energy=e))
    ef = read_event_file(p)
    np.testing.assert_array_equal(ef.time, np.sort(t))
    np.testing.assert_array_equal(ef.energy, e[np.argsort(t)])
    assert ef.meta["time_sorted_on_read"] is True


def test_gzip_and_stem(tmp_path, fitsmaker):
    p = fitsmaker.write_events(tmp_path / "obs_evt2.evt.gz", obs_id=None)
    ef = read_event_file(p)
    assert ef.obsreg_id == "obs_evt2" and ef.n_events == 20
    assert file_stem("a/b/acisf0754_evt2.fits.gz") == "acisf0754_evt2"


def test_bad_arguments(tmp_path, fitsmaker):
    p = fitsmaker.write_events(tmp_path / "a.fits")
    with pytest.raises(InputError, match="low < high"):
        read_event_file(p, band=(7000, 500))
    with pytest.raises(InputError, match="no such file"):
        read_event_file(tmp_path / "missing.fits")
    with pytest.raises(InputError, match="is a folder"):
        read_event_file(tmp_path)


def test_xmm_style_stdgti_per_ccd(tmp_path):
    """XMM EPIC: STDGTInn extensions with a CCDID keyword apply to events with that CCDNR."""
    t = 1.0e8 + np.arange(0.0, 100.0, 1.0)
    ccdnr = np.where(np.arange(100) % 2 == 0, 1, 2).astype(np.int16)
    ev = fits.BinTableHDU.from_columns(
        [
            fits.Column("TIME", "D", array=t),
            fits.Column("PI", "J", array=np.full(100, 2000)),
            fits.Column("CCDNR", "I", array=ccdnr),
        ],
        name="EVENTS",
    )
    ev.header.update(TELESCOP="XMM", INSTRUME="EPN", OBS_ID="0123456789")
    hdus = [fits.PrimaryHDU(), ev]
    for ccd, (a, b) in ((1, (0.0, 49.5)), (2, (50.0, 200.0))):
        g = fits.BinTableHDU.from_columns(
            [
                fits.Column("START", "D", array=[1.0e8 + a]),
                fits.Column("STOP", "D", array=[1.0e8 + b]),
            ],
            name=f"STDGTI{ccd:02d}",
        )
        g.header["CCDID"] = ccd
        hdus.append(g)
    p = _write(tmp_path / "pn.fits", fits.HDUList(hdus))
    ef = read_event_file(p)
    want = ((ccdnr == 1) & (t <= 1.0e8 + 49.5)) | ((ccdnr == 2) & (t >= 1.0e8 + 50.0))
    np.testing.assert_array_equal(ef.time, t[want])
    assert ef.meta["gti_extensions"] == ["STDGTI01[2]", "STDGTI02[3]"]
    assert ef.meta["energy_source"] == "PI [eV]"
    assert ef.meta["exposure"] == pytest.approx(49.5 + 150.0)
