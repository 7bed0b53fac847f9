"""Diagnostics of a classifier's out-of-fold predictions: label-noise audit and stratified figures.

* :func:`label_audit` ranks the labelled rows by the out-of-fold probability of their own
  label: the rows at the top are the most likely mislabelled (or the hardest), to be
  checked against their provenance (``label_provenance``, ``label_quality``).
* :func:`stratified_scores` gives per-class recall and top-label ECE in bins of a
  quantity that changes how well a source can be classified: net counts, off-axis angle,
  |Galactic latitude|, detection significance. :func:`strata_of` finds those columns in
  a CSC property table (``STRATA``).

Both take probabilities that were never fitted on the rows they score (``--cv``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.classify.metrics import classification_scores, expected_calibration_error

#: stratum -> (accepted column names, bin edges)
STRATA: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "net counts": (
        ("src_cnts_aper_b", "net_counts", "cnts_aper_b", "src_cnts"),
        (0, 20, 50, 200, 1000, np.inf),
    ),
    "off-axis angle [arcmin]": (
        ("theta", "theta_mean", "off_axis_angle", "offaxis"),
        (0, 3, 6, 10, np.inf),
    ),
    "|b| [deg]": (("abs_gal_b",), (0, 5, 20, 50, 90.01)),
    "significance": (("significance", "flux_significance_b", "CSCv2_S/N"), (0, 3, 6, 12, np.inf)),
}


def label_audit(
    proba: np.ndarray,
    y: np.ndarray,
    classes,
    names=None,
    meta: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Labelled rows ranked by the probability of their own label, lowest first.

    ``proba`` (n, C) out-of-fold probabilities in ``classes`` order, ``y`` (n,) class
    indices, ``names`` (n,) source names, ``meta`` (n rows) provenance columns to carry.
    Returns ``rank``, ``name``, ``label``, ``p_label``, ``most_probable``,
    ``p_most_probable`` (+ ``meta``'s columns), sorted by ``p_label``.
    """
    proba = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    classes = np.asarray([str(c) for c in classes], dtype=object)
    p_own = proba[np.arange(len(y)), y]
    order = np.argsort(p_own, kind="stable")
    out = pd.DataFrame(
        {
            "rank": np.arange(1, len(y) + 1),
            "name": (np.arange(len(y)) if names is None else np.asarray(names))[order],
            "label": classes[y[order]],
            "p_label": p_own[order],
            "most_probable": classes[proba[order].argmax(axis=1)],
            "p_most_probable": proba[order].max(axis=1),
        }
    )
    if meta is not None:
        m = meta.reset_index(drop=True).iloc[order].reset_index(drop=True)
        out = pd.concat([out, m[[c for c in m.columns if c not in out.columns]]], axis=1)
    return out


def strata_of(
    df: pd.DataFrame, F: pd.DataFrame | None = None
) -> dict[str, tuple[np.ndarray, tuple]]:
    """The strata of :data:`STRATA` that ``df`` (or the feature table ``F``) has:
    ``{stratum: (values (n,), edges)}``."""
    out = {}
    for name, (aliases, edges) in STRATA.items():
        for tab in (df, F):
            col = None if tab is None else next((a for a in aliases if a in tab.columns), None)
            if col is not None:
                v = pd.to_numeric(tab[col], errors="coerce").to_numpy(dtype=np.float64)
                out[name] = (v, edges)
                break
    return out


def stratified_scores(
    proba: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    classes,
    strata: dict[str, tuple[np.ndarray, tuple]],
    min_rows: int = 20,
) -> pd.DataFrame:
    """Per-class recall and ECE in each bin of each stratum.

    ``proba`` (n, C), ``y`` (n,) true and ``pred`` (n,) decided class indices; ``strata``
    as from :func:`strata_of`. Bins ``[lo, hi)`` with fewer than ``min_rows`` rows are left
    out. Returns one row per (stratum, bin): ``stratum``, ``bin``, ``n``, ``ece``,
    ``recall_<class>`` (NaN where the bin has no row of that class).
    """
    classes = [str(c) for c in classes]
    proba = np.asarray(proba, dtype=np.float64)
    rows = []
    for name, (v, edges) in strata.items():
        v = np.asarray(v, dtype=np.float64)
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            m = (v >= lo) & (v < hi)
            if m.sum() < min_rows:
                continue
            sc = classification_scores(y[m], pred[m], np.asarray(classes))
            row = {
                "stratum": name,
                "bin": f"[{lo:g}, {hi:g})",
                "n": int(m.sum()),
                "ece": expected_calibration_error(proba[m], y[m]),
            }
            row.update({f"recall_{c}": sc["recall"][c] for c in classes})
            rows.append(row)
    return pd.DataFrame(rows)
