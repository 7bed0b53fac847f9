"""Recall of the simulator's transients by the anomaly score alone and by the final score.

Issue 16's figure: per feature case, over several seeds, the fraction of the simulated
flares and fast X-ray transients with >= 30 source counts that land in the top 2 % of
2,000 sources (40 slots, about their share), ranked

* by the case's anomaly score alone (``candidates.anomaly = "auto"``: the detectors of the
  case, :attr:`serendip.features.registry.FeatureCase.detectors`, combined by calibrated
  rank), with each detector's own recall beside it, and
* by the final candidate score (:func:`serendip.pipeline.ranking.rank_features`: anomaly,
  analogs of the known transients, burst significance). To keep the benchmark quick no
  t-SNE/DBSCAN is run, so the cluster term is absent; it can only add to the final score.

Baseline, same process: for the E-t map / cube cases the reference input
(``maps="reference"``: raw counts for PCA, min-max maps for the autoencoders) with an
isolation forest, as the reference method does. Targets (issue 16): anomaly alone >= 0.9
(events, serendip cases) and >= 0.7 (E-t map cases); final score >= 0.95.

``--validate`` picks each case's detector rule instead: on validation seeds (default
100-102, never the test seeds 0-2) it scores every rule (iforest, mahalanobis, knn and the
mean calibrated rank of each pair and of all three) and names the best mean recall
(ties: the fewer and cheaper detectors, in that order); the registry's
``FeatureCase.detectors`` holds the result.

    python benchmarks/bench_anomaly_only.py [--n-sources 2000] [--seeds 0 1 2]
        [--cases events 2D-PCA ...]
    python benchmarks/bench_anomaly_only.py --validate [--seeds 100 101 102]
    python benchmarks/bench_anomaly_only.py --nuisance [--seeds 0] [--cases 2D-PCA ...]

``--nuisance`` audits the map cases' anomaly scores (:func:`serendip.catalog.nuisance.nuisance_audit`)
with the reference input and isolation forest (baseline, same process) and with the
count-aware input and the case's rule: rank correlation with net counts and exposure, and the
largest over-representation of a counts quartile in the top 1 %.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

TARGET = ("fxt", "flare")
MIN_COUNTS = 30
BUDGET = 0.02
DETECTORS = ("iforest", "mahalanobis", "knn")
#: the count-aware map's own score (map / cube cases), a candidate member of every rule
MAP_SCORE = "map_deviance"
ALL_CASES = ["2D-PCA", "3D-PCA", "2D-AE", "3D-AE", "deepsets", "events", "serendip"]


def recall_at(rank: np.ndarray, target: np.ndarray, budget: float = BUDGET) -> float:
    """Fraction of ``target`` rows (bool) with ``rank`` (1 = best) within the top budget."""
    k = int(round(budget * len(rank)))
    return float(np.count_nonzero(target & (rank <= k)) / max(np.count_nonzero(target), 1))


def rank_of(score: np.ndarray) -> np.ndarray:
    """Rank 1 = highest score (ties: first come)."""
    return pd.Series(-np.asarray(score, dtype=np.float64)).rank(method="first").to_numpy()


def rules(maps: bool = True) -> list[tuple[str, ...]]:
    """Every candidate rule: each detector alone, each pair, all three; for map / cube cases
    also each of these with the map's own deviance score, and that score alone."""
    base = [c for r in (1, 2, 3) for c in itertools.combinations(DETECTORS, r)]
    return base + ([(MAP_SCORE,)] + [(*c, MAP_SCORE) for c in base] if maps else [])


#: set by --real-sky: the simulator's real-sky effects (issue 19) on every population
REAL_SKY = {"on": False}


def _setup(n: int, seed: int):
    import serendip

    pop = serendip.simulate_population(n, seed=seed)
    if REAL_SKY["on"]:
        from serendip.simulate.realsky import add_real_sky

        pop = add_real_sky(pop, seed=seed)  # defaults: 20% flared obs., 3% edges, 1% afterglows, pile-up
    table = serendip.event_features(pop.events, pop.files, pop.gtis)
    ids = np.asarray(pop.events.obsreg_id).astype(str)
    src = pop.sources
    target = (src["label"].isin(TARGET) & (src["n_events"] >= MIN_COUNTS)).to_numpy()
    return pop, table, ids, target


