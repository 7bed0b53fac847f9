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

    times = []
    for _ in range(args.repeat):
        raw._index = None  # rebuild the position index each time: part of the cost
        t0 = time.perf_counter()
        efs = raw.cut_regions(sl, band=None)
        times.append(time.perf_counter() - t0)
    counts = np.array([ef.n_events for ef in efs])

    # baseline: regions' EllipsePixelRegion.contains on a bounding-box preselection, per region
    k = min(args.baseline_n, n)
    idx = PositionIndex(raw.x, raw.y, row_height=default_row_height(sl.to_pixels(raw.wcs)))
    base = []
    for _ in range(max(1, args.repeat // 2)):
        t0 = time.perf_counter()
        ref = []
        for i in range(k):
            reg = EllipsePixelRegion(PixCoord(cx[i], cy[i]), 2 * a[i], 2 * min(a[i], b[i]), angle=rot[i] * u.deg)
            r = max(a[i], b[i])
            cand = idx.in_box(cx[i] - r, cx[i] + r, cy[i] - r, cy[i] + r)
            ref.append(int(reg.contains(PixCoord(raw.x[cand], raw.y[cand])).sum()))
        base.append((time.perf_counter() - t0) * n / k)
    assert np.array_equal(counts[:k], ref), "selection differs from regions' contains"

    med, spread = np.median(times), (np.min(times), np.max(times))
    bmed = np.median(base)
    body = (
        f"| method | regions | median [s] | min-max [s] |\n|---|---|---|---|\n"
        f"| serendip `cut_regions` (vectorised shapes + position index, incl. backgrounds) | {n} | "
        f"{med:.3f} | {spread[0]:.3f}-{spread[1]:.3f} |\n"
        f"| baseline: `regions` `EllipsePixelRegion.contains` per region (timed on {k}, scaled to {n}) | "
        f"{n} | {bmed:.3f} | {np.min(base):.3f}-{np.max(base):.3f} |\n\n"
        f"Ratio baseline / serendip: {bmed / med:.1f}x. {len(raw.time):,} events; "
        f"{counts.sum():,} events selected over {n} ellipses (counts identical to the baseline on "
        f"the first {k}). Each source also gets a background annulus counted without the events "
        "of any source."
    )
    print(body)
    write_section("regions", "Cutting 2,000 regions from one evt2 (ObsID 754)", body)


if __name__ == "__main__":
    main()
