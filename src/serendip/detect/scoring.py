"""Fit a detector on a feature table and score tables with it: what ``serendip train-detector``
and ``serendip detect`` do, as library functions.

* :func:`train_detector` - a detector by name (:data:`serendip.detect.registry.DETECTORS`) fitted
  on columns of a table; it remembers the column names (``feature_names_in_``), so a saved model
  scores new tables by name;
* :func:`score_table` - the scores table of every row: an id column, ``score`` (higher = more
  anomalous), ``rank`` (1 = most anomalous), ``anomaly`` (score above the model's
  threshold), per-class ``score_<class>`` columns of MCIF, ``predicted_class`` and ``branch``
  where the detector has them;
* the pieces they share with the chunked version (:func:`serendip.scale.verbs.detect_chunked`):
  :func:`feature_matrix`, :func:`find_id_column`, :func:`score_rows`, :func:`add_rank`.

Example
-------
>>> import numpy as np, pandas as pd
>>> from serendip.detect.scoring import train_detector, score_table
>>> df = pd.DataFrame({"id": range(200), "a": np.random.default_rng(0).normal(size=200)})
>>> det = train_detector(df, "iforest", ["a"], params={"n_estimators": 20})
>>> scores = score_table(det, df)
>>> list(scores.columns)
['id', 'score', 'rank', 'anomaly']
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.notices import notice

#: id columns looked for, in this order, when none is named
ID_CANDIDATES = ("id", "obj_id", "object_id", "objectid", "oid", "source_id", "name", "obsreg_id")


def _read(table, source=None) -> tuple[pd.DataFrame, str]:
    """A DataFrame and the name to use in messages, from a DataFrame or a table path."""
    if isinstance(table, pd.DataFrame):
        return table, str(source or "table")
    from serendip.io.tables import read_table

    return read_table(table), str(table)


def feature_matrix(
    df: pd.DataFrame, columns: Sequence[str], source: str | Path | None = None,
    drop_missing: bool = False,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Numeric matrix of ``columns`` and the mask of kept rows.

    Returns
    -------
    X : (n_kept, len(columns)) float64
    keep : (len(df),) bool, False for rows dropped for missing / non-finite values (only with
        ``drop_missing``; otherwise such rows raise :class:`InputError` naming ``source``).
        Dropped rows are counted in the run's notices.
    """
    from serendip.detect.base import MAX_ABS_FEATURE
    from serendip.io.tables import require_columns

    columns = list(columns)
    require_columns(df, columns, source)
    if len(df) == 0:
        raise InputError(source, "the table has no rows")
    bad = [
        c
        for c in columns
        if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))
    ]
    if bad:
        raise InputError(source, f"feature column(s) {bad} are not numeric")
    X = df[columns].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        huge = np.abs(X) > MAX_ABS_FEATURE
    if huge.any():
        cols = [columns[j] for j in np.flatnonzero(huge.any(axis=0))]
        raise InputError(
            source,
            f"{int(huge.sum())} value(s) in column(s) {cols} are finite but beyond "
            f"+-{MAX_ABS_FEATURE:.0e} (first: {X[huge][0]:.3g} at row "
            f"{int(np.argwhere(huge)[0][0])}), where the detectors (float32) overflow; "
            "rescale them (e.g. take the log)",
        )
    finite = np.isfinite(X).all(axis=1)
    if not finite.all():
        n_bad = int((~finite).sum())
        if not drop_missing:
            first = int(np.argmax(~finite))
            cols = [columns[j] for j in np.flatnonzero(~np.isfinite(X[first]))]
            raise InputError(
                source,
                f"{n_bad} row(s) have missing / non-finite features (first: row {first}, "
                f"column(s) {cols}); impute them or pass --drop-missing",
            )
        notice(
            "detect", "missing_features",
            f"dropped {n_bad} row(s) with missing / non-finite features",
            source=None if source is None else str(source), count=n_bad, total=len(X),
        )  # fmt: skip
    return X[finite], finite


def find_id_column(
    df: pd.DataFrame, requested: str | None = None, source: str | Path | None = None
) -> str | None:
    """``requested`` (checked to exist), else the first of :data:`ID_CANDIDATES` present, else
    None (rows are then identified by their row number)."""
    if requested:
        if requested not in df.columns:
            raise InputError(source, f"no id column {requested!r}; found {list(df.columns)[:30]}")
        return requested
    return next((name for name in ID_CANDIDATES if name in df.columns), None)


