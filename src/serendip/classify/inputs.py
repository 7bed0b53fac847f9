"""The input of a classification: CSC property tables from a file (Parquet, CSV, FITS,
VOTable) or TAP.

(It sits in ``classify`` rather than ``io`` because it checks the columns of the
classification feature sets of :mod:`serendip.classify.features`; the generic readers it
uses are :func:`serendip.io.tables.read_table` and :mod:`serendip.io.tap`.)

:func:`read_catalog` reads a local table and checks that it has a source-name column and
the columns a feature set needs; :func:`load_catalog` takes a config-style dict and
either reads a file or queries the CSC TAP service (cached, see :mod:`serendip.io.tap`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import ConfigError, InputError
from serendip.io.tables import check_numeric_columns, read_table

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


def _numeric_columns(df: pd.DataFrame, feature_set: str | None) -> list[str]:
    """Columns of ``df`` that must hold numbers: positions and the feature set's inputs."""
    cols = ["ra", "dec"]
    if feature_set in ("xray", "xray+mw"):
        from serendip.classify.features import MW_ALIASES, XRAY_ALIASES

        cols += [a for aliases in XRAY_ALIASES.values() for a in aliases]
        if feature_set == "xray+mw":
            cols += [a for aliases in MW_ALIASES.values() for a in aliases]
    elif feature_set == "umlcaxs":
        from serendip.classify.features import UMLCAXS_FEATURES

        cols += UMLCAXS_FEATURES
        cols += [f"var_{k}_{b}" for k in ("sigma", "mean") for b in "bhs"]
        cols += ["var_min_b", "var_max_b"]
    return [c for c in dict.fromkeys(cols) if c in df.columns]


def check_units(df: pd.DataFrame, source, renames: dict[str, str] | None = None) -> None:
    """Raise :class:`InputError` when a FITS/VOTable column has a unit serendip cannot use.

    Positions must be in degrees and X-ray fluxes in an energy-flux unit (converted to
    erg cm^-2 s^-1 when they are, e.g., W m^-2); a column without a unit is taken as is.
    ``df.attrs["units"]`` (column -> unit string) is set by :func:`read_table`;
    ``renames`` maps the file's column names to those of ``df``.
    """
    units = df.attrs.get("units") or {}
    if not units:
        return
    from astropy import units as u

    from serendip.classify.features import XRAY_ALIASES

    flux_cols = {a for k in XRAY_ALIASES if k.startswith("flux") for a in XRAY_ALIASES[k]}
    want = {"ra": u.deg, "dec": u.deg} | {c: u.erg / u.cm**2 / u.s for c in flux_cols}
    for col, text in units.items():
        name = (renames or {}).get(col, col)
        if name not in want or name not in df.columns or not text.strip():
            continue
        try:
            unit = u.Unit(text, parse_strict="raise")
        except ValueError as exc:
            raise InputError(
                source, f"column {col!r} has unknown unit {text!r} (expected {want[name]})"
            ) from exc
        try:
            factor = unit.to(want[name])
        except u.UnitsError as exc:
            raise InputError(
                source,
                f"column {col!r} has unit {text!r}, which cannot be converted to {want[name]}",
            ) from exc
        if factor != 1.0:
            df[name] = pd.to_numeric(df[name], errors="coerce") * factor


def read_catalog(path: str | Path, feature_set: str | None = None) -> pd.DataFrame:
    """Read a CSC property table (one row per detection or per source).

    Returns the table with a ``name`` column (renamed from an alias if needed). When
    ``feature_set`` ("umlcaxs" or "xray") is given, the columns it needs are checked now
    so a bad file fails with its name and the missing columns.
    """
    df = read_table(path)
    if len(df) == 0:
        raise InputError(path, "table has no rows (header only?)")
    col = name_column(df, path)
    renames = {col: "name"}
    if col != "name":
        df = df.rename(columns={col: "name"})
    names = df["name"]
    blank = names.isna().to_numpy() | (names.astype(str).str.strip() == "").to_numpy()
    if blank.any():
        rows = np.flatnonzero(blank)
        raise InputError(
            path,
            f"{len(rows)} row(s) have no source name in column {col!r} "
            f"(first at row {int(rows[0])}); every detection needs a name",
        )
    df["name"] = names.astype(str).str.strip()
    for std, aliases in POSITION_ALIASES.items():
        if std not in df.columns:
            found = next((a for a in aliases if a in df.columns), None)
            if found is not None:
                df = df.rename(columns={found: std})
                renames[found] = std
    check_numeric_columns(df, _numeric_columns(df, feature_set), path)
    check_units(df, path, renames)
    for c, lo, hi in (("ra", 0.0, 360.0), ("dec", -90.0, 90.0)):
        if c in df.columns:
            v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=np.float64)
            bad = np.isfinite(v) & ((v < lo) | (v > hi))
            if bad.any():
                raise InputError(
                    path,
                    f"{int(bad.sum())} value(s) of {c!r} outside [{lo:g}, {hi:g}] deg "
                    f"(first {float(v[bad][0])!r}); positions must be in degrees",
                )
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
        timeout = t.pop("timeout_s", 120.0)
        cache = t.pop("cache_dir", None)
        offline = t.pop("offline", False)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise ConfigError("input.tap", f"timeout_s must be a positive number; got {timeout!r}")
        if not isinstance(offline, bool):
            raise ConfigError("input.tap", f"offline must be true or false; got {offline!r}")
        if not isinstance(url, str) or (cache is not None and not isinstance(cache, str | Path)):
            raise ConfigError("input.tap", "url and cache_dir must be strings")
        if cache is not None and not Path(cache).is_absolute():
            cache = base / cache
        try:
            q = CscQuery(**t)
        except TypeError as exc:
            raise ConfigError("input.tap", f"unknown query option: {exc}") from exc
        df = run_tap(q.adql(), url, timeout_s=float(timeout), cache_dir=cache, offline=offline)
        if "name" not in df.columns:
            raise InputError(f"TAP service {url}", "answer has no 'name' column")
        df["name"] = df["name"].astype(str).str.strip()
        return df
    raise ConfigError("input", "give either input.path (a table file) or an input.tap section")
