"""Catalogue tables: CSC property tables from a file (Parquet, CSV, FITS, VOTable) or TAP.

:func:`read_catalog` reads a local table and checks that it has a source-name column and
the columns a feature set needs; :func:`load_catalog` takes a config-style dict and
either reads a file or queries the CSC TAP service (cached, see :mod:`serendip.io.tap`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from serendip.errors import ConfigError, InputError
from serendip.io.tables import read_table

NAME_ALIASES = ("name", "CSCv2_name", "csc_name", "source_name", "NAME")
"""Columns accepted as the source identifier (the CSC "2CXO J..." name)."""
POSITION_ALIASES = {
    "ra": ("ra", "RA", "CSCv2_RA", "ra_deg", "RAJ2000"),
    "dec": ("dec", "DEC", "Dec", "CSCv2_DEC", "dec_deg", "DEJ2000"),
}
"""Columns accepted as the position in degrees (renamed to ``ra`` / ``dec``)."""


def name_column(df: pd.DataFrame, source: str | Path | None = None) -> str:
    """The column that names sources, or :class:`InputError` naming ``source``."""
    for c in NAME_ALIASES:
        if c in df.columns:
            return c
    raise InputError(
        source,
        f"no source-name column (one of {list(NAME_ALIASES)}); found {list(df.columns)[:20]}",
    )


def read_catalog(path: str | Path, feature_set: str | None = None) -> pd.DataFrame:
    """Read a CSC property table (one row per detection or per source).

    Returns the table with a ``name`` column (renamed from an alias if needed). When
    ``feature_set`` ("umlcaxs" or "xray") is given, the columns it needs are checked now
    so a bad file fails with its name and the missing columns.
    """
    df = read_table(path)
    if len(df) == 0:
        raise InputError(path, "table has no rows")
    col = name_column(df, path)
    if col != "name":
        df = df.rename(columns={col: "name"})
    df["name"] = df["name"].astype(str).str.strip()
    for std, aliases in POSITION_ALIASES.items():
        if std not in df.columns:
            found = next((a for a in aliases if a in df.columns), None)
            if found is not None:
                df = df.rename(columns={found: std})
    if feature_set is not None:
        from serendip.classify.features import build_features

        build_features(df.head(1), feature_set, source=str(path))
    df.attrs["source_path"] = str(path)
    return df


def load_catalog(
    cfg: dict, base: Path | None = None, feature_set: str | None = None
) -> pd.DataFrame:
    """Input table from a config section: ``{"path": ...}`` or ``{"tap": {...}}``.

    TAP keys: ``url``, ``timeout_s``, ``cache_dir``, ``offline``, and the
    :class:`~serendip.io.tap.CscQuery` fields (``min_flux_significance_b``, ``cone``,
    ``names``, ``obsids``, ``where``, ``top``, ``schema``, ``not_null``).
    """
    from serendip.io.tap import CSC21_TAP_URL, CscQuery, run_tap

    base = Path.cwd() if base is None else base
    if "path" in cfg:
        p = Path(cfg["path"])
        return read_catalog(p if p.is_absolute() else base / p, feature_set)
    if "tap" in cfg:
        t = dict(cfg["tap"])
        url = t.pop("url", CSC21_TAP_URL)
        timeout = float(t.pop("timeout_s", 120.0))
        cache = t.pop("cache_dir", None)
        offline = bool(t.pop("offline", False))
        if cache is not None and not Path(cache).is_absolute():
            cache = base / cache
        try:
            q = CscQuery(**t)
        except TypeError as exc:
            raise ConfigError("input.tap", f"unknown query option: {exc}") from exc
        df = run_tap(q.adql(), url, timeout_s=timeout, cache_dir=cache, offline=offline)
        if "name" not in df.columns:
            raise InputError(f"TAP service {url}", "answer has no 'name' column")
        df["name"] = df["name"].astype(str).str.strip()
        return df
    raise ConfigError("input", "give either input.path (a table file) or an input.tap section")