def _features(case, pop, table, seed, maps="deviance"):
    """(features (n, k) float64, {name: per-file score of the representation})."""
    import serendip

    feats = serendip.extract_features(
        case, events=pop.events, event_table=table, files=pop.files, seed=seed, maps=maps
    )
    return np.asarray(feats.features, dtype=np.float64), feats.scores


def one(case: str, n: int, seed: int, cfg: dict, setup=None) -> dict:
    from serendip.catalog.anomaly import combined_anomaly_scores
    from serendip.features.registry import FEATURE_CASES
    from serendip.pipeline.ranking import rank_features

    pop, table, ids, target = setup or _setup(n, seed)
    known = pop.known_transients(float(cfg["input"]["known_fraction"]), seed)
    t0 = time.perf_counter()
    X, extra = _features(case, pop, table, seed)
    kc = cfg["candidates"]
    cands = rank_features(
        ids, X, table, known,
        anomaly="auto", case=case, k=int(kc["k_neighbours"]), nn_span=float(kc["nn_span"]),
        n_estimators=int(kc["n_estimators"]), random_state=int(kc["random_state"]),
        extra_scores=extra,
        **({"files": pop.files, "artefacts": pop.artefacts, "background": pop.background}
           if REAL_SKY["on"] else {}),
    )  # fmt: skip
    wall = time.perf_counter() - t0
    by_id = cands.set_index("obsreg_id")
    row = {
        "case": case,
        "seed": seed,
        "rule": cands.attrs["ANOMALY"],
        "n_target": int(target.sum()),
        "recall_anomaly": recall_at(rank_of(by_id["anomaly_score"].reindex(ids)), target),
        "recall_final": recall_at(by_id["rank"].reindex(ids).to_numpy(), target),
        "wall_s": wall,
    }
    _, parts = combined_anomaly_scores(
        X, DETECTORS, n_estimators=int(kc["n_estimators"]), extra=extra
    )
    for name, v in parts.items():
        row[f"recall_{name}"] = recall_at(rank_of(v), target)
    if FEATURE_CASES[case].representation != "events":
        Xr, _ = _features(case, pop, table, seed, maps="reference")
        ref, _ = combined_anomaly_scores(Xr, ("iforest",), n_estimators=int(kc["n_estimators"]))
        row["recall_reference"] = recall_at(rank_of(ref), target)
    else:
        row["recall_reference"] = np.nan
    return row


