"""A background flare injected into the real ObsID 754 field is screened from every source;
a point-source flare in the same interval is kept and stays the strongest burst."""

from __future__ import annotations

import numpy as np
from astropy.io import fits

from serendip.io.ingest import ingest
from serendip.notices import NoticeLog
from serendip.represent import event_features

EVT2 = "chandra_acis_obsid754_msh1552/msh1552_acis_evt2_filtered.fits.gz"


def _flared_cut(real_data, tmp_path):
    """A 400 x 400 px cut of the real field (a small fixture), 25 sources on a grid, a 1 ks
    background flare at 5x the cut's rate and 40 point-flare events in source 13 in the
    same kilosecond."""
    rng = np.random.default_rng(1)
    with fits.open(real_data / EVT2) as h:
        ev = h["EVENTS"]
        d = ev.data
        x, y, t = d["x"], d["y"], d["time"]
        xc, yc = np.median(x), np.median(y)
        box = (np.abs(x - xc) < 200) & (np.abs(y - yc) < 200)
        d = d[box]
        t_lo, t_hi = float(t.min()), float(t.max())
        tb = t_lo + 0.6 * (t_hi - t_lo)
        gx, gy = np.meshgrid(np.linspace(xc - 160, xc + 160, 5), np.linspace(yc - 160, yc + 160, 5))
        gx, gy = gx.ravel(), gy.ravel()
        nb = int(5 * len(d) / (t_hi - t_lo) * 1000)
        parts = [(nb, rng.uniform(xc - 200, xc + 200, nb), rng.uniform(yc - 200, yc + 200, nb),
                  tb + rng.uniform(0, 1000, nb)),
                 (40, gx[12] + rng.normal(0, 0.7, 40), gy[12] + rng.normal(0, 0.7, 40),
                  tb + 200 + rng.uniform(0, 300, 40))]
        rows = fits.FITS_rec(d.copy())
        for n, xs, ys, ts in parts:
            new = fits.FITS_rec.from_columns(ev.columns, nrows=n)
            k = rng.integers(0, len(d), n)
            for c in ev.columns.names:
                new[c] = d[c][k]
            new["x"], new["y"], new["time"] = xs, ys, ts
            rows = np.concatenate([rows, new])
        rows = rows[np.argsort(rows["time"], kind="stable")]
        hdus = fits.HDUList([hh.copy() for hh in h])
        hdus["EVENTS"] = fits.BinTableHDU(data=rows, header=ev.header, name="EVENTS")
        path = tmp_path / "flared.fits"
        hdus.writeto(path)
    lst = fits.BinTableHDU.from_columns([
        fits.Column("X", "D", unit="pixel", array=gx), fits.Column("Y", "D", unit="pixel", array=gy),
        fits.Column("R", "2D", unit="pixel", array=np.full((25, 2), 8.0)),
        fits.Column("ROTANG", "D", unit="deg", array=np.zeros(25)),
        fits.Column("COMPONENT", "J", array=np.arange(1, 26))], name="SRCLIST")
    fits.HDUList([fits.PrimaryHDU(), lst]).writeto(tmp_path / "src.fits")
    return path, tmp_path / "src.fits", (tb, tb + 1000)


def test_background_flare_screened_point_flare_kept(real_data, tmp_path):
    path, lst, (f0, f1) = _flared_cut(real_data, tmp_path)
    with NoticeLog() as log:
        res = ingest([path], sources=lst, progress=False)
    codes = set(log.to_frame()["code"])
    assert {"background_variable", "background_flare_screened"} <= codes
    ids = res.files["obsreg_id"].astype(str).tolist()
    src = ids.index(next(i for i in ids if i.endswith("_13")))
    for k in range(res.events.n_files):
        t = res.events.events_of(k)[0]
        n_in = int(np.count_nonzero((t > f0 + 100) & (t < f1 - 100)))
        if k == src:
            assert n_in >= 40  # the source's own flare is never cut
        else:
            assert n_in == 0  # the background flare is screened out
    assert "weight" in res.gtis.columns
    feats = event_features(res.events, res.files, res.gtis)
    b = feats["burst_sig"].to_numpy()
    assert int(np.argmax(b)) == src and b[src] > 10
    assert np.delete(b, src).max() < 0.5 * b[src]
