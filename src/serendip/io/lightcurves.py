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
    "Kp": 640.0,  # Kepler (broad, 420-900 nm)
    "T": 787.0,  # TESS (broad, 600-1000 nm)
}

#: The one alias table: standard column -> accepted input names, lower-cased, in order of
#: preference (the first present wins; a survey format may prefer its own first, see
#: :data:`serendip.io.lc_formats.LC_FORMATS`). Matching ignores case and surrounding spaces.
#:
#: * CRTS: ``ID|MasterID, MJD, Mag, Magerr``
#: * ZTF forced photometry, fpbot / ztfparsnip (``*_bl.csv``): ``obsmjd, filter ("ZTF_g"),
#:   ampl, ampl.err, magzp`` (the object name from the ``#name=`` header)
#: * ZTF forced photometry, IPAC service: ``jd, filter, forcediffimflux, forcediffimfluxunc,
#:   zpdiff``
#: * ZTF alerts / ALeRCE detections and non-detections: ``objectId|oid, mjd|jd, fid (1, 2, 3
#:   = g, r, i), magpsf, sigmapsf, isdiffpos, diffmaglim``
#: * ATLAS forced photometry: ``MJD, uJy, duJy, F (c/o), mag5sig``
#: * Rubin/LSST DiaSource: ``diaObjectId, midpointMjdTai, psfFlux, psfFluxErr [nJy], band``
#: * Kepler/K2/TESS FITS: ``TIME, PDCSAP_FLUX, PDCSAP_FLUX_ERR`` (object from the header)
#: * OGLE / MACHO text: ``HJD|MJD, Mag, Err``
#: * plain: ``id, time, mag|flux, err[, band]``
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "object_id": ("object_id", "oid", "objectid", "object", "id", "name", "ztf_id", "ztfid",
                  "sesar_id", "source_id", "sourceid", "diaobjectid", "masterid", "starid"),
    "time": ("time", "mjd", "obsmjd", "mjd_obs", "midpointmjdtai", "midpointtai", "t", "jd",
             "hjd", "bjd", "rjd", "bkjd", "btjd"),
    "band": ("band", "filter", "passband", "fid", "filtername", "f"),
    "flux": ("flux", "ampl", "forcediffimflux", "psfflux", "ujy", "pdcsap_flux", "sap_flux",
             "fluxcal", "ampl_corr"),
    "flux_err": ("flux_err", "fluxerr", "flux_error", "ampl.err", "ampl_err",
                 "forcediffimfluxunc", "psffluxerr", "dujy", "pdcsap_flux_err", "sap_flux_err",
                 "fluxcalerr", "ampl_err_corr", "err", "error"),
    "mag": ("mag", "magpsf", "mag_psf", "magnitude", "m"),
    "mag_err": ("mag_err", "magerr", "sigmapsf", "mag_error", "magerror", "e_mag", "sigma_mag",
                "dm", "err", "error"),
}  # fmt: skip

#: limiting magnitude of a non-detection (a row with no value but a limit is an upper limit)
LIMIT_ALIASES: tuple[str, ...] = ("diffmaglim", "maglim", "mag5sig", "limiting_mag", "lim_mag",
                                  "upper_limit")  # fmt: skip

#: Galactic E(B-V) [mag] per row: extinction is corrected when present
EBV_ALIASES: tuple[str, ...] = ("ebv", "mw_ebv", "e_bv", "e(b-v)", "ebv_sfd")

#: survey quality fields kept per row when present (standard name -> accepted input names):
#: ZTF real-bogus scores (``rb`` random forest, ``drb`` deep), bad pixels in the stamp
#: (``nbad``), distance to the nearest reference-image source [arcsec] (``distnr``) and the
#: PS1 star-galaxy score of the nearest source (``sgscore``, 1 = star); Rubin's
#: ``reliability`` is a real-bogus score too. Usable as filters (``quality_filters``) and as
#: per-object features (:func:`serendip.represent.lc_features.quality_features`).
QUALITY_FIELDS: dict[str, tuple[str, ...]] = {
    "rb": ("rb", "reliability"),
    "drb": ("drb",),
    "nbad": ("nbad",),
    "distnr": ("distnr",),
    "sgscore": ("sgscore1", "sgscore"),
}

_OPS = {">=": np.greater_equal, "<=": np.less_equal, "==": np.equal, "!=": np.not_equal,
        ">": np.greater, "<": np.less}  # fmt: skip


def parse_quality_filter(text: str) -> tuple[str, str, float]:
    """``"rb >= 0.55"`` -> ``("rb", ">=", 0.55)``; the field must be one of :data:`QUALITY_FIELDS`."""
    import re

    m = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*(>=|<=|==|!=|>|<)\s*([-+0-9.eE]+)\s*", str(text))
    if m is None:
        raise ValueError(f"quality filter {text!r} is not '<field> <op> <number>' (op one of "
                         f"{list(_OPS)}), e.g. 'rb >= 0.55'")  # fmt: skip
    field, op, value = m.group(1).lower(), m.group(2), float(m.group(3))
    if field not in QUALITY_FIELDS:
        raise ValueError(f"quality filter {text!r}: unknown field {field!r}; known: "
                         f"{list(QUALITY_FIELDS)}")  # fmt: skip
    return field, op, value


