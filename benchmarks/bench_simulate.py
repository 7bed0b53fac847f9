"""Benchmark the simulator: 100,000 sources (>= 2e7 events) and baselines in the same process.

Baselines:

* **per-source loop** - a straightforward implementation of the same steady-source physics
  (Poisson count, uniform times, sort, inverse-CDF energy from that source's spectrum,
  Gaussian resolution, band cut) looping over sources in Python, timed on a subset and
  scaled per source;
* **numpy floor** - the least any simulator must do for the same number of events: two
  uniform draws per event and one sort of the times (``np.random`` + ``np.sort``).

Run: ``python benchmarks/bench_simulate.py [--n-sources 100000] [--loop-sources 3000]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import peak_rss_mib, write_section  # noqa: E402
from serendip.simulate import simulate_population, write_fits_events  # noqa: E402
from serendip.simulate.response import resolution_sigma_ev  # noqa: E402
from serendip.simulate.spectra import GRID_LO_KEV, GRID_WIDTH_KEV, spectral_rows, to_cdf  # noqa: E402


def per_source_loop(sources, seed: int = 0) -> int:
    """Reference-style simulation: one Python iteration per source (steady physics only)."""
    rng = np.random.default_rng(seed)
    n_total = 0
    for _, row in sources.iterrows():
        lam = row["expected_counts"]
        n = rng.poisson(lam)
        t = np.sort(row["tstart"] + rng.random(n) * row["exposure"])
        model = {"powerlaw": 0, "blackbody": 1, "thermal": 2}[row["spectral_model"]]
        cdf = to_cdf(
            spectral_rows(
                np.array([model]),
                np.array([row["gamma"]]),
                np.array([row["kt"]]),
                np.array([row["nh"]]),
            )
        )[0]
        k = np.searchsorted(cdf, rng.random(n), side="right")
        e = (GRID_LO_KEV[k] + rng.random(n) * GRID_WIDTH_KEV[k]) * 1000
        e = e + resolution_sigma_ev(e) * rng.standard_normal(n)
        keep = (e >= 500) & (e < 7000)
        n_total += int(keep.sum())
        t, e = t[keep], e[keep]
    return n_total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n-sources", type=int, default=100_000)
    ap.add_argument("--loop-sources", type=int, default=3000)
    ap.add_argument("--fits-files", type=int, default=500)
    ap.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    args = ap.parse_args()

    simulate_population(200, seed=1)  # warm-up: numba kernels load from cache / compile
    w0, c0 = time.perf_counter(), time.process_time()
    pop = simulate_population(args.n_sources, seed=0)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    n_ev = pop.events.n_events
    rss = peak_rss_mib()

    # baseline 1: per-source Python loop on a subset (scaled per source), and the vectorised
    # simulator on a steady-only population of the same size (same physics, same counts)
    sub = pop.sources.iloc[: args.loop_sources]
    w0, c0 = time.perf_counter(), time.process_time()
    per_source_loop(sub)
    loop_wall = (time.perf_counter() - w0) / len(sub) * args.n_sources
    loop_cpu = (time.process_time() - c0) / len(sub) * args.n_sources
    w0, c0 = time.perf_counter(), time.process_time()
    simulate_population(args.loop_sources, seed=3, class_fractions={"steady": 1.0})
    steady_wall = (time.perf_counter() - w0) / args.loop_sources * args.n_sources
    steady_cpu = (time.process_time() - c0) / args.loop_sources * args.n_sources

    # baseline 2: numpy floor for the same number of events
    rng = np.random.default_rng(0)
    w0, c0 = time.perf_counter(), time.process_time()
    chunk = 5_000_000
    for a in range(0, n_ev, chunk):
        m = min(chunk, n_ev - a)
        t = rng.random(m)
        rng.random(m)
        t.sort()
    floor_wall = time.perf_counter() - w0
    floor_cpu = time.process_time() - c0

    with tempfile.TemporaryDirectory() as tmp:
        w0 = time.perf_counter()
        pop.write(tmp)
        write_wall = time.perf_counter() - w0
        w0 = time.perf_counter()
        write_fits_events(pop, Path(tmp) / "fits", index=np.arange(args.fits_files))
        fits_wall = time.perf_counter() - w0

    s = pop.sources
    per_class = s.groupby("label").agg(
        sources=("label", "size"),
        events=("n_events", "sum"),
        median_counts=("n_source_events", "median"),
    )
    lines = [
        f"- {args.n_sources:,} sources, **{n_ev:,} events** in 0.5-7 keV ({n_ev / args.n_sources:.0f} per source)",
        f"- simulate_population: **{wall:.1f} s wall**, {cpu:.1f} s CPU, {n_ev / wall / 1e6:.2f} M events/s wall; "
        f"peak RSS {rss:,.0f} MiB",
        f"- baseline per-source Python loop (steady physics only; {len(sub):,} sources timed, scaled to "
        f"{args.n_sources:,}): {loop_wall:.1f} s wall, {loop_cpu:.1f} s CPU; the vectorised simulator on "
        f"steady sources only, same scaling: {steady_wall:.1f} s wall, {steady_cpu:.1f} s CPU -> "
        f"**{loop_cpu / steady_cpu:.1f}x** less CPU for the same physics "
        f"(full population with all classes vs loop: {loop_cpu / cpu:.1f}x in CPU)",
        f"- baseline numpy floor (2 uniforms per event + sort of the times, same {n_ev:,} events): "
        f"{floor_wall:.1f} s wall, {floor_cpu:.1f} s CPU -> the simulator costs **{cpu / floor_cpu:.1f}x** "
        "the floor in CPU",
        f"- writing events/files/sources Parquet: {write_wall:.1f} s; FITS event files: "
        f"{args.fits_files / fits_wall:.0f} files/s ({args.fits_files} written)",
        "",
        "| label | sources | events | median source counts |",
        "|---|---:|---:|---:|",
    ]
    for lab, r in per_class.iterrows():
        lines.append(
            f"| {lab} | {int(r['sources']):,} | {int(r['events']):,} | {r['median_counts']:.0f} |"
        )
    import os

    load = os.getloadavg()[0]
    lines += [
        "",
        f"Load average at the end of the run: {load:.1f} on this shared 2-core machine "
        "(other jobs were running; CPU time is the better measure of the simulator's own cost).",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("simulate", "Simulator: 100,000 sources", body)


if __name__ == "__main__":
    main()
