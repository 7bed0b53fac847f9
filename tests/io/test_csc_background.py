"""A CSC reg3 file's background region (BKGREG: annulus, overlapping sources excluded) is the
source's background at ingest: its events (counted independently here) give bkg_counts,
background.parquet and the background light curve; without BKGREG the default annulus is used
and said."""

from __future__ import annotations

import numpy as np
from astropy.io import fits

from serendip.io.ingest import ingest
from serendip.notices import NoticeLog

X0, Y0 = 4000.0, 4100.0


def _events(path, rng, n=6000):
    x = X0 + rng.uniform(-60, 60, n)
    y = Y0 + rng.uniform(-60, 60, n)
    t = np.sort(rng.uniform(1e8, 1e8 + 2e4, n))
    e = rng.uniform(300, 9000, n)
    ev = fits.BinTableHDU.from_columns([
        fits.Column("time", "D", unit="s", array=t), fits.Column("ccd_id", "I", array=np.full(n, 7)),
        fits.Column("x", "E", unit="pixel", array=x), fits.Column("y", "E", unit="pixel", array=y),
        fits.Column("energy", "E", unit="eV", array=e)], name="EVENTS")
    for k, v in (("TELESCOP", "CHANDRA"), ("INSTRUME", "ACIS"), ("OBS_ID", "754"),
                 ("TSTART", 1e8), ("TSTOP", 1e8 + 2e4)):
        ev.header[k] = v
    fits.HDUList([fits.PrimaryHDU(), ev]).writeto(path)
    return x, y, e


def _table(name, rows):
    cols = list(zip(*rows, strict=True))
    return fits.BinTableHDU.from_columns([
        fits.Column("SHAPE", "16A", array=np.array(cols[0])),
        fits.Column("X", "D", unit="pixel", array=np.array(cols[1], float)),
        fits.Column("Y", "D", unit="pixel", array=np.array(cols[2], float)),
        fits.Column("R", "2D", unit="pixel", array=np.array(cols[3], float)),
        fits.Column("ROTANG", "D", unit="deg", array=np.zeros(len(rows))),
        fits.Column("COMPONENT", "J", array=np.ones(len(rows), np.int32))], name=name)


def test_bkgreg_is_the_background(tmp_path):
    rng = np.random.default_rng(4)
    evt = tmp_path / "acisf00754_000N027_r0001_regevt3.fits"
    x, y, e = _events(evt, rng)
    src = ("Ellipse", X0, Y0, (5.0, 5.0))
    excl = (X0 + 20, Y0, (6.0, 6.0))
    fits.HDUList([fits.PrimaryHDU(), _table("ECF90REGB", [src]),
                  _table("BKGREG", [("Annulus", X0, Y0, (10.0, 40.0)), ("!Circle", *excl)])]
                 ).writeto(tmp_path / "acisf00754_000N020_r0001_reg3.fits")
    with NoticeLog() as log:
        res = ingest([tmp_path], progress=False)
    assert "default_background_annulus" not in set(log.to_frame()["code"])
    r = res.regions.iloc[0]
    assert r["obsreg_id"] == "754_1"
    np.testing.assert_allclose(r["bkg_area_pix"], np.pi * (40.0**2 - 10.0**2))
    # independent count: in the annulus, out of the exclusion and the source, in the band
    d = np.hypot(x - X0, y - Y0)
    inside = (d <= 40) & (d >= 10) & (np.hypot(x - excl[0], y - excl[1]) > 6.0) & (d > 5.0)
    band = (e >= 500) & (e <= 7000)
    expect = int((inside & band).sum())
    assert abs(int(r["bkg_counts"]) - expect) <= 2  # boundary pixels
    assert abs(len(res.background) - expect) <= 2
    assert set(res.background["obsreg_id"]) == {"754_1"}


def test_without_bkgreg_default_annulus_said(tmp_path):
    rng = np.random.default_rng(5)
    _events(tmp_path / "acisf00754_000N027_r0001_regevt3.fits", rng)
    fits.HDUList([fits.PrimaryHDU(), _table("ECF90REGB", [("Ellipse", X0, Y0, (5.0, 5.0))])]
                 ).writeto(tmp_path / "acisf00754_000N020_r0001_reg3.fits")
    with NoticeLog() as log:
        res = ingest([tmp_path], progress=False)
    assert "default_background_annulus" in set(log.to_frame()["code"])
    np.testing.assert_allclose(res.regions["bkg_area_pix"].iloc[0], np.pi * 25 * (4.0**2 - 1.5**2))
