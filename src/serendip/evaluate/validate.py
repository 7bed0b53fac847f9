"""Checks of an evaluation table at the loading boundary (no silent wrong answer).

* A column that holds numbers and some text cells is an :class:`InputError` naming the file,
  the column and the count (it used to drop silently out of the default features, changing
  the results); wholly textual columns (names, ids) are skipped and counted.
* Rows without a label, feature columns empty on every row and ``log10`` of non-positive
  values are counted in the notices (:func:`serendip.notices.notice`).
* Too few rows or classes, and objects whose rows carry different classes, are errors
  before any detector runs (they gave a header-only ``results.csv`` with exit 0, or a
  traceback).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.notices import notice

STAGE = "evaluate"


def numeric_columns(df: pd.DataFrame, columns: list[str], source) -> list[str]:
    """The columns of ``columns`` usable as features.

    Numeric columns are kept; a text column in which some cells are numbers and others are
    not raises :class:`InputError`; a column with no number at all is skipped (counted).
    """
    from serendip.io.tables import check_numeric_columns

    keep, skipped = [], []
    for c in columns:
        col = df[c]
        if pd.api.types.is_bool_dtype(col):
            skipped.append(c)
        elif pd.api.types.is_numeric_dtype(col):
            keep.append(c)
        elif pd.to_numeric(col, errors="coerce").notna().any():
            check_numeric_columns(df, [c], source)  # raises, naming the first text cell
            keep.append(c)  # only empty cells besides numbers: missing values
        else:
            skipped.append(c)
    if skipped:
        notice(
            STAGE, "text_columns_skipped",
            f"{len(skipped)} non-numeric column(s) not used as features: {skipped[:10]}",
            source=str(source), count=len(skipped), total=len(columns), severity="info",
        )  # fmt: skip
    return keep


def check_labels(
    labels: np.ndarray, groups: np.ndarray | None, source, label: str, group: str | None
) -> None:
    """Refuse label sets that cannot be evaluated (see the module docstring)."""
    n = len(labels)
    classes, counts = np.unique(labels, return_counts=True)
    if n < 2 or len(classes) < 2:
        what = f"{n} labelled row(s)" if n < 2 else f"a single class {classes[0]!r} on all {n} rows"
        raise InputError(
            source,
            f"column {label!r} holds {what}: leave-one-subclass-out needs at least 2 classes "
            "(one held out, the others to train on)",
        )
    if groups is not None:
        per_obj = pd.Series(labels).groupby(np.asarray(groups), sort=False).nunique()
        mixed = per_obj[per_obj > 1]
        if len(mixed):
            obj = mixed.index[0]
            its = sorted(set(np.asarray(labels)[np.asarray(groups) == obj]))
            raise InputError(
                source,
                f"{len(mixed)} object(s) in column {group!r} have rows of different classes in "
                f"column {label!r} (first {obj!r}: {its}); give each object one class",
            )


def count_dropped(
    n_unlabelled: int, n_rows: int, all_empty: list[str], log_invalid: dict[str, int], source
) -> None:
    """Count what :func:`serendip.evaluate.config.feature_matrix` dropped or blanked."""
    if n_unlabelled:
        notice(
            STAGE, "unlabelled_rows", f"dropped {n_unlabelled} row(s) without a label",
            source=str(source), count=n_unlabelled, total=n_rows,
        )  # fmt: skip
    if all_empty:
        notice(
            STAGE, "empty_feature_columns",
            f"dropped {len(all_empty)} feature column(s) empty on every row: {all_empty[:10]}",
            source=str(source), count=len(all_empty),
        )  # fmt: skip
    for c, k in log_invalid.items():
        if k:
            notice(
                STAGE, "log10_nonpositive",
                f"log10 of column {c!r}: {k} zero/negative value(s) made missing (imputed)",
                source=str(source), count=k, total=n_rows - n_unlabelled,
            )  # fmt: skip
