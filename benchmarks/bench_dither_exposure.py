"""Exposure in time from the dither path (issue 19, item 3): uniformity and cost.

1. Simulated fields (``--seeds``): one ACIS CCD with a uniform background, 60 constant
   sources within the dither amplitude (16.26 px, 1000 s / 707 s, random phases, the pattern
   rotated 30 deg on the chip) of the chip edge and 10 far from it, 500 events each over 30 ks;
   events whose PSF position falls off the chip are lost. Each source's variability p-value
   (chi-square of its counts in 100 equal bins of its expected-count axis) without and with
   the dither exposure curve (:func:`serendip.io.dither_exposure.dither_curves`); KS p-value of
   the 60 edge sources' p-values against uniform.
2. The real ObsID 754 evt2: the dither path fitted from the events of its brightest point
   sources, per CCD (half-range vs the pattern's 8" = 16.26 px), and the ingest of the file cut
   into a 20 x 20 grid of 8 px sources with the curves on and off (same process, interleaved).

    python benchmarks/bench_dither_exposure.py [--seeds 0 1 2 3 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

EVT2 = "chandra_acis_obsid754_msh1552/msh1552_acis_evt2_filtered.fits.gz"
T0, SPAN = 1.0e8, 30_000.0


def _field(pat, seed, n_edge=60, n_far=10, n_ev=500):
    rng = np.random.default_rng(seed)
    amp = pat.amplitude_arcsec / pat.pixel_arcsec
    ph = rng.uniform(0, 2 * np.pi, 2)
    n = n_edge + n_far
    cx = np.where(np.arange(n) < n_edge, 1024.5 - rng.uniform(0, amp, n), rng.uniform(100, 900, n))
    cy = rng.uniform(100, 900, n)
    own = np.repeat(np.arange(n), n_ev)
    t = T0 + rng.uniform(0, SPAN, len(own))
    u = amp * np.sin(2 * np.pi * (t - T0) / pat.periods_s[0] + ph[0])
    v = amp * np.sin(2 * np.pi * (t - T0) / pat.periods_s[1] + ph[1])
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    x = cx[own] + c * u - s * v + rng.normal(0, 1.0, len(t))
    y = cy[own] + s * u + c * v + rng.normal(0, 1.0, len(t))
    keep = (x < 1024.5) & (x >= 0.5)
    t, own, x, y = t[keep], own[keep], np.round(x[keep]), np.round(y[keep])
    nb = 60_000
    t = np.concatenate([t, T0 + rng.uniform(0, SPAN, nb)])
    own = np.concatenate([own, np.full(nb, -1)])
    x = np.concatenate([x, rng.integers(1, 1025, nb)])
    y = np.concatenate([y, rng.integers(1, 1025, nb)])
    o = np.argsort(t, kind="stable")
    t, own, x, y = t[o], own[o], x[o], y[o]
    return t, np.full(len(t), 7), {"chipx": x, "chipy": y}, [np.flatnonzero(own == k) for k in range(n)], np.arange(n) < n_edge


def _pvalues(t, members, curves, n_bins=100):
    from scipy import stats

    from serendip.io.eventset import EventSet
    from serendip.io.exposure import with_curve
    from serendip.represent.livetime import live_time_events

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
    ev = EventSet(np.arange(len(members)).astype(str).astype(object), np.concatenate([[0], np.cumsum(counts)]),
                  np.concatenate(parts), np.ones(int(counts.sum()), np.float32))
    live, _, hi = live_time_events(ev, pd.concat(gts, ignore_index=True), np.full(len(members), T0),
                                   np.full(len(members), T0 + SPAN))
    p = np.empty(len(members))
    for k in range(len(members)):
        x = live.time[live.offsets[k]:live.offsets[k + 1]] / hi[k]
        h = np.bincount(np.clip((x * n_bins).astype(int), 0, n_bins - 1), minlength=n_bins)
        p[k] = stats.chi2.sf(float(np.sum((h - h.mean()) ** 2) / h.mean()), n_bins - 1)
    return p


def _real_path(evt2, pat):
    """Half-range [px] of the dither path fitted per CCD from the events within 4 px of the
    file's brightest point sources (peaks of the 4 px sky image)."""
    from astropy.io import fits
    from scipy import ndimage

    from serendip.io.dither_exposure import _design, fit_dither_path

    with fits.open(evt2) as h:
        d = h["EVENTS"].data
        t, x, y = (d[c].astype(float) for c in ("time", "x", "y"))
        cx, cy, ccd = d["chipx"].astype(float), d["chipy"].astype(float), d["ccd_id"].astype(int)
    H, xe, ye = np.histogram2d(x, y, bins=[np.arange(x.min(), x.max() + 4, 4), np.arange(y.min(), y.max() + 4, 4)])
    sm = ndimage.gaussian_filter(H, 1)
    ii, jj = np.nonzero((sm == ndimage.maximum_filter(sm, 7)) & (sm > np.percentile(sm, 99.9)))
    own = np.full(len(t), -1)
    for k, (a, b) in enumerate(zip(xe[ii] + 2, ye[jj] + 2)):
        own[(x - a) ** 2 + (y - b) ** 2 < 16] = k
    rows = []
    for c in np.unique(ccd[own >= 0]):
        m = (own >= 0) & (ccd == c)
        u, loc = np.unique(own[m], return_inverse=True)
        fit = fit_dither_path(t[m], cx[m], cy[m], loc, len(u), pat, float(t.min()))
        if fit is None:
            continue
        path = _design(np.linspace(t.min(), t.max(), 20000), pat, float(t.min())) @ fit[0]
        half = np.ptp(path, axis=0) / 2
        rows.append(f"| {c} | {len(u)} | {int(m.sum()):,} | {half[0]:.2f} | {half[1]:.2f} | {np.median(fit[2]):.2f} |")
    return rows


