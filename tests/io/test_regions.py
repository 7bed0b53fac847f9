"""Regions: parsing, sky <-> pixel consistency, extract_regions against a brute-force mask."""

from __future__ import annotations

import numpy as np
import pytest

from serendip.errors import InputError
from serendip.io.eventfile import load_events, read_event_file
from serendip.io.regions import (
    CircleRegion,
    extract_regions,
    parse_region,
    read_region_file,
    regions_from_text,
)


def test_parse_forms():
    r = parse_region('228.48,-59.13,10"')
    assert r.is_sky and (r.ra, r.dec, r.radius) == (228.48, -59.13, 10.0)
    r = parse_region("sky:228.48,-59.13,10")
    assert r.is_sky and r.radius == 10.0
    r = parse_region("phys:4096.5,4000,20")
    assert not r.is_sky and (r.x, r.y, r.radius) == (4096.5, 4000.0, 20.0)
    r = parse_region("fk5;circle(15:13:55.6,-59:08:09,0.2')")
    assert r.ra == pytest.approx((15 + 13 / 60 + 55.6 / 3600) * 15)
    assert r.dec == pytest.approx(-(59 + 8 / 60 + 9 / 3600))
    assert r.radius == pytest.approx(12.0)
    r = parse_region("physical;circle(100,200,5)")
    assert (r.x, r.y, r.radius) == (100.0, 200.0, 5.0)
    for bad in ["box(1,2,3,4)", "sky:1,2", '228,-59,abc"', "phys:1,2,-3", "sky:1,95,3"]:
        with pytest.raises(InputError):
            parse_region(bad)


def test_region_file(tmp_path):
    p = tmp_path / "srcs.reg"
    p.write_text(
        "# Region file format: DS9 version 4.1\nglobal color=green\nfk5\n"
        'circle(228.48,-59.13,5") # text={src_a}\ncircle(228.50,-59.14,3")\n'
    )
    regs = read_region_file(p)
    assert [r.name for r in regs] == ["src_a", None] and all(r.is_sky for r in regs)
    assert len(regions_from_text([str(p), "phys:1,2,3"])) == 3
    bad = tmp_path / "bad.reg"
    bad.write_text("fk5\nbox(1,2,3,4,0)\n")
    with pytest.raises(InputError, match="line 2: only circle"):
        read_region_file(bad)


def test_extract_regions_match_brute_force(tmp_path, fitsmaker):
    rng = np.random.default_rng(7)
    n = 3000
    hd = fitsmaker.event_hdul(n=n, seed=7)
    hd[1].data["x"] = rng.uniform(4000, 4200, n)
    hd[1].data["y"] = rng.uniform(4000, 4200, n)
    p = tmp_path / "field.fits"
    hd.writeto(p)
    regs = [
        CircleRegion.physical(x, y, r)
        for x, y, r in zip(
            rng.uniform(4000, 4200, 30),
            rng.uniform(4000, 4200, 30),
            rng.uniform(1, 25, 30),
            strict=True,
        )
    ]
    regs.append(CircleRegion.physical(0.0, 0.0, 3.0))  # empty
    efs = extract_regions(p, regs)
    assert len(efs) == len(regs)
    x, y = hd[1].data["x"].astype(float), hd[1].data["y"].astype(float)
    t, e = hd[1].data["time"], hd[1].data["energy"]
    for k, (reg, ef) in enumerate(zip(regs, efs, strict=True)):
        # float32 x/y as stored, distances in float64
        inside = (x - reg.x) ** 2 + (y - reg.y) ** 2 <= reg.radius**2
        want = inside & (e >= 500) & (e <= 7000)
        np.testing.assert_array_equal(ef.time, t[want])
        assert ef.obsreg_id == f"9999_{k + 1}"
        assert ef.meta["n_outside_region"] == n - int(inside.sum())
    assert efs[-1].n_events == 0
    assert len(extract_regions(p, regs, keep_empty=False)) == sum(ef.n_events > 0 for ef in efs)
    with pytest.raises(InputError, match="zero events after cuts.*outside circle"):
        read_event_file(p, region=regs[-1])


def test_sky_region_equals_physical_region(tmp_path, fitsmaker):
    p = fitsmaker.write_events(tmp_path / "f.fits", n=500, seed=2)
    raw = load_events(p)
    # the WCS reference pixel maps to the reference sky position
    x, y = raw.wcs.world_to_pixel(np.array([228.48]), np.array([-59.13]))
    assert x[0] == pytest.approx(4096.5) and y[0] == pytest.approx(4096.5)
    sky = CircleRegion.sky(228.48, -59.13, 6 * 0.492, name="psr")
    phys = CircleRegion.physical(4096.5, 4096.5, 6 * 0.492 / (0.000136667 * 3600))
    a = read_event_file(p, region=sky)
    b = read_event_file(p, region=phys)
    assert a.obsreg_id == "9999_psr" and b.obsreg_id == "9999_1"
    np.testing.assert_array_equal(a.time, b.time)
    assert 0 < a.n_events < 500


def test_region_errors(tmp_path, fitsmaker):
    p = fitsmaker.write_events(tmp_path / "nopos.fits", positions=False, gti_ccd=None)
    with pytest.raises(InputError, match="no x/y position columns"):
        read_event_file(p, region=CircleRegion.physical(1, 1, 1))
    hd = fitsmaker.event_hdul()
    for k in range(1, 10):
        hd[1].header.remove(f"TCTYP{k}", ignore_missing=True)
    hd.writeto(tmp_path / "nowcs.fits")
    with pytest.raises(InputError, match="no sky WCS"):
        read_event_file(tmp_path / "nowcs.fits", region=CircleRegion.sky(1, 1, 1))
