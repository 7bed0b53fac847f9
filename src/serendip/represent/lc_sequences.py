"""Padded sequence form of light curves for recurrent classifiers (astromcad-style input).

Each observation becomes a 4-vector ``[band wavelength, scaled time, scaled flux, scaled
error]``, time-ordered over all bands, padded with zeros to ``max_len``:

* band wavelength [micrometre] (e.g. ZTF g 0.475, r 0.630);
* scaled time = (t - t_first) / ``time_scale`` [days / days]; t_first is the object's first
  observation, so a prefix of a light curve gives a prefix of its sequence (causal);
* scaled flux = asinh(flux / ``flux_scale``) and its error propagated through asinh, which
  keeps the sign of difference fluxes and compresses the dynamic range. Magnitude tables are
  converted to flux first (AB, microJansky).

Optional host-galaxy context per object: ``[redshift, MW E(B-V)]``, shape (N, 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.lightcurves import (
    band_wavelength_nm,
    checked_order,
    mag_to_flux,
    object_offsets,
)

CONTEXT_COLUMNS = ("redshift", "mw_ebv")


@dataclass
class LightCurveSequences:
    """Padded light curves.

    Attributes
    ----------
    X : (N, T, 4) float32 - wavelength [um], scaled time, scaled flux, scaled error.
    mask : (N, T) bool - True for real observations (a prefix of each row).
    lengths : (N,) int64 - number of real observations (<= T).
    object_ids : (N,) object identifiers in row order.
    context : (N, n_context) float32 or None - host redshift and MW E(B-V).
    time : (N, T) float64 - unscaled observation times [days], NaN in the padding.
    """

    X: np.ndarray
    mask: np.ndarray
    lengths: np.ndarray
    object_ids: np.ndarray
    context: np.ndarray | None
    time: np.ndarray


def lightcurve_sequences(
    table: pd.DataFrame,
    *,
    max_len: int = 256,
    time_scale: float = 100.0,
    flux_scale: float = 100.0,
    context: pd.DataFrame | None = None,
    context_columns: tuple[str, ...] = CONTEXT_COLUMNS,
    truncate: str = "first",
) -> LightCurveSequences:
    """Turn a standard light-curve table into padded sequences (vectorised over all rows).

    Parameters
    ----------
    table : standard long table (flux or mag); rows in any order are grouped by object and
        sorted by time first.
    max_len : T, the padded length; longer light curves keep their first (``truncate="first"``)
        or last (``"last"``) ``max_len`` points.
    time_scale : days per unit of scaled time.
    flux_scale : flux unit of the asinh scaling [same unit as the flux column, e.g. uJy].
    context : optional table with ``object_id`` and ``context_columns`` (one row per object);
        objects missing from it raise :class:`InputError`.
    """
    table = checked_order(table)
    if "flux" in table.columns:
        flux = table["flux"].to_numpy(np.float64)
        err = table["flux_err"].to_numpy(np.float64)
    elif "mag" in table.columns:
        flux, err = mag_to_flux(table["mag"], table["mag_err"])
    else:
        raise InputError(None, "light-curve table has neither a flux nor a mag column")
    ids, offsets = object_offsets(table)
    n = len(ids)
    counts = np.diff(offsets)
    if n == 0:
        raise InputError(None, "light-curve table has no rows")
    time = table["time"].to_numpy(np.float64)
    obj = np.repeat(np.arange(n), counts)
    pos = np.arange(len(time)) - np.repeat(offsets[:-1], counts)  # index within object
    if truncate == "last":
        pos = pos - np.repeat(np.maximum(counts - max_len, 0), counts)
    elif truncate != "first":
        raise ValueError("truncate must be 'first' or 'last'")
    keep = (pos >= 0) & (pos < max_len)
    t_first = np.full(n, np.inf)
    np.minimum.at(t_first, obj[keep], time[keep])
    wl = band_wavelength_nm(table["band"].to_numpy()) / 1000.0
    u = flux / flux_scale
    X = np.zeros((n, max_len, 4), dtype=np.float32)
    rows, cols = obj[keep], pos[keep]
    X[rows, cols, 0] = wl[keep]
    X[rows, cols, 1] = (time[keep] - t_first[rows]) / time_scale
    X[rows, cols, 2] = np.arcsinh(u[keep])
    X[rows, cols, 3] = (err[keep] / flux_scale) / np.sqrt(1.0 + u[keep] ** 2)
    mask = np.zeros((n, max_len), dtype=bool)
    mask[rows, cols] = True
    tt = np.full((n, max_len), np.nan)
    tt[rows, cols] = time[keep]
    ctx = None
    if context is not None:
        missing_cols = [c for c in ("object_id", *context_columns) if c not in context.columns]
        if missing_cols:
            raise InputError(None, f"context table lacks column(s) {missing_cols}")
        c = context.drop_duplicates("object_id").set_index(
            context["object_id"].drop_duplicates().astype(str)
        )
        c = c.reindex(ids.astype(str))
        vals = c[list(context_columns)].to_numpy(np.float64)
        if not np.all(np.isfinite(vals)):
            bad = ids[~np.all(np.isfinite(vals), axis=1)][:5]
            raise InputError(None, f"no (finite) host context for object(s) {list(bad)}")
        ctx = vals.astype(np.float32)
    return LightCurveSequences(
        X=X, mask=mask, lengths=mask.sum(1).astype(np.int64), object_ids=ids, context=ctx, time=tt
    )


def pad_sequences(X: np.ndarray, max_len: int) -> np.ndarray:
    """Zero-pad (or cut) an (N, T, F) array along T to ``max_len`` (astromcad's ``Detect.pad``)."""
    X = np.asarray(X, dtype=np.float32)
    if X.shape[1] >= max_len:
        return X[:, :max_len]
    out = np.zeros((X.shape[0], max_len, X.shape[2]), dtype=np.float32)
    out[:, : X.shape[1]] = X
    return out
