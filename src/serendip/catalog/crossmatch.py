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
) -> pd.DataFrame:
    """Best match within ``radius_arcsec`` of every source in a label table.

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
