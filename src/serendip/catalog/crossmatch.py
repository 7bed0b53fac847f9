"""Positional crossmatch of X-ray sources with a label table or SIMBAD.

``crossmatch`` keeps every row of the X-ray table (like TOPCAT's "best match, all
rows of table 1" used by UMLCAXS) and attaches the nearest label-table row within
``radius`` (default 1 arcsec), with the separation in arcsec. ``simbad_labels``
queries SIMBAD through astroquery (needs internet) and returns a label table that
``crossmatch`` accepts; ``label_with_classes`` adds classes through the versioned
SIMBAD-type mapping of :mod:`serendip.catalog.simbad_types`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.catalog.simbad_types import MAPPING_VERSION, map_otypes
from serendip.errors import InputError


def _coords(df: pd.DataFrame, ra: str, dec: str, name: str):
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    for c in (ra, dec):
        if c not in df.columns:
            raise InputError(
                name, f"no column {c!r} (needed for the crossmatch); found {list(df.columns)[:20]}"
            )
    r = pd.to_numeric(df[ra], errors="coerce").to_numpy(float)
    d = pd.to_numeric(df[dec], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(r) | ~np.isfinite(d) | (d < -90) | (d > 90)
    if bad.any():
        raise InputError(
            name,
            f"{int(bad.sum())} row(s) with missing or invalid {ra}/{dec} (first row {int(np.flatnonzero(bad)[0])})",
        )
    return SkyCoord(r * u.deg, d * u.deg, frame="icrs")


def crossmatch(
    sources: pd.DataFrame,
    labels: pd.DataFrame,
    radius_arcsec: float = 1.0,
    *,
    ra: str = "ra",
    dec: str = "dec",
    label_ra: str = "ra",
    label_dec: str = "dec",
    columns: list[str] | None = None,
    prefix: str = "match_",
    sources_name: str = "sources",
    labels_name: str = "labels",
    errors: bool = False,
) -> pd.DataFrame:
    """Best match within ``radius_arcsec`` of every source in a label table.

    With ``errors=True`` the match uses both tables' 1-sigma position errors (their error
    columns, :mod:`serendip.catalog.posmatch`: separation at most
    ``max(3 sqrt(e1**2 + e2**2), 1 arcsec)``, nearest by normalised separation) and
    ``radius_arcsec`` is only the upper limit; the default (a fixed radius, nearest by
    separation) reproduces UMLCAXS's TOPCAT match.

    Parameters
    ----------
    sources : table with ``ra``, ``dec`` in degrees (ICRS), n rows; all rows are kept.
    labels : table with ``label_ra``, ``label_dec`` in degrees and the columns to attach.
    radius_arcsec : match radius in arcsec (default 1).
    columns : label columns to attach (default: all but the coordinates), prefixed with ``prefix``.

    Returns
    -------
    A copy of ``sources`` with ``{prefix}<column>`` for each attached column (missing where no
    match), ``{prefix}sep_arcsec`` (float, NaN when unmatched) and ``{prefix}index`` (row of
    ``labels`` or -1).
    """
    if radius_arcsec <= 0:
        raise ValueError("radius_arcsec must be positive")
    out = sources.copy()
    columns = (
        [c for c in labels.columns if c not in (label_ra, label_dec)]
        if columns is None
        else list(columns)
    )
    missing = [c for c in columns if c not in labels.columns]
    if missing:
        raise InputError(labels_name, f"missing column(s) {missing}")
    idx = np.full(len(sources), -1, dtype=np.int64)
    sep = np.full(len(sources), np.nan)
    if len(sources) and len(labels):
        c1 = _coords(sources, ra, dec, sources_name)
        c2 = _coords(labels, label_ra, label_dec, labels_name)
        if errors:
            from serendip.catalog.posmatch import match_nearest, position_errors

            idx, sep, _ = match_nearest(
                c1.ra.deg, c1.dec.deg, position_errors(sources, sources_name, stage="classify"),
                c2.ra.deg, c2.dec.deg, position_errors(labels, labels_name, stage="classify"),
                max_radius=radius_arcsec,
            )
        else:
            j, s2d, _ = c1.match_to_catalog_sky(c2)
            s = s2d.arcsec
            ok = s <= radius_arcsec
            idx[ok] = j[ok]
            sep[ok] = s[ok]
    hit = idx >= 0
    for c in columns:
        col = labels[c].to_numpy()
        vals = np.empty(len(sources), dtype=object if col.dtype.kind in "OUS" else np.float64)
        vals[:] = None if vals.dtype == object else np.nan
        vals[hit] = col[idx[hit]]
        out[prefix + c] = vals
    out[prefix + "sep_arcsec"] = sep
    out[prefix + "index"] = idx
    return out


def label_with_classes(
    df: pd.DataFrame,
    otype_column: str = "main_type",
    level: str = "fine",
    out_column: str = "label",
) -> pd.DataFrame:
    """Add ``out_column`` (class from the SIMBAD type in ``otype_column``) and the mapping version."""
    if otype_column not in df.columns:
        raise InputError(None, f"no column {otype_column!r} with SIMBAD object types")
    out = df.copy()
    out[out_column] = map_otypes(out[otype_column].to_numpy(dtype=object), level=level)
    out.attrs["simbad_mapping_version"] = MAPPING_VERSION
    return out


def simbad_labels(
    sources: pd.DataFrame,
    radius_arcsec: float = 1.0,
    *,
    ra: str = "ra",
    dec: str = "dec",
    timeout_s: float = 60.0,
) -> pd.DataFrame:
    """Query SIMBAD (online, astroquery) around every source; one row per SIMBAD object.

    Returns a table with ``ra``, ``dec`` [deg], ``main_id`` and ``main_type`` (SIMBAD
    ``otype``) ready for :func:`crossmatch`. Raises :class:`InputError` when SIMBAD cannot
    be reached (this function never returns a silently empty table on failure).
    """
    from astropy import units as u
    from astroquery.simbad import SimbadClass

    coords = _coords(sources, ra, dec, "sources")
    try:
        sim = SimbadClass()
        sim.TIMEOUT = timeout_s
        sim.add_votable_fields("otype")  # contacts SIMBAD in recent astroquery
        res = sim.query_region(coords, radius=radius_arcsec * u.arcsec)
    except Exception as exc:  # noqa: BLE001 - network failures become a clear message
        raise InputError(
            "SIMBAD",
            f"query failed ({type(exc).__name__}: {exc}); crossmatch against a local label table instead",
        ) from exc
    if res is None or len(res) == 0:
        return pd.DataFrame({"ra": [], "dec": [], "main_id": [], "main_type": []})
    df = res.to_pandas()
    lower = {c.lower(): c for c in df.columns}
    pick = {
        "ra": lower.get("ra"),
        "dec": lower.get("dec"),
        "main_id": lower.get("main_id"),
        "main_type": lower.get("otype"),
    }
    return pd.DataFrame({k: df[v].to_numpy() for k, v in pick.items() if v is not None})


def _sigma(df: pd.DataFrame, value, name: str) -> np.ndarray:
    """1-sigma position error [arcsec] per row: a number, or the name of a column of ``df``."""
    if isinstance(value, str):
        if value not in df.columns:
            raise InputError(name, f"no position-error column {value!r}")
        s = np.array(pd.to_numeric(df[value], errors="coerce"), dtype=np.float64)
    else:
        s = np.full(len(df), float(value))
    return s


def _nearest(c1, c2, radius_arcsec: float) -> tuple[np.ndarray, np.ndarray]:
    """(index into c2 or -1, separation [arcsec] or NaN) of each c1 position's nearest c2
    position within the radius."""
    idx = np.full(len(c1), -1, dtype=np.int64)
    sep = np.full(len(c1), np.nan)
    if len(c1) and len(c2):
        j, s2d, _ = c1.match_to_catalog_sky(c2)
        s = s2d.arcsec
        ok = s <= radius_arcsec
        idx[ok], sep[ok] = j[ok], s[ok]
    return idx, sep


def probabilistic_crossmatch(
    sources: pd.DataFrame,
    catalog: pd.DataFrame,
    radius_arcsec: float = 3.0,
    *,
    sigma_sources: float | str = 0.5,
    sigma_catalog: float | str = 0.1,
    shift_arcsec: float = 60.0,
    n_shifts: int = 8,
    columns: list[str] | None = None,
    prefix: str = "match_",
    ra: str = "ra",
    dec: str = "dec",
    cat_ra: str = "ra",
    cat_dec: str = "dec",
    sources_name: str = "sources",
    catalog_name: str = "catalog",
) -> tuple[pd.DataFrame, dict]:
    """Nearest counterpart within ``radius_arcsec`` with a match probability from the
    position errors, and the expected false-match fraction from shifted positions.

    Every source is matched to its nearest catalogue object within the radius. The
    source positions are then moved by ``shift_arcsec`` in ``n_shifts`` directions and
    matched again: any match found there is a chance coincidence, so

    * the fraction of shifted sources with a match, ``f_shift``, gives the density of
      unrelated objects ``rho = -ln(1 - f_shift) / (pi R^2)`` [arcsec^-2]; the fraction of
      sources with a true counterpart is ``Q = (f_true - f_shift) / (1 - f_shift)``, and the
      expected false-match fraction among the real matches
      ``((1 - Q) f_shift + Q 2 pi rho sigma^2 / (1 + 2 pi rho sigma^2)) / f_true``
      (sources without a true counterpart match by chance as often as shifted ones; one with
      a counterpart, when a chance object lies closer; ``f_shift / f_true``, the upper bound,
      is reported too);
    * each match gets a likelihood ratio ``LR = exp(-x^2 / 2) / (2 pi sigma^2 rho)`` with
      ``sigma^2 = sigma_sources^2 + sigma_catalog^2`` [arcsec^2] and ``x = sep / sigma``,
      and a match probability ``p = Q LR / (Q LR + 1 - Q)``.

    ``sigma_sources`` / ``sigma_catalog``: 1-sigma position errors [arcsec], a number or a
    column name (NaN errors are replaced by the median). Returns ``(table, info)``: a copy
    of ``sources`` with ``{prefix}<column>`` for each catalogue column (missing where no
    match), ``{prefix}sep_arcsec``, ``{prefix}sep_sigma`` (= x), ``{prefix}p_match`` (0
    without a match) and ``{prefix}index``; ``info`` holds ``n_matched``,
    ``match_fraction``, ``shifted_match_fraction``, ``false_match_fraction`` (expected,
    among the matches), ``false_match_fraction_upper`` (``f_shift / f_true``),
    ``false_matches_from_p`` (the sum of 1 - p over the matches, for
    comparison), ``density_per_arcsec2`` and ``true_counterpart_fraction`` (Q).
    """
    from astropy import units as u

    if radius_arcsec <= 0 or shift_arcsec <= 2 * radius_arcsec:
        raise ValueError("need radius_arcsec > 0 and shift_arcsec > 2 * radius_arcsec")
    columns = (
        [c for c in catalog.columns if c not in (cat_ra, cat_dec)]
        if columns is None
        else list(columns)
    )
    missing = [c for c in columns if c not in catalog.columns]
    if missing:
        raise InputError(catalog_name, f"missing column(s) {missing}")
    c1 = _coords(sources, ra, dec, sources_name)
    c2 = _coords(catalog, cat_ra, cat_dec, catalog_name)
    idx, sep = _nearest(c1, c2, radius_arcsec)
    hit = idx >= 0
    n = max(len(sources), 1)
    f_true = hit.sum() / n
    angles = np.arange(n_shifts) * 360.0 / max(n_shifts, 1)
    f_shift = float(
        np.mean(
            [
                (
                    _nearest(
                        c1.directional_offset_by(a * u.deg, shift_arcsec * u.arcsec),
                        c2,
                        radius_arcsec,
                    )[0]
                    >= 0
                ).mean()
                if len(sources)
                else 0.0
                for a in angles
            ]
        )
    )
    f_shift_c = min(f_shift, 1 - 1e-9)
    rho = max(-np.log1p(-f_shift_c) / (np.pi * radius_arcsec**2), 1e-12)
    q = float(np.clip((f_true - f_shift) / (1 - f_shift_c), 1e-3, 1 - 1e-3))
    s1 = _sigma(sources, sigma_sources, sources_name)
    s2 = np.full(len(sources), np.nan)
    cs2 = _sigma(catalog, sigma_catalog, catalog_name)
    s2[hit] = cs2[idx[hit]]
    for s in (s1, s2):
        med = np.nanmedian(s) if np.isfinite(s).any() else 0.5
        s[~(np.isfinite(s) & (s > 0))] = med if med > 0 else 0.5
    sig2 = s1**2 + s2**2
    x = np.where(hit, sep / np.sqrt(sig2), np.nan)
    lr = np.where(hit, np.exp(-0.5 * np.nan_to_num(x) ** 2) / (2 * np.pi * sig2 * rho), 0.0)
    p = np.where(hit, q * lr / (q * lr + 1 - q), 0.0)
    # a source with a true counterpart still matches a chance object lying closer to it
    closer = float(np.mean(2 * np.pi * rho * sig2 / (1 + 2 * np.pi * rho * sig2)))
    out = sources.copy()
    for c in columns:
        col = catalog[c].to_numpy()
        vals = np.empty(len(sources), dtype=object if col.dtype.kind in "OUS" else np.float64)
        vals[:] = None if vals.dtype == object else np.nan
        vals[hit] = col[idx[hit]]
        out[prefix + c] = vals
    out[prefix + "sep_arcsec"] = sep
    out[prefix + "sep_sigma"] = x
    out[prefix + "p_match"] = p
    out[prefix + "index"] = idx
    info = {
        "n_matched": int(hit.sum()),
        "match_fraction": float(f_true),
        "shifted_match_fraction": f_shift,
        "false_match_fraction": float(min(((1 - q) * f_shift + q * closer) / f_true, 1.0))
        if f_true > 0
        else 0.0,
        "false_match_fraction_upper": float(min(f_shift / f_true, 1.0)) if f_true > 0 else 0.0,
        "false_matches_from_p": float((1 - p[hit]).sum()),
        "density_per_arcsec2": float(rho),
        "true_counterpart_fraction": q,
        "radius_arcsec": float(radius_arcsec),
        "shift_arcsec": float(shift_arcsec),
    }
    return out, info
