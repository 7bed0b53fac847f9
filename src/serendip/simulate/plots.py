"""Overview figure of a simulated population (matplotlib, Agg backend, PNG).

One row per class: the binned light curve of that class's brightest source (source and
background photons, 0.5-2 keV and 2-7 keV separately, with the true transient / eclipse
times marked), its photon energies against time, and the class's stacked spectrum. A last
row shows the distribution of counts per source and of exposures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from serendip.io.atomic import atomic_path
from serendip.simulate.population import LABELS


def plot_overview(population, path: str | Path, n_bins: int = 40) -> Path:
    """Write the overview PNG of ``population`` to ``path`` and return the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s, ev = population.sources, population.events
    labels = [lab for lab in LABELS if (s["label"] == lab).any()]
    fig, axes = plt.subplots(
        len(labels) + 1, 3, figsize=(13, 2.2 * (len(labels) + 1)), squeeze=False
    )
    edges_e = np.geomspace(500, 7000, 41)
    for r, lab in enumerate(labels):
        cls = np.flatnonzero((s["label"] == lab).to_numpy())
        i = int(cls[np.argmax(s["n_events"].to_numpy()[cls])])
        row = s.iloc[i]
        t, e = ev.events_of(i)
        x = (t - row["tstart"]) / 1e3
        span = row["exposure"] / 1e3
        bins = np.linspace(0, span, n_bins + 1)
        ax = axes[r, 0]
        soft = np.histogram(x[e < 2000], bins)[0]
        hard = np.histogram(x[e >= 2000], bins)[0]
        ax.step(bins[:-1], soft, where="post", color="tab:blue", label="0.5-2 keV")
        ax.step(bins[:-1], hard, where="post", color="tab:red", label="2-7 keV")
        for col in ("t_peak", "t_onset"):
            if np.isfinite(row[col]):
                ax.axvline((row[col] - row["tstart"]) / 1e3, color="k", ls=":", lw=0.8)
        ax.set_ylabel("counts / bin")
        ax.set_title(
            f"{lab}: {row['obsreg_id']} ({int(row['n_events'])} ct, {span:.0f} ks)", fontsize=9
        )
        if r == 0:
            ax.legend(fontsize=7)
        axes[r, 1].scatter(x, e / 1e3, s=2, alpha=0.4, color="k")
        axes[r, 1].set_yscale("log")
        axes[r, 1].set_ylabel("E [keV]")
        sub = ev.select(cls)
        h = np.histogram(sub.energy, edges_e)[0]
        axes[r, 2].step(edges_e[:-1] / 1e3, h / max(h.sum(), 1), where="post")
        axes[r, 2].set_xscale("log")
        axes[r, 2].set_ylabel("fraction")
        axes[r, 2].set_title(f"{lab}: stacked spectrum, {len(cls)} sources", fontsize=9)
    for c in range(2):
        axes[len(labels) - 1, c].set_xlabel("time since tstart [ks]")
    axes[len(labels) - 1, 2].set_xlabel("measured energy [keV]")
    last = axes[len(labels)]
    last[0].hist(np.log10(np.maximum(s["n_source_events"], 1)), bins=40)
    last[0].set_xlabel("log10 source counts")
    last[1].hist(s["exposure"] / 1e3, bins=40)
    last[1].set_xlabel("exposure [ks]")
    last[2].hist(np.log10(s["nh"]), bins=40)
    last[2].set_xlabel("log10 N_H [cm^-2]")
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
    return path