#: values of the per-row ``flux_type`` column
FLUX_TYPES = ("difference", "total")

ALIASES: dict[str, str] = {a: std for std, names in COLUMN_ALIASES.items() for a in names}

#: band given to every row of a table without a band column (CRTS is V-calibrated unfiltered)
DEFAULT_BAND = "V"

#: reasons a row is dropped, in the order they are checked (the notice code is ``drop_<reason>``)
DROP_REASONS = ("no_id", "nan", "nonpositive_err", "quality", "quality_filter", "unknown_band",
                "duplicate")  # fmt: skip

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
        elif "_" in b and b.split("_", 1)[0] in BAND_WAVELENGTH_NM:  # "g_ztf_fpbot"
            table[b] = BAND_WAVELENGTH_NM[b.split("_", 1)[0]]
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


def _pick_columns(columns, prefer: dict[str, tuple[str, ...]] | None = None) -> dict[str, str]:
    """``{standard name: user's column}`` for the first alias of each standard column present
    (``prefer``'s names first); a column is used once."""
    by_key: dict[str, str] = {}
    for c in columns:
        by_key.setdefault(_key(c), c)
    picked: dict[str, str] = {}
    prefer = prefer or {}
    for std, names in COLUMN_ALIASES.items():
        if std.endswith("_err") and std[:-4] not in picked:
            continue  # an error column goes with its value ('Err' of MJD, Mag, Err is mag_err)
        for a in (*prefer.get(std, ()), *names):
            if a in by_key and by_key[a] not in picked.values():
                picked[std] = by_key[a]
                break
    return picked


def aliases_markdown() -> str:
    """Markdown table of :data:`COLUMN_ALIASES`, :data:`LIMIT_ALIASES` and :data:`EBV_ALIASES`
    (what the documentation shows)."""
    rows = ["| standard column | accepted names (any case, first present wins) |", "|---|---|"]
    rows += [f"| `{k}` | {', '.join(f'`{a}`' for a in v)} |" for k, v in COLUMN_ALIASES.items()]
    rows.append(f"| limiting magnitude | {', '.join(f'`{a}`' for a in LIMIT_ALIASES)} |")
    rows.append(f"| E(B-V) | {', '.join(f'`{a}`' for a in EBV_ALIASES)} |")
    return "\n".join(rows)


