"""Oracle benchmark of active learning: interesting objects found vs number inspected.

Setup: simulated populations (:func:`serendip.simulate.simulate_population`, 20,000 sources,
seeds 0, 1, 2), the pipeline's event features (``features.case = "events"``, the default)
and its static candidate score (:func:`serendip.pipeline.ranking.rank_features`: isolation
forest percentile and burst significance; no known-transient list, no clusters). An oracle
inspects the top unlabelled candidate, labels it from the simulation's truth -
*interesting* = fast X-ray transient (``fxt``), everything else (stellar flares, flares,
dips, eclipses, periodic, AGN, steady) *not interesting* - and the ranker re-ranks after
every label (:func:`serendip.detect.active.simulate_review`). The baseline (``static``,
no learning) runs in the same process on the same arrays.

Two populations:

* ``default``: the default class fractions (0.6 % FXTs, 0.7 % flares, 0.7 % stellar flares).
* ``hard``: more boring anomalies (4 % flares, 4 % stellar flares, 7 % each of periodic,
  eclipse and dip; FXTs still 0.6 %), because in the default population the static top 100
  already holds more than half of all FXTs, so no method can reach 1.5x there.

Also timed: ``fit``, ``update`` (per label, labels added one at a time from the top) and
``next_indices`` at 100,000 rows (the 20,000-row hard feature table resampled with 1 %
jitter to 100,000 rows; cost depends on rows and features, not on the values).

Usage::

    python benchmarks/bench_active.py            # full size, writes BENCHMARKS.md + figure
    python benchmarks/bench_active.py --quick    # 3,000 sources, 1 seed, writes nothing
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import peak_rss_mib, write_section  # noqa: E402

HARD_FRACTIONS = {
    "steady": 0.55,
    "agn": 0.15,
    "periodic": 0.07,
    "eclipse": 0.07,
    "dip": 0.07,
    "stellar_flare": 0.04,
    "flare": 0.04,
    "fxt": 0.006,
}
SETTINGS = {"default": None, "hard": HARD_FRACTIONS}
CHECKPOINTS = (25, 50, 100)
FIGURE = Path(__file__).resolve().parent / "figures" / "active_learning.png"


def make_population(n: int, seed: int, fractions, cache: Path | None):
    """Features X (n, d), static candidate score (n,), labels (n,) str."""
    if cache is not None:
        path = cache / f"active_{'default' if fractions is None else 'hard'}_{n}_{seed}.npz"
        if path.is_file():
            d = np.load(path)
            return d["X"], d["score"], d["label"].astype(str)
    from serendip.features import extract_features
    from serendip.pipeline.ranking import rank_features
    from serendip.represent import event_features
    from serendip.simulate import simulate_population

    pop = simulate_population(n, seed=seed, class_fractions=fractions)
    table = event_features(pop.events, pop.files)
    res = extract_features(
        "events", events=pop.events, event_table=table, files=pop.files, seed=seed
    )
    X = np.asarray(res.features, dtype=np.float64)
    ids = pop.events.obsreg_id.astype(str)
    cands = rank_features(ids, X, table, None, random_state=seed)
    score = cands.set_index("obsreg_id")["score"].reindex(ids).to_numpy(dtype=np.float64)
    label = pop.sources["label"].to_numpy().astype(str)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(path, X=X, score=score, label=label)
    return X, score, label


def time_updates(strategy: str, X: np.ndarray, base: np.ndarray, truth: np.ndarray, n_labels: int):
    """fit time [s], per-label update times [s] (labels added one by one), next_indices time [s]."""
    from serendip.detect.active import ActiveRanker

    r = ActiveRanker(strategy=strategy)
    t0 = time.perf_counter()
    r.fit(X, base)
    t_fit = time.perf_counter() - t0
    seen: list[int] = []
    upd, nxt = [], []
    for _ in range(n_labels):
        t0 = time.perf_counter()
        i = int(r.next_indices(1)[0])
        nxt.append(time.perf_counter() - t0)
        seen.append(i)
        idx = np.array(seen)
        t0 = time.perf_counter()
        r.update(idx, truth[idx].astype(np.int64))
        upd.append(time.perf_counter() - t0)
    return t_fit, np.array(upd), np.array(nxt)


def plot(curves: dict, path: Path, n_inspect: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = list(curves)
    fig, axes = plt.subplots(1, len(settings), figsize=(5.5 * len(settings), 4.2), squeeze=False)
    x = np.arange(1, n_inspect + 1)
    for ax, setting in zip(axes[0], settings, strict=True):
        for strategy, runs in curves[setting].items():
            c = np.array(runs, dtype=float)
            m, s = c.mean(axis=0), c.std(axis=0)
            ax.plot(
                x,
                m,
                label=f"{strategy} ({m[-1]:.0f})",
                lw=2 if strategy != "static" else 1.5,
                ls="--" if strategy == "static" else "-",
            )
            ax.fill_between(x, m - s, m + s, alpha=0.15)
        ax.set_xlabel("candidates inspected")
        ax.set_ylabel("FXTs found")
        ax.set_title(f"{setting} population (mean +- std over {len(c)} seeds)")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    from rich.progress import Progress

    from serendip.detect.active import DEFAULT_STRATEGY, STRATEGIES, ActiveRanker, simulate_review

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run; writes nothing")
    ap.add_argument("--n", type=int, default=20000, help="sources per population")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--n-inspect", type=int, default=100)
    ap.add_argument("--timing-n", type=int, default=100000)
    ap.add_argument("--timing-labels", type=int, default=30)
    ap.add_argument("--cache", type=Path, default=None, help="folder to keep/reuse feature tables")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.seeds, args.n_inspect, args.timing_n, args.timing_labels = (
            3000,
            [0],
            40,
            5000,
            5,
        )

    results: dict = {s: {k: {} for k in STRATEGIES} for s in SETTINGS}
    curves: dict = {s: {k: [] for k in STRATEGIES} for s in SETTINGS}
    run_time: dict = {s: {k: [] for k in STRATEGIES} for s in SETTINGS}
    pops: dict = {}
    n_fxt: dict = {}
    t_data = time.perf_counter()
    with Progress() as progress:
        task = progress.add_task("populations", total=len(SETTINGS) * len(args.seeds))
        for setting, fr in SETTINGS.items():
            for seed in args.seeds:
                pops[setting, seed] = make_population(args.n, seed, fr, args.cache)
                progress.advance(task)
        t_data = time.perf_counter() - t_data
        task = progress.add_task("oracle reviews", total=len(pops) * len(STRATEGIES))
        for (setting, seed), (X, base, label) in pops.items():
            truth = label == "fxt"
            n_fxt[setting, seed] = int(truth.sum())
            for strategy in STRATEGIES:
                t0 = time.perf_counter()
                found = simulate_review(
                    ActiveRanker(strategy=strategy, random_state=seed),
                    X,
                    base,
                    truth,
                    n_inspect=args.n_inspect,
                )
                run_time[setting][strategy].append(time.perf_counter() - t0)
                curves[setting][strategy].append(found)
                results[setting][strategy][seed] = found
                progress.advance(task)

        # update time at timing_n rows (resampled hard features, 1 % jitter)
        X, base, label = pops["hard", args.seeds[0]]
        rng = np.random.default_rng(0)
        pick = rng.integers(0, len(base), args.timing_n)
        Xt = X[pick] + 0.01 * X.std(axis=0) * rng.normal(size=(args.timing_n, X.shape[1]))
        bt = base[pick] + 1e-6 * rng.random(args.timing_n)
        tt = label[pick] == "fxt"
        timing = {}
        task = progress.add_task(f"update timing at {args.timing_n} rows", total=len(STRATEGIES))
        for strategy in STRATEGIES:
            timing[strategy] = time_updates(strategy, Xt, bt, tt, args.timing_labels)
            progress.advance(task)

    ck = [c for c in CHECKPOINTS if c <= args.n_inspect]
    lines = []
    for setting in SETTINGS:
        lines.append(
            f"\n**{setting} population** - FXTs per population: "
            + ", ".join(f"seed {s}: {n_fxt[setting, s]}" for s in args.seeds)
        )
        lines.append("")
        lines.append(
            "| strategy | "
            + " | ".join(f"found @{c} (mean +- std)" for c in ck)
            + " | ratio to static @"
            + str(ck[-1])
            + " | per seed @"
            + str(ck[-1])
            + " | review time [s/run] |"
        )
        lines.append("|---" * (len(ck) + 4) + "|")
        stat_mean = np.mean([results[setting]["static"][s][ck[-1] - 1] for s in args.seeds])
        for strategy in STRATEGIES:
            per = np.array([[results[setting][strategy][s][c - 1] for c in ck] for s in args.seeds])
            cells = [f"{per[:, j].mean():.1f} +- {per[:, j].std():.1f}" for j in range(len(ck))]
            ratio = per[:, -1].mean() / stat_mean if stat_mean > 0 else float("inf")
            per_seed = ", ".join(
                f"{results[setting][strategy][s][ck[-1] - 1]}"
                f" ({results[setting][strategy][s][ck[-1] - 1] / max(results[setting]['static'][s][ck[-1] - 1], 1):.2f}x)"
                for s in args.seeds
            )
            lines.append(
                f"| {strategy} | " + " | ".join(cells) + f" | {ratio:.2f}x | {per_seed} | "
                f"{np.mean(run_time[setting][strategy]):.1f} |"
            )
    tl = [
        f"\n**Interactive cost at {args.timing_n:,} rows x {X.shape[1]} features** "
        f"({args.timing_labels} labels added one at a time from the top):",
        "",
        "| strategy | fit [s] | update per label, median [s] | update, max [s] | next_indices [ms] |",
        "|---|---|---|---|---|",
    ]
    for strategy in STRATEGIES:
        t_fit, upd, nxt = timing[strategy]
        tl.append(
            f"| {strategy} | {t_fit:.2f} | {np.median(upd):.3f} | {upd.max():.3f} | {1e3 * np.median(nxt):.1f} |"
        )
    body_tables = "\n".join(lines) + "\n" + "\n".join(tl)
    print(body_tables)
    print(f"data preparation {t_data:.0f} s, peak RSS {peak_rss_mib():.0f} MiB")
    if args.quick:
        return 0

    plot(curves, FIGURE, args.n_inspect)
    hard_ratio = {
        s: np.mean([results["hard"][s][x][ck[-1] - 1] for x in args.seeds])
        / max(np.mean([results["hard"]["static"][x][ck[-1] - 1] for x in args.seeds]), 1e-9)
        for s in STRATEGIES
    }
    best = max((s for s in STRATEGIES if s != "static"), key=lambda s: hard_ratio[s])
    rel = FIGURE.relative_to(Path(__file__).resolve().parents[1])
    body = (
        f"Oracle review of simulated populations ({args.n:,} sources, seeds "
        f"{', '.join(map(str, args.seeds))}): features and static candidate score from the "
        "pipeline (`features.case = events`, `rank_features` without known list or clusters); "
        "*interesting* = fast X-ray transients (`fxt`); every other class - stellar flares, "
        "flares, dips, eclipses, periodic, AGN, steady - labelled *not interesting*. The ranker "
        "is updated after every label (`serendip.detect.active.simulate_review`, "
        "`retrain_every=1`). Baseline: `static` (the candidate score, no learning), same process, "
        "same arrays. The `hard` population has more boring anomalies (4 % flares, 4 % stellar "
        "flares, 7 % each periodic / eclipse / dip, FXTs 0.6 %) because in the default "
        "population the static top 100 already holds more than half of all FXTs: 1.5x static "
        "there needs 1.5 x (static's count) FXTs in 100 reviews, which with static at 66.7 of "
        "120 (2026-11-22 run) is 100 of 100 - every review a hit - so static leaves no room for "
        "the goal in that population (the ceiling is 100/66.7 = 1.50x); the goal applies where "
        "static leaves room (static at 100 below 100/1.5 = 66.7 found), and `knn` must never "
        "find fewer than static anywhere.\n"
        + body_tables
        + f"\n\nBest learner on the hard population: **{best}** "
        f"({hard_ratio[best]:.2f}x static at {ck[-1]} inspected); the library default is "
        f"**{DEFAULT_STRATEGY}**.\n\n"
        f"![FXTs found vs candidates inspected]({rel})\n\n"
        f"Data preparation (simulation + features + candidate ranking of "
        f"{len(pops)} populations): {t_data:.0f} s. Peak RSS {peak_rss_mib():.0f} MiB.\n"
    )
    write_section("active", "Active learning: oracle review (bench_active.py)", body)
    print(f"wrote BENCHMARKS.md section 'active' and {FIGURE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
