"""Per-cluster summaries: size, known transients inside (by type), median features."""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.errors import InputError


def known_types_for(obsreg_id, known: pd.DataFrame | None) -> np.ndarray:
    """Known type of every file, (n_files,) object array, ``""`` where not known.

    ``known`` is a table (obsreg_id, type) as returned by
    :func:`serendip.catalog.read_known_transients`.
    """
    ids = pd.Index(np.asarray(obsreg_id).astype(str))
    out = np.full(len(ids), "", dtype=object)
    if known is None or len(known) == 0:
        return out
    k = known.drop_duplicates("obsreg_id")
    pos = ids.get_indexer(k["obsreg_id"].astype(str))
    hit = pos >= 0
    out[pos[hit]] = k["type"].astype(str).to_numpy()[hit]
    return out


def cluster_summary(labels, known_types=None, features: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per cluster (noise, label 0, included as a row when present).

    Parameters
    ----------
    labels : (n_files,) int, 0 = noise, 1..K clusters.
    known_types : (n_files,) str, the known type of each file or ``""`` / None / NaN.
    features : (n_files, n_features) DataFrame of per-file event features (numeric
        columns are summarised by their median, non-numeric ones skipped).

    Returns
    -------
    DataFrame with columns ``cluster``, ``size``, ``fraction`` (size / n_files: on the
    noise row, the noise fraction), ``n_known``, ``known_<type>`` (count of
    known transients of each type inside), ``dominant_known_type`` (most frequent known
    type, ``""`` if none), ``dominant_known_count``, ``known_fraction`` (n_known / size)
    and ``median_<feature>`` per numeric feature; sorted by cluster label.
    """
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    if known_types is None:
        kt = np.full(n, "", dtype=object)
    else:
        kt = pd.Series(np.asarray(known_types, dtype=object)).fillna("").astype(str).to_numpy()
        kt[np.isin(kt, ["nan", "None"])] = ""
        if len(kt) != n:
            raise InputError(None, f"known_types has {len(kt)} entries for {n} cluster labels")
    clusters, sizes = np.unique(labels, return_counts=True)
    out = pd.DataFrame({"cluster": clusters, "size": sizes, "fraction": sizes / max(n, 1)})
    is_known = kt != ""
    counts = (
        pd.crosstab(labels[is_known], kt[is_known]).reindex(clusters, fill_value=0)
        if is_known.any()
        else pd.DataFrame(index=clusters)
    )
    out["n_known"] = counts.sum(axis=1).to_numpy().astype(np.int64) if counts.shape[1] else 0
    for t in counts.columns:
        out[f"known_{t}"] = counts[t].to_numpy().astype(np.int64)
    if counts.shape[1]:
        dom = counts.to_numpy().argmax(axis=1)
        dom_count = counts.to_numpy().max(axis=1)
        out["dominant_known_type"] = np.where(
            dom_count > 0, np.asarray(counts.columns, dtype=object)[dom], ""
        )
        out["dominant_known_count"] = dom_count.astype(np.int64)
    else:
        out["dominant_known_type"] = ""
        out["dominant_known_count"] = 0
    out["known_fraction"] = out["n_known"] / out["size"]
    if features is not None:
        if len(features) != n:
            raise InputError(None, f"features has {len(features)} rows for {n} cluster labels")
        num = features.select_dtypes(include=[np.number, "bool"]).astype(np.float64)
        med = num.groupby(labels).median().reindex(clusters)
        for c in med.columns:
            out[f"median_{c}"] = med[c].to_numpy()
    return out.reset_index(drop=True)