def standardize_lightcurves(
    df: pd.DataFrame,
    source: str | Path | None = None,
    *,
    column_map: dict[str, str] | None = None,
    bands: list[str] | None = None,
    to_flux: bool = False,
    default_band: str | None = None,
    object_id: str | None = None,
    strict: bool = False,
    format: str | None = None,
    time_offset: float | None = None,
    time_convention: str | None = None,
    baseline: bool | None = None,
    quality: bool = True,
    quality_filters: list[str] | tuple[str, ...] = (),
) -> pd.DataFrame:
    """Check a long light-curve table in a survey's own columns and return the standard form.

    Columns are found through :data:`COLUMN_ALIASES` (case-insensitive, nothing to rename);
    the survey format (:data:`serendip.io.lc_formats.LC_FORMATS`) is recognised from the
    columns and says what the flux is. Rows that cannot be used are dropped and counted per
    reason (:data:`DROP_REASONS`) with :func:`serendip.notices.notice` (stage ``io``, code
    ``drop_<reason>``): no object id, NaN/non-numeric time, value or error (a row with no
    value but a limiting magnitude is a non-detection, kept as an upper limit), non-positive
    error, a failed survey quality flag, unknown or missing band, and repeated (object,
    band, time) observations (the first is kept).

    Difference photometry (forced photometry, alerts, DiaSources) always becomes a signed
    difference flux in microJansky (never a magnitude); forced photometry gets a baseline per
    object and calibration group (:func:`serendip.io.lc_baseline.fit_baseline`). Total
    magnitudes stay magnitudes unless ``to_flux``. An E(B-V) column (``ebv``, ``mw_ebv``)
    corrects Galactic extinction (:data:`serendip.io.lc_formats.EXTINCTION_R`).

    Parameters
    ----------
    df : table with one row per observation.
    source : file or table name used in messages.
    column_map : explicit renames ``{input name: standard name}``, applied before the aliases.
    bands : allowed band names; default every band in :data:`BAND_WAVELENGTH_NM`.
    to_flux : convert total magnitudes to flux [microJansky, AB zero point 23.9].
    default_band : band of every row when the table has no band column (stated in a notice);
        default the format's (Kepler ``Kp``, TESS ``T``) or :data:`DEFAULT_BAND`.
    object_id : identifier of every row when the table has no object-id column (a file that
        holds one object, e.g. ZTF forced photometry); without it such a table is an error.
    strict : raise :class:`InputError` on the first bad row instead of dropping it.
    format : a name of :data:`serendip.io.lc_formats.LC_FORMATS` instead of recognising it.
    time_offset : MJD = time + time_offset [days], instead of the time column's convention
        (:data:`serendip.io.lc_formats.TIME_CONVENTIONS`); ``time_convention`` describes it.
    baseline : fit and subtract the forced-photometry baseline (default: the format's rule).
    quality : apply the format's quality cuts (counted as ``drop_quality``).
    quality_filters : user cuts on the survey quality fields (:data:`QUALITY_FIELDS`), each
        ``"<field> <op> <number>"`` (e.g. ``"rb >= 0.55"``, ``"nbad == 0"``, ``"sgscore < 0.5"``):
        detections failing any are dropped, counted per filter (notice ``io/quality_filter``)
        and as ``drop_quality_filter``; rows with no value of the field are kept and counted;
        a filter on a field the table lacks is an :class:`InputError`.

    Returns
    -------
    DataFrame sorted by object and time with columns object_id (str), time [MJD], band
    (str), flux/flux_err [microJansky, or ``attrs["flux_unit"]``] or mag/mag_err, and per
    row: ``flux_type`` ("difference"/"total"), ``is_upper_limit`` (bool; value and error
    NaN), ``limit_flux`` [microJansky, NaN when unknown], ``calib_group`` (str, "" when
    none), ``zeropoint`` [mag of one input unit, NaN when none] and ``mag_system``; forced
    photometry adds ``baseline`` [microJansky] and ``n_baseline``. ``attrs``: ``kind``
    ("flux"/"mag"), ``flux_unit``, ``format``, ``time_convention``, ``columns``.
    """
    from serendip.io.lc_formats import (
        EXTINCTION_R,
        FORMATS_BY_NAME,
        TIME_CONVENTIONS,
        detect_format,
    )
    from serendip.notices import notice

    user_columns = [str(c) for c in df.columns]
    df = df.rename(columns=column_map or {})
    if format is not None and format not in FORMATS_BY_NAME:
        raise InputError(source, f"unknown light-curve format {format!r}; known: "
                         f"{sorted(FORMATS_BY_NAME)}")  # fmt: skip
    fmt = detect_format(df.columns, format)
    picked = _pick_columns(df.columns, fmt.prefer)
    limit_col = _pick_one(df.columns, (fmt.limit_column,) if fmt.limit_column else LIMIT_ALIASES)
    if fmt.unit == "mag" and "mag" in picked:
        kind, value, err = "mag", "mag", "mag_err"
    elif "flux" in picked and "flux_err" in picked:
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
        default_band = default_band or fmt.default_band or DEFAULT_BAND
        band, band_ok = np.full(n, default_band, dtype=object), np.ones(n, dtype=bool)
        notice("io", "default_band", f"no band column ({list(COLUMN_ALIASES['band'])}): all "
               f"{n:,} rows are band {default_band!r}", source=name, count=n, total=n,
               severity="info")  # fmt: skip
    time = pd.to_numeric(df[picked["time"]], errors="coerce").to_numpy(dtype=np.float64)
    tname = _key(picked["time"])
    if time_offset is None:
        time_offset, convention = TIME_CONVENTIONS.get(tname, (0.0, "MJD (as given)"))
    else:
        convention = time_convention or f"MJD = {picked['time']} {time_offset:+.1f}"
    if time_offset:
        time = time + time_offset
        notice("io", "time_to_mjd", f"times in column {picked['time']!r}: {convention}; "
               f"MJD = value {time_offset:+.1f}", source=name, count=n, total=n,
               severity="info")  # fmt: skip
    vcol, ecol = picked[value], picked[err]
    val = pd.to_numeric(df[vcol], errors="coerce").to_numpy(dtype=np.float64)
    unc = pd.to_numeric(df[ecol], errors="coerce").to_numpy(dtype=np.float64)
    if fmt.name == "ztf_fps":  # IPAC marks failed measurements with -99999
        val = np.where(val == -99999.0, np.nan, val)
    limit_mag = (
        pd.to_numeric(df[limit_col], errors="coerce").to_numpy(dtype=np.float64)
        if limit_col is not None else np.full(n, np.nan)
    )  # fmt: skip
    # forced photometry measures every epoch: there a missing value is a failed measurement
    upper = ~np.isfinite(val) & np.isfinite(limit_mag) & (limit_mag > 0) & (not fmt.baseline)
    limit_flux = 10.0 ** (-0.4 * (limit_mag - AB_ZEROPOINT_UJY))
    flux_type = fmt.flux_type
    zeropoint = np.full(n, np.nan)
    unit = fmt.unit
    if kind == "flux":
        val, unc, zeropoint, unit = _flux_to_ujy(df, fmt, picked, val, unc, name)
    elif fmt.flux_type == "difference":  # signed difference magnitudes -> difference flux
        sign = _sign(df, fmt.sign_column, n)
        flux, flux_err = mag_to_flux(val, unc)
        val, unc, kind, value, err = sign * flux, flux_err, "flux", "flux", "flux_err"
        zeropoint[:] = AB_ZEROPOINT_UJY
        unit = "uJy"
        notice("io", "difference_mag_to_flux", f"difference magnitudes {picked['mag']!r} "
               f"(signed by {fmt.sign_column!r}) turned into difference flux [microJansky, AB]; "
               "never the other way", source=name, count=n, total=n,
               severity="info")  # fmt: skip
    known = (
        set(bands)
        if bands is not None
        else set(BAND_WAVELENGTH_NM) | {b.lower() for b in BAND_WAVELENGTH_NM}
    )
    band_ok = band_ok & pd.Series(band).isin(known).to_numpy()
    qbad, qdesc = _quality(df, fmt, n) if quality else (np.zeros(n, dtype=bool), "")
    qfields = {f: c for f, names in QUALITY_FIELDS.items()
               if (c := _pick_one(df.columns, names)) is not None}  # fmt: skip
    fbad, fdesc = _quality_filters(df, qfields, quality_filters, upper, source, name)
    bad = {
        "no_id": no_id,
        "nan": ~np.isfinite(time) | (~upper & ~(np.isfinite(val) & np.isfinite(unc))),
        "nonpositive_err": ~upper & ~(unc > 0),
        "quality": qbad,
        "quality_filter": fbad,
        "unknown_band": ~band_ok,
    }
    finite = {c: np.isfinite(v) | (upper & (c != picked["time"]))
              for c, v in ((picked["time"], time), (vcol, val), (ecol, unc))}  # fmt: skip
    nan_cols = ", ".join(f"{c!r} ({int((~ok & ~bad['no_id']).sum())})"
                         for c, ok in finite.items() if (~ok & ~bad["no_id"]).any())  # fmt: skip
    describe = {
        "no_id": f"no object id in column {picked.get('object_id')!r}",
        "nan": f"NaN, infinite or non-numeric value in {nan_cols}",
        "nonpositive_err": f"non-positive error in column {ecol!r}",
        "quality": f"survey quality flag ({qdesc})",
        "quality_filter": f"user quality filter(s) ({fdesc})",
        "unknown_band": f"band not in {sorted(known)}, or missing (column {picked.get('band')!r})",
        "duplicate": "repeated (object, band, time) observation (the first is kept)",
    }
    calib = _calib_group(df, fmt, n)
    val = np.where(upper, np.nan, val)
    unc = np.where(upper, np.nan, unc)
    out = pd.DataFrame(
        {"object_id": id_values, "time": time, "band": band, value: val, err: unc,
         "flux_type": flux_type, "is_upper_limit": upper, "limit_flux": limit_flux,
         "calib_group": calib, "zeropoint": zeropoint, "mag_system": fmt.mag_system}
    )  # fmt: skip
    for f, c in qfields.items():
        out[f] = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=np.float64)
    drop = np.zeros(n, dtype=bool)
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
    if len(out) == 0 or bool(out["is_upper_limit"].all()) and not upper.all():
        raise InputError(source, f"no usable light-curve rows left of {n:,} (see the notices)")
    n_ul = int(out["is_upper_limit"].sum())
    if n_ul:
        notice("io", "upper_limits", f"{n_ul:,} non-detections kept as upper limits (limiting "
               f"magnitude {limit_col!r}; no flux value; not used as measurements)",
               source=name, count=n_ul, total=n, severity="info")  # fmt: skip
    if fmt.baseline and baseline is not False and kind == "flux":
        out = _subtract_baseline(out, name)
    if kind == "mag" and to_flux:
        flux, flux_err = mag_to_flux(out["mag"], out["mag_err"])
        out = out.drop(columns=["mag", "mag_err"])
        out.insert(3, "flux", flux)
        out.insert(4, "flux_err", flux_err)
        out["zeropoint"] = AB_ZEROPOINT_UJY
        kind, value, err, unit = "flux", "flux", "flux_err", "uJy"
        if fmt.mag_system != "AB":
            notice("io", "mag_system_assumed", f"{fmt.mag_system} magnitudes turned into "
                   "microJansky with the AB zero point 23.9 (no Vega-to-AB offset applied)",
                   source=name, count=len(out), total=n)  # fmt: skip
    ebv_col = _pick_one(df.columns, EBV_ALIASES)
    if ebv_col is not None:
        ebv = pd.to_numeric(df[ebv_col], errors="coerce").to_numpy(dtype=np.float64)[~drop]
        out = _deredden(out, ebv, kind, EXTINCTION_R, ebv_col, name)
    out["flux_type"] = pd.Categorical(out["flux_type"], categories=FLUX_TYPES)
    out["mag_system"] = out["mag_system"].astype("category")
    out = out.sort_values(["object_id", "time"], kind="stable").reset_index(drop=True)
    out.attrs["kind"] = kind
    out.attrs["flux_unit"] = unit if kind == "flux" else "mag"
    out.attrs["format"] = fmt.name
    out.attrs["n_rows_read"] = n
    out.attrs["time_convention"] = convention
    out.attrs["columns"] = {k: str(v) for k, v in picked.items()}
    return out