def main() -> None:
    from scipy import stats

    from serendip.io.artefacts import DITHER_PATTERNS
    from serendip.io.dither_exposure import dither_curves
    from serendip.paths import real_data_dir

    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    pat = DITHER_PATTERNS[0]
    lines = [
        "Simulated fields: one ACIS CCD (uniform background), 60 constant sources within the "
        "dither amplitude (16.26 px; 1000 s / 707 s; random phases; pattern rotated 30 deg on the "
        "chip) of the chip edge, 10 far from it, 500 events each over 30 ks, events off the chip "
        "lost. Per source: chi-square variability p-value (100 equal bins of its expected-count "
        "axis); per field: KS p-value of the 60 edge sources' p-values against uniform, and the "
        "fraction below 0.01. 'with' uses the PSF-fraction curve fitted from the events "
        "(`serendip.io.dither_exposure`).",
        "",
        "| seed | KS p without | KS p with | p<0.01 without | p<0.01 with | curves (edge / far) | fit + curves [ms] |",
        "|---|---|---|---|---|---|---|",
    ]
    for seed in args.seeds:
        t, ccd, aux, members, edge = _field(pat, seed)
        t0 = time.perf_counter()
        curves, _ = dither_curves(t, ccd, aux, {"chip_range": (1.0, 1024.0)}, members,
                                  (np.array([T0]), np.array([T0 + SPAN])), pat)
        ms = 1e3 * (time.perf_counter() - t0)
        pr, pc = _pvalues(t, members, None)[edge], _pvalues(t, members, curves)[edge]
        has = np.array([c is not None for c in curves])
        lines.append(f"| {seed} | {stats.kstest(pr, 'uniform').pvalue:.1e} | "
                     f"{stats.kstest(pc, 'uniform').pvalue:.2f} | {np.mean(pr < 0.01):.2f} | "
                     f"{np.mean(pc < 0.01):.2f} | {has[edge].sum()} / {has[~edge].sum()} | {ms:.0f} |")
    real = real_data_dir()
    if real is not None:
        from serendip.io.ingest import ingest
        from serendip.notices import NoticeLog

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_artefacts import _source_list

        evt2 = real / EVT2
        lines += ["", "Real ObsID 754 (ACIS, 1999): dither path fitted from the events within 4 px "
                  "of the file's brightest point sources, per CCD; the pattern's half-range is "
                  f"{pat.amplitude_arcsec / pat.pixel_arcsec:.2f} px on each axis (a Lissajous "
                  "rotated on the chip spreads it over both axes).", "",
                  "| CCD | sources | events | half-range x [px] | half-range y [px] | PSF sigma [px] |",
                  "|---|---|---|---|---|---|", *_real_path(evt2, pat)]
        with tempfile.TemporaryDirectory() as tmp:
            lst = _source_list(evt2, Path(tmp) / "src.fits")
            walls = {True: [], False: []}
            for _ in range(args.repeats):
                for on in (True, False):
                    t0 = time.perf_counter()
                    with NoticeLog() as log:
                        res = ingest([evt2], sources=lst, progress=False, dither_exposure=on)
                    walls[on].append(time.perf_counter() - t0)
                    if on:
                        f = log.to_frame()
                        row = f[f["code"] == "dither_exposure"]
                        n_cor = int(row["count"].sum()) if len(row) else 0
                        n_src = len(res.files)
        med = {k: float(np.median(v)) for k, v in walls.items()}
        lines += ["", f"Ingest of the real file cut into a 20 x 20 grid of 8 px sources ({n_src} with "
                  f"events): {n_cor} get a dither exposure curve. {args.repeats} interleaved repeats, "
                  "median (min-max); load: the shared 2-core machine, other jobs running.", "",
                  "| variant | ingest [s] |", "|---|---|",
                  f"| dither exposure on | {med[True]:.2f} ({min(walls[True]):.2f}-{max(walls[True]):.2f}) |",
                  f"| off (baseline) | {med[False]:.2f} ({min(walls[False]):.2f}-{max(walls[False]):.2f}) |",
                  "", f"Ratio on / off: {med[True] / med[False]:.2f}x."]
    body = "\n".join(lines)
    print(body)
    write_section("dither_exposure", "Exposure in time from the dither path (issue 19)", body)


if __name__ == "__main__":
    main()
