"""Positional matching with each position's error: the one match criterion of serendip.

Two positions with 1-sigma errors ``e1`` and ``e2`` [arcsec] (per axis, circular) are the
same object when their separation

    sep <= max(k * sqrt(e1**2 + e2**2), floor)

with ``k`` = :data:`MATCH_SIGMA` (3: a true pair lies beyond it with probability
exp(-k**2 / 2) = 1.1 % for circular Gaussian errors) and ``floor`` = :data:`MATCH_FLOOR_ARCSEC`
(the absolute astrometric accuracy that formal errors of bright sources leave out). The
nearest object is the one with the smallest normalised separation
``sep / sqrt(e1**2 + e2**2)``. Used by the grouping of detections into sources
(:mod:`serendip.catalog.sources`), the archival context (:mod:`serendip.catalog.context`) and
the matching of known transients (:func:`serendip.catalog.known.match_known_transients`).

:func:`position_errors` reads a table's errors from the first column it has of
:data:`ERROR_COLUMNS`; a table without one gets :data:`DEFAULT_POS_ERR_ARCSEC`, counted in a
notice (never silently).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: match at separations up to this many combined 1-sigma errors
MATCH_SIGMA = 3.0
#: smallest match radius [arcsec] (systematic astrometric error)
MATCH_FLOOR_ARCSEC = 1.0
#: 1-sigma position error [arcsec] assumed for a table that gives none (counted in a notice)
DEFAULT_POS_ERR_ARCSEC = 1.0

#: columns read as a 1-sigma position error, and the factor that turns each into one [arcsec]:
#: CSC ``err_ellipse_r0`` is the 95 % ellipse's major radius (1-sigma = r0 / 2.448);
#: Gaia ``ra_error`` / ``dec_error`` are in mas
ERROR_COLUMNS: dict[str, float] = {
    "pos_err_arcsec": 1.0,
    "pos_err": 1.0,
    "position_error": 1.0,
    "err_arcsec": 1.0,
    "err_ellipse_r0": 1.0 / 2.448,
    "ra_error": 1.0e-3,
    "coo_err_maja": 1.0e-3,
}


def match_radius(err1, err2, k: float = MATCH_SIGMA, floor: float = MATCH_FLOOR_ARCSEC):
    """Match radius [arcsec] of positions with 1-sigma errors ``err1``, ``err2`` [arcsec]."""
    e1, e2 = np.asarray(err1, np.float64), np.asarray(err2, np.float64)
    return np.maximum(k * np.sqrt(e1**2 + e2**2), floor)


def position_errors(
    df: pd.DataFrame,
    what: str,
    *,
    default: float = DEFAULT_POS_ERR_ARCSEC,
    stage: str = "candidates",
) -> np.ndarray:
    """1-sigma position errors [arcsec] of the rows of ``df`` (see :data:`ERROR_COLUMNS`).

    Missing or non-positive values (or a table without an error column) become ``default``;
    a notice of ``stage`` counts them, naming ``what``.
    """
    from serendip.notices import notice

    low = {c.lower(): c for c in df.columns}
    col = next((c for c in ERROR_COLUMNS if c in low), None)
    if col is None:
        err = np.full(len(df), np.nan)
    else:
        err = pd.to_numeric(df[low[col]], errors="coerce").to_numpy(np.float64) * ERROR_COLUMNS[col]
        if col == "ra_error" and "dec_error" in low:  # Gaia: the larger axis
            dec = pd.to_numeric(df[low["dec_error"]], errors="coerce").to_numpy(np.float64)
            err = np.fmax(err, dec * ERROR_COLUMNS["ra_error"])
    bad = ~(np.isfinite(err) & (err > 0))
    if bad.any() and len(df):
        where = f"column {low[col]!r}" if col else f"no error column (one of {list(ERROR_COLUMNS)})"
        notice(
            stage,
            "position_error_assumed",
            f"{what}: {int(bad.sum())} of {len(df)} positions have no 1-sigma error ({where}); "
            f"{default:g} arcsec assumed for them in the positional matches",
            count=int(bad.sum()),
            total=len(df),
        )
        err = np.where(bad, default, err)
    return err


def _coords(ra, dec):
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    return SkyCoord(np.asarray(ra, np.float64) * u.deg, np.asarray(dec, np.float64) * u.deg)


def pairs_within(
    ra1, dec1, err1, ra2, dec2, err2, *, k: float = MATCH_SIGMA,
    floor: float = MATCH_FLOOR_ARCSEC, max_radius: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every pair (i of set 1, j of set 2) meeting the criterion: ``(i, j, sep [arcsec],
    sep / sqrt(e1**2 + e2**2))``. Positions that are not finite never match. ``max_radius``
    [arcsec] caps the radius (None: no cap)."""
    ra1, dec1, e1 = (np.asarray(a, np.float64) for a in (ra1, dec1, err1))
    ra2, dec2, e2 = (np.asarray(a, np.float64) for a in (ra2, dec2, err2))
    ok1 = np.flatnonzero(np.isfinite(ra1) & np.isfinite(dec1))
    ok2 = np.flatnonzero(np.isfinite(ra2) & np.isfinite(dec2))
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    if not len(ok1) or not len(ok2):
        return empty
    from astropy import units as u

    reach = float(match_radius(np.nanmax(e1[ok1]), np.nanmax(e2[ok2]), k, floor))
    if max_radius is not None:
        reach = min(reach, float(max_radius))
    c1, c2 = _coords(ra1[ok1], dec1[ok1]), _coords(ra2[ok2], dec2[ok2])
    a, b, sep, _ = c2.search_around_sky(c1, reach * u.arcsec) if len(ok2) else (None,) * 4
    i, j, s = ok1[a], ok2[b], sep.to_value(u.arcsec)
    radius = match_radius(e1[i], e2[j], k, floor)
    if max_radius is not None:
        radius = np.minimum(radius, float(max_radius))
    keep = s <= radius
    i, j, s = i[keep], j[keep], s[keep]
    return i, j, s, s / np.maximum(np.sqrt(e1[i] ** 2 + e2[j] ** 2), 1e-9)


def match_nearest(
    ra1, dec1, err1, ra2, dec2, err2, *, k: float = MATCH_SIGMA,
    floor: float = MATCH_FLOOR_ARCSEC, max_radius: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each position of set 1, the set-2 object meeting the criterion with the smallest
    normalised separation: ``(index into set 2 or -1, sep [arcsec] or NaN, normalised
    separation or NaN)``."""
    n = len(np.atleast_1d(ra1))
    idx, sep, norm = np.full(n, -1, np.int64), np.full(n, np.nan), np.full(n, np.nan)
    i, j, s, x = pairs_within(ra1, dec1, err1, ra2, dec2, err2, k=k, floor=floor,
                              max_radius=max_radius)
    if len(i):
        order = np.lexsort((s, x, i))  # by row, then normalised separation
        i, j, s, x = i[order], j[order], s[order], x[order]
        first = np.r_[True, i[1:] != i[:-1]]
        idx[i[first]], sep[i[first]], norm[i[first]] = j[first], s[first], x[first]
    return idx, sep, norm