def _flux_to_ujy(df, fmt, picked, val, unc, name):
    """Flux and error in microJansky (or in the file's own unit when it is not a flux
    density), the input zero point per row and the unit name."""
    from serendip.notices import notice

    n = len(val)
    zp = np.full(n, np.nan)
    col = picked["flux"]
    units = df.attrs.get("units", {}) if isinstance(df.attrs.get("units"), dict) else {}
    if fmt.zeropoint_column is not None:
        zp_col = _pick_one(df.columns, (fmt.zeropoint_column,))
        if zp_col is None:
            raise InputError(name, f"{fmt.name}: zero-point column {fmt.zeropoint_column!r} "
                             "missing")  # fmt: skip
        zp = pd.to_numeric(df[zp_col], errors="coerce").to_numpy(dtype=np.float64)
        scale = 10.0 ** (-0.4 * (zp - AB_ZEROPOINT_UJY))
        notice("io", "flux_zeropoint", f"{fmt.name} {col!r} [DN] scaled by zero point "
               f"{zp_col!r} to microJansky (AB)", source=name, count=n, total=n,
               severity="info")  # fmt: skip
        return val * scale, unc * scale, zp, "uJy"
    unit = fmt.unit or units.get(str(col), "")
    if unit in ("", "uJy"):
        if unit == "uJy":
            zp[:] = AB_ZEROPOINT_UJY
        return val, unc, zp, unit
    try:
        import astropy.units as u

        q = u.Unit(unit)
        factor = q.to(u.uJy)
    except (ValueError, TypeError, u.UnitsError):
        return val, unc, zp, unit  # e.g. e-/s: not a flux density, kept as it is
    zp[:] = AB_ZEROPOINT_UJY + 2.5 * np.log10(factor)
    notice("io", "flux_unit", f"{col!r} in {unit} converted to microJansky (x {factor:g})",
           source=name, count=n, total=n, severity="info")  # fmt: skip
    return val * factor, unc * factor, zp, "uJy"


