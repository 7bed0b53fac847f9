"""The whole discovery run on 100,000 simulated sources, and openTSNE against scikit-learn.

Part 1: ``serendip run`` stages on ``--n-sources`` (default 100,000) simulated sources with the
default configuration: wall time per stage and the process's peak memory after each stage.
Part 2: openTSNE (FFT-accelerated, as used by serendip.embed) against scikit-learn's
Barnes-Hut TSNE on the same ``--tsne-points`` (default 20,000) feature vectors, same
perplexity, iterations and thread count.

    python benchmarks/bench_pipeline_scale.py [--n-sources 100000] [--tsne-points 20000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import peak_rss_mib, write_section  # noqa: E402
from serendip.pipeline import load_config  # noqa: E402
from serendip.pipeline import runner as R  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-sources", type=int, default=100_000)
    ap.add_argument("--tsne-points", type=int, default=20_000)
    args = ap.parse_args()
    cfg = load_config(overrides={"input": {"n_sources": args.n_sources, "seed": 0}})
    stage_rows = []
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        total0 = time.perf_counter()
        # run stage by stage so each one's wall time and the memory high-water mark are seen
        for name in R.STAGES:
            t0 = time.perf_counter()
            R.run_pipeline(cfg, run_dir, progress=False, stop_after=name)
            stage_rows.append((name, time.perf_counter() - t0, peak_rss_mib()))
            print(stage_rows[-1], flush=True)
        total = time.perf_counter() - total0
        feats = pd.read_parquet(run_dir / "stages" / "features" / "features.parquet")
        n_events = int(pd.read_parquet(run_dir / "files.parquet")["n_events"].sum())
    X = feats.drop(columns=["obsreg_id"]).to_numpy(dtype=np.float32)
    rng = np.random.default_rng(0)
    sub = X[rng.choice(len(X), min(args.tsne_points, len(X)), replace=False)]
    sub = (sub - sub.mean(0)) / (sub.std(0) + 1e-9)
    from openTSNE import TSNE as OTSNE
    from sklearn.manifold import TSNE as SKTSNE

    t0 = time.perf_counter()
    OTSNE(
        perplexity=30,
        n_iter=500,
        early_exaggeration_iter=250,
        n_jobs=os.cpu_count(),
        random_state=0,
        negative_gradient_method="fft",
    ).fit(sub)
    t_open = time.perf_counter() - t0
    t0 = time.perf_counter()
    SKTSNE(
        perplexity=30,
        max_iter=750,
        random_state=0,
        init="pca",
        method="barnes_hut",
        n_jobs=os.cpu_count(),
    ).fit_transform(sub)
    t_sk = time.perf_counter() - t0
    lines = [
        f"Population: {args.n_sources:,} simulated sources, {n_events:,} events in 0.5-7 keV; default configuration "
        f"(feature case `{cfg['features']['case']}`, openTSNE perplexity {cfg['embed']['perplexity']:g}, "
        f"{cfg['embed']['n_iter']} iterations, DBSCAN, isolation forest). One process, stages run in order.",
        "",
        "| stage | wall [s] | process peak RSS after it [MiB] |",
        "|---|---|---|",
        *[f"| {n} | {w:.1f} | {m:.0f} |" for n, w, m in stage_rows],
        f"| **total** | **{total:.1f}** ({total / 60:.1f} min) | |",
        "",
        f"t-SNE on {len(sub):,} of these feature vectors ({sub.shape[1]} columns), {os.cpu_count()} threads, "
        "perplexity 30, 250 early-exaggeration + 500 iterations each:",
        "",
        "| implementation | wall [s] |",
        "|---|---|",
        f"| openTSNE (FFT interpolation) | {t_open:.1f} |",
        f"| scikit-learn TSNE (Barnes-Hut) | {t_sk:.1f} |",
        f"| ratio | {t_sk / t_open:.1f}x |",
    ]
    body = "\n".join(lines)
    print(body)
    write_section(
        "pipeline_scale",
        f"Whole run on {args.n_sources:,} sources; openTSNE vs scikit-learn",
        body,
        command="python benchmarks/bench_pipeline_scale.py",
    )


if __name__ == "__main__":
    main()
