"""The score distribution of a detector: a histogram with the model threshold marked."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_scores(scores, threshold: float, path: str | Path, title: str = "") -> Path:
    """Write a PNG histogram of anomaly ``scores`` (n,) with ``threshold`` marked (log counts).

    Parameters
    ----------
    scores : (n,) anomaly scores, higher = more anomalous.
    threshold : the detector's ``threshold_`` (same units as ``scores``).
    path : PNG file to write (matplotlib's Agg backend; nothing is shown).
    title : prefix of the title, which states how many rows lie above the threshold.

    Returns
    -------
    ``path`` as a :class:`~pathlib.Path`.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    scores = np.asarray(scores, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.hist(scores, bins=min(100, max(10, len(scores) // 20)), color="0.4", log=True)
    ax.axvline(threshold, color="C3", ls="--", label=f"threshold {threshold:.4g}")
    n_above = int(np.sum(scores > threshold))
    ax.set_xlabel("anomaly score (higher = more anomalous)")
    ax.set_ylabel("rows")
    ax.set_title(f"{title}: {n_above} of {len(scores)} above threshold", fontsize=10)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