def _sign(df, column, n) -> np.ndarray:
    """+1/-1 per row from a ZTF ``isdiffpos`` column ('t'/'1'/1.0 positive); +1 without one."""
    col = _pick_one(df.columns, (column,)) if column else None
    if col is None:
        return np.ones(n)
    s = df[col].astype(str).str.strip().str.lower()
    neg = s.isin(["f", "0", "0.0", "-1", "-1.0", "false"]).to_numpy()
    return np.where(neg, -1.0, 1.0)


def _quality(df, fmt, n) -> tuple[np.ndarray, str]:
    """Rows failing the format's quality cuts, and what was cut (columns with counts)."""
    bad = np.zeros(n, dtype=bool)
    said = []
    for cut in fmt.quality:
        col = _pick_one(df.columns, (cut.column,))
        if col is None:
            continue
        raw = df[col]
        if cut.rule == "true":
            hit = raw.astype(str).str.strip().str.lower().isin(["true", "1", "1.0", "t"])
        elif cut.rule == "nonzero":
            num = pd.to_numeric(raw, errors="coerce")
            hit = num.ne(0) & num.notna() | raw.notna() & num.isna() & (raw.astype(str).str.strip() != "")
        else:  # "ge:<n>"
            hit = pd.to_numeric(raw, errors="coerce") >= float(cut.rule[3:])
        hit = hit.to_numpy(dtype=bool)
        if hit.any():
            said.append(f"{cut.meaning}: {int(hit.sum()):,}")
        bad |= hit
    return bad, "; ".join(said)


def _quality_filters(df, qfields, filters, upper, source, name) -> tuple[np.ndarray, str]:
    """Detections failing the user's quality filters, and what each cut (with counts)."""
    from serendip.notices import notice

    n = len(df)
    bad = np.zeros(n, dtype=bool)
    said = []
    for text in filters:
        try:
            field, op, value = parse_quality_filter(text)
        except ValueError as exc:
            raise InputError(source, str(exc)) from None
        if field not in qfields and upper.all():
            continue  # a non-detections file: the filter applies to detections only
        if field not in qfields:
            raise InputError(source, f"quality filter {text!r}: the table has no {field} column "
                             f"(accepted: {list(QUALITY_FIELDS[field])})")  # fmt: skip
        v = pd.to_numeric(df[qfields[field]], errors="coerce").to_numpy(dtype=np.float64)
        has = np.isfinite(v) & ~upper
        hit = has & ~_OPS[op](np.where(has, v, 0.0), value)
        no_value = int((~np.isfinite(v) & ~upper).sum())
        notice("io", "quality_filter", f"filter {field} {op} {value:g} (column "
               f"{qfields[field]!r}): {int(hit.sum()):,} of {int((~upper).sum()):,} detections "
               f"fail it; {no_value:,} detections have no value and are kept",
               source=name, count=int(hit.sum()), total=n)  # fmt: skip
        said.append(f"{field} {op} {value:g}: {int(hit.sum()):,}")
        bad |= hit
    return bad, "; ".join(said)


