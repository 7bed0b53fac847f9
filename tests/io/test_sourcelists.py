"""Source lists cut a whole observation into sources: FITS (wavdetect-like), CSV (ra/dec with
radius or ellipse), CSC tables (ObsID filter); background annuli counted; the region plan
(one list for all, beside each file, manifest) and the CLI."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pandas as pd
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from regions import EllipseSkyRegion, PixCoord
from typer.testing import CliRunner

from serendip.errors import InputError
from serendip.io.eventfile import load_events
from serendip.io.ingest import ingest
from serendip.io.sourcelists import BKG_INNER, BKG_OUTER, read_source_list
from serendip.notices import NoticeLog


@pytest.fixture()
def field(tmp_path, fitsmaker):
    rng = np.random.default_rng(3)
    n = 20000
    hd = fitsmaker.event_hdul(n=n, seed=3)
    hd[1].data["x"] = rng.uniform(3900, 4300, n)
    hd[1].data["y"] = rng.uniform(3900, 4300, n)
    p = tmp_path / "acisf09999N001_evt2.fits"
    hd.writeto(p)
    d = hd[1].data
    return p, np.asarray(d["x"], float), np.asarray(d["y"], float), np.asarray(d["energy"], float)


def _fits_list(path, x, y, r, rot, comp):
    t = fits.BinTableHDU.from_columns([
        fits.Column("X", "D", unit="pixel", array=x), fits.Column("Y", "D", unit="pixel", array=y),
        fits.Column("R", "2D", unit="pixel", array=r), fits.Column("ROTANG", "D", unit="deg", array=rot),
        fits.Column("COMPONENT", "J", array=comp)], name="SRCLIST")
    fits.HDUList([fits.PrimaryHDU(), t]).writeto(path)
    return path


def test_fits_source_list_and_backgrounds(field, tmp_path):
    p, x, y, e = field
    cx, cy = np.array([4000.0, 4100.0, 4118.0]), np.array([4000.0, 4100.0, 4100.0])
    r = np.array([[10.0, 5.0], [8.0, 8.0], [6.0, 3.0]])
    rot = np.array([30.0, 0.0, -70.0])
    lst = _fits_list(tmp_path / "src.fits", cx, cy, r, rot, np.array([4, 7, 9]))
    res = ingest([p], sources=lst, band=None, progress=False)
    assert list(res.files["obsreg_id"]) == ["9999_4", "9999_7", "9999_9"]

    def ell(k, f_out=1.0, f_in=0.0):
        t = np.deg2rad(rot[k])
        u_ = (x - cx[k]) * np.cos(t) + (y - cy[k]) * np.sin(t)
        v_ = -(x - cx[k]) * np.sin(t) + (y - cy[k]) * np.cos(t)
        q = (u_ / r[k, 0]) ** 2 + (v_ / r[k, 1]) ** 2
        return (q <= f_out**2) & (q > f_in**2)

    srcs = [ell(k) for k in range(3)]
    assert list(res.files["n_events"]) == [int(s.sum()) for s in srcs]
    in_any = srcs[0] | srcs[1] | srcs[2]
    for k in range(3):
        bkg = ell(k, BKG_OUTER, BKG_INNER) & ~in_any
        row = res.regions.iloc[k]
        assert row["bkg_counts"] == int(bkg.sum()) > 0
        assert row["bkg_area_pix"] == pytest.approx(np.pi * r[k, 0] * r[k, 1] * (BKG_OUTER**2 - BKG_INNER**2))
        assert row["src_area_pix"] == pytest.approx(np.pi * r[k, 0] * r[k, 1])


def test_csv_sky_ellipse_position_angle(field, tmp_path):
    """An ellipse given as ra/dec, semi-axes [arcsec] and a position angle east of north selects
    what ``regions``' sky ellipse (angle from the longitude axis = PA + 90 deg) selects."""
    p, x, y, e = field
    raw = load_events(p)
    c = SkyCoord(*raw.wcs.pixel_to_world_values(4100.0, 4080.0), unit="deg")
    lst = tmp_path / "srcs.csv"
    pd.DataFrame({"name": ["a", "b"], "ra": [c.ra.deg, c.ra.deg], "dec": [c.dec.deg, c.dec.deg],
                  "a_arcsec": [12.0, 6.0], "b_arcsec": [4.0, 6.0], "pa_deg": [35.0, 0.0]}).to_csv(lst, index=False)
    res = ingest([p], sources=lst, band=None, progress=False)
    assert list(res.files["obsreg_id"]) == ["9999_a", "9999_b"]
    reg = EllipseSkyRegion(c, 24 * u.arcsec, 8 * u.arcsec, angle=(35 + 90) * u.deg).to_pixel(raw.wcs)
    assert res.files["n_events"].iloc[0] == int(reg.contains(PixCoord(x, y)).sum()) > 20


