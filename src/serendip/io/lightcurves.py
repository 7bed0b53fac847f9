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

#: The one alias table: standard column -> accepted input names, lower-cased, in order of
#: preference (the first present wins). Matching ignores case and surrounding spaces.
#:
#: * CRTS: ``ID, MJD, Mag, Magerr``
#: * ZTF forced photometry (ztfparsnip / IPAC ``*_bl.csv``): ``obsmjd, filter ("ZTF g"),
#:   ampl_corr|ampl, ampl_err_corr|ampl.err, magzp`` (the object name from the ``#name=`` header)
#: * ZTF alerts / ALeRCE detections: ``objectId|oid, mjd, fid (1, 2, 3 = g, r, i), magpsf, sigmapsf``
#: * plain: ``id, time, mag|flux, err[, band]``
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "object_id": ("object_id", "oid", "objectid", "object", "id", "name", "ztf_id", "ztfid",
                  "sesar_id", "source_id", "sourceid", "diaobjectid"),
    "time": ("time", "mjd", "obsmjd", "mjd_obs", "midpointtai", "t", "jd"),
    "band": ("band", "filter", "passband", "fid", "filtername"),
    "flux": ("flux", "ampl_corr", "ampl", "forcediffimflux", "psfflux", "fluxcal"),
    "flux_err": ("flux_err", "fluxerr", "flux_error", "ampl_err_corr", "ampl.err", "ampl_err",
                 "forcediffimfluxunc", "psffluxerr", "fluxcalerr", "err", "error"),
    "mag": ("mag", "magpsf", "mag_psf", "magnitude"),
    "mag_err": ("mag_err", "magerr", "sigmapsf", "mag_error", "magerror", "e_mag", "sigma_mag",
                "err", "error"),
}  # fmt: skip

#: lower-cased input name -> standard name (derived from :data:`COLUMN_ALIASES`)
ALIASES: dict[str, str] = {a: std for std, names in COLUMN_ALIASES.items() for a in names}

#: band given to every row of a table without a band column (CRTS is V-calibrated unfiltered)
DEFAULT_BAND = "V"

#: reasons a row is dropped, in the order they are checked (the notice code is ``drop_<reason>``)
DROP_REASONS = ("no_id", "nan", "nonpositive_err", "unknown_band", "duplicate")

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


def _pick_columns(columns) -> dict[str, str]:
    """``{standard name: user's column}`` for the first alias of each standard column present."""
    by_key: dict[str, str] = {}
    for c in columns:
        by_key.setdefault(str(c).strip().lower(), c)
    picked: dict[str, str] = {}
    for std, names in COLUMN_ALIASES.items():
        for a in names:
            if a in by_key and by_key[a] not in picked.values():
                picked[std] = by_key[a]
                break
    return picked


