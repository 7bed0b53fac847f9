"""Instrumental artefacts on fixtures cut from the real ObsID 754 evt2 file.

A simulated constant source dithered across a chip edge with its epoch's dither (ACIS before
October 2022: 16" peak-to-peak, 1000 s / 707 s) is flagged and not ranked as a dip or
periodic candidate; an injected afterglow chain (one pixel, consecutive frames) is flagged and
not ranked as a fast transient; a background flare over the whole cut gives no flare candidate
while a point flare in the same interval ranks first.
"""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from serendip.io.artefacts import DITHER_PATTERNS
from serendip.io.ingest import ingest
from serendip.notices import NoticeLog
from serendip.pipeline.ranking import rank_files

pytestmark = pytest.mark.realdata
EVT2 = "chandra_acis_obsid754_msh1552/msh1552_acis_evt2_filtered.fits.gz"
FRAME = 3.24104


def _new_rows(ev, d, rng, n, **cols):
    new = fits.FITS_rec.from_columns(ev.columns, nrows=n)
    k = rng.integers(0, len(d), n)
    for c in ev.columns.names:
        new[c] = d[c][k]
    for c, v in cols.items():
        new[c] = v
    return new


def _write(h, ev, rows, path):
    rows = rows[np.argsort(rows["time"], kind="stable")]
    events = fits.BinTableHDU(data=rows, header=ev.header, name="EVENTS")
    fits.HDUList([h[0].copy(), events, *[hh.copy() for hh in h[2:]]]).writeto(path)


def _source_list(gx, gy, path):
    n = len(gx)
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns([
        fits.Column("X", "D", unit="pixel", array=gx), fits.Column("Y", "D", unit="pixel", array=gy),
        fits.Column("R", "2D", unit="pixel", array=np.full((n, 2), 8.0)),
        fits.Column("ROTANG", "D", unit="deg", array=np.zeros(n)),
        fits.Column("COMPONENT", "J", array=np.arange(1, n + 1))], name="SRCLIST")]).writeto(path)


@pytest.fixture(scope="module")
def cuts(real_data, tmp_path_factory):
    """Two 300 x 300 px cuts of the real field, each with a 5 x 5 grid of 8 px sources:
    ``artefacts.fits`` with a dithered edge source (grid centre, 13) and an afterglow chain
    (source 7); ``flared.fits`` with a 1 ks background flare at 5x the cut's rate and a
    40-event point flare in source 13 in the same kilosecond."""
    tmp = tmp_path_factory.mktemp("cuts754")
    rng = np.random.default_rng(7)
    with fits.open(real_data / EVT2) as h:
        ev = h["EVENTS"]
        d = ev.data
        t_lo, t_hi = float(d["time"].min()), float(d["time"].max())
        tstart = float(ev.header["TSTART"])
        # a place 4 px inside the high-chipx edge of the busiest CCD, away from its corners
        ccd = int(np.bincount(d["ccd_id"]).argmax())
        at = (d["ccd_id"] == ccd) & (d["chipx"] >= 1015) & (np.abs(d["chipy"] - 512) < 40)
        xc, yc = float(np.median(d["x"][at])), float(np.median(d["y"][at]))
        box = (np.abs(d["x"] - xc) < 150) & (np.abs(d["y"] - yc) < 150)
        d = d[box]
        gx, gy = np.meshgrid(np.linspace(xc - 120, xc + 120, 5), np.linspace(yc - 120, yc + 120, 5))
        gx, gy = gx.ravel(), gy.ravel()
        _source_list(gx, gy, tmp / "src.fits")

        # 1. a constant source dithered across the chip edge: its chip position follows the
        # epoch's Lissajous pattern; events off the chip are lost
        pat = DITHER_PATTERNS[0]
        amp = pat.amplitude_arcsec / pat.pixel_arcsec
        n = 700
        t = np.sort(rng.uniform(t_lo, t_hi, n))
        cx = 1020 + amp * np.sin(2 * np.pi * t / pat.periods_s[0] + 0.3) + rng.normal(0, 0.7, n)
        cy = 512 + amp * np.sin(2 * np.pi * t / pat.periods_s[1] + 1.1) + rng.normal(0, 0.7, n)
        on = np.round(cx) <= 1024
        dith = _new_rows(ev, d, rng, int(on.sum()), time=t[on], x=gx[12] + rng.normal(0, 0.7, on.sum()),
                         y=gy[12] + rng.normal(0, 0.7, on.sum()), ccd_id=np.full(on.sum(), ccd),
                         chipx=np.round(cx[on]), chipy=np.round(cy[on]),
                         expno=np.floor((t[on] - tstart) / FRAME))
        # 2. an afterglow: 8 events in one pixel over 8 consecutive frames, at source 7
        k0 = int((t_lo + 0.4 * (t_hi - t_lo) - tstart) / FRAME)
        k = k0 + np.arange(8)
        glow = _new_rows(ev, d, rng, 8, time=tstart + (k + 0.5) * FRAME, x=gx[6] + np.linspace(0, 1.5, 8),
                         y=np.full(8, gy[6]), ccd_id=np.full(8, ccd), chipx=np.full(8, 300),
                         chipy=np.full(8, 700), expno=k)
        _write(h, ev, np.concatenate([fits.FITS_rec(d.copy()), dith, glow]), tmp / "artefacts.fits")

        # 3. a background flare over the whole cut and a point flare in source 13
        tb = t_lo + 0.6 * (t_hi - t_lo)
        nb = int(5 * len(d) / (t_hi - t_lo) * 1000)
        bf = _new_rows(ev, d, rng, nb, time=tb + rng.uniform(0, 1000, nb),
                       x=rng.uniform(xc - 150, xc + 150, nb), y=rng.uniform(yc - 150, yc + 150, nb))
        pf = _new_rows(ev, d, rng, 40, time=tb + 200 + rng.uniform(0, 300, 40),
                       x=gx[12] + rng.normal(0, 0.7, 40), y=gy[12] + rng.normal(0, 0.7, 40))
        _write(h, ev, np.concatenate([fits.FITS_rec(d.copy()), bf, pf]), tmp / "flared.fits")
    return tmp