def score_rows(
    det, df: pd.DataFrame, columns: Sequence[str], source, id_column: str | None,
    drop_missing: bool = False, row_offset: int = 0,
) -> tuple[pd.DataFrame, np.ndarray]:  # fmt: skip
    """Scores of the rows of ``df`` by the fitted detector ``det`` (no rank yet).

    Columns: the id column (or ``row``, ``row_offset`` + row number), ``score``, per-class
    ``score_<class>`` (MCIF), ``predicted_class`` and ``branch`` where the detector has them.
    Returns ``(table, kept-row mask)``; bad input raises :class:`InputError` naming ``source``.
    """
    X, keep = feature_matrix(df, columns, source, drop_missing)
    try:
        scores = det.score_samples(X)
    except InputError as exc:
        raise InputError(source, exc.problem) from exc
    res = pd.DataFrame()
    if id_column is not None:
        res[id_column] = df[id_column].to_numpy()[keep]
    else:
        res["row"] = row_offset + np.flatnonzero(keep)
    res["score"] = scores
    if hasattr(det, "score_matrix") and getattr(det, "detector", "mcif") == "mcif":
        values, classes = det.score_matrix(X)
        for k, c in enumerate(classes):
            res[f"score_{c}"] = values[:, k]
    if hasattr(det, "predict_class"):
        res["predicted_class"] = det.predict_class(X)
    if hasattr(det, "predict_branch"):
        res["branch"] = det.predict_branch(X)
    return res, keep


def add_rank(res: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Insert ``rank`` (1 = highest score, ties in row order) and ``anomaly`` (score >
    ``threshold``) after ``score``, in place; returns ``res``."""
    scores = res["score"].to_numpy()
    order = np.argsort(-scores, kind="stable")
    rank = np.empty(len(scores), dtype=np.int64)
    rank[order] = np.arange(1, len(scores) + 1)
    pos = list(res.columns).index("score") + 1
    res.insert(pos, "rank", rank)
    res.insert(pos + 1, "anomaly", scores > threshold)
    return res


def train_detector(
    table: pd.DataFrame | str | Path,
    detector: str,
    features: Sequence[str],
    *,
    label_column: str | None = None,
    contamination: float = 0.01,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    drop_missing: bool = False,
    verbose: bool = False,
    source: str | Path | None = None,
):
    """Fit the detector named ``detector`` on the ``features`` columns of ``table``.

    Parameters
    ----------
    table : DataFrame or path of a feature table (Parquet, FITS, VOTable, CSV).
    detector : short name in :data:`serendip.detect.registry.DETECTORS` ("iforest", ...).
    features : feature column names.
    label_column : column of known-class labels (needed by the detectors with
        ``needs_labels``: mcif, mcdsvdd, latent, router).
    contamination : training fraction above ``threshold_`` (0-0.5).
    seed : random seed (``random_state``) where the detector takes one.
    params : further detector settings (override ``contamination``, ``seed``).
    drop_missing : drop rows with missing features (counted) instead of failing.
    verbose : training progress of the neural detectors.
    source : name of a DataFrame ``table`` in error messages.

    Returns
    -------
    The fitted detector, with ``feature_names_in_`` set to ``features``; ``det.save(path)``
    writes it without pickle.
    """
    from serendip.detect.registry import DETECTORS

    df, source = _read(table, source)
    entry = DETECTORS[detector]
    cols = list(dict.fromkeys(features))
    X, keep = feature_matrix(df, cols, source, drop_missing)
    y = None
    if label_column is not None:
        if label_column not in df.columns:
            raise InputError(
                source, f"no label column {label_column!r}; found {list(df.columns)[:30]}"
            )
        labels = df[label_column][keep]
        if labels.isna().any():
            raise InputError(
                source, f"{int(labels.isna().sum())} row(s) have no label in {label_column!r}"
            )
        y = np.asarray(labels.astype(str))
    elif entry.needs_labels:
        raise InputError(
            source, f"detector {entry.name!r} needs known-class labels: pass --label-column"
        )
    params = dict(params or {})
    det = entry.make(**params)
    extra = {"contamination": contamination, "random_state": seed, "verbose": verbose}
    det.set_params(**{k: v for k, v in extra.items() if k in det.get_params() and k not in params})
    try:
        det.fit(X, y)
    except InputError as exc:
        if exc.path is None:
            raise InputError(source, exc.problem) from exc
        raise
    except ValueError as exc:
        raise InputError(source, f"cannot fit {entry.name}: {exc}") from exc
    det.feature_names_in_ = np.asarray(cols, dtype=object)
    return det


def load_scorer(model) -> Any:
    """A fitted detector from a detector object or a model file written by ``save``, checked to
    know its feature column names."""
    from serendip.detect.base import BaseDetector

    det = BaseDetector.load(model) if isinstance(model, (str, Path)) else model
    if getattr(det, "feature_names_in_", None) is None:
        raise InputError(
            model if isinstance(model, (str, Path)) else None,
            "model stores no feature column names (it was not trained by train-detector)",
        )
    return det


def score_table(
    model, table: pd.DataFrame | str | Path, *, id_column: str | None = None,
    drop_missing: bool = False, source: str | Path | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Score every row of ``table`` with ``model`` (a fitted detector or a saved model file).

    Reads the model's own feature columns (``feature_names_in_``). Returns the scores table
    (see the module docstring) in the table's row order, with ``rank`` and ``anomaly``.
    ``source`` names a DataFrame ``table`` in error messages.
    """
    det = load_scorer(model)
    df, source = _read(table, source)
    idc = find_id_column(df, id_column, source)
    res, _ = score_rows(det, df, [str(c) for c in det.feature_names_in_], source, idc, drop_missing)
    return add_rank(res, det.threshold_)
