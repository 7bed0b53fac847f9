"""Tables on disk: Parquet by default, with FITS, VOTable and CSV export.

``write_table`` chooses the format from the extension and writes atomically; units in
``df.attrs["units"]`` ({column: unit}, see :mod:`serendip.io.units`) go into FITS and VOTable
columns, and make a ``.csv`` an ECSV file (plain CSV rows under a "# " header with the units);
``read_table`` returns a pandas DataFrame and turns every failure into an
:class:`~serendip.errors.InputError` naming the file and the problem.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.atomic import atomic_path

FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".fits": "fits",
    ".fit": "fits",
    ".fits.gz": "fits",
    ".vot": "votable",
    ".xml": "votable",
    ".votable": "votable",
    ".csv": "csv",
    ".csv.gz": "csv",
    ".tsv": "tsv",
    ".txt": "ascii",
}


def table_format(path: str | Path) -> str:
    """The format implied by ``path``'s extension ('parquet', 'fits', 'votable', 'csv', ...)."""
    name = str(path).lower()
    for ext in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(ext):
            return FORMATS[ext]
    raise InputError(path, f"unknown table format; use one of {sorted(set(FORMATS))}")


def _fits_unit_ok(unit: str) -> bool:
    """Whether FITS (TUNITn) and VOTable can store ``unit`` as a standard unit string. "dex"
    cannot: VOTable leaves it out, FITS gets it as a commented non-standard ``TUNITn``
    (:func:`_write_nonstandard_fits_units`), the ECSV .csv keeps it."""
    from astropy import units as u

    try:
        u.Unit(unit).to_string("fits")
    except (ValueError, TypeError):
        return False
    return True


def _write_nonstandard_fits_units(path, df: pd.DataFrame) -> None:
    """Write units the FITS standard lacks ("dex": log10 of a chance probability or of a
    quantity) as ``TUNITn`` with a comment, as astronomical catalogues commonly do; astropy
    would drop them, leaving such columns looking dimensionless. Readers that know only the
    standard see an unrecognised unit string, never a wrong one."""
    units = {n: u for n, u in (df.attrs.get("units") or {}).items() if u and not _fits_unit_ok(u)}
    if not units:
        return
    from astropy.io import fits

    with fits.open(path, mode="update") as hdul:
        hdr = hdul[1].header
        names = [hdr.get(f"TTYPE{i}") for i in range(1, hdr.get("TFIELDS", 0) + 1)]
        for i, name in enumerate(names, start=1):
            if name in units:
                hdr[f"TUNIT{i}"] = (units[name], "non-standard FITS unit")


def _to_astropy(df: pd.DataFrame, fits_units: bool = False):
    from astropy.table import Table

    out = Table()
    for name in df.columns:
        col = df[name]
        if (
            col.dtype == object
            or pd.api.types.is_string_dtype(col.dtype)
            or str(col.dtype) == "category"
        ):
            out[str(name)] = col.astype(str).to_numpy(dtype=str)  # fixed-width unicode for FITS
        elif str(col.dtype) == "bool":
            out[str(name)] = np.asarray(col, dtype=bool)
        else:
            out[str(name)] = np.asarray(col)
    for name, unit in (df.attrs.get("units") or {}).items():
        if name in out.colnames and unit and (fits_units is False or _fits_unit_ok(unit)):
            out[name].unit = unit
    for key, value in df.attrs.items():
        if isinstance(value, (str, int, float, bool)) and len(key) <= 8:
            out.meta[key.upper()] = value
    return out


def write_table(df: pd.DataFrame, path: str | Path, *, overwrite: bool = True) -> Path:
    """Write ``df`` to ``path`` in the format given by its extension, atomically."""
    path = Path(path)
    fmt = table_format(path)
    if path.exists() and not overwrite:
        raise InputError(path, "exists and overwrite=False")
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            df.to_parquet(tmp, index=False)
        elif fmt == "csv" and df.attrs.get("units"):
            # CSV with units: ECSV (a "# "-commented YAML header with units and the header
            # keywords, then plain comma-separated rows), read back by read_table
            _to_astropy(df).write(tmp, format="ascii.ecsv", delimiter=",", overwrite=True)
        elif fmt == "csv":
            df.to_csv(tmp, index=False)
        elif fmt == "tsv":
            df.to_csv(tmp, index=False, sep="\t")
        elif fmt == "fits":
            _to_astropy(df, fits_units=True).write(tmp, format="fits", overwrite=True)
            _write_nonstandard_fits_units(tmp, df)
        elif fmt == "votable":
            _to_astropy(df, fits_units=True).write(tmp, format="votable", overwrite=True)
        else:
            df.to_csv(tmp, index=False, sep=" ")
    return path


