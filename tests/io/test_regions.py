"""Regions through astropy's ``regions``: forms, frames, shapes, exclusions, errors; event
selection checked against ``regions``' own ``contains`` (an independent implementation)."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from regions import PixCoord, Regions

from serendip.errors import InputError
from serendip.io.eventfile import extract_regions, load_events, read_event_file
from serendip.io.regions import (
    SourceRegion,
    parse_region,
    read_region_file,
    regions_from_text,
)


@pytest.fixture()
def field(tmp_path, fitsmaker):
    """3,000 events spread over 200 x 200 sky pixels around the WCS reference (4096.5)."""
    rng = np.random.default_rng(7)
    n = 3000
    hd = fitsmaker.event_hdul(n=n, seed=7)
    hd[1].data["x"] = rng.uniform(3996.5, 4196.5, n)
    hd[1].data["y"] = rng.uniform(3996.5, 4196.5, n)
    p = tmp_path / "field.fits"
    hd.writeto(p)
    d = hd[1].data
    return p, d["x"].astype(float), d["y"].astype(float), d["time"], d["energy"]


def test_parse_forms():
    r = parse_region('228.48,-59.13,10"')
    assert r.is_sky and r.include[0].region.radius.to_value(u.arcsec) == 10.0
    assert parse_region("sky:228.48,-59.13,10").is_sky
    r = parse_region("phys:4096.5,4000,20")
    assert not r.is_sky and "x=4096.5, y=4000 physical" in r.describe()
    r = parse_region("fk5;circle(15:13:55.6,-59:08:09,0.2')")
    c = r.include[0].region.center
    assert c.ra.deg == pytest.approx((15 + 13 / 60 + 55.6 / 3600) * 15)
    assert c.dec.deg == pytest.approx(-(59 + 8 / 60 + 9 / 3600))
    assert r.include[0].region.radius.to_value(u.arcsec) == pytest.approx(12.0)
    assert parse_region("galactic;ellipse(320.3,-1.2,3\",2\",30)").include[0].region.center.frame.name == "galactic"
    q = SourceRegion.sky(228.48 * u.deg, -59.13 * u.deg, 0.1 * u.arcmin)  # Quantities too
    assert (q.ra, q.dec, q.radius) == pytest.approx((228.48, -59.13, 6.0))
    for bad in ["sky:1,2", '228,-59,abc"', "phys:1,2,-3", "sky:1,95,3", "nonsense"]:
        with pytest.raises(InputError):
            parse_region(bad)


def test_region_file_names_exclusions_background(tmp_path):
    p = tmp_path / "srcs.reg"
    p.write_text(
        "# Region file format: DS9 version 4.1\nglobal color=green\nfk5\n"
        'circle(228.48,-59.13,5") # text={src_a}\nellipse(228.50,-59.14,3",2",40)\n'
        '-circle(228.48,-59.13,1")\nannulus(228.48,-59.13,10",20") # background\n'
    )
    regs = read_region_file(p)
    assert [r.name for r in regs] == ["src_a", None]
    assert all(len(r.exclude) == 1 and len(r.background) == 1 for r in regs)
    assert len(regions_from_text([str(p), "phys:1,2,3"])) == 3


@pytest.mark.parametrize(
    "text, where",
    [
        ("fk5\nbox(1,2,3,4,0)\nfoo(1,2,3)\n", "line 3: shape 'foo' is unknown"),
        ("fk5\nvector(1,2,3\",4)\n", "line 2: shape 'vector' is not a region"),
        ("blah;circle(1,2,3)\n", "line 1: unknown coordinate frame or keyword 'blah'"),
        ("fk5\n\ncircle(1,2)\n", "line 3: cannot parse circle"),
    ],
)
def test_region_file_errors_name_file_line_and_shape(tmp_path, text, where):
    p = tmp_path / "bad.reg"
    p.write_text(text)
    with pytest.raises(InputError) as err:
        read_region_file(p)
    assert err.value.path == str(p) and where in err.value.problem


def _pixel_shapes():
    """Pixel shapes in DS9 text and as ``regions`` objects (0-based, as regions keeps them)."""
    return [
        "physical;circle(4100.3,4080.7,25)",
        "physical;ellipse(4120,4120,30,12,35)",
        "physical;box(4050,4150,40,20,20)",
        "physical;polygon(4010,4010,4060,4020,4040,4070,4015,4050)",
        "physical;annulus(4096.5,4096.5,20,45)",
    ]


@pytest.mark.parametrize("text", _pixel_shapes())
def test_shapes_select_what_regions_contains_says(field, text):
    p, x, y, t, e = field
    (ef,) = extract_regions(p, regions_from_text([text]), band=(500.0, 7000.0))
    reg = Regions.parse(text.replace("physical", "image"), format="ds9")[0]
    inside = reg.contains(PixCoord(x - 1.0, y - 1.0))  # DS9 1-based -> regions 0-based
    want = inside & (e >= 500) & (e <= 7000)
    np.testing.assert_array_equal(ef.time, t[want])
    assert ef.meta["n_outside_region"] == len(x) - int(inside.sum())


def test_exclusion_and_union(field, tmp_path):
    p, x, y, t, e = field
    f = tmp_path / "ex.reg"
    f.write_text("physical\ncircle(4096.5,4096.5,40)\n-circle(4096.5,4096.5,10)\n-box(4120,4096.5,10,80,0)\n")
    (ef,) = extract_regions(p, read_region_file(f), band=None)
    d2 = (x - 4096.5) ** 2 + (y - 4096.5) ** 2
    box = (np.abs(x - 4120) <= 5) & (np.abs(y - 4096.5) <= 40)
    want = (d2 <= 1600) & ~(d2 <= 100) & ~box
    np.testing.assert_array_equal(ef.time, t[want])


def test_image_coordinates_use_tlmin(tmp_path, fitsmaker):
    hd = fitsmaker.event_hdul(n=2000, seed=3)
    names = [c.name for c in hd[1].columns]
    for col in ("x", "y"):
        hd[1].header[f"TLMIN{names.index(col) + 1}"] = 3000.5
    p = tmp_path / "tl.fits"
    hd.writeto(p)
    a = read_event_file(p, region=parse_region("image;circle(1096.5,1096.5,4)"))
    b = read_event_file(p, region=parse_region("physical;circle(4096.5,4096.5,4)"))
    np.testing.assert_array_equal(a.time, b.time)
    assert 0 < a.n_events < 2000


def test_one_region_in_five_frames_selects_identical_events(tmp_path, fitsmaker):
    """The same circle written in icrs, fk5, fk4, galactic and ecliptic (DS9: barycentric mean
    ecliptic J2000) selects the same events;
    a galactic circle is never read as RA/Dec."""
    p = fitsmaker.write_events(tmp_path / "f.fits", n=3000, seed=5)
    raw = load_events(p)
    c = SkyCoord(228.4803 * u.deg, -59.1297 * u.deg, frame="icrs")
    # a radius halfway between two events' distances: no event sits on the boundary
    ex, ey = raw.wcs.world_to_pixel(c)
    d = np.sort(np.hypot(raw.x - ex, raw.y - ey)) * 0.492
    r = float(0.5 * (d[1500] + d[1501]))
    lines = {
        "icrs": f'icrs;circle({c.ra.deg:.9f},{c.dec.deg:.9f},{r:.6f}")',
        "fk5": f'fk5;circle({c.fk5.ra.deg:.9f},{c.fk5.dec.deg:.9f},{r:.6f}")',
        "fk4": f'fk4;circle({c.fk4.ra.deg:.9f},{c.fk4.dec.deg:.9f},{r:.6f}")',
        "galactic": f'galactic;circle({c.galactic.l.deg:.9f},{c.galactic.b.deg:.9f},{r:.6f}")',
        "ecliptic": f"ecliptic;circle({c.barycentricmeanecliptic.lon.deg:.9f},{c.barycentricmeanecliptic.lat.deg:.9f},{r:.6f}\")",
    }
    got = {fr: raw.cut(band=None, region=parse_region(t)).time for fr, t in lines.items()}
    for fr in lines:
        np.testing.assert_array_equal(got[fr], got["icrs"], err_msg=fr)
    assert len(got["icrs"]) > 1000
    # the galactic numbers read as RA/Dec would be far off the field: nothing inside
    wrong = f'fk5;circle({c.galactic.l.deg:.9f},{c.galactic.b.deg:.9f},{r:.6f}")'
    with pytest.raises(InputError, match="zero events"):
        raw.cut(region=parse_region(wrong))


def test_crtf_and_sky_ellipse_agree_with_regions(tmp_path, field):
    p, x, y, t, e = field
    raw = load_events(p)
    f = tmp_path / "e.crtf"
    f.write_text("#CRTF\nellipse[[228.4800deg, -59.1300deg], [20arcsec, 8arcsec], 30deg] coord=ICRS\n")
    (ef,) = raw.cut_regions(read_region_file(f), band=None)
    sky = Regions.read(str(f), format="crtf")[0]
    w = raw.wcs  # 0-based pixels of this WCS are the physical x/y values
    inside = sky.to_pixel(w).contains(PixCoord(x, y))
    np.testing.assert_array_equal(ef.time, t[inside])
    assert 0 < ef.n_events


def test_sky_region_equals_physical_region(tmp_path, fitsmaker):
    p = fitsmaker.write_events(tmp_path / "f.fits", n=500, seed=2)
    raw = load_events(p)
    x, y = raw.wcs.world_to_pixel(SkyCoord(228.48 * u.deg, -59.13 * u.deg))
    assert float(x) == pytest.approx(4096.5) and float(y) == pytest.approx(4096.5)
    sky = SourceRegion.sky(228.48, -59.13, 6 * 0.492, name="psr")
    phys = SourceRegion.physical(4096.5, 4096.5, 6 * 0.492 / (0.000136667 * 3600))
    a = read_event_file(p, region=sky)
    b = read_event_file(p, region=phys)
    assert a.obsreg_id == "9999_psr" and b.obsreg_id == "9999_1"
    np.testing.assert_array_equal(a.time, b.time)
    assert 0 < a.n_events < 500


def test_many_regions_match_brute_force(field):
    p, x, y, t, e = field
    rng = np.random.default_rng(1)
    regs = [SourceRegion.physical(cx, cy, r) for cx, cy, r in zip(
        rng.uniform(4000, 4200, 40), rng.uniform(4000, 4200, 40), rng.uniform(1, 25, 40), strict=True)]
    regs.append(SourceRegion.physical(10.0, 10.0, 3.0))  # empty
    efs = extract_regions(p, regs, band=(500.0, 7000.0))
    for k, ef in enumerate(efs):
        c = regs[k].include[0].region
        inside = (x - c.center.x - 1) ** 2 + (y - c.center.y - 1) ** 2 <= c.radius**2
        np.testing.assert_array_equal(ef.time, t[inside & (e >= 500) & (e <= 7000)])
        assert ef.obsreg_id == f"9999_{k + 1}"
    assert efs[-1].n_events == 0
    assert len(extract_regions(p, regs, keep_empty=False)) == sum(ef.n_events > 0 for ef in efs)
    with pytest.raises(InputError, match="zero events after cuts.*outside circle"):
        read_event_file(p, region=regs[-1])


def test_region_errors(tmp_path, fitsmaker):
    p = fitsmaker.write_events(tmp_path / "nopos.fits", positions=False, gti_ccd=None)
    with pytest.raises(InputError, match="no x/y position columns"):
        read_event_file(p, region=SourceRegion.physical(1, 1, 1))
    hd = fitsmaker.event_hdul()
    for k in range(1, 10):
        hd[1].header.remove(f"TCTYP{k}", ignore_missing=True)
    hd.writeto(tmp_path / "nowcs.fits")
    with pytest.raises(InputError, match="no sky WCS"):
        read_event_file(tmp_path / "nowcs.fits", region=SourceRegion.sky(1, 1, 1))