def _rank(path, src, flags=True):
    res = ingest([path], sources=src, progress=False)
    cands = rank_files(res.events, res.files, gtis=res.gtis, n_estimators=100,
                       artefacts=res.artefacts if flags else None)
    return res, cands.set_index(cands["obsreg_id"].str.rsplit("_", n=1).str[-1].astype(int))


def test_edge_dither_and_afterglow_flagged_not_ranked(cuts):
    with NoticeLog() as log:
        res, c = _rank(cuts / "artefacts.fits", cuts / "src.fits")
    _, plain = _rank(cuts / "artefacts.fits", cuts / "src.fits", flags=False)
    a = res.artefacts.set_index(res.artefacts["obsreg_id"].str.rsplit("_", n=1).str[-1].astype(int))
    # the dithered source sits within the dither amplitude of the edge and shows its periods
    assert a.loc[13, "edge_dist_pix"] < a.loc[13, "dither_amp_pix"]
    assert a.loc[13, "dither_fap_dex"] > 3
    assert c.loc[13, "edge_dither"] and c.loc[13, "dither_period"]
    assert "edge_dither" in c.loc[13, "reasons"]
    # the afterglow chain: 8 events in one pixel, improbable, inside the burst window
    assert a.loc[7, "afterglow_max"] >= 8 and a.loc[7, "afterglow_fap_dex"] > 10
    assert c.loc[7, "single_pixel"] and "single_pixel" in c.loc[7, "reasons"]
    # without the flags both rank at the top (as a fast transient and as a variable source);
    # with them they are demoted below every unflagged candidate of at least median score
    assert plain.loc[7, "rank"] <= 2 and plain.loc[7, "burst_sig"] > 5
    assert plain.loc[13, "rank"] <= 3
    for s in (7, 13):
        assert c.loc[s, "score"] <= 0.5 * plain.loc[s, "score"] + 1e-12
        assert c.loc[s, "rank"] > len(c) // 3
    assert not c.drop(index=[7, 13])[["edge_dither", "single_pixel", "dither_period"]].any().any()
    codes = set(log.to_frame()["code"])
    assert {"artefact_edge_dither", "artefact_single_pixel", "artefact_dither_period"} <= codes


def test_background_flare_no_candidate_point_flare_first(cuts):
    res, c = _rank(cuts / "flared.fits", cuts / "src.fits")
    assert c.loc[13, "rank"] == 1 and c.loc[13, "burst_sig"] > 10
    others = c.drop(index=13)
    # no other source is a flare candidate: no burst reason, no significant burst
    assert not others["reasons"].str.contains("burst significance").any()
    assert others["burst_sig"].max() < 3
