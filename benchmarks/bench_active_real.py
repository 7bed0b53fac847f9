"""Active learning on real labelled tables: rare-class members found vs reviews, by strategy.

Sets (read by path from the shared real data, ``SERENDIP_REAL_DATA`` overrides):

* ``muwclass_xrb``: MUWCLASS CSC training set (``CSC_TD_11042023_MW.csv``, 3,126 sources);
  rare = X-ray binaries (LMXB + HMXB, 98). Features: every numeric column but ra/dec, fluxes
  as log10, -99 placeholders as missing (imputed by the ranker and counted).
* ``snad_flares``: SNAD flare classifier test set (1,104 ZTF light curves, 31 standardised
  features); rare = real M-dwarf flares (104).
* ``fleet_rare``: FLEET training set (``table_full_70.txt.gz``, 4,438 spectroscopically
  classified ZTF/TNS transients); rare = tidal disruption events and superluminous supernovae
  (TDE, SLSN-I, SLSN-II: 160). Features: the 26 fitted light-curve and host-galaxy observables
  (no redshift, no absolute magnitudes, nothing derived from the class).

The SNAD anomaly tags (``zwad_*_maria.csv``) list ZTF object ids with expert tags but no
features or light curves, so they cannot be reviewed here.

Static score: an isolation forest (scikit-learn, 300 trees, seed) on the median-imputed
features - the unsupervised anomaly ranking a reviewer would start from. An oracle reviews
the top unlabelled row, labels it from the truth (rare = 1, else 0), and the ranker updates
(:func:`serendip.detect.active.simulate_review`): after every label for ``static`` and
``knn``, every ``--forest-every`` labels for the forest strategies (``aad``, ``pine``) and for
the peers. Peers: coniferest's ``AADForest`` and ``PineForest`` used on their own (their own
anomaly score as the starting order, no static score), same data, same seeds, same cadence.

    python benchmarks/bench_active_real.py [--seeds 3] [--n-inspect 200] [--forest-every 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

REAL = Path(
    os.environ.get("SERENDIP_REAL_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
)
if not REAL.is_dir():
    REAL = Path("/work/shared/data/real")
CHECKPOINTS = (50, 100, 200)
STRATEGIES = ("static", "knn", "aad", "pine")
PEERS = ("coniferest AADForest", "coniferest PineForest")
#: FLEET's fitted light-curve and host observables (its table also holds run settings and the class)
FLEET_FEATURES = (
    "lc_width", "lc_decline", "phase_offset", "mag_offset", "initial_temp", "cooling_rate",
    "color_peak", "late_color", "late_color10", "late_color20", "late_color40", "late_color60",
    "first_to_peak_r", "first_to_peak_g", "peak_to_last_r", "peak_to_last_g", "brightest_mag",
    "green_brightest", "red_brightest", "chi2", "host_radius", "host_separation", "host_Pcc",
    "host_magnitude", "host_magnitude_g", "host_magnitude_r",
)  # fmt: skip


def load_sets() -> dict[str, tuple[np.ndarray, np.ndarray, str]]:
    """{name: (X (n, d) with NaN for missing, rare (n,) bool, description)}."""
    out = {}
    p = REAL / "csc_muwclass_training_set" / "CSC_TD_11042023_MW.csv"
    if p.is_file():
        df = pd.read_csv(p)
        rare = df["Class"].isin(["LMXB", "HMXB"]).to_numpy()
        num = df.drop(columns=["ra", "dec"]).select_dtypes("number").astype(np.float64)
        num = num.mask(num <= -99)
        for c in [c for c in num.columns if c.startswith("Fcsc_") or c.startswith("e_Fcsc_")]:
            num[c] = np.log10(num[c].where(num[c] > 0))
        out["muwclass_xrb"] = (num.to_numpy(), rare, f"MUWCLASS, XRBs {rare.sum()} of {len(df)}")
    p = REAL / "snad_ztf_flares_anomalies" / "flare_classifier_real_flares_test.csv"
    if p.is_file():
        df = pd.read_csv(p)
        label = next(c for c in df.columns if "flare" in c.lower())
        rare = df[label].astype(bool).to_numpy()
        num = df.drop(columns=[label]).select_dtypes("number")
        num = num.drop(columns=[c for c in num.columns if c.startswith("Unnamed")])
        out["snad_flares"] = (
            num.to_numpy(np.float64),
            rare,
            f"SNAD ZTF, flares {rare.sum()} of {len(df)}",
        )
    p = REAL / "fleet_training_set" / "table_full_70.txt.gz"
    if p.is_file():
        df = pd.read_csv(p, sep=r"\s+")
        rare = df["object_class"].isin(["TDE", "SLSN-I", "SLSN-II"]).to_numpy()
        num = df[list(FLEET_FEATURES)].astype(np.float64)
        out["fleet_rare"] = (
            num.to_numpy(),
            rare,
            f"FLEET ZTF transients, TDEs + SLSNe {rare.sum()} of {len(df)}",
        )
    return out


def static_score(X: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.ensemble import IsolationForest

    from serendip.detect.active import impute_features

    Xi = impute_features(X)
    return -IsolationForest(n_estimators=300, random_state=seed).fit(Xi).score_samples(Xi)


def peer_review(name: str, X: np.ndarray, truth: np.ndarray, n: int, every: int, seed: int):
    """coniferest's forest on its own: inspect its top unlabelled row, refit every ``every``."""
    from coniferest.aadforest import AADForest
    from coniferest.label import Label
    from coniferest.pineforest import PineForest

    from serendip.detect.active import impute_features

    Xi = np.ascontiguousarray(impute_features(X))

    def make():
        if "AAD" in name:
            return AADForest(n_trees=100, n_subsamples=256, random_seed=seed)
        return PineForest(n_trees=100, n_subsamples=256, n_spare_trees=400, random_seed=seed)

    forest = make().fit(Xi)
    score = -forest.score_samples(Xi)
    seen: list[int] = []
    free = np.ones(len(Xi), bool)
    for i in range(n):
        s = np.where(free, score, -np.inf)
        r = int(np.argmax(s))
        seen.append(r)
        free[r] = False
        if (i + 1) % every == 0 and i + 1 < n:
            idx = np.array(seen)
            lab = np.where(truth[idx], Label.ANOMALY, Label.REGULAR).astype(np.int64)
            forest = make().fit_known(Xi, Xi[idx], lab)
            score = -forest.score_samples(Xi)
    return np.cumsum(truth[np.array(seen)])