def test_csc_table_keeps_this_obsid(field, tmp_path):
    p, x, y, e = field
    raw = load_events(p)
    ra, dec = raw.wcs.pixel_to_world_values(np.array([4000.0, 4200.0, 4100.0]), np.array([4000.0, 4200.0, 4100.0]))
    lst = tmp_path / "csc.csv"
    pd.DataFrame({"obsid": [9999, 9999, 1234], "region_id": [12, 15, 3], "ra": ra, "dec": dec,
                  "src_area_b": [300.0, 200.0, 100.0]}).to_csv(lst, index=False)
    with NoticeLog() as log:
        res = ingest([p], sources=lst, band=None, progress=False)
    assert list(res.files["obsreg_id"]) == ["9999_12", "9999_15"]
    (note,) = [r for r in log.records if r.code == "sources_other_obsid"]
    assert (note.count, note.total) == (1, 3)
    r_pix = np.sqrt(300.0 / np.pi) / 0.492
    assert res.files["n_events"].iloc[0] == int(((x - 4000) ** 2 + (y - 4000) ** 2 <= r_pix**2).sum())


def test_plans_beside_and_manifest(field, tmp_path, fitsmaker):
    p, *_ = field
    q = fitsmaker.write_events(tmp_path / "other.fits", obs_id="555", seed=9)
    _fits_list(tmp_path / "acisf09999N001_src2.fits", np.array([4050.0]), np.array([4050.0]),
               np.array([[20.0, 20.0]]), np.zeros(1), np.array([1]))
    with NoticeLog() as log:
        res = ingest([tmp_path], sources="beside", progress=False)
    # the source list is not ingested as an event file; other.fits has none and is kept whole
    assert sorted(res.files["obsreg_id"]) == ["555", "9999_1"] and res.n_failed == 0
    assert [r.source for r in log.records if r.code == "no_region_for_file"] == [str(q)]
    (tmp_path / "q.reg").write_text('physical;circle(4096.5,4096.5,6)\n')
    man = tmp_path / "manifest.csv"
    man.write_text("path,region\nother.fits,q.reg\n")
    res = ingest([q], region=str(man), progress=False)
    assert list(res.files["obsreg_id"]) == ["555_1"]


def test_source_list_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("ra,dec\n1,2\n")
    with pytest.raises(InputError, match="no size column"):
        read_source_list(bad)
    bad.write_text("ra,dec,radius_arcsec\n1,95,3\n")
    with pytest.raises(InputError, match="outside"):
        read_source_list(bad)
    t = fits.BinTableHDU.from_columns([fits.Column("SHAPE", "8A", array=np.array(["Pie"])),
                                       fits.Column("X", "D", array=[1.0]), fits.Column("Y", "D", array=[1.0]),
                                       fits.Column("R", "2D", array=[[1.0, 1.0]])])
    fits.HDUList([fits.PrimaryHDU(), t]).writeto(tmp_path / "pie.fits")
    with pytest.raises(InputError, match="row 1: shape 'pie' is not supported"):
        read_source_list(tmp_path / "pie.fits")


def test_cli_ingest_sources(field, tmp_path):
    from serendip.cli import app

    p, *_ = field
    lst = _fits_list(tmp_path / "s.fits", np.array([4000.0, 4100.0]), np.array([4000.0, 4100.0]),
                     np.full((2, 2), 9.0), np.zeros(2), np.array([1, 2]))
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["ingest", str(p), "--sources", str(lst), "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    assert list(pd.read_parquet(out / "files.parquet")["obsreg_id"]) == ["9999_1", "9999_2"]
    assert len(pd.read_parquet(out / "regions.parquet")) == 2
    assert (out / "warnings.parquet").is_file()


def test_batch_with_sources(field, tmp_path):
    from serendip.scale import run_batch

    p, *_ = field
    cx = np.linspace(3950.0, 4250.0, 6)
    lst = _fits_list(tmp_path / "s.fits", cx, cx, np.full((6, 2), 15.0), np.zeros(6), np.arange(1, 7))
    res = run_batch([p], tmp_path / "batch", scheduler="none", sources=str(lst), n_fit=6,
                    n_estimators=10, chunk_size=1, progress=False)
    assert sorted(res.scores["obsreg_id"]) == [f"9999_{k}" for k in range(1, 7)]


def test_csc_sources_through_cached_tap(field, tmp_path, monkeypatch):
    """sources="csc" asks CSC 2.1 (TAP) for the file's ObsID; the answer comes from the cache."""
    from serendip.io.tap import CSC21_TAP_URL, CscQuery, cache_key

    p, x, y, e = field
    raw = load_events(p)
    ra, dec = raw.wcs.pixel_to_world_values(np.array([4000.0, 4200.0]), np.array([4000.0, 4200.0]))
    q = CscQuery(master_columns=["name", "ra", "dec"], detection_columns=["obsid", "region_id", "src_area_b"],
                 min_flux_significance_b=None, not_null=[], obsids=[9999])
    cache = tmp_path / "tap"
    cache.mkdir()
    pd.DataFrame({"name": ["2CXO A", "2CXO B"], "ra": ra, "dec": dec, "obsid": [9999, 9999],
                  "region_id": [17, 4], "src_area_b": [200.0, 150.0]}).to_parquet(
        cache / f"{cache_key(CSC21_TAP_URL, q.adql())}.parquet")
    monkeypatch.setenv("SERENDIP_TAP_CACHE", str(cache))
    res = ingest([p], sources="csc", band=None, progress=False)
    assert list(res.files["obsreg_id"]) == ["9999_17", "9999_4"]
    r_pix = np.sqrt(200.0 / np.pi) / 0.492
    assert res.files["n_events"].iloc[0] == int(((x - 4000) ** 2 + (y - 4000) ** 2 <= r_pix**2).sum())
