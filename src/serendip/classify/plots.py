"""Plots of classification results (matplotlib, Agg): hardness-variability diagrams,
the BIC curve of the Gaussian mixture, and the reliability diagram."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def hardness_variability(
    df,
    classes_col: str,
    path: str | Path,
    hardness=("hr_hm", "hr_ms"),
    variability: str = "var_intra_prob",
    title: str = "",
) -> Path:
    """Two panels: hardness vs hardness and hardness vs variability, points coloured by class."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
    cls = df[classes_col].astype(str).to_numpy()
    names = sorted(set(cls))
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    pairs = [(hardness[0], hardness[1]), (hardness[0], variability)]
    for ax, (xc, yc) in zip(axes, pairs, strict=True):
        if xc not in df.columns or yc not in df.columns:
            ax.text(0.5, 0.5, f"no {xc} / {yc}", ha="center", transform=ax.transAxes)
            continue
        x = np.asarray(df[xc], dtype=float)
        y = np.asarray(df[yc], dtype=float)
        for i, c in enumerate(names):
            m = cls == c
            ax.scatter(
                x[m], y[m], s=6, alpha=0.6, color=cmap(i % cmap.N), label=f"{c} ({int(m.sum())})"
            )
        ax.set_xlabel(xc)
        ax.set_ylabel(yc)
    axes[0].legend(fontsize=7, markerscale=2, loc="best")
    fig.suptitle(title or "hardness-variability diagrams, coloured by class")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def bic_plot(ks, bics, chosen: int, path: str | Path, title: str = "") -> Path:
    """BIC of the Gaussian mixture against K, with the chosen (elbow) K marked."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(ks, bics, "o-")
    ax.axvline(chosen, color="C3", ls="--", label=f"elbow K = {chosen}")
    ax.set_xlabel("number of components K")
    ax.set_ylabel("BIC (lower is better)")
    ax.set_title(title or "Gaussian mixture: BIC against K", fontsize=10)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def reliability_plot(curves: dict[str, dict], path: str | Path) -> Path:
    """Reliability diagram: accuracy vs confidence per bin for each named curve
    (``{"name": {"confidence", "accuracy", "count", "ece"}}``)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="0.6", ls=":", label="perfect calibration")
    for name, c in curves.items():
        ok = np.asarray(c["count"]) > 0
        lab = f"{name} (ECE {c['ece']:.3f})" if "ece" in c else name
        ax.plot(np.asarray(c["confidence"])[ok], np.asarray(c["accuracy"])[ok], "o-", label=lab)
    ax.set_xlabel("predicted probability of the top class")
    ax.set_ylabel("fraction correct")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def confusion_plot(confusion, classes, path: str | Path, title: str = "") -> Path:
    """Confusion matrix (rows: true class, columns: predicted), each row normalised to its
    recall, with the counts written in the cells."""
    plt = _plt()
    cm = np.asarray(confusion, dtype=float)
    frac = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1.0)
    n = len(classes)
    fig, ax = plt.subplots(figsize=(1.1 * n + 2.5, 1.0 * n + 2))
    im = ax.imshow(frac, vmin=0, vmax=1, cmap="Blues")
    for i in range(n):
        for j in range(n):
            ax.text(
                j, i, f"{int(cm[i, j])}\n{frac[i, j]:.2f}", ha="center", va="center", fontsize=8,
                color="white" if frac[i, j] > 0.6 else "black",
            )
    ax.set_xticks(range(n), [str(c) for c in classes], rotation=45, ha="right")
    ax.set_yticks(range(n), [str(c) for c in classes])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title or "confusion matrix (row fractions = recall)", fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