def standardize_lightcurves(
    df: pd.DataFrame,
    source: str | Path | None = None,
    *,
    column_map: dict[str, str] | None = None,
    bands: list[str] | None = None,
    to_flux: bool = False,
    default_band: str = DEFAULT_BAND,
    object_id: str | None = None,
    strict: bool = False,
) -> pd.DataFrame:
    """Check a long light-curve table in a survey's own columns and return the standard form.

    Columns are found through :data:`COLUMN_ALIASES` (case-insensitive, nothing to rename).
    Rows that cannot be used are dropped and counted per reason (:data:`DROP_REASONS`) with
    :func:`serendip.notices.notice` (stage ``io``, code ``drop_<reason>``): no object id,
    NaN/non-numeric time, value or error, non-positive error, unknown band, and repeated
    (object, band, time) observations (the first is kept).

    Parameters
    ----------
    df : table with one row per observation.
    source : file or table name used in messages.
    column_map : explicit renames ``{input name: standard name}``, applied before the aliases.
    bands : allowed band names; default every band in :data:`BAND_WAVELENGTH_NM`.
    to_flux : convert magnitudes to flux [microJansky, AB zero point 23.9].
    default_band : band of every row when the table has no band column (stated in a notice).
    object_id : identifier of every row when the table has no object-id column (a file that
        holds one object, e.g. ZTF forced photometry); without it such a table is an error.
    strict : raise :class:`InputError` on the first bad row instead of dropping it.

    Returns
    -------
    DataFrame with columns object_id (str), time [MJD], band (str), flux/flux_err or
    mag/mag_err (float64), sorted by object and time, ``attrs["kind"]`` in {"flux", "mag"}.
    ZTF forced-photometry amplitudes are scaled by their zero point ``magzp`` to microJansky.
    """
    from serendip.notices import notice

    user_columns = [str(c) for c in df.columns]
    df = df.rename(columns=column_map or {})
    picked = _pick_columns(df.columns)
    if "flux" in picked and "flux_err" in picked:
        kind, value, err = "flux", "flux", "flux_err"
    elif "mag" in picked:
        kind, value, err = "mag", "mag", "mag_err"
    elif "flux" in picked:
        kind, value, err = "flux", "flux", "flux_err"
    else:
        raise InputError(
            source,
            f"no flux or mag column (accepted: flux {list(COLUMN_ALIASES['flux'])}, "
            f"mag {list(COLUMN_ALIASES['mag'])}); the table has {user_columns[:30]}",
        )
    required = ["time", value, err] + ([] if object_id is not None else ["object_id"])
    missing = [c for c in required if c not in picked]
    if missing:
        accepted = "; ".join(f"{c}: {list(COLUMN_ALIASES[c])}" for c in missing)
        raise InputError(
            source,
            f"missing light-curve column(s) {missing} (accepted names, any case: {accepted}); "
            f"the table has {user_columns[:30]}",
        )
    n = len(df)
    if n == 0:
        raise InputError(source, "light-curve table has no rows")
    name = str(source) if source is not None else "table"
    if "object_id" in picked:
        ids = df[picked["object_id"]]
        no_id = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
        id_values = ids.astype(str).str.strip().to_numpy()
    else:
        no_id = np.zeros(n, dtype=bool)
        id_values = np.full(n, str(object_id), dtype=object)
        notice("io", "object_id_from_file", f"no object-id column: all {n:,} rows are object "
               f"{object_id!r}", source=name, count=n, total=n, severity="info")  # fmt: skip
    if "band" in picked:
        band, band_ok = _band_names(df[picked["band"]])
    else:
        band, band_ok = np.full(n, default_band, dtype=object), np.ones(n, dtype=bool)
        notice("io", "default_band", f"no band column ({list(COLUMN_ALIASES['band'])}): all "
               f"{n:,} rows are band {default_band!r}", source=name, count=n, total=n,
               severity="info")  # fmt: skip
    time = pd.to_numeric(df[picked["time"]], errors="coerce").to_numpy(dtype=np.float64)
    if str(picked["time"]).strip().lower() == "jd":
        time = time - 2400000.5
        notice("io", "jd_to_mjd", f"times in column {picked['time']!r} are JD: MJD = JD - "
               "2400000.5", source=name, count=n, total=n, severity="info")  # fmt: skip
    val = pd.to_numeric(df[picked[value]], errors="coerce").to_numpy(dtype=np.float64)
    unc = pd.to_numeric(df[picked[err]], errors="coerce").to_numpy(dtype=np.float64)
    if kind == "flux" and str(picked["flux"]).lower().startswith("ampl"):
        zp_col = _pick_one(df.columns, ("magzp",))
        if zp_col is not None:
            scale = 10.0 ** (-0.4 * (pd.to_numeric(df[zp_col], errors="coerce").to_numpy(
                dtype=np.float64) - AB_ZEROPOINT_UJY))  # fmt: skip
            val, unc = val * scale, unc * scale
            notice("io", "flux_zeropoint", f"ZTF forced-photometry {picked['flux']!r} scaled by "
                   f"{zp_col!r} to microJansky (AB)", source=name, count=n, total=n,
                   severity="info")  # fmt: skip
    known = (
        set(bands)
        if bands is not None
        else set(BAND_WAVELENGTH_NM) | {b.lower() for b in BAND_WAVELENGTH_NM}
    )
    band_ok = band_ok & pd.Series(band).isin(known).to_numpy()
    bad = {
        "no_id": no_id,
        "nan": ~(np.isfinite(time) & np.isfinite(val) & np.isfinite(unc)),
        "nonpositive_err": ~(unc > 0),
        "unknown_band": ~band_ok,
    }
    finite = {picked[c]: np.isfinite(v) for c, v in (("time", time), (value, val), (err, unc))}
    nan_cols = ", ".join(f"{c!r} ({int((~ok & ~bad['no_id']).sum())})"
                         for c, ok in finite.items() if (~ok & ~bad["no_id"]).any())  # fmt: skip
    describe = {
        "no_id": f"no object id in column {picked.get('object_id')!r}",
        "nan": f"NaN, infinite or non-numeric value in {nan_cols}",
        "nonpositive_err": f"non-positive error in column {picked[err]!r}",
        "unknown_band": f"band not in {sorted(known)} (column {picked.get('band')!r})",
        "duplicate": "repeated (object, band, time) observation (the first is kept)",
    }
    drop = np.zeros(n, dtype=bool)
    out = pd.DataFrame(
        {"object_id": id_values, "time": time, "band": band, value: val, err: unc}
    )
    for reason in DROP_REASONS:
        if reason == "duplicate":
            keep = np.flatnonzero(~drop)
            dup = np.zeros(n, dtype=bool)
            dup[keep] = out.iloc[keep].duplicated(["object_id", "band", "time"]).to_numpy()
            hit = dup
        else:
            hit = bad[reason] & ~drop
        k = int(hit.sum())
        if not k:
            continue
        first = int(np.flatnonzero(hit)[0])
        msg = f"{k:,} of {n:,} rows dropped: {describe[reason]} (first at row {first})"
        if strict:
            raise InputError(source, msg.replace("dropped", "bad"))
        notice("io", f"drop_{reason}", msg, source=name, count=k, total=n)
        drop |= hit
    out = out.loc[~drop]
    if len(out) == 0:
        raise InputError(source, f"no usable light-curve rows left of {n:,} (see the notices)")
    if kind == "mag" and to_flux:
        flux, flux_err = mag_to_flux(out["mag"], out["mag_err"])
        out = out.drop(columns=["mag", "mag_err"]).assign(flux=flux, flux_err=flux_err)
        kind = "flux"
    out = out.sort_values(["object_id", "time"], kind="stable").reset_index(drop=True)
    out.attrs["kind"] = kind
    out.attrs["columns"] = {k: str(v) for k, v in picked.items()}
    return out


