"""PNG gallery of E-t maps and light curves per simulated class (issue 2's demo)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.atomic import atomic_path
from serendip.io.eventset import EventSet

#: count quantiles at which examples of each class are picked (faint to bright)
EXAMPLE_QUANTILES = (0.5, 0.75, 0.9, 0.99)


def pick_examples(counts: np.ndarray, n: int, min_counts: int = 30) -> np.ndarray:
    """Indices of up to ``n`` files spread over the count distribution (>= min_counts if any)."""
    counts = np.asarray(counts)
    pool = np.flatnonzero(counts >= min_counts)
    if len(pool) == 0:
        pool = np.arange(len(counts))
    if len(pool) <= n:
        return pool[np.argsort(counts[pool], kind="stable")]
    qs = (
        np.linspace(EXAMPLE_QUANTILES[0], EXAMPLE_QUANTILES[-1], n)
        if n != len(EXAMPLE_QUANTILES)
        else EXAMPLE_QUANTILES
    )
    order = pool[np.argsort(counts[pool], kind="stable")]
    picks = np.unique(np.round(np.asarray(qs) * (len(order) - 1)).astype(int))
    return order[picks]


def write_class_gallery(
    events: EventSet,
    sources: pd.DataFrame,
    out_dir: str | Path,
    n_per_class: int = 4,
    min_counts: int = 30,
) -> dict[str, Path]:
    """One PNG per class, ``OUT_DIR/gallery_<label>.png``: E-t map | light curve + HR rows.

    Parameters
    ----------
    events : the population's events (files matched by obsreg_id).
    sources : table with ``obsreg_id`` and ``label`` (the simulated class).
    out_dir : folder to write into (created if missing).
    n_per_class : examples per class, spread over the class's count distribution
        (median to 99th percentile), preferring files with >= ``min_counts`` events.

    Returns {label: path}.
    """
    from serendip.report import plots

    for c in ("obsreg_id", "label"):
        if c not in sources.columns:
            raise InputError(
                None, f"sources table lacks column {c!r}; found {list(sources.columns)[:20]}"
            )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ev_index = pd.Index(np.asarray(events.obsreg_id).astype(str))
    pos = ev_index.get_indexer(sources["obsreg_id"].astype(str))
    if (pos < 0).all():
        raise InputError(None, "no source of the sources table has events in the given EventSet")
    labels = sources["label"].astype(str).to_numpy()
    counts = events.counts
    written: dict[str, Path] = {}
    for label in sorted(set(labels[pos >= 0])):  # one figure per class (a handful)
        rows = pos[(labels == label) & (pos >= 0)]
        pick = rows[pick_examples(counts[rows], n_per_class, min_counts)]
        caps = [f"{ev_index[i]} ({counts[i]} events)" for i in pick]
        fig = plots.class_gallery_figure(events, list(pick), caps, f"class: {label}")
        path = out_dir / f"gallery_{re.sub(r'[^A-Za-z0-9_.-]+', '_', label)}.png"
        with atomic_path(path) as tmp:
            Path(tmp).write_bytes(plots.png_bytes(fig))
        written[label] = path
    return written
