"""Speed on the default path, each figure beside its baseline from the same process (issue 21).

Rows (median and spread, min-max, of ``--repeat`` runs after one warm-up run; wall time):

* E-t maps (``et_maps``) against one ``np.bincount`` pass over precomputed keys of the same
  events (the acceptance check's baseline) and against the per-file ``np.histogram2d``
  reference loop (timed on a subsample, scaled by its share of the events);
* E-t-dt cubes (``etdt_cubes``, sparse) against ``np.bincount`` producing the same dense
  output size (n_files x 6,144) and against the per-file ``np.histogramdd`` loop; cube
  storage in GiB per 100,000 files, sparse against dense float32;
* ``event_features`` per file, and the KS p-values of ``kolmogorov.ks_sf`` against
  ``scipy.stats.kstwo.sf`` (time and largest difference on the same statistics);
* ``write_report`` on a run directory against the previous matplotlib figures (the same
  number of PNGs rendered by ``serendip.report.plots``).

The machine is shared (2 cores, 8 users): ratios in one process are the comparable figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402


def timings(fn, repeat: int) -> np.ndarray:
    fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return np.asarray(out)


def cpu_timings(fn, repeat: int) -> np.ndarray:
    """CPU seconds (all threads of this process) of ``repeat`` calls after a warm-up."""
    fn()
    out = []
    for _ in range(repeat):
        c = time.process_time()
        fn()
        out.append(time.process_time() - c)
    return np.asarray(out)


def bayesian_blocks_rows(sub, rev: str, repeat: int) -> list[str]:
    """Pruned Bayesian blocks against the full O(N^2) programme of git revision ``rev``.

    The baseline is the same numba kernel before the pruning (``src/serendip/represent/
    bayesian_blocks.py`` at ``rev``, loaded from git into this process), so the ratio is the
    pruning alone; both must give identical per-file summaries.
    """
    import importlib.util
    import subprocess

    from serendip.represent.bayesian_blocks import bayesian_blocks_summary

    root = Path(__file__).resolve().parents[1]
    try:
        src = subprocess.run(
            ["git", "-C", str(root), "show", f"{rev}:src/serendip/represent/bayesian_blocks.py"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return [f"| Bayesian blocks | - | revision {rev} not in this checkout | - |"]
    path = Path(tempfile.mkdtemp()) / "bb_full_programme.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("bb_full_programme", path)
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    off, t = sub.offsets, sub.time
    new_out = bayesian_blocks_summary(off, t)
    old_out = old.bayesian_blocks_summary(off, t)
    same = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(new_out, old_out, strict=True))
    t_new = cpu_timings(lambda: bayesian_blocks_summary(off, t), repeat)
    t_old = cpu_timings(lambda: old.bayesian_blocks_summary(off, t), max(1, repeat // 2))
    return [
        f"| Bayesian blocks of those files (CPU time) | {fmt(t_new)} | full O(N^2) programme "
        f"(revision {rev}): {fmt(t_old)} | {np.median(t_old) / np.median(t_new):.1f}x faster; "
        f"per-file summaries identical: {same} |"
    ]


def fmt(ts: np.ndarray, scale: float = 1e3, unit: str = "ms") -> str:
    return f"{np.median(ts) * scale:,.1f} {unit} ({ts.min() * scale:,.1f}-{ts.max() * scale:,.1f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-files", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--ref-files", type=int, default=500)
    ap.add_argument("--feature-files", type=int, default=2000)
    ap.add_argument(
        "--bb-baseline",
        default="04bdfe3",
        help="git revision whose (unpruned) Bayesian blocks are the baseline",
    )
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    from scipy import stats

    from serendip.represent import et_maps, etdt_cubes, event_features
    from serendip.represent.kolmogorov import ks_sf
    from serendip.represent.reference import reference_et, reference_etdt
    from serendip.simulate import simulate_population

    pop = simulate_population(args.n_files, seed=5)
    ev = pop.events if hasattr(pop, "events") else pop[0]
    n, n_ev = ev.n_files, ev.n_events
    rows = []

    # ---- E-t maps and cubes
    fi = ev.file_index
    t = ev.time
    t0 = t[ev.offsets[:-1]][fi]
    span = np.maximum(1e-9, (t[np.maximum(ev.offsets[1:] - 1, 0)] - t[ev.offsets[:-1]]))[fi]
    tb = np.clip(((t - t0) / span * 24).astype(np.int64), 0, 23)
    e = ev.energy.astype(np.float64)
    eb = np.clip(
        ((np.log10(np.clip(e, 500, 7000)) - np.log10(500)) / np.log10(14) * 16).astype(np.int64),
        0,
        15,
    )
    keys = fi * 384 + tb * 16 + eb
    t_map = timings(lambda: et_maps(ev), args.repeat)
    t_bc = timings(lambda: np.bincount(keys, minlength=n * 384), args.repeat)
    ckeys = (fi * 384 + tb * 16 + eb) * 16 + (np.arange(n_ev) % 16)
    t_cube = timings(lambda: etdt_cubes(ev), args.repeat)
    t_bcc = timings(lambda: np.bincount(ckeys, minlength=n * 6144), max(2, args.repeat // 2))
    ridx = np.random.default_rng(2).choice(n, size=min(args.ref_files, n), replace=False)
    share = ev.counts[ridx].sum() / n_ev

    def loop(fn):
        for i in ridx:  # the per-file reference loop, on purpose
            fn(*ev.events_of(i))

    t_ref_m = timings(lambda: loop(reference_et), 1) / share
    t_ref_c = timings(lambda: loop(reference_etdt), 1) / share
    cubes = etdt_cubes(ev)
    gib = cubes.nbytes / n * 1e5 / 2**30
    dense_gib = 6144 * 4 * 1e5 / 2**30
    rows += [
        f"| E-t maps, {n:,} files ({n_ev:,} events) | {fmt(t_map)} | one `np.bincount` over "
        f"precomputed keys: {fmt(t_bc)} | {np.median(t_map) / np.median(t_bc):.2f}x the bincount "
        f"(goal <= 1.2x) |",
        f"| E-t maps vs per-file `histogram2d` loop | {fmt(t_map)} | loop (scaled from "
        f"{len(ridx)} files): {np.median(t_ref_m):.2f} s | {np.median(t_ref_m) / np.median(t_map):,.0f}x "
        f"faster (goal >= 100x) |",
        f"| E-t-dt cubes (sparse) | {fmt(t_cube)} | `np.bincount` of the dense cube size "
        f"(n x 6144): {fmt(t_bcc)} | {np.median(t_cube) / np.median(t_bcc):.2f}x the bincount "
        f"(goal <= 1.2x) |",
        f"| E-t-dt cubes vs per-file `histogramdd` loop | {fmt(t_cube)} | loop: "
        f"{np.median(t_ref_c):.2f} s | {np.median(t_ref_c) / np.median(t_cube):,.0f}x faster |",
        f"| cube storage per 100,000 files | {gib:.3f} GiB (uint16 CSR) | dense float32: "
        f"{dense_gib:.2f} GiB | {dense_gib / gib:,.0f}x smaller (goal <= 0.5 GiB) |",
    ]

    # ---- event features and KS p-values
    sub = ev.slice_files(0, min(args.feature_files, n))
    t_feat = timings(lambda: event_features(sub), max(1, args.repeat // 2)) / sub.n_files
    c_feat = cpu_timings(lambda: event_features(sub), max(1, args.repeat // 2)) / sub.n_files
    rows += bayesian_blocks_rows(sub, args.bb_baseline, args.repeat)
    tab = event_features(sub)
    ok = np.isfinite(tab["ks_stat"].to_numpy()) & (tab["n_events"].to_numpy() > 0)
    d = tab["ks_stat"].to_numpy()[ok]
    cnt = tab["n_events"].to_numpy()[ok]
    t_ks = timings(lambda: ks_sf(d, cnt), args.repeat)
    t_scipy = timings(lambda: stats.kstwo.sf(d, cnt), 1)
    diff = np.max(np.abs(ks_sf(d, cnt) - stats.kstwo.sf(d, cnt)))
    rows += [
        f"| `event_features`, {sub.n_files:,} files | {fmt(t_feat, 1e6, 'us')} per file (CPU "
        f"time of all threads: {fmt(c_feat, 1e6, 'us')}) | - | goal <= 50 us per file (wall) |",
        f"| KS p-values of those files (`ks_sf`) | {fmt(t_ks)} | `scipy.stats.kstwo.sf`: "
        f"{fmt(t_scipy)} | {np.median(t_scipy) / np.median(t_ks):,.0f}x faster, max abs "
        f"difference {diff:.1e} |",
    ]

    # ---- report
    from serendip.report import plots, write_report

    with tempfile.TemporaryDirectory() as tmp:
        from serendip.catalog import build_candidates, write_candidates

        rng = np.random.default_rng(0)
        k = min(n, 20_000)
        small = ev.slice_files(0, k)
        X = np.c_[np.log1p(small.counts), rng.normal(size=(k, 3))]
        cand = build_candidates(
            small.obsreg_id,
            X,
            rng.integers(0, 30, k),
            None,
            embedding=rng.normal(size=(k, 2)),
        )
        write_candidates(cand, tmp)
        small.write(Path(tmp) / "events.parquet")
        t_rep = timings(lambda: write_report(tmp, settings={"x": 1}), max(1, args.repeat // 2))
        xy = rng.normal(size=(k, 2))

        def old_figures():  # the former report's matplotlib figures: 3 scatters, 12 panels
            figs = [
                plots.embedding_by_category(xy, rng.integers(0, 30, k), "c", noise_label=0),
                plots.embedding_by_known(xy, np.full(k, "")),
                plots.embedding_by_score(xy, rng.normal(size=k), top_n=12),
            ]
            for i in range(12):
                figs.append(plots.file_panel(*small.events_of(i), f"{i}"))
            for f in figs:
                plots.png_bytes(f)

        t_old = timings(old_figures, 1)
        rows.append(
            f"| report.html, {k:,} candidates | {fmt(t_rep, 1, 's')} | 15 of the former 27 "
            f"matplotlib figures alone: {fmt(t_old, 1, 's')} | "
            f"{np.median(t_old) / np.median(t_rep):,.0f}x faster (goal <= 3 s) |"
        )

    load = os.getloadavg()
    body = (
        "| what | serendip | baseline (same process) | ratio |\n|---|---|---|---|\n"
        + "\n".join(rows)
        + f"\n\nMedian (min-max) of {args.repeat} runs after a warm-up, wall time; load average "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on 2 shared cores during the run. The map, "
        "cube and Bayesian-block kernels run on all numba threads; on a loaded machine the "
        "second core is often taken, which is why maps stay above the single-threaded bincount."
    )
    print(body)
    if not args.no_write:
        write_section("speed", "Speed on the default path (issue 21)", body)


if __name__ == "__main__":
    main()