def _pick_one(columns, names) -> str | None:
    low = {str(c).strip().lower(): c for c in columns}
    return next((low[a] for a in names if a in low), None)


def _band_names(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Band names for a band column and a mask of the rows that have a usable one.

    Numeric ids are ZTF fids (1, 2, 3 = g, r, i); "ZTF g", "ZTF_g", "zg" are ZTF's g.
    """
    if pd.api.types.is_numeric_dtype(col):
        mapped = col.map(ZTF_FID)
        ok = mapped.notna().to_numpy()
        return mapped.fillna("").astype(str).to_numpy(dtype=object), ok
    ok = col.notna().to_numpy()
    s = col.astype(str).str.strip()
    s = s.str.replace(r"^(?i:ztf)[\s_-]*", "", regex=True)
    s = s.where(~s.isin(["zg", "zr", "zi"]), s.str[1:])
    return s.to_numpy(dtype=object), ok & (s != "").to_numpy()


def read_lightcurves(
    path: str | Path,
    *,
    column_map: dict[str, str] | None = None,
    bands: list[str] | None = None,
    to_flux: bool = False,
    default_band: str = DEFAULT_BAND,
    strict: bool = False,
) -> pd.DataFrame:
    """Read a long light-curve table (CSV, CSV.gz, Parquet, FITS...) into the standard form.

    A CSV may start with ``#key=value`` header lines (ZTF forced photometry); a ``name=`` line
    there, else the file name, identifies the object when the table has no object-id column.
    See :func:`standardize_lightcurves` for the aliases, the counted drops and the parameters;
    every problem is an :class:`InputError` naming ``path``.
    """
    from serendip.io.tables import read_table

    header = _comment_header(path)
    if header is not None:
        try:
            df = pd.read_csv(path, skiprows=header[0], low_memory=False)
        except (ValueError, OSError, pd.errors.ParserError) as exc:
            raise InputError(path, f"cannot read the CSV after its # header: {exc}") from None
        name = header[1].get("name") or _stem(path)
    else:
        df = read_table(path)
        name = _stem(path)
    try:
        return standardize_lightcurves(
            df, path, column_map=column_map, bands=bands, to_flux=to_flux,
            default_band=default_band, object_id=name, strict=strict,
        )  # fmt: skip
    except InputError as exc:
        if exc.path is None:
            raise InputError(path, exc.problem) from exc
        raise


def _stem(path) -> str:
    name = Path(path).name
    for ext in (".gz", ".csv", ".parquet", ".fits", ".txt"):
        name = name.removesuffix(ext)
    return name


def _comment_header(path) -> tuple[int, dict[str, str]] | None:
    """``(number of leading '#' lines, {key: value})`` of a CSV, or None when it has none."""
    import gzip

    p = str(path).lower()
    if not (p.endswith(".csv") or p.endswith(".csv.gz")):
        return None
    opener = gzip.open if p.endswith(".gz") else open
    n, meta = 0, {}
    try:
        with opener(path, "rt", errors="replace") as fh:
            for line in fh:
                if not line.startswith("#"):
                    break
                n += 1
                key, _, val = line[1:].partition("=")
                meta[key.strip()] = val.strip()
    except (OSError, EOFError):
        return None
    return (n, meta) if n else None


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
