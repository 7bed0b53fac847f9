"""2,000 source regions cut from one real evt2 (ObsID 754): serendip's vectorised selection
against a same-process baseline using ``regions``' own ``contains`` per region.

    python benchmarks/bench_regions.py [--n 2000] [--repeat 5]

Times exclude reading the file (done once). Writes its section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline-n", type=int, default=200, help="regions timed for the baseline")
    args = ap.parse_args()

    import astropy.units as u
    from regions import EllipsePixelRegion, PixCoord

    from serendip.io.eventfile import load_events
    from serendip.io.regions import PositionIndex, default_row_height
    from serendip.io.sourcelists import SourceList
    from serendip.paths import real_data_dir

    root = real_data_dir()
    if root is None:
        raise SystemExit("real data folder not present (set SERENDIP_REAL_DATA)")
    raw = load_events(root / "chandra_acis_obsid754_msh1552/msh1552_acis_evt2_filtered.fits.gz")
    rng = np.random.default_rng(0)
    n = args.n
    x0, x1 = np.percentile(raw.x, [5, 95])
    y0, y1 = np.percentile(raw.y, [5, 95])
    cx, cy = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    a, b, rot = rng.uniform(4, 20, n), rng.uniform(3, 12, n), rng.uniform(0, 180, n)
    z = np.zeros(n)
    sl = SourceList("bench", "physical", np.arange(1, n + 1).astype(str).astype(object), np.arange(n),
                    np.ones(n, bool), np.zeros(n, np.int8), cx, cy, a, np.minimum(a, b), z, z, rot)

    times, cpu = [], []
    for _ in range(args.repeat):
        raw._index = None  # rebuild the position index each time: part of the cost
        t0, c0 = time.perf_counter(), time.process_time()
        efs = raw.cut_regions(sl, band=None)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    counts = np.array([ef.n_events for ef in efs])

    # baseline: regions' EllipsePixelRegion.contains on a bounding-box preselection, per region
    k = min(args.baseline_n, n)
    idx = PositionIndex(raw.x, raw.y, row_height=default_row_height(sl.to_pixels(raw.wcs)))
    base, base_cpu = [], []
    for _ in range(max(1, args.repeat // 2)):
        t0, c0 = time.perf_counter(), time.process_time()
        ref = []
        for i in range(k):
            reg = EllipsePixelRegion(PixCoord(cx[i], cy[i]), 2 * a[i], 2 * min(a[i], b[i]), angle=rot[i] * u.deg)
            r = max(a[i], b[i])
            cand = idx.in_box(cx[i] - r, cx[i] + r, cy[i] - r, cy[i] + r)
            ref.append(int(reg.contains(PixCoord(raw.x[cand], raw.y[cand])).sum()))
        base.append((time.perf_counter() - t0) * n / k)
        base_cpu.append((time.process_time() - c0) * n / k)
    assert np.array_equal(counts[:k], ref), "selection differs from regions' contains"

    import os

    load = os.getloadavg()[0]
    med, bmed = np.median(times), np.median(base)
    cmed, bcmed = np.median(cpu), np.median(base_cpu)
    body = (
        "| method | regions | wall median [s] | wall min-max [s] | CPU median [s] |\n|---|---|---|---|---|\n"
        f"| serendip `cut_regions` (vectorised shapes + position index, with background annuli) | {n} | "
        f"{med:.3f} | {np.min(times):.3f}-{np.max(times):.3f} | {cmed:.3f} |\n"
        f"| baseline: `regions` `EllipsePixelRegion.contains` per region (timed on {k}, scaled to {n}; "
        f"no backgrounds) | {n} | {bmed:.3f} | {np.min(base):.3f}-{np.max(base):.3f} | {bcmed:.3f} |\n\n"
        f"Ratio baseline / serendip: {bmed / med:.1f}x wall, {bcmed / cmed:.1f}x CPU. {len(raw.time):,} "
        f"events; {counts.sum():,} events selected over {n} ellipses (counts identical to the baseline "
        f"on the first {k}). Load average during the run: {load:.1f} on {os.cpu_count()} cores (the "
        "machine is shared: CPU time is the steadier figure)."
    )
    print(body)
    write_section("regions", "Cutting 2,000 regions from one evt2 (ObsID 754)", body)


if __name__ == "__main__":
    main()
