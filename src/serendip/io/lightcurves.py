"""Light curves as one standard long table, and readers that check it.

The standard table has one row per observation::

    object_id  str      identifier of the object (light curve)
    time       float64  [MJD or days]
    band       str      passband name (one of :data:`BAND_WAVELENGTH_NM`)
    flux       float64  [any linear unit, e.g. microJansky]   -- or ``mag`` [AB/Vega mag]
    flux_err   float64  [same unit as flux, > 0]              -- or ``mag_err`` [mag, > 0]

Rows are sorted by ``object_id`` then ``time``. ``df.attrs["kind"]`` is ``"flux"`` or
``"mag"``. Bad input (missing columns, NaNs, non-positive errors, unknown bands)
raises :class:`~serendip.errors.InputError` naming the file and the problem.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import InputError

#: median wavelength of known passbands [nm]; keys are matched case-sensitively first,
#: then case-insensitively (so ZTF "R" maps to "r" when no "R" entry fits better).
BAND_WAVELENGTH_NM: dict[str, float] = {
    "u": 355.0,
    "g": 475.0,  # ZTF g 472, SDSS g 469
    "r": 630.0,  # ZTF r 633, SDSS r 617
    "i": 780.0,
    "z": 893.0,
    "y": 1004.0,
    "U": 365.0,
    "B": 445.0,
    "V": 551.0,
    "R": 658.0,
    "I": 806.0,
    "G": 640.0,  # Gaia G
    "w": 620.0,  # ATLAS-like wide
    "c": 533.0,  # ATLAS cyan
    "o": 679.0,  # ATLAS orange
}

#: column aliases accepted by :func:`standardize_lightcurves` (lower-cased input name -> standard name)
ALIASES: dict[str, str] = {
    "oid": "object_id",
    "objectid": "object_id",
    "object": "object_id",
    "id": "object_id",
    "name": "object_id",
    "ztf_id": "object_id",
    "sesar_id": "object_id",
    "mjd": "time",
    "obsmjd": "time",
    "t": "time",
    "filter": "band",
    "passband": "band",
    "fid": "band",
    "fluxerr": "flux_err",
    "flux_error": "flux_err",
    "magerr": "mag_err",
    "mag_error": "mag_err",
    "magpsf": "mag",
    "sigmapsf": "mag_err",
}

#: ZTF alert filter ids (fid) -> band name
ZTF_FID = {1: "g", 2: "r", 3: "i"}

AB_ZEROPOINT_UJY = 23.9  # mag = 23.9 - 2.5 log10(flux / microJansky)


def band_wavelength_nm(bands) -> np.ndarray:
    """Median wavelength [nm] for each band name in ``bands`` (array-like of str), float64.

    Raises :class:`InputError` for a band not in :data:`BAND_WAVELENGTH_NM`.
    """
    bands = pd.Series(np.asarray(bands, dtype=object)).astype(str)
    uniq = bands.unique()
    table = {}
    for b in uniq:
        if b in BAND_WAVELENGTH_NM:
            table[b] = BAND_WAVELENGTH_NM[b]
        elif b.lower() in BAND_WAVELENGTH_NM:
            table[b] = BAND_WAVELENGTH_NM[b.lower()]
        else:
            raise InputError(
                None, f"unknown band {b!r}; known bands are {sorted(BAND_WAVELENGTH_NM)}"
            )
    return bands.map(table).to_numpy(dtype=np.float64)


def mag_to_flux(mag, mag_err, zeropoint: float = AB_ZEROPOINT_UJY) -> tuple[np.ndarray, np.ndarray]:
    """Convert magnitudes to linear flux (microJansky for AB mags with the default zero point)."""
    mag = np.asarray(mag, dtype=np.float64)
    mag_err = np.asarray(mag_err, dtype=np.float64)
    flux = 10.0 ** (-0.4 * (mag - zeropoint))
    return flux, flux * mag_err * (0.4 * np.log(10.0))


def standardize_lightcurves(
    df: pd.DataFrame,
    source: str | Path | None = None,
    *,
    column_map: dict[str, str] | None = None,
    bands: list[str] | None = None,
    to_flux: bool = False,
) -> pd.DataFrame:
    """Check a long light-curve table and return it in the standard form.

    Parameters
    ----------
    df : table with one row per observation (see the module docstring for the columns).
    source : file or table name used in error messages.
    column_map : explicit renames ``{input name: standard name}``, applied before the aliases.
    bands : allowed band names; default every band in :data:`BAND_WAVELENGTH_NM`.
    to_flux : convert magnitudes to flux [microJansky, AB zero point 23.9].

    Returns
    -------
    DataFrame with columns object_id (str), time, band (str), flux/flux_err or mag/mag_err
    (float64), sorted by object and time, ``attrs["kind"]`` in {"flux", "mag"}.
    """
    df = df.rename(columns=column_map or {})
    renames = {}
    for c in df.columns:
        key = str(c).strip().lower()
        if (
            str(c) not in ("object_id", "time", "band", "flux", "flux_err", "mag", "mag_err")
            and key in ALIASES
        ):
            if ALIASES[key] not in df.columns and ALIASES[key] not in renames.values():
                renames[c] = ALIASES[key]
    df = df.rename(columns=renames)
    if "flux" in df.columns:
        kind, value, err = "flux", "flux", "flux_err"
    elif "mag" in df.columns:
        kind, value, err = "mag", "mag", "mag_err"
    else:
        raise InputError(source, f"no flux or mag column; found {list(df.columns)[:30]}")
    required = ["object_id", "time", "band", value, err]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(
            source, f"missing light-curve column(s) {missing}; found {list(df.columns)[:30]}"
        )
    out = pd.DataFrame(
        {
            "object_id": df["object_id"].astype(str).to_numpy(),
            "time": pd.to_numeric(df["time"], errors="coerce").to_numpy(dtype=np.float64),
            "band": _band_names(df["band"], source),
            value: pd.to_numeric(df[value], errors="coerce").to_numpy(dtype=np.float64),
            err: pd.to_numeric(df[err], errors="coerce").to_numpy(dtype=np.float64),
        }
    )
    if len(out) == 0:
        raise InputError(source, "light-curve table has no rows")
    ids = df["object_id"]
    no_id = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
    if no_id.any():
        raise InputError(
            source,
            f"{int(no_id.sum())} row(s) have no object_id (first at row {int(np.flatnonzero(no_id)[0])})",
        )
    for col in ("time", value, err):
        bad = ~np.isfinite(out[col].to_numpy())
        if bad.any():
            first = out.loc[bad, "object_id"].iloc[0]
            raise InputError(
                source,
                f"{int(bad.sum())} NaN/non-numeric value(s) in column {col!r} (first in object {first!r}); drop them first",
            )
    bad = out[err].to_numpy() <= 0
    if bad.any():
        first = out.loc[bad, "object_id"].iloc[0]
        raise InputError(
            source, f"{int(bad.sum())} non-positive {err} value(s) (first in object {first!r})"
        )
    known = (
        set(bands)
        if bands is not None
        else set(BAND_WAVELENGTH_NM) | {b.lower() for b in BAND_WAVELENGTH_NM}
    )
    found = set(out["band"].unique())
    unknown = sorted(found - known)
    if unknown:
        raise InputError(source, f"unknown band(s) {unknown}; allowed: {sorted(known)}")
    dup = out.duplicated(["object_id", "band", "time"], keep="first").to_numpy()
    if dup.any():
        k = int(np.flatnonzero(dup)[0])
        raise InputError(
            source,
            f"{int(dup.sum())} duplicated observation(s): the same (object_id, band, time) "
            f"appears twice (first {out['object_id'].iloc[k]!r}, band {out['band'].iloc[k]!r}, "
            f"time {out['time'].iloc[k]!r}); drop duplicates first",
        )
    if kind == "mag" and to_flux:
        flux, flux_err = mag_to_flux(out["mag"], out["mag_err"])
        out = out.drop(columns=["mag", "mag_err"]).assign(flux=flux, flux_err=flux_err)
        kind = "flux"
    out = out.sort_values(["object_id", "time"], kind="stable").reset_index(drop=True)
    out.attrs["kind"] = kind
    return out


def _band_names(col: pd.Series, source=None) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(col):
        mapped = col.map(ZTF_FID)
        if mapped.isna().any():
            bad = sorted(set(col[mapped.isna()].tolist()))[:5]
            raise InputError(source, f"numeric band id(s) {bad} are not ZTF fids {sorted(ZTF_FID)}")
        return mapped.astype(str).to_numpy()
    return col.astype(str).str.strip().to_numpy()


def read_lightcurves(
    path: str | Path,
    *,
    column_map: dict[str, str] | None = None,
    bands: list[str] | None = None,
    to_flux: bool = False,
) -> pd.DataFrame:
    """Read a long light-curve table (CSV, CSV.gz, Parquet, FITS...) into the standard form.

    See :func:`standardize_lightcurves` for the parameters and checks; every problem is an
    :class:`InputError` naming ``path``.
    """
    from serendip.io.tables import read_table

    df = read_table(path)
    try:
        return standardize_lightcurves(
            df, path, column_map=column_map, bands=bands, to_flux=to_flux
        )
    except InputError as exc:
        if exc.path is None:
            raise InputError(path, exc.problem) from exc
        raise


def checked_order(table: pd.DataFrame, source=None) -> pd.DataFrame:
    """``table`` (a standard long light-curve table) ready for per-object slicing.

    Raises :class:`InputError` naming ``source`` for missing columns and for NaN/inf times,
    values or errors (the Rust feature code would panic on them); returns the table itself
    when each object's rows are contiguous and time-ordered, else a copy stably sorted by
    object and time (rows grouped by contiguity would split a shuffled object into many).
    """
    value = "flux" if "flux" in table.columns else "mag" if "mag" in table.columns else None
    if value is None:
        raise InputError(source, "light-curve table has neither a flux nor a mag column")
    missing = [c for c in ("object_id", "time", "band", f"{value}_err") if c not in table.columns]
    if missing:
        raise InputError(source, f"light-curve table lacks column(s) {missing}")
    for col in ("time", value, f"{value}_err"):
        try:
            v = table[col].to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(source, f"column {col!r} is not numeric") from None
        bad = ~np.isfinite(v)
        if bad.any():
            first = table["object_id"].to_numpy()[np.argmax(bad)]
            raise InputError(
                source,
                f"{int(bad.sum())} NaN/infinite value(s) in column {col!r} (first in object "
                f"{first!r}); drop them first (serendip.io.lightcurves.standardize_lightcurves "
                "does and says how many)",
            )
    ids = table["object_id"].to_numpy()
    t = table["time"].to_numpy(dtype=np.float64)
    same = ids[1:] == ids[:-1]
    n_runs = 1 + int((~same).sum()) if len(ids) else 0
    if n_runs == pd.unique(ids).size and not (same & (np.diff(t) < 0)).any():
        return table
    return table.sort_values(["object_id", "time"], kind="stable").reset_index(drop=True)


def object_offsets(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(object_ids, offsets)`` of a standard (sorted) table: rows of object k are offsets[k]:offsets[k+1]."""
    ids = table["object_id"].to_numpy()
    if len(ids) == 0:
        return np.array([], dtype=object), np.array([0], dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    return ids[starts], np.r_[starts, len(ids)].astype(np.int64)
