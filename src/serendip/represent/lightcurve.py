"""Binned light curve of one file, with soft and hard band counts (used by plots)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.errors import InputError


def binned_lightcurve(
    time: np.ndarray,
    energy: np.ndarray,
    n_bins: int | None = None,
    bin_s: float | None = None,
    soft: tuple[float, float] = (500.0, 2000.0),
    hard: tuple[float, float] = (2000.0, 7000.0),
) -> pd.DataFrame:
    """Counts of one file in equal time bins from its first to its last event.

    Parameters
    ----------
    time : (n,) event times [s].
    energy : (n,) event energies [eV].
    n_bins : number of bins; default ``clip(n // 10, 1, 50)`` unless ``bin_s`` is given.
    bin_s : bin width [s] (the last bin may be partial); overrides ``n_bins``.
    soft, hard : energy bands [eV] (lower edge included, upper excluded except the
        top of ``hard``).

    Returns
    -------
    DataFrame with one row per bin: ``t_mid`` [s, same zero as ``time``], ``t_width`` [s],
    ``counts``, ``rate`` [counts/s], ``rate_err`` [counts/s] (sqrt(max(counts, 1)) / width),
    ``soft``, ``hard`` (band counts) and ``hr`` = (hard - soft) / (hard + soft) (NaN if 0).
    """
    time = np.asarray(time, dtype=np.float64)
    energy = np.asarray(energy, dtype=np.float64)
    if time.shape != energy.shape or time.ndim != 1:
        raise InputError(
            None,
            f"time and energy must be 1-D of equal length, got {time.shape} and {energy.shape}",
        )
    if time.size == 0:
        raise InputError(None, "cannot bin a light curve with no events")
    t0, t1 = float(time.min()), float(time.max())
    span = t1 - t0
    if bin_s is not None:
        if not bin_s > 0:
            raise InputError(None, f"bin_s must be > 0 s, got {bin_s}")
        n_bins = max(1, int(np.ceil(span / bin_s))) if span > 0 else 1
        edges = t0 + bin_s * np.arange(n_bins + 1)
        edges[-1] = max(edges[-1], t1)
    else:
        n_bins = int(np.clip(time.size // 10, 1, 50)) if n_bins is None else int(n_bins)
        if n_bins < 1:
            raise InputError(None, f"n_bins must be >= 1, got {n_bins}")
        edges = np.linspace(t0, t1 if span > 0 else t0 + 1.0, n_bins + 1)
    idx = np.clip(np.searchsorted(edges, time, side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(idx, minlength=n_bins)
    in_soft = (energy >= soft[0]) & (energy < soft[1])
    in_hard = (energy >= hard[0]) & (energy <= hard[1])
    s = np.bincount(idx[in_soft], minlength=n_bins)
    h = np.bincount(idx[in_hard], minlength=n_bins)
    width = np.diff(edges)
    with np.errstate(invalid="ignore", divide="ignore"):
        hr = np.where(s + h > 0, (h - s) / np.maximum(s + h, 1), np.nan)
    return pd.DataFrame(
        {
            "t_mid": 0.5 * (edges[1:] + edges[:-1]),
            "t_width": width,
            "counts": counts,
            "rate": counts / width,
            "rate_err": np.sqrt(np.maximum(counts, 1)) / width,
            "soft": s,
            "hard": h,
            "hr": hr,
        }
    )