def _calib_group(df, fmt, n) -> np.ndarray:
    """Calibration group per row: the format's columns joined (ATLAS: the camera of Obs)."""
    parts = []
    for c in fmt.calib_columns:
        col = _pick_one(df.columns, (c,))
        if col is None:
            continue
        v = df[col].astype(str).str.strip()
        if fmt.name == "atlas_fp" and c == "obs":
            v = v.str[:3]
        parts.append(f"{c}=" + v)
    if not parts:
        return np.full(n, "", dtype=object)
    parts = [p.where(~p.str.endswith("=nan"), "") for p in parts]
    out = parts[0]
    for p in parts[1:]:
        out = out + "," + p
    return out.to_numpy(dtype=object)


def _subtract_baseline(out: pd.DataFrame, name: str) -> pd.DataFrame:
    """Forced photometry minus its baseline per (object, calibration group); counted."""
    from serendip.io.lc_baseline import MIN_BASELINE_EPOCHS, fit_baseline
    from serendip.notices import notice

    det = ~out["is_upper_limit"].to_numpy()
    sub = out.loc[det]
    b = fit_baseline(sub["object_id"].to_numpy(), sub["calib_group"].to_numpy(),
                     sub["time"].to_numpy(), sub["flux"].to_numpy(),
                     sub["flux_err"].to_numpy())  # fmt: skip
    out = out.copy()
    out["baseline"] = np.nan
    out["n_baseline"] = 0
    out.loc[det, "flux"] = sub["flux"].to_numpy() - b["baseline"].to_numpy()
    out.loc[det, "flux_err"] = sub["flux_err"].to_numpy() * b["baseline_err_mult"].to_numpy()
    out.loc[det, "baseline"] = b["baseline"].to_numpy()
    out.loc[det, "n_baseline"] = b["n_baseline"].to_numpy()
    groups = out.loc[det].groupby(["object_id", "calib_group"])["n_baseline"].first()
    ng = len(groups)
    notice("io", "baseline", f"forced-photometry baseline subtracted per object and calibration "
           f"group ({ng} groups; median {int(groups.median()) if ng else 0} baseline epochs)",
           source=name, count=ng, total=ng, severity="info")  # fmt: skip
    none = groups[groups == 0]
    short = groups[(groups > 0) & (groups < MIN_BASELINE_EPOCHS)]
    if len(none):
        notice("io", "no_baseline", f"{len(none)} of {ng} calibration groups have no baseline "
               f"epoch (e.g. {none.index[0][1]!r} of {none.index[0][0]!r}): their fluxes are not "
               "baseline-corrected", source=name, count=len(none), total=ng)  # fmt: skip
    if len(short):
        notice("io", "short_baseline", f"{len(short)} of {ng} calibration groups have fewer than "
               f"{MIN_BASELINE_EPOCHS} baseline epochs (fewest {int(short.min())}): their "
               "baseline is uncertain", source=name, count=len(short), total=ng)  # fmt: skip
    return out


def _deredden(out, ebv, kind, coeffs, col, name) -> pd.DataFrame:
    """Correct Galactic extinction A = R_band * E(B-V) (:data:`~serendip.io.lc_formats.EXTINCTION_R`)."""
    from serendip.notices import notice

    r = out["band"].map(coeffs).to_numpy(dtype=np.float64)
    ok = np.isfinite(r) & np.isfinite(ebv)
    a = np.where(ok, r * np.nan_to_num(ebv), 0.0)
    out = out.copy()
    if kind == "mag":
        out["mag"] = out["mag"] - a
    else:
        f = 10.0 ** (0.4 * a)
        out["flux"] = out["flux"] * f
        out["flux_err"] = out["flux_err"] * f
    out["limit_flux"] = out["limit_flux"] * 10.0 ** (0.4 * a)
    n = len(out)
    notice("io", "extinction_corrected", f"Galactic extinction corrected with E(B-V) column "
           f"{col!r} and A/E(B-V) of Schlafly & Finkbeiner 2011 (R_V = 3.1)",
           source=name, count=int(ok.sum()), total=n, severity="info")  # fmt: skip
    if (~ok).any():
        miss = sorted(set(out["band"].to_numpy()[~np.isfinite(r)]))
        notice("io", "extinction_not_corrected", f"{int((~ok).sum()):,} of {n:,} rows not "
               f"corrected (no E(B-V) value, or no coefficient for band(s) {miss})",
               source=name, count=int((~ok).sum()), total=n)  # fmt: skip
    return out


def _key(column) -> str:
    """How a column name is matched: lower case, without spaces or leading '#' (ATLAS ``###MJD``)."""
    return str(column).strip().lstrip("#").strip().lower()


