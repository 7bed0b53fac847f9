"""CSC per-region products (regevt3 + reg3) built from the format description: pairing by
OBSID and REGION across versions, the broad-band ellipse by default, OBSID_REGION ids, gzip;
event counts checked against an independent computation (astropy + ``regions``' contains)."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from regions import EllipsePixelRegion, PixCoord

from serendip.io.csc import pair_products, parse_csc_name
from serendip.io.ingest import ingest
from serendip.notices import NoticeLog

BANDS = {"B": 1.0, "U": 0.8, "S": 0.9, "M": 1.1, "H": 1.3}  # size of each band's 90% ECF region


def write_csc_pair(folder, events: fits.BinTableHDU, obsid, region, x, y, a, b, rot,
                   exclude=None, evt_version=27, reg_version=20):
    """Cut a 4a-wide box around (x, y) from ``events`` as the regevt3 file and write the
    matching reg3 file (one ECF90REG<band> table per band; an optional exclusion row)."""
    d = events.data
    box = (np.abs(d["x"] - x) <= 4 * a) & (np.abs(d["y"] - y) <= 4 * a)
    hdr = events.header.copy()
    hdr["OBS_ID"] = str(obsid)
    ev = fits.BinTableHDU(data=d[box], header=hdr, name="EVENTS")
    stem = f"acisf{obsid:05d}_000N{{v:03d}}_r{region:04d}"
    evt_path = folder / f"{stem.format(v=evt_version)}_regevt3.fits.gz"
    fits.HDUList([fits.PrimaryHDU(), ev]).writeto(evt_path)
    hdus = [fits.PrimaryHDU()]
    for band, f in BANDS.items():
        rows = [("Ellipse", x, y, (a * f, b * f), rot, 1)]
        if exclude is not None and band == "B":
            rows.append(("!Ellipse", *exclude, 2))
        cols = list(zip(*rows, strict=True))
        hdus.append(fits.BinTableHDU.from_columns([
            fits.Column("SHAPE", "16A", array=np.array(cols[0])),
            fits.Column("X", "D", unit="pixel", array=np.array(cols[1], float)),
            fits.Column("Y", "D", unit="pixel", array=np.array(cols[2], float)),
            fits.Column("R", "2D", unit="pixel", array=np.array(cols[3], float)),
            fits.Column("ROTANG", "D", unit="deg", array=np.array(cols[4], float)),
            fits.Column("COMPONENT", "J", array=np.array(cols[5])),
        ], name=f"ECF90REG{band}"))
    reg_path = folder / f"{stem.format(v=reg_version)}_reg3.fits.gz"
    fits.HDUList(hdus).writeto(reg_path)
    return evt_path, reg_path


def independent_count(evt_path, x, y, a, b, rot, exclude=None, band=(500.0, 7000.0)):
    """Events of a regevt3 file inside the ellipse (``regions``' contains, 1-based -> 0-based
    pixels), minus the exclusion, in the band; read with astropy."""
    with fits.open(evt_path) as h:
        d = h["EVENTS"].data
        px = PixCoord(np.asarray(d["x"], float) - 1, np.asarray(d["y"], float) - 1)
        e = np.asarray(d["energy"], float)
    ell = EllipsePixelRegion(PixCoord(x - 1, y - 1), 2 * a, 2 * b, angle=rot * u.deg)
    inside = ell.contains(px)
    if exclude is not None:
        ex, ey, (ea, eb), erot = exclude
        inside &= ~EllipsePixelRegion(PixCoord(ex - 1, ey - 1), 2 * ea, 2 * eb, angle=erot * u.deg).contains(px)
    return int((inside & (e >= band[0]) & (e <= band[1])).sum())


def test_names_and_pairing(tmp_path):
    n = parse_csc_name("acisf23022_000N027_r0122_regevt3.fits.gz")
    assert (n.obsid, n.obi, n.version, n.region, n.product, n.obsreg_id) == (23022, 0, 27, 122, "regevt3", "23022_122")
    assert parse_csc_name("hrcf01234_001N005_r0007_reg3.fits").obsreg_id == "1234_7"
    assert parse_csc_name("msh1552_acis_evt2.fits") is None
    files = [tmp_path / f for f in (
        "acisf23022_000N027_r0122_regevt3.fits.gz", "acisf23022_000N020_r0122_reg3.fits.gz",
        "acisf23022_000N021_r0122_reg3.fits.gz", "acisf23022_000N027_r0005_regevt3.fits.gz",
        "acisf00001_000N020_r0009_reg3.fits.gz", "other.fits")]
    other, paired, lonely = pair_products(files)
    assert other == [files[-1]] and lonely == [files[4]]
    assert paired[files[0]][1] == files[2]  # the highest reg3 version
    assert paired[files[3]][1] is None


@pytest.fixture()
def csc_folder(tmp_path, fitsmaker):
    """Three sources of one synthetic field as CSC pairs; the second has an exclusion."""
    rng = np.random.default_rng(11)
    n = 20000
    hd = fitsmaker.event_hdul(n=n, seed=11)
    hd[1].data["x"] = rng.uniform(3900, 4300, n)
    hd[1].data["y"] = rng.uniform(3900, 4300, n)
    folder = tmp_path / "csc"
    folder.mkdir()
    srcs = [
        (23022, 122, 4000.0, 4010.0, 12.0, 6.0, 30.0, None),
        (23022, 5, 4150.0, 4150.0, 15.0, 9.0, -50.0, (4160.0, 4150.0, (4.0, 4.0), 0.0)),
        (754, 31, 4250.0, 3950.0, 8.0, 8.0, 0.0, None),
    ]
    for obsid, reg, x, y, a, b, rot, ex in srcs:
        write_csc_pair(folder, hd[1], obsid, reg, x, y, a, b, rot, ex)
    return folder, srcs


def test_csc_folder_ingests_with_no_flags(csc_folder):
    folder, srcs = csc_folder
    with NoticeLog() as log:
        res = ingest([folder], progress=False)
    assert res.n_failed == 0
    got = dict(zip(res.files["obsreg_id"], res.files["n_events"], strict=True))
    want = {}
    for obsid, reg, x, y, a, b, rot, ex in srcs:
        (evt,) = folder.glob(f"acisf{obsid:05d}_*_r{reg:04d}_regevt3.fits.gz")
        want[f"{obsid}_{reg}"] = independent_count(evt, x, y, a, b, rot, ex)
    assert got == want and min(want.values()) > 10
    assert set(res.regions["obsreg_id"]) == set(want)
    assert not [r for r in log.records if r.code.startswith("csc_")]


def test_csc_band_is_selectable(csc_folder):
    folder, srcs = csc_folder
    res = ingest([folder], progress=False, csc_band="h")
    got = dict(zip(res.files["obsreg_id"], res.files["n_events"], strict=True))
    obsid, reg, x, y, a, b, rot, _ = srcs[0]
    (evt,) = folder.glob(f"acisf{obsid:05d}_*_r{reg:04d}_regevt3.fits.gz")
    f = BANDS["H"]
    assert got[f"{obsid}_{reg}"] == independent_count(evt, x, y, a * f, b * f, rot)


def test_unpaired_products_are_noticed(csc_folder):
    folder, _ = csc_folder
    (reg3,) = folder.glob("acisf00754_*_reg3.fits.gz")
    reg3.rename(folder / "acisf00999_000N020_r0001_reg3.fits.gz")
    with NoticeLog() as log:
        res = ingest([folder], progress=False)
    codes = {r.code for r in log.records}
    assert {"csc_region_without_events", "csc_events_without_region"} <= codes
    assert "754_31" in set(res.files["obsreg_id"])  # kept whole, still named OBSID_REGION
    assert res.n_failed == 0


def test_real_obsid754_cut_into_csc_products(tmp_path, real_data):
    """Regions cut out of the real ObsID 754 evt2 as CSC products ingest to the independent counts."""
    with fits.open(real_data / "chandra_acis_obsid754_msh1552/msh1552_acis_evt2_filtered.fits.gz") as h:
        events = fits.BinTableHDU(data=h["EVENTS"].data.copy(), header=h["EVENTS"].header.copy())
    folder = tmp_path / "csc754"
    folder.mkdir()
    srcs = [(754, 1, 4073.9, 4127.9, 10.0, 6.0, 20.0), (754, 2, 4208.9, 5018.5, 12.0, 12.0, 0.0)]
    for obsid, reg, x, y, a, b, rot in srcs:
        write_csc_pair(folder, events, obsid, reg, x, y, a, b, rot)
    res = ingest([folder], progress=False)
    got = dict(zip(res.files["obsreg_id"], res.files["n_events"], strict=True))
    want = {}
    for obsid, reg, x, y, a, b, rot in srcs:
        (evt,) = folder.glob(f"acisf{obsid:05d}_*_r{reg:04d}_regevt3.fits.gz")
        want[f"{obsid}_{reg}"] = independent_count(evt, x, y, a, b, rot)
    assert got == want and want["754_1"] > 1000
