"""Neighbours of known transients in feature space (not only in the 2-D embedding).

Distances are Euclidean in the *standardised* feature space (each feature centred on
its median and divided by its inter-quartile range / 1.349, a robust standard
deviation; constant features are left unscaled), so no single feature with large
numbers (counts, exposure) dominates the distance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from serendip.errors import InputError


def robust_standardize(X: np.ndarray) -> np.ndarray:
    """(X - median) / (IQR / 1.349) per column; columns with zero IQR use their std, then 1."""
    X = np.asarray(X, dtype=np.float64)
    med = np.median(X, axis=0)
    q75, q25 = np.percentile(X, [75, 25], axis=0)
    scale = (q75 - q25) / 1.349
    std = X.std(axis=0)
    scale = np.where(scale > 0, scale, np.where(std > 0, std, 1.0))
    return (X - med) / scale


def _index_of_known(
    obsreg_id: np.ndarray, known: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions in the catalogue of the known transients present, their ids and types."""
    ids = pd.Index(np.asarray(obsreg_id).astype(str))
    if not ids.is_unique:
        raise InputError(None, "obsreg_id values of the catalogue are not unique")
    k = known.drop_duplicates("obsreg_id")
    pos = ids.get_indexer(k["obsreg_id"].astype(str))
    hit = pos >= 0
    return (
        pos[hit],
        k["obsreg_id"].astype(str).to_numpy()[hit],
        k["type"].astype(str).to_numpy()[hit],
    )


def known_neighbours(
    X, obsreg_id, known: pd.DataFrame, k: int = 10, standardize: bool = True
) -> pd.DataFrame:
    """The ``k`` nearest files of every known transient present in the catalogue.

    Parameters
    ----------
    X : (n_files, n_features) feature matrix (rows in the order of ``obsreg_id``).
    obsreg_id : (n_files,) file ids.
    known : DataFrame(obsreg_id, type) of known transients; those absent from
        ``obsreg_id`` are skipped.
    k : neighbours per known transient (the transient itself excluded).
    standardize : use :func:`robust_standardize` features (default) or raw ones.

    Returns
    -------
    DataFrame(``known_id``, ``known_type``, ``rank`` (1 = nearest), ``obsreg_id``,
    ``index`` (row in X), ``distance`` [standardised feature units]), k rows per known
    transient (fewer when the catalogue is small), sorted by known_id then rank.
    """
    X = np.asarray(X, dtype=np.float64)
    Z = robust_standardize(X) if standardize else X
    ids = np.asarray(obsreg_id).astype(str)
    pos, kid, ktype = _index_of_known(ids, known)
    cols = ["known_id", "known_type", "rank", "obsreg_id", "index", "distance"]
    if len(pos) == 0 or len(ids) < 2:
        return pd.DataFrame(
            {
                c: pd.Series(
                    dtype=object if c in ("known_id", "known_type", "obsreg_id") else float
                )
                for c in cols
            }
        )
    kk = int(min(k + 1, len(ids)))
    dist, ind = NearestNeighbors(n_neighbors=kk).fit(Z).kneighbors(Z[pos])
    # drop the transient itself wherever it appears (ties at distance 0 may reorder it)
    not_self = ind != pos[:, None]
    # keep at most k neighbours per row, in order
    keep = not_self & (np.cumsum(not_self, axis=1) <= k)
    rows = np.repeat(np.arange(len(pos)), keep.sum(axis=1))
    rank = (np.cumsum(keep, axis=1))[keep]
    out = pd.DataFrame(
        {
            "known_id": kid[rows],
            "known_type": ktype[rows],
            "rank": rank.astype(np.int64),
            "obsreg_id": ids[ind[keep]],
            "index": ind[keep].astype(np.int64),
            "distance": dist[keep],
        }
    )
    return out.sort_values(["known_id", "rank"], kind="stable").reset_index(drop=True)


def nearest_known(X, obsreg_id, known: pd.DataFrame, standardize: bool = True) -> pd.DataFrame:
    """For every file the nearest known transient (other than itself) and its distance.

    Returns DataFrame(``obsreg_id``, ``nearest_known``, ``nearest_known_type``,
    ``nearest_known_distance`` [standardised feature units]) in the order of
    ``obsreg_id``; empty strings and NaN where no (other) known transient exists.
    """
    X = np.asarray(X, dtype=np.float64)
    Z = robust_standardize(X) if standardize else X
    ids = np.asarray(obsreg_id).astype(str)
    n = len(ids)
    pos, kid, ktype = _index_of_known(ids, known)
    out = pd.DataFrame(
        {
            "obsreg_id": ids,
            "nearest_known": np.full(n, "", dtype=object),
            "nearest_known_type": np.full(n, "", dtype=object),
            "nearest_known_distance": np.full(n, np.nan),
        }
    )
    if len(pos) == 0:
        return out
    kk = min(2, len(pos))
    dist, ind = NearestNeighbors(n_neighbors=kk).fit(Z[pos]).kneighbors(Z)
    is_self = pos[ind] == np.arange(n)[:, None]
    # first neighbour that is not the file itself
    choice = np.where(is_self[:, 0], 1, 0)
    valid = choice < kk
    choice = np.minimum(choice, kk - 1)
    valid &= ~is_self[np.arange(n), choice]
    j = ind[np.arange(n), choice]
    out.loc[valid, "nearest_known"] = kid[j[valid]]
    out.loc[valid, "nearest_known_type"] = ktype[j[valid]]
    out.loc[valid, "nearest_known_distance"] = dist[np.arange(n), choice][valid]
    return out