def _pick_one(columns, names) -> str | None:
    low = {_key(c): c for c in columns}
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
    path: str | Path | list[str | Path] | tuple[str | Path, ...],
    *,
    column_map: dict[str, str] | None = None,
    bands: list[str] | None = None,
    to_flux: bool = False,
    default_band: str | None = None,
    strict: bool = False,
    format: str | None = None,
    baseline: bool | None = None,
    quality: bool = True,
    quality_filters: list[str] | tuple[str, ...] = (),
) -> pd.DataFrame:
    """Read light-curve tables (CSV, CSV.gz, Parquet, FITS, whitespace text) into the standard form.

    ``path`` may be a list of files (e.g. an ALeRCE detections export and its
    non-detections, or one ZTF forced-photometry file per object): each is read in its own
    columns and the results are joined. A CSV may start with ``#key=value`` header lines (ZTF
    forced photometry); a ``name=`` line there, else the file name, identifies the object
    when the table has no object-id column. A whitespace text file may name its columns in
    its last ``#`` line (MACHO ``#MJD Mag Err``); one without a header and with three columns
    is OGLE's ``HJD mag err`` (or MJD when the times are below 2,400,000). Kepler/K2/TESS light-curve FITS files take
    the object from ``OBJECT`` and the time origin from ``BJDREFI + BJDREFF``.
    See :func:`standardize_lightcurves` for the aliases, formats, counted drops and the other
    parameters; every problem is an :class:`InputError` naming the file.
    """
    if isinstance(path, list | tuple):
        if not path:
            raise InputError(None, "no light-curve file given")
        parts = [
            read_lightcurves(p, column_map=column_map, bands=bands, to_flux=to_flux,
                             default_band=default_band, strict=strict, format=format,
                             baseline=baseline, quality=quality,
                             quality_filters=quality_filters)
            for p in path
        ]  # fmt: skip
        return concat_lightcurves(parts, ", ".join(map(str, path)))
    kw: dict = {}
    df, name, kw = _read_raw(path)
    try:
        return standardize_lightcurves(
            df, path, column_map=column_map, bands=bands, to_flux=to_flux,
            default_band=default_band, object_id=name, strict=strict, format=format,
            baseline=baseline, quality=quality, quality_filters=quality_filters, **kw,
        )  # fmt: skip
    except InputError as exc:
        if exc.path is None:
            raise InputError(path, exc.problem) from exc
        raise


def concat_lightcurves(parts: list[pd.DataFrame], source: str = "tables") -> pd.DataFrame:
    """Join standard light-curve tables (of one kind, flux or mag) sorted by object and time."""
    kinds = {p.attrs.get("kind") for p in parts}
    if len(kinds) > 1:
        raise InputError(source, "the files mix magnitudes and fluxes; read them with "
                         "to_flux=True (or `--to-flux`) to put them on one scale")  # fmt: skip
    units = {p.attrs.get("flux_unit") for p in parts}
    if len(units) > 1:
        raise InputError(source, f"the files have different flux units {sorted(map(str, units))}")
    parts = _keep_survey_bands_apart(parts, source)
    attrs = dict(parts[0].attrs)
    formats = sorted({str(p.attrs.get("format")) for p in parts})
    read_attrs = [dict(p.attrs) for p in parts]
    parts = [p.copy() for p in parts]
    for p in parts:
        p.attrs = {}
    out = pd.concat(parts, ignore_index=True)
    for c in ("flux_type", "mag_system"):
        if c in out.columns:
            out[c] = out[c].astype(str).astype("category")
    out = out.sort_values(["object_id", "time"], kind="stable").reset_index(drop=True)
    attrs["format"] = ",".join(formats)
    attrs["n_rows_read"] = sum(int(p_attrs.get("n_rows_read", 0)) for p_attrs in read_attrs)
    out.attrs = attrs
    return out


def _keep_survey_bands_apart(parts: list[pd.DataFrame], source: str) -> list[pd.DataFrame]:
    """Bands of the same name from different surveys (ZTF g and Rubin g, ...) are different
    passbands: each becomes ``<band>_<format>`` (a counted notice), unless the tables come from
    one survey format (or plain tables, whose survey is unknown)."""
    from serendip.notices import notice

    fmts = {str(p.attrs.get("format")) for p in parts} - {"plain", "None"}
    if len(fmts) < 2:
        return parts
    bands_of: dict[str, set[str]] = {}
    for p in parts:
        bands_of.setdefault(str(p.attrs.get("format")), set()).update(p["band"].astype(str))
    shared = {b for f, bs in bands_of.items() for b in bs
              if any(b in other for g, other in bands_of.items() if g != f)}  # fmt: skip
    if not shared:
        return parts
    out = []
    for p in parts:
        fmt = str(p.attrs.get("format"))
        q = p.copy()
        hit = q["band"].astype(str).isin(shared)
        q.loc[hit, "band"] = q.loc[hit, "band"].astype(str) + "_" + fmt
        q.attrs = dict(p.attrs)
        out.append(q)
    notice("io", "survey_bands_apart", f"band(s) {sorted(shared)} appear in several survey formats "
           f"({sorted(fmts)}): kept apart as <band>_<format> (no cross-calibration given)",
           source=source, count=len(shared), total=len(shared), severity="info")  # fmt: skip
    return out