def _is_ecsv(path: Path) -> bool:
    """Whether a .csv file starts with an ECSV header (``# %ECSV``)."""
    import gzip

    opener = gzip.open if str(path).lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        return fh.read(7) == b"# %ECSV"


def read_table(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a table (Parquet, FITS, VOTable, CSV/TSV) into a DataFrame.

    Raises :class:`InputError` when the file is missing, unreadable or lacks ``columns``.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a folder, not a table")
    fmt = table_format(path)
    if path.stat().st_size == 0:
        raise InputError(path, f"empty file (0 bytes), not a {fmt} table")
    try:
        if fmt == "parquet":
            df = pd.read_parquet(path, columns=columns)
        elif fmt == "csv" and _is_ecsv(path):
            from astropy.table import Table

            t = Table.read(path, format="ascii.ecsv")
            df = t.to_pandas()
            units = {n: str(t[n].unit) for n in t.colnames if t[n].unit is not None}
            if units:
                df.attrs["units"] = units
        elif fmt in ("csv", "tsv", "ascii"):
            sep = {"csv": ",", "tsv": "\t", "ascii": r"\s+"}[fmt]
            df = pd.read_csv(path, sep=sep, comment=None if fmt == "csv" else "#")
        else:
            from astropy.table import Table

            t = Table.read(path, format="fits" if fmt == "fits" else "votable")
            names = [n for n in t.colnames if len(t[n].shape) <= 1]
            df = t[names].to_pandas()
            units = {n: str(t[n].unit) for n in names if getattr(t[n], "unit", None) is not None}
            if units:
                df.attrs["units"] = units  # column -> unit string (FITS TUNITn / VOTable)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - every reader failure becomes a clear InputError
        raise InputError(path, f"cannot be read as {fmt}: {type(exc).__name__}: {exc}") from exc
    if columns is not None:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise InputError(path, f"missing column(s) {missing}; found {list(df.columns)[:30]}")
        df = df[columns]
    return df


def require_columns(df: pd.DataFrame, columns: list[str], source: str | Path | None) -> None:
    """Raise :class:`InputError` naming ``source`` when ``df`` lacks any of ``columns``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(source, f"missing column(s) {missing}; found {list(df.columns)[:30]}")


def check_numeric_columns(df: pd.DataFrame, columns: list[str], source) -> None:
    """Raise :class:`InputError` naming ``source`` when a column holds text or +-inf.

    Empty cells and NaN are allowed (missing measurements); a string that is not a
    number (``"abc"``, ``"1.2.3"``) or an infinite value is not.
    """
    for c in columns:
        col = df[c]
        if pd.api.types.is_bool_dtype(col.dtype):
            raise InputError(source, f"column {c!r} holds true/false values, expected numbers")
        num = pd.to_numeric(col, errors="coerce")
        if not pd.api.types.is_numeric_dtype(col.dtype):
            text = col.astype(str).str.strip()
            bad = (num.isna() & col.notna() & (text != "")).to_numpy()
            if bad.any():
                first = text[bad].iloc[0]
                raise InputError(
                    source,
                    f"column {c!r} has {int(bad.sum())} non-numeric value(s) "
                    f"(first {first!r} at row {int(np.flatnonzero(bad)[0])}); expected numbers",
                )
        inf = np.isinf(num.to_numpy(dtype=np.float64))
        if inf.any():
            raise InputError(
                source,
                f"column {c!r} has {int(inf.sum())} infinite value(s) "
                f"(first at row {int(np.flatnonzero(inf)[0])}); use NaN or an empty cell for missing",
            )
