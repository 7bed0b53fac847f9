"""Exposure in time from the dither path: constant sources dithered over a chip edge get
uniform variability p-values once their PSF fraction on the chip is the template."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from serendip.io.artefacts import DITHER_PATTERNS
from serendip.io.dither_exposure import dither_curves, psf_fraction
from serendip.io.eventset import EventSet
from serendip.io.exposure import with_curve
from serendip.represent.livetime import live_time_events

PAT = DITHER_PATTERNS[0]  # ACIS before 2022-10: 16" peak-to-peak, 1000 s / 707 s
T0, SPAN = 1.0e8, 30_000.0


def _field(seed=0, n_edge=60, n_far=10, n_ev=500):
    """One CCD (with a uniform background), sources within the dither amplitude of the high-chipx edge (and some far from
    it); the Lissajous (unknown phases, rotated 30 deg on the chip) moves every source; events
    whose PSF position falls off the chip are lost. Returns (time, ccd, aux, members, is_edge)."""
    rng = np.random.default_rng(seed)
    amp = PAT.amplitude_arcsec / PAT.pixel_arcsec
    ph = rng.uniform(0, 2 * np.pi, 2)
    n = n_edge + n_far
    cx = np.where(np.arange(n) < n_edge, 1024.5 - rng.uniform(0, amp, n), rng.uniform(100, 900, n))
    cy = rng.uniform(100, 900, n)
    own = np.repeat(np.arange(n), n_ev)
    t = T0 + rng.uniform(0, SPAN, len(own))
    u = amp * np.sin(2 * np.pi * (t - T0) / PAT.periods_s[0] + ph[0])
    v = amp * np.sin(2 * np.pi * (t - T0) / PAT.periods_s[1] + ph[1])
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    x = cx[own] + c * u - s * v + rng.normal(0, 1.0, len(t))
    y = cy[own] + s * u + c * v + rng.normal(0, 1.0, len(t))
    keep = (x < 1024.5) & (x >= 0.5)
    t, own, x, y = t[keep], own[keep], np.round(x[keep]), np.round(y[keep])
    nb = 60_000  # the chip's background (so that no column looks bad)
    t = np.concatenate([t, T0 + rng.uniform(0, SPAN, nb)])
    own = np.concatenate([own, np.full(nb, -1)])
    x = np.concatenate([x, rng.integers(1, 1025, nb)])
    y = np.concatenate([y, rng.integers(1, 1025, nb)])
    o = np.argsort(t, kind="stable")
    t, own, x, y = t[o], own[o], x[o], y[o]
    members = [np.flatnonzero(own == k) for k in range(n)]
    aux = {"chipx": x, "chipy": y}
    return t, np.full(len(t), 7, np.int64), aux, members, np.arange(n) < n_edge


def _pvalues(t, members, curves, n_bins=100):
    """Chi-square dispersion p-value of each source's counts in equal bins of its
    expected-count (live-time) axis: uniform for a source that follows its template."""
    g0, g1 = np.array([T0]), np.array([T0 + SPAN])
    parts, gts = [], []
    for k, m in enumerate(members):
        tk = t[m]
        if curves is not None and curves[k] is not None:
            inside, s, e, w, _ = with_curve(tk, g0, g1, None, curves[k])
            tk = tk[inside]
        else:
            s, e, w = g0, g1, np.ones(1)
        parts.append(tk)
        gts.append(pd.DataFrame({"obsreg_id": str(k), "start": s, "stop": e, "weight": w}))
    counts = np.array([len(p) for p in parts])
    ev = EventSet(np.arange(len(members)).astype(str).astype(object),
                  np.concatenate([[0], np.cumsum(counts)]), np.concatenate(parts),
                  np.ones(int(counts.sum()), np.float32))
    live, lo, hi = live_time_events(ev, pd.concat(gts, ignore_index=True),
                                    np.full(len(members), T0), np.full(len(members), T0 + SPAN))
    p = np.empty(len(members))
    for k in range(len(members)):
        x = live.time[live.offsets[k]:live.offsets[k + 1]] / hi[k]
        h = np.bincount(np.clip((x * n_bins).astype(int), 0, n_bins - 1), minlength=n_bins)
        chi2 = float(np.sum((h - h.mean()) ** 2) / h.mean())
        p[k] = stats.chi2.sf(chi2, n_bins - 1)
    return p


@pytest.fixture(scope="module")
def field():
    return _field()


def test_dither_curves_make_edge_sources_uniform(field):
    t, ccd, aux, members, is_edge = field
    header = {"chip_range": (1.0, 1024.0)}
    curves, counts = dither_curves(t, ccd, aux, header, members,
                                   (np.array([T0]), np.array([T0 + SPAN])), PAT)
    assert counts["measurable"] == len(members)
    # every source that loses events at the edge gets a curve; sources far from it do not
    assert all(curves[k] is not None for k in np.flatnonzero(is_edge))
    assert all(curves[k] is None for k in np.flatnonzero(~is_edge))
    assert counts["corrected"] == int(is_edge.sum())
    p_raw = _pvalues(t, members, None)[is_edge]
    p_cor = _pvalues(t, members, curves)[is_edge]
    # without the correction the dips at the dither periods make p-values pile up near 0
    assert stats.kstest(p_raw, "uniform").pvalue < 1e-6
    assert np.mean(p_raw < 0.01) > 0.3
    # with it the constant sources' p-values are uniform
    assert stats.kstest(p_cor, "uniform").pvalue > 0.01
    # the curve's mean is the source's mean PSF fraction on the chip: matches the events kept
    frac = np.array([curves[k]["fracexp"].mean() for k in np.flatnonzero(is_edge)])
    kept = np.array([len(members[k]) for k in np.flatnonzero(is_edge)]) / 500.0
    assert np.median(np.abs(frac - kept)) < 0.05


def test_no_pattern_or_chip_columns_no_curves(field):
    t, ccd, aux, members, _ = field
    good = (np.array([T0]), np.array([T0 + SPAN]))
    for args in ((ccd, aux, None), (None, aux, PAT), (ccd, {}, PAT)):
        curves, counts = dither_curves(t, args[0], args[1], {}, members, good, args[2])
        assert all(c is None for c in curves) and counts["corrected"] == 0


def test_psf_fraction_edges_and_bad_columns():
    f = psf_fraction(np.array([512.0, 1024.5, 2000.0]), np.array([512.0, 512.0, 512.0]), 1.0,
                     (1, 1024))
    assert f[0] == pytest.approx(1.0) and f[1] == pytest.approx(0.5) and f[2] == pytest.approx(0.0)
    on_bad = psf_fraction(np.array([300.0]), np.array([512.0]), 1.0, (1, 1024), np.array([300.0]))
    assert on_bad[0] == pytest.approx(1 - (stats.norm.cdf(0.5) - stats.norm.cdf(-0.5)), rel=1e-6)


@pytest.mark.realdata
def test_ingest_real_cut_edge_source(real_data, tmp_path):
    """Through ingest, on a cut of the real ObsID 754 file: a constant source injected 4 px
    inside a chip edge, moving along the observation's own dither path, gets a dither exposure
    curve by default (notice, weighted good time, exposure reduced), none when switched off."""
    from astropy.io import fits

    from serendip.io.ingest import ingest
    from serendip.notices import NoticeLog

    rng = np.random.default_rng(3)
    with fits.open(real_data / "chandra_acis_obsid754_msh1552/msh1552_acis_evt2_filtered.fits.gz") as h:
        ev = h["EVENTS"]
        d = ev.data
        ccd = int(np.bincount(d["ccd_id"]).argmax())
        on = d["ccd_id"] == ccd
        at = on & (d["chipx"] >= 1015) & (np.abs(d["chipy"] - 512) < 40)
        xc, yc = float(np.median(d["x"][at])), float(np.median(d["y"][at]))
        # chip = a + R sky + dither(t): fitted on the CCD's events (the file's own dither path)
        t0 = float(d["time"].min())
        A = np.column_stack([np.ones(on.sum()), d["x"][on], d["y"][on],
                             _design_real(d["time"][on], t0)])
        coef = np.linalg.lstsq(A, np.column_stack([d["chipx"][on], d["chipy"][on]]), rcond=None)[0]
        box = (np.abs(d["x"] - xc) < 100) & (np.abs(d["y"] - yc) < 100)
        d = d[box]
        # the source: sky position whose dither-free chip x is 1020.5 (4 px inside the edge)
        R = coef[1:3]
        xs = xc + (1020.5 - (coef[0] + np.array([xc, yc]) @ R)[0]) / R[0, 0]
        n = 600
        t = np.sort(rng.uniform(t0, float(d["time"].max()), n))
        sky = np.column_stack([xs + rng.normal(0, 0.7, n), yc + rng.normal(0, 0.7, n)])
        chip = (np.column_stack([np.ones(n), sky, _design_real(t, t0)]) @ coef)
        keep = np.round(chip[:, 0]) <= 1024
        new = fits.FITS_rec.from_columns(ev.columns, nrows=int(keep.sum()))
        k = rng.integers(0, len(d), int(keep.sum()))
        for c in ev.columns.names:
            new[c] = d[c][k]
        new["time"], new["x"], new["y"] = t[keep], sky[keep, 0], sky[keep, 1]
        new["chipx"], new["chipy"] = np.round(chip[keep, 0]), np.round(chip[keep, 1])
        new["ccd_id"] = ccd
        rows = np.concatenate([fits.FITS_rec(d.copy()), new])
        rows = rows[np.argsort(rows["time"], kind="stable")]
        fits.HDUList([h[0].copy(), fits.BinTableHDU(rows, ev.header, name="EVENTS"),
                      *[hh.copy() for hh in h[2:]]]).writeto(tmp_path / "edge.fits")
    region = f"circle({xs:.2f},{yc:.2f},3)"
    with NoticeLog() as log:
        on_res = ingest([tmp_path / "edge.fits"], region=region, progress=False)
    off_res = ingest([tmp_path / "edge.fits"], region=region, progress=False, dither_exposure=False)
    assert "dither_exposure" in set(log.to_frame()["code"])
    f_on, f_off = on_res.files.iloc[0], off_res.files.iloc[0]
    assert "dither path" in f_on["exposure_source"] and "dither" not in f_off["exposure_source"]
    kept = keep.mean()
    assert f_on["exposure"] / f_off["exposure"] == pytest.approx(kept, abs=0.05)
    w = on_res.gtis["weight"].to_numpy()
    assert w.min() < 0.2 and len(on_res.gtis) > 20 and len(off_res.gtis) < 5


def _design_real(t, t0):
    from serendip.io.dither_exposure import _design

    return _design(np.asarray(t, np.float64), PAT, t0)


def test_real_754_bad_columns_are_removed_columns(real_data):
    """ObsID 754 (ACIS-I, 2000): every column taken as bad holds no event while its neighbours
    hold >= 20 (a removed column, not a dim stretch of the extended nebula); they include the
    node boundaries 256/257, 512/513, 768/769 of each CCD and come mostly in triplets (the bad
    column and its flagged neighbours)."""
    from astropy.io import fits

    from serendip.io.artefacts import bad_columns

    with fits.open(real_data / "chandra_acis_obsid754_msh1552/msh1552_acis_evt2_filtered.fits.gz") as h:
        d = h["EVENTS"].data
        ccd, cx = d["ccd_id"].astype(np.int64), d["chipx"].astype(np.float64)
    bad = bad_columns(ccd, cx, 1, 1024)
    assert sorted(bad) == [0, 1, 2, 3]
    n_bad = {k: len(v) for k, v in bad.items()}
    assert 10 <= min(n_bad.values()) and max(n_bad.values()) <= 60
    for k, cols in bad.items():
        counts = np.bincount(cx[ccd == k].astype(np.int64), minlength=1026)
        assert (counts[cols] == 0).all()
        assert {256, 257, 512, 513, 768, 769} <= set(cols.tolist())