def _read_raw(path) -> tuple[pd.DataFrame, str, dict]:
    """The file's table, the object name it implies and reader settings from its header."""
    from serendip.io.tables import read_table, table_format

    p = Path(path)
    header = _comment_header(path)
    if header is not None:
        try:
            df = pd.read_csv(path, skiprows=header[0], low_memory=False)
        except (ValueError, OSError, pd.errors.ParserError) as exc:
            raise InputError(path, f"cannot read the CSV after its # header: {exc}") from None
        return df, header[1].get("name") or _stem(path), {}
    text = _text_header(path)
    if text is not None:
        try:
            df = pd.read_csv(path, sep=r"\s+", comment="#", header=None, names=text)
        except (ValueError, OSError, pd.errors.ParserError) as exc:
            raise InputError(path, f"cannot read the text table: {exc}") from None
        return df, _stem(path), {}
    if p.exists() and not p.is_dir() and table_format(p) == "fits":
        import warnings

        with warnings.catch_warnings():  # TUNIT "e-/s", "BJD - 2454833": kept as text
            warnings.filterwarnings("ignore", message=".*did not parse as fits unit")
            df = read_table(path)
        return df, *_fits_header(path)
    return read_table(path), _stem(path), {}


def _fits_header(path) -> tuple[str, dict]:
    """Object name and time origin of a Kepler/K2/TESS light-curve FITS file."""
    from astropy.io import fits

    try:
        with fits.open(path) as hdul:
            h0 = hdul[0].header
            h1 = hdul[1].header if len(hdul) > 1 else h0
            name = str(h0.get("OBJECT") or h1.get("OBJECT") or _stem(path)).strip()
            refi, reff = h1.get("BJDREFI"), h1.get("BJDREFF", 0.0)
            tel = str(h0.get("TELESCOP", "")).strip()
    except (OSError, IndexError, ValueError) as exc:
        raise InputError(path, f"cannot read the FITS header: {exc}") from None
    if refi is None:
        return name, {}
    offset = float(refi) + float(reff or 0.0) - 2400000.5
    label = {"Kepler": "BKJD = BJD - 2454833", "TESS": "BTJD = BJD - 2457000"}.get(
        tel, f"BJD - {float(refi) + float(reff or 0.0):.1f}"
    )
    return name, {"time_offset": offset,
                  "time_convention": f"{tel or 'FITS'} TIME is {label} (TDB, barycentric)"}


def _text_header(path) -> list[str] | None:
    """Column names of a whitespace text table from its last ``#`` line, or None."""
    import gzip

    p = str(path).lower()
    if not p.endswith((".txt", ".dat", ".mjd", ".lc", ".txt.gz", ".dat.gz")):
        return None
    opener = gzip.open if p.endswith(".gz") else open
    last = None
    try:
        with opener(path, "rt", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    continue
                if not line.startswith("#"):
                    first = line.split()
                    break
                last = line[1:].split()
            else:
                return None
    except (OSError, EOFError):
        return None
    if last and len(last) == len(first):
        return last
    if last is None and len(first) == 3:  # OGLE-style: time, mag, err without a header
        try:
            t0 = float(first[0])
            [float(v) for v in first[1:]]
        except ValueError:
            return None
        return ["hjd" if t0 > 2400000.0 else "mjd", "mag", "mag_err"]
    return None


def _stem(path) -> str:
    name = Path(path).name
    for ext in (".gz", ".csv", ".parquet", ".fits", ".txt", ".dat", ".mjd"):
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

    Raises :class:`InputError` naming ``source`` for missing columns, for missing (NaN)
    bands and for NaN/inf times, values or errors (the Rust feature code would panic on
    them). Upper limits (``is_upper_limit``) are not measurements: they are left out (a
    counted ``io/upper_limits_left_out`` notice). Returns the table itself when each object's
    rows are contiguous and time-ordered, else a copy stably sorted by object and time (rows
    grouped by contiguity would split a shuffled object into many).
    """
    if "is_upper_limit" in table.columns:
        ul = table["is_upper_limit"].to_numpy(dtype=bool)
        if ul.any():
            from serendip.notices import notice

            notice("io", "upper_limits_left_out", f"{int(ul.sum()):,} upper limits left out of "
                   "the measurements used here", source=str(source or "table"),
                   count=int(ul.sum()), total=len(table), severity="info")  # fmt: skip
            table = table.loc[~ul]
    value = "flux" if "flux" in table.columns else "mag" if "mag" in table.columns else None
    if value is None:
        raise InputError(source, "light-curve table has neither a flux nor a mag column")
    missing = [c for c in ("object_id", "time", "band", f"{value}_err") if c not in table.columns]
    if missing:
        raise InputError(source, f"light-curve table lacks column(s) {missing}")
    nb = table["band"].isna().to_numpy()
    if nb.any():
        first = table["object_id"].to_numpy()[np.argmax(nb)]
        raise InputError(source, f"{int(nb.sum())} row(s) have no band (NaN; first in object "
                         f"{first!r}); drop them or give the band (standardize_lightcurves "
                         "drops and counts them)")  # fmt: skip
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
