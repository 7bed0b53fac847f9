"""Features from a counterpart catalogue the user crossmatches: match probability + columns.

:func:`counterpart_features` matches every input row to its nearest object of a user
catalogue (astropy coordinates, within a stated radius) with
:func:`serendip.catalog.crossmatch.probabilistic_crossmatch`, which uses the position
errors of both tables and estimates the expected false-match fraction from shifted
positions. It returns classifier features:

* ``<name>_p_match``: the match probability (0 where nothing lies within the radius), so
  the classifier can trust a likely counterpart more than a chance coincidence;
* ``<name>_<column>`` for each requested numeric catalogue column, missing (NaN) where
  there is no counterpart: rows are never dropped, the trees route missing values.

``serendip classify`` reads it from the ``[counterparts]`` section
(:class:`serendip.classify.config.CounterpartsSection`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from serendip.errors import InputError

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def counterpart_features(
    sources: pd.DataFrame,
    catalog: pd.DataFrame,
    *,
    name: str = "cp",
    columns: list[str] | None = None,
    radius_arcsec: float = 2.0,
    sigma_sources: float | str = 0.5,
    sigma_catalog: float | str = 0.1,
    ra: str = "ra",
    dec: str = "dec",
    cat_ra: str = "ra",
    cat_dec: str = "dec",
    catalog_name: str = "counterparts",
) -> tuple[pd.DataFrame, dict]:
    """Counterpart features of every row of ``sources`` from ``catalog``.

    Parameters
    ----------
    sources : n rows with ``ra``, ``dec`` [deg, ICRS] (and the position-error column when
        ``sigma_sources`` names one).
    catalog : the counterpart catalogue with ``cat_ra``, ``cat_dec`` [deg].
    name : prefix of the feature names (letters, digits, ``_``).
    columns : numeric catalogue columns to add (default: every numeric column but the
        coordinates and the position-error column).
    radius_arcsec : match radius [arcsec].
    sigma_sources, sigma_catalog : 1-sigma position errors [arcsec], a number or a column.

    Returns
    -------
    ``(features, info)``: ``features`` has n rows (index of ``sources``), float64 columns
    ``<name>_p_match`` then ``<name>_<column>``; ``info`` is the crossmatch summary of
    :func:`~serendip.catalog.crossmatch.probabilistic_crossmatch` (``n_matched``,
    ``false_match_fraction``, ...) plus ``name``, ``columns`` and ``features``.
    """
    from serendip.catalog.crossmatch import probabilistic_crossmatch

    if not _NAME.match(name):
        raise ValueError(f"counterpart name {name!r}: use letters, digits and _ (first a letter)")
    skip = {cat_ra, cat_dec} | ({sigma_catalog} if isinstance(sigma_catalog, str) else set())
    if columns is None:
        columns = [
            c
            for c in catalog.columns
            if c not in skip and pd.api.types.is_numeric_dtype(catalog[c])
        ]
    columns = list(columns)
    missing = [c for c in columns if c not in catalog.columns]
    if missing:
        raise InputError(
            catalog_name, f"no column(s) {missing}; found {list(catalog.columns)[:20]}"
        )
    text = [c for c in columns if not pd.api.types.is_numeric_dtype(catalog[c])]
    if text:
        raise InputError(catalog_name, f"column(s) {text} are not numeric: cannot be features")
    m, info = probabilistic_crossmatch(
        sources,
        catalog,
        radius_arcsec,
        sigma_sources=sigma_sources,
        sigma_catalog=sigma_catalog,
        shift_arcsec=max(60.0, 20 * radius_arcsec),
        columns=columns,
        prefix="_cp_",
        ra=ra,
        dec=dec,
        cat_ra=cat_ra,
        cat_dec=cat_dec,
        sources_name="input",
        catalog_name=catalog_name,
    )
    out = {f"{name}_p_match": m["_cp_p_match"].to_numpy(dtype=np.float64)}
    for c in columns:
        v = np.array(pd.to_numeric(m["_cp_" + c], errors="coerce"), dtype=np.float64)
        v[~np.isfinite(v)] = np.nan
        out[f"{name}_{c}"] = v
    F = pd.DataFrame(out, index=sources.index)
    info = {**info, "name": name, "columns": columns, "features": list(F.columns)}
    return F, info
