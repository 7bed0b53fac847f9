"""Checks of a classification input at the table-loading boundary (no silent wrong answer).

:func:`check_feature_table` runs once the feature table is built from the catalogue and
before any model sees it. A feature that cannot be computed for any row (an all-empty
``powlaw_gamma`` column, fluxes that are zero or negative on every row, so every
``log_flux_*`` is undefined) is an :class:`~serendip.errors.InputError` naming the file, the
column and the count: a model would otherwise impute the whole column and change the
classes without a word. A feature whose columns are not in the table at all (e.g.
``var_inter_prob`` in a per-detection table) is imputed on every row and counted as a
warning; features missing or invalid on some rows are counted in the run's
notices (:func:`serendip.notices.notice`; severity "warning" when more than
:data:`MOSTLY_INVALID` of the rows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.notices import notice

#: fraction of rows above which a partly missing feature is a warning rather than info
MOSTLY_INVALID = 0.5
#: raw flux columns whose logarithm is a feature (keys of classify.features.XRAY_ALIASES)
FLUX_KEYS = ("flux_s", "flux_m", "flux_h", "flux_b")


def check_feature_table(
    raw: pd.DataFrame, features: pd.DataFrame, source: str, stage: str = "classify"
) -> None:
    """Refuse wholly invalid features of ``features`` (built from ``raw``, read from
    ``source``) and count partly invalid ones; see the module docstring."""
    from serendip.classify.features import _resolve

    n = len(features)
    if n == 0:
        raise InputError(source, "the table has no rows to classify")
    for key in FLUX_KEYS:
        col = _resolve(raw, key)
        if col is None or f"log_{key}" not in features.columns:
            continue
        v = pd.to_numeric(raw[col], errors="coerce").to_numpy(dtype=np.float64)
        nonpos = int((v <= 0).sum())
        if nonpos == n:
            raise InputError(
                source,
                f"column {col!r} is zero or negative on all {n} rows, so log_{key} is "
                "undefined everywhere; check its units and sign (energy fluxes, erg/cm2/s)",
            )
        if nonpos:
            notice(
                stage, "nonpositive_flux",
                f"column {col!r} is zero or negative on {nonpos} of {n} rows: their log_{key} "
                "is missing and imputed by the model",
                source=source, count=nonpos, total=n,
                severity="warning" if nonpos > MOSTLY_INVALID * n else "info",
            )  # fmt: skip
    missing = features.isna().sum()
    for col, n_miss in missing.items():
        n_miss = int(n_miss)
        present = [c for c in _raw_columns(str(col)) if c in raw.columns]
        if n_miss == n and present:
            raise InputError(
                source,
                f"column {present[0]!r} is empty or invalid on all {n} rows, so feature "
                f"{col!r} is missing everywhere and the model would impute it on every row; "
                "fill the column, or drop it from the file",
            )
        if n_miss == n:
            notice(
                stage, "absent_feature",
                f"feature {col!r} is not in the table (none of the columns "
                f"{_raw_columns(str(col))}): imputed by the model on all {n} rows",
                source=source, count=n, total=n,
            )  # fmt: skip
        elif n_miss:
            notice(
                stage, "missing_feature",
                f"feature {col!r} is missing on {n_miss} of {n} rows (imputed by the model)",
                source=source, count=n_miss, total=n,
                severity="warning" if n_miss > MOSTLY_INVALID * n else "info",
            )  # fmt: skip


def _raw_columns(feature: str) -> list[str]:
    """The catalogue columns (any spelling) that feature ``feature`` is computed from."""
    from serendip.classify.features import XRAY_ALIASES

    key = feature.removeprefix("log_")
    if feature.startswith("snr_"):  # flux / flux error of a band
        key = "flux_err_" + feature[-1]
    if key in XRAY_ALIASES:
        return list(XRAY_ALIASES[key])
    if feature == "abs_gal_b":
        return ["ra", "dec"]
    if feature.startswith("var_ratio_"):
        return [f"var_sigma_{feature[-1]}", f"var_mean_{feature[-1]}", feature]
    if feature == "var_newq_b":
        return ["var_min_b", "var_max_b", feature]
    return [feature]