def validate(cases: list[str], n: int, seeds: list[int]) -> None:
    from serendip.catalog.anomaly import calibrated_rank, combined_anomaly_scores

    rows = []
    for seed in seeds:
        pop, table, ids, target = _setup(n, seed)
        for case in cases:
            X, extra = _features(case, pop, table, seed)
            _, parts = combined_anomaly_scores(X, DETECTORS, n_estimators=300, extra=extra)
            ranks = {k: calibrated_rank(v) for k, v in parts.items()}
            for rule in rules(bool(extra)):
                score = np.mean([ranks[d] for d in rule], axis=0)
                rows.append(
                    {"case": case, "seed": seed, "rule": " + ".join(rule),
                     "size": len(rule), "order": rules().index(rule),
                     "recall": recall_at(rank_of(score), target)}
                )  # fmt: skip
            print(case, seed, flush=True)
    df = pd.DataFrame(rows)
    agg = (
        df.groupby(["case", "rule"], sort=False)
        .agg(mean=("recall", "mean"), lo=("recall", "min"), hi=("recall", "max"),
             order=("order", "first"))
        .reset_index()
    )  # fmt: skip
    lines = [
        f"Validation seeds {seeds} only (the test seeds 0-2 are never used to choose): recall of "
        f"the simulated flares and fast transients with >= {MIN_COUNTS} counts in the top "
        f"{BUDGET:.0%} of {n:,} sources by each rule, mean (min-max). A rule averages the "
        "calibrated ranks (empirical CDF) of its detectors; each case takes its best mean "
        '(ties: the earlier rule in the table\'s order). Count-aware maps (`maps="deviance"`).',
        "",
        "| rule | " + " | ".join(cases) + " |",
        "|---|" + "---|" * len(cases),
    ]
    best = {}
    for case in cases:
        a = agg[agg["case"] == case]
        best[case] = a.sort_values(["mean", "order"], ascending=[False, True]).iloc[0]["rule"]
    for rule in rules():
        name = " + ".join(rule)
        cells = []
        for case in cases:
            r = agg[(agg["case"] == case) & (agg["rule"] == name)]
            cells.append(
                "-"
                if r.empty
                else f"{r['mean'].iloc[0]:.2f} ({r['lo'].iloc[0]:.2f}-{r['hi'].iloc[0]:.2f})"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("| **chosen** | " + " | ".join(f"**{best[c]}**" for c in cases) + " |")
    body = "\n".join(lines)
    print(body)
    write_section(
        "anomaly_rules", "Anomaly-score rule per feature case, chosen on validation seeds", body
    )


def nuisance(cases: list[str], n: int, seeds: list[int]) -> None:
    from serendip.catalog.anomaly import combined_anomaly_scores
    from serendip.catalog.nuisance import nuisance_audit
    from serendip.features.registry import FEATURE_CASES
    from serendip.pipeline.ranking import _split_rule, anomaly_detectors

    rows = []
    for seed in seeds:
        pop, table, ids, _ = _setup(n, seed)
        base = pd.DataFrame({"obsreg_id": ids, "n_events": pop.sources["n_events"].to_numpy(),
                             "exposure": pop.files["exposure"].to_numpy()})  # fmt: skip
        for case in cases:
            if FEATURE_CASES[case].representation == "events":
                continue
            for label, maps in (
                ("reference input, iforest", "reference"),
                ("count-aware, rule", "deviance"),
            ):
                X, extra = _features(case, pop, table, seed, maps=maps)
                rule = ("iforest",) if maps == "reference" else anomaly_detectors("auto", case)
                dets, ex = _split_rule(rule, extra)
                score, _ = combined_anomaly_scores(X, dets, n_estimators=300, extra=ex)
                audit = nuisance_audit(base.assign(anomaly_score=score), top=0.01)
                audit = audit[audit["score"] == "anomaly_score"]
                rho = audit[audit["bin"] == ""].set_index("nuisance")["spearman_rho"]
                q = audit[(audit["nuisance"] == "net counts") & (audit["bin"] != "")]
                worst = q.loc[q["ratio"].idxmax()]
                rows.append({"case": case, "seed": seed, "input": label,
                             "rho_counts": rho["net counts"], "rho_exposure": rho["exposure"],
                             "worst_bin": worst["bin"], "worst_ratio": worst["ratio"]})  # fmt: skip
                print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    lines = [
        f"Nuisance audit of the map cases' anomaly scores, {n:,} simulated sources, seeds {seeds}: "
        "Spearman rank correlation with the source's counts and the exposure, and the counts "
        "quartile most over-represented in the top 1 % (its share there / its share overall; "
        "4.0 = the whole top 1 % in one quartile). Baseline (same process): the reference input "
        "with an isolation forest.",
        "",
        "| case | seed | input and score | rho (counts) | rho (exposure) | most over-represented counts quartile | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.case} | {r.seed} | {r.input} | {r.rho_counts:+.2f} | {r.rho_exposure:+.2f} "
        f"| {r.worst_bin} | {r.worst_ratio:.1f} |"
        for r in df.itertuples()
    ]
    body = "\n".join(lines)
    print(body)
    write_section("anomaly_nuisance", "Nuisance audit of the map cases (issue 16)", body)


def main() -> None:
    from serendip.pipeline import load_config

    ap = argparse.ArgumentParser()
    ap.add_argument("--n-sources", type=int, default=2000)
    ap.add_argument("--seeds", type=int, nargs="+", default=None)
    ap.add_argument("--cases", nargs="+", default=ALL_CASES)
    ap.add_argument("--validate", action="store_true", help="choose the rules (seeds 100-102)")
    ap.add_argument("--nuisance", action="store_true", help="audit the map cases (seed 0)")
    ap.add_argument("--real-sky", action="store_true",
                    help="re-measure with the simulator's real sky on (issue 19): own section")
    args = ap.parse_args()
    REAL_SKY["on"] = bool(args.real_sky)
    if args.nuisance:
        cases = [c for c in args.cases if c in ("2D-PCA", "3D-PCA", "2D-AE", "3D-AE")]
        nuisance(cases, args.n_sources, args.seeds or [0])
        return
    if args.validate:
        validate(args.cases, args.n_sources, args.seeds or [100, 101, 102])
        return
    seeds = args.seeds or [0, 1, 2]
    cfg = load_config()
    rows = []
    for seed in seeds:
        setup = _setup(args.n_sources, seed)
        for case in args.cases:
            rows.append(one(case, args.n_sources, seed, cfg, setup))
            print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    df["case"] = pd.Categorical(df["case"], categories=args.cases, ordered=True)
    df = df.sort_values(["case", "seed"])
    cols = ["anomaly", "final", "reference"] + list(DETECTORS) + [MAP_SCORE]
    for c in cols:
        if f"recall_{c}" not in df:
            df[f"recall_{c}"] = np.nan

    def cell(s: pd.Series) -> str:
        s = s.dropna()
        return "-" if s.empty else f"{s.median():.2f} ({s.min():.2f}-{s.max():.2f})"

    lines = [
        f"Recall of the simulated flares and fast transients with >= {MIN_COUNTS} counts in the "
        f"top {BUDGET:.0%} of {args.n_sources:,} sources ({int(round(BUDGET * args.n_sources))} "
        f"slots), test seeds {seeds}: median (min-max). *anomaly alone*: the case's anomaly "
        'score (`candidates.anomaly = "auto"`: the rule chosen on validation seeds, section '
        "below, on count-aware maps); *final*: the candidate score without the cluster term "
        "(no t-SNE, for speed); *reference input (iforest)*: the baseline, same process - the "
        "reference's raw / min-max maps with an isolation forest; then each detector alone on "
        "the count-aware features. Targets (issue 16): anomaly alone >= 0.9 for "
        "events/serendip and >= 0.7 for E-t map cases; final >= 0.95.",
        "",
        "| case | rule | anomaly alone | final score | reference input (iforest) | "
        + " | ".join(DETECTORS)
        + f" | {MAP_SCORE} | targets (median) |",
        "|---|---|---|---|---|" + "---|" * (len(DETECTORS) + 1) + "---|",
    ]
    for case, g in df.groupby("case", sort=False, observed=True):
        lines.append(
            f"| {case} | {g['rule'].iloc[0]} | "
            + " | ".join(cell(g[f"recall_{c}"]) for c in cols)
            + f" | {int(g['n_target'].median())} |"
        )
    lines += ["", "| case | seed | targets | anomaly alone | final score | reference | wall [s] |"]
    lines += ["|---|---|---|---|---|---|---|"]
    lines += [
        f"| {r.case} | {r.seed} | {r.n_target} | {r.recall_anomaly:.2f} | {r.recall_final:.2f} "
        f"| {'-' if np.isnan(r.recall_reference) else f'{r.recall_reference:.2f}'} "
        f"| {r.wall_s:.0f} |"
        for r in df.itertuples()
    ]
    if REAL_SKY["on"]:
        lines = [
            "The same figures with the simulator's real sky on (issue 19, item 7: "
            "`add_real_sky` defaults: background flares in 20% of observations, 5-50x the "
            "background for 1-5 ks, dither over chip edges / bad columns for 3% of sources, "
            "afterglow chains for 1%, pile-up); *final* then includes the artefact flags and the "
            "background-flare common-mode test (demotions). Compare with the section above "
            "(real sky off).",
            "",
        ] + lines
    body = "\n".join(lines)
    print(body)
    if REAL_SKY["on"]:
        write_section("anomaly_only_real_sky", "Anomaly-only recall with the real sky on (issue 19)", body)
    else:
        write_section("anomaly_only", "Anomaly-only recall of simulated transients (issue 16)", body)


if __name__ == "__main__":
    main()