def run_set(X, truth, seeds, n_inspect, forest_every) -> dict[str, list[np.ndarray]]:
    from serendip.detect.active import ActiveRanker, simulate_review
    from serendip.notices import NoticeLog

    curves: dict[str, list[np.ndarray]] = {s: [] for s in (*STRATEGIES, *PEERS)}
    for seed in seeds:
        base = static_score(X, seed)
        for strat in STRATEGIES:
            every = forest_every if strat in ("aad", "pine") else 1
            t0 = time.perf_counter()
            with NoticeLog():
                found = simulate_review(
                    ActiveRanker(strat, random_state=seed),
                    X,
                    base,
                    truth,
                    n_inspect=n_inspect,
                    retrain_every=every,
                )
            curves[strat].append(found)
            print(
                f"  seed {seed} {strat}: {found[[c - 1 for c in CHECKPOINTS]]} "
                f"({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
        for peer in PEERS:
            t0 = time.perf_counter()
            found = peer_review(peer, X, truth, n_inspect, forest_every, seed)
            curves[peer].append(found)
            print(
                f"  seed {seed} {peer}: {found[[c - 1 for c in CHECKPOINTS]]} "
                f"({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
    return curves


def cell(vals: list[float]) -> str:
    m = statistics.mean(vals)
    sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
    return f"{m:.1f} ± {sd:.1f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--n-inspect", type=int, default=200)
    ap.add_argument("--forest-every", type=int, default=5)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    sets = load_sets()
    if not sets:
        print(f"no labelled sets under {REAL}")
        return 1
    seeds = list(range(args.seeds))
    rows = []
    for name, (X, truth, desc) in sets.items():
        print(
            f"{name}: {desc}, {X.shape[1]} features, {int(np.isnan(X).sum())} missing values",
            flush=True,
        )
        curves = run_set(X, truth, seeds, args.n_inspect, args.forest_every)
        st100 = statistics.mean(float(c[99]) for c in curves["static"])
        for strat, cs in curves.items():
            at = [cell([float(c[k - 1]) for c in cs]) for k in CHECKPOINTS]
            m100 = statistics.mean(float(c[99]) for c in cs)
            ratio = m100 / st100 if st100 > 0 else float("nan")
            rows.append(f"| {desc} | {strat} | {' | '.join(at)} | {ratio:.2f}x |")
    body = f"""Oracle review on real labelled tables (module docstring of `benchmarks/bench_active_real.py`):
rare-class members found after 50 / 100 / 200 reviews, mean ± standard deviation over seeds
{seeds} (the isolation forest of the static score and the forests are seeded). `static`, `knn`
update after every label; `aad`, `pine` and the coniferest peers every {args.forest_every} labels.
The last column is the mean at 100 reviews over `static`'s (the issue's goal: the default
strategy `knn` >= 1.5x where static leaves room, and never fewer). Missing values (MUWCLASS) are
imputed with the column median and counted by the ranker.

| set | strategy | found at 50 | at 100 | at 200 | vs static at 100 |
|---|---|---|---|---|---|
{chr(10).join(rows)}
"""
    print(body)
    if not args.no_write:
        write_section("active_real", "Active learning on real labelled tables", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
