"""Per-file reference implementation of the E-t maps and E-t-dt cubes (for tests and benchmarks).

A direct transcription of Dillmann et al.'s per-file ``np.histogram2d`` /
``np.histogramdd`` code, with serendip's convention for degenerate files (a zero span
rescales to 0, a constant map normalises to zeros) where the original divides by zero.
It loops in Python over files and is slow on purpose: :mod:`serendip.represent.maps`
must equal it count for count.
"""

from __future__ import annotations

import numpy as np


def _rescale(x: np.ndarray) -> np.ndarray:
    span = x.max() - x.min()
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)


def _norm(h: np.ndarray) -> np.ndarray:
    span = h.max() - h.min()
    return (h - h.min()) / span if span > 0 else np.zeros_like(h)


def reference_et(
    t, e, t_bins=24, e_bins=16, e_min=500.0, e_max=7000.0, normalize=False
) -> np.ndarray:
    """E-t map of one file (times [s] sorted, energies [eV]), (t_bins, e_bins) float32."""
    t = np.asarray(t, dtype=np.float64)
    if len(t) == 0:
        return np.zeros((t_bins, e_bins), np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        eps = np.log10(np.asarray(e, dtype=np.float32).astype(np.float64))
    tau = _rescale(t)
    h, _, _ = np.histogram2d(
        tau, eps, range=[[0, 1], [np.log10(e_min), np.log10(e_max)]], bins=(t_bins, e_bins)
    )
    return (_norm(h) if normalize else h).astype(np.float32)


def reference_etdt(
    t, e, t_bins=24, e_bins=16, dt_bins=16, e_min=500.0, e_max=7000.0, normalize=False
) -> np.ndarray:
    """E-t-dt cube of one file (times [s] sorted, energies [eV]), (t_bins, e_bins, dt_bins) float32."""
    t = np.asarray(t, dtype=np.float64)
    if len(t) < 2:
        return np.zeros((t_bins, e_bins, dt_bins), np.float32)
    dt = np.diff(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        eps = np.log10(np.asarray(e, dtype=np.float32).astype(np.float64)[:-1])
    tau = _rescale(t[:-1])
    dtau = _rescale(dt)
    h, _ = np.histogramdd(
        (tau, eps, dtau),
        range=[[0, 1], [np.log10(e_min), np.log10(e_max)], [0, 1]],
        bins=(t_bins, e_bins, dt_bins),
    )
    return (_norm(h) if normalize else h).astype(np.float32)
