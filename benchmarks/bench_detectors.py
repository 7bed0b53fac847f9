"""Fit and score time of serendip's detectors against PyOD's equivalents, 100,000 x 20 features.

Data: a Gaussian mixture of 6 components in 20 dimensions (random means and
random full covariances) as inliers, with 1% planted anomalies - half drawn
uniformly from the inliers' bounding box, half from the mixture components with
their covariance inflated 9x (a local, harder kind). The training set (100,000 rows,
contaminated with 1% anomalies, unlabelled - the usual unsupervised setting) and
a test set (20,000 rows, 1% anomalies) are independent draws; scores are taken on
the test set and AUROC / AUPR measured there.

Every pair runs in this one process on the same arrays, one after the other
(serendip then PyOD, each after an untimed warm-up fit on 600 rows); the deep models are capped at a few epochs each (same cap
and batch size for both libraries) to keep the run under about ten minutes.
OCSVM (libsvm, roughly quadratic in the rows) is fitted on a 10,000-row subsample
of the training set for both libraries.

Usage::

    python benchmarks/bench_detectors.py            # full size, writes BENCHMARKS.md
    python benchmarks/bench_detectors.py --quick    # small smoke run, writes nothing
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import peak_rss_mib, write_section  # noqa: E402


def make_data(n: int, d: int, frac: float, rng: np.random.Generator, means=None, covs=None):
    """Inliers from a Gaussian mixture, ``frac`` planted anomalies; returns X, is_anomaly, (means, covs)."""
    k = 6
    if means is None:
        means = rng.normal(scale=4.0, size=(k, d))
        covs = []
        for _ in range(k):
            a = rng.normal(size=(d, d)) / np.sqrt(d)
            covs.append(a @ a.T + 0.2 * np.eye(d))
        covs = np.array(covs)
    n_out = int(round(frac * n))
    n_in = n - n_out
    comp = rng.integers(0, k, n_in)
    chol = np.linalg.cholesky(covs)
    z = rng.normal(size=(n_in, d))
    inl = means[comp] + np.einsum("nij,nj->ni", chol[comp], z)
    lo, hi = inl.min(axis=0), inl.max(axis=0)
    n_uni = n_out // 2
    uni = rng.uniform(lo, hi, size=(n_uni, d))
    comp2 = rng.integers(0, k, n_out - n_uni)
    loc = means[comp2] + 3.0 * np.einsum(
        "nij,nj->ni", chol[comp2], rng.normal(size=(n_out - n_uni, d))
    )
    X = np.vstack([inl, uni, loc])
    y = np.r_[np.zeros(n_in, bool), np.ones(n_out, bool)]
    labels = np.r_[comp, np.full(n_out, -1)]
    order = rng.permutation(n)
    return X[order], y[order], labels[order], (means, covs)


def pairs(epochs: int, batch: int, n_features: int, contamination: float):
    """(name, serendip factory, PyOD factory, note) for each compared detector."""
    from pyod.models.auto_encoder import AutoEncoder as PAE
    from pyod.models.deep_svdd import DeepSVDD as PSVDD
    from pyod.models.iforest import IForest as PIF
    from pyod.models.knn import KNN as PKNN
    from pyod.models.lof import LOF as PLOF
    from pyod.models.ocsvm import OCSVM as POCSVM
    from pyod.models.vae import VAE as PVAE

    import serendip.detect as S

    c = contamination
    quiet = {"verbose": 0}
    return [
        (
            "IForest",
            lambda: S.IForest(n_estimators=100, contamination=c, random_state=0),
            lambda: PIF(n_estimators=100, contamination=c, random_state=0),
            "100 trees, 256 rows each",
        ),
        (
            "OCSVM",
            lambda: S.OCSVM(nu=0.5, max_train=None, contamination=c),
            lambda: POCSVM(nu=0.5, contamination=c),
            "RBF, nu=0.5; both fitted on the same 10,000-row subsample",
        ),
        (
            "KNN",
            lambda: S.KNN(n_neighbors=5, method="largest", contamination=c),
            lambda: PKNN(n_neighbors=5, method="largest", contamination=c),
            "k=5, distance to the 5th neighbour (exact search)",
        ),
        (
            "LOF",
            lambda: S.LOF(n_neighbors=20, contamination=c),
            lambda: PLOF(n_neighbors=20, contamination=c),
            "k=20",
        ),
        (
            "AutoEncoder",
            lambda: S.Autoencoder(
                hidden_sizes=(64, 32), max_epochs=epochs, batch_size=batch, contamination=c
            ),
            lambda: PAE(
                epoch_num=epochs,
                batch_size=batch,
                contamination=c,
                hidden_neuron_list=[64, 32],
                **quiet,
            ),
            f"hidden 64-32, {epochs} epochs, batch {batch}",
        ),
        (
            "VAE",
            lambda: S.VAE(
                hidden_sizes=(64, 32), max_epochs=epochs, batch_size=batch, contamination=c
            ),
            lambda: PVAE(epoch_num=epochs, batch_size=batch, contamination=c, **quiet),
            f"{epochs} epochs, batch {batch}; serendip averages 16 latent draws, PyOD defaults",
        ),
        (
            "DeepSVDD",
            lambda: S.DeepSVDD(
                hidden_sizes=(64, 32),
                pretrain_epochs=epochs,
                max_epochs=epochs,
                batch_size=batch,
                contamination=c,
            ),
            lambda: PSVDD(
                n_features=n_features, epochs=2 * epochs, batch_size=batch, contamination=c, **quiet
            ),
            f"serendip {epochs} warm-start + {epochs} SVDD epochs, PyOD {2 * epochs} epochs; batch {batch}",
        ),
    ]


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="small smoke run (does not write BENCHMARKS.md)"
    )
    ap.add_argument("--only", nargs="*", help="run only these detectors")
    args = ap.parse_args()

    import torch
    from rich.console import Console
    from sklearn.metrics import average_precision_score, roc_auc_score

    from serendip.detect import MCIF

    torch.set_num_threads(
        1
    )  # 2 threads on the shared 2-core machine made training ~70x slower (OpenMP contention)
    console = Console(stderr=True)
    n_train, n_test, d = (5_000, 2_000, 20) if args.quick else (100_000, 20_000, 20)
    n_ocsvm = min(10_000, n_train)
    epochs, batch, contamination = (2 if args.quick else 5), 256, 0.01
    rng = np.random.default_rng(2026)
    Xtr, _ytr, ltr, (means, covs) = make_data(n_train, d, 0.01, rng)
    Xte, yte, _lte, _ = make_data(n_test, d, 0.01, rng, means, covs)
    sub = np.sort(rng.choice(n_train, n_ocsvm, replace=False))
    load0 = os.getloadavg()[0]

    rows = []
    for name, ours, theirs, note in pairs(epochs, batch, d, contamination):
        if args.only and name not in args.only:
            continue
        for factory in (ours, theirs):  # untimed warm-up: imports, numba / torch first-call costs
            factory().fit(Xtr[:600])
        Xfit = Xtr[sub] if name == "OCSVM" else Xtr
        res = {"name": name, "note": note}
        for lib, factory in (("serendip", ours), ("pyod", theirs)):
            console.print(f"[bold]{name}[/] / {lib}: fit {len(Xfit):,} x {d} ...")
            det, t_fit = timed(lambda f=factory, Xf=Xfit: f().fit(Xf))
            if lib == "serendip":
                scores, t_score = timed(lambda det=det: det.score_samples(Xte))
            else:
                scores, t_score = timed(lambda det=det: det.decision_function(Xte))
            res[lib] = {
                "fit": t_fit,
                "score": t_score,
                "auroc": roc_auc_score(yte, scores),
                "aupr": average_precision_score(yte, scores),
            }
            console.print(
                f"  fit {t_fit:.2f} s, score {t_score:.2f} s, AUROC {res[lib]['auroc']:.3f}, AUPR {res[lib]['aupr']:.3f}"
            )
        rows.append(res)

    # MCIF has no PyOD equivalent; time it beside a single forest on the mixture-component labels
    extra = None
    if not args.only or "MCIF" in args.only:
        inl = ltr >= 0
        MCIF().fit(Xtr[:600], ltr[:600] % 2)  # warm-up
        det, t_fit = timed(lambda: MCIF(contamination=contamination).fit(Xtr[inl], ltr[inl]))
        scores, t_score = timed(lambda: det.score_samples(Xte))
        extra = (
            t_fit,
            t_score,
            roc_auc_score(yte, scores),
            average_precision_score(yte, scores),
            int(inl.sum()),
        )
        console.print(f"MCIF: fit {t_fit:.2f} s, score {t_score:.2f} s, AUROC {extra[2]:.3f}")

    rss = peak_rss_mib()
    lines = [
        f"Training set {n_train:,} x {d} (Gaussian mixture, 6 components, 1% planted anomalies: half uniform in "
        f"the bounding box, half from the components with 9x covariance); test set {n_test:,} rows drawn the same way. "
        "Fit on the training set (unlabelled, contaminated), score the test set; AUROC / AUPR on the test set "
        f"(random AUPR = {yte.mean():.3f}). Same process, same arrays, serendip then PyOD for each detector; "
        f"torch threads = {torch.get_num_threads()}. Load average at start: {load0:.1f} "
        "(the 2 cores are shared with other jobs, so times carry that noise). "
        f"Deep models capped at {epochs} epochs (see notes); OCSVM fitted on a {n_ocsvm:,}-row subsample for both.",
        "",
        "| detector | serendip fit [s] | PyOD fit [s] | serendip score [s] | PyOD score [s] "
        "| serendip AUROC | PyOD AUROC | serendip AUPR | PyOD AUPR | settings |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        s, p = r["serendip"], r["pyod"]
        lines.append(
            f"| {r['name']} | {s['fit']:.2f} | {p['fit']:.2f} | {s['score']:.2f} | {p['score']:.2f} "
            f"| {s['auroc']:.3f} | {p['auroc']:.3f} | {s['aupr']:.3f} | {p['aupr']:.3f} | {r['note']} |"
        )
    if extra is not None:
        lines.append(
            f"| MCIF (no PyOD equivalent) | {extra[0]:.2f} | - | {extra[1]:.2f} | - | {extra[2]:.3f} | - "
            f"| {extra[3]:.3f} | - | one forest per mixture component, fitted on the {extra[4]:,} inliers with labels |"
        )
    lines += [
        "",
        "Notes: serendip's fit includes computing the training scores for `threshold_` (leave-self-out for "
        "KNN / LOF), as PyOD's fit does; serendip standardises features for OCSVM, KNN, LOF and the deep models "
        "(stored in the model), PyOD's KNN / LOF / OCSVM work on raw features. serendip's IForest scores with its "
        "exported trees (numba kernel, identical to scikit-learn's scores). Peak RSS of the whole run: "
        f"{rss:.0f} MiB.",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.quick and not args.only:
        write_section(
            "detectors",
            "Anomaly detectors: serendip vs PyOD, fit and score time (100,000 x 20)",
            body,
            command="python benchmarks/bench_detectors.py",
        )


if __name__ == "__main__":
    main()
