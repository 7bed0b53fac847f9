"""Bin look-up that reproduces ``np.histogramdd`` exactly, for use inside numba kernels.

``np.histogramdd(sample, bins=n, range=(lo, hi))`` puts a value ``x`` in bin
``searchsorted(edges, x, side='right') - 1`` with ``edges = np.linspace(lo, hi, n + 1)``,
except that ``x == hi`` goes into the last bin (the right-most edge is closed); values
below ``lo`` or above ``hi`` are dropped. :func:`bin_of` does the same with a guess from
the arithmetic position followed by exact comparisons against the same ``edges`` array,
so kernels give numpy's answer count for count.

Energies: the reference bins ``log10(E)`` (float64). Rather than taking a logarithm per
event, :func:`energy_thresholds` finds, once, the smallest float32 energy that numpy
would put in each bin (a bisection over float32 values using ``np.log10`` on float64,
exactly as numpy computes it). A kernel then needs only float32 comparisons, and the
bin of every float32 energy equals numpy's.
"""

from __future__ import annotations

import numba as nb
import numpy as np


def linear_edges(lo: float, hi: float, n_bins: int) -> np.ndarray:
    """The bin edges numpy's histogram uses for ``bins=n_bins, range=(lo, hi)``, (n_bins + 1,) float64."""
    if n_bins < 1:
        raise ValueError(f"number of bins must be >= 1, got {n_bins}")
    if not hi > lo:
        raise ValueError(f"range must have hi > lo, got ({lo}, {hi})")
    return np.linspace(float(lo), float(hi), int(n_bins) + 1)


def _numpy_rank(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """numpy's histogramdd bin number (0 = below, 1..n = bins, n + 1 = above) of ``x``."""
    r = np.searchsorted(edges, x, side="right")
    r[x == edges[-1]] -= 1
    return r


def energy_thresholds(e_min: float, e_max: float, n_bins: int) -> np.ndarray:
    """Float32 thresholds ``T_1..T_{n+1}`` such that numpy's bin of ``log10(float64(E))``
    is ``#{j : T_j <= E} - 1`` for every float32 energy ``E`` [eV].

    Bin ``k`` (0-based) holds energies ``T_{k+1} <= E < T_{k+2}``; ``E < T_1`` is below the
    band and ``E >= T_{n+1}`` above it. Returns (n_bins + 1,) float32.
    """
    if not (e_min > 0 and e_max > e_min):
        raise ValueError(f"energy band must satisfy 0 < e_min < e_max, got ({e_min}, {e_max})")
    edges = linear_edges(np.log10(e_min), np.log10(e_max), n_bins)
    targets = np.arange(1, n_bins + 2)
    # bisection over the bit patterns of positive finite float32 values (ordered as int32)
    lo = np.zeros(len(targets), dtype=np.int64)  # rank(lo) < target (0.0 -> log10 = -inf)
    hi = np.full(len(targets), 0x7F7FFFFF, dtype=np.int64)  # rank(hi) >= target (max float32)
    while np.any(hi - lo > 1):
        mid = (lo + hi) // 2
        e = mid.astype(np.int32).view(np.float32).astype(np.float64)
        with np.errstate(divide="ignore"):
            ok = _numpy_rank(np.log10(e), edges) >= targets
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    thr = hi.astype(np.int32).view(np.float32)
    # check monotonicity of numpy's log10 around every threshold (the bisection assumes it)
    below = lo.astype(np.int32).view(np.float32).astype(np.float64)
    r_hi = _numpy_rank(np.log10(thr.astype(np.float64)), edges)
    with np.errstate(divide="ignore"):
        r_lo = _numpy_rank(np.log10(below), edges)
    if not (
        np.all(r_hi >= targets) and np.all(r_lo < targets)
    ):  # pragma: no cover - numpy bug guard
        raise RuntimeError("np.log10 is not monotone near the energy bin edges")
    return thr


@nb.njit(cache=True, inline="always")
def bin_of(x: float, edges: np.ndarray) -> int:
    """numpy's histogram bin (0-based) of ``x`` for monotone ``edges``; -1 when outside."""
    n = edges.shape[0] - 1
    lo = edges[0]
    hi = edges[n]
    if not (x >= lo and x <= hi):  # also rejects NaN
        return -1
    if x == hi:
        return n - 1
    k = int((x - lo) / (hi - lo) * n)
    if k > n - 1:
        k = n - 1
    if k < 0:
        k = 0
    # exact correction: want edges[k] <= x < edges[k + 1]
    while k > 0 and edges[k] > x:
        k -= 1
    while k < n - 1 and edges[k + 1] <= x:
        k += 1
    return k


LUT_SHIFT = 13  # float32 bits >> 13: sign, exponent and the top 10 mantissa bits (0.1 % cells)


def energy_lookup(e_min: float, e_max: float, n_bins: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Tables for :func:`energy_bin_lut`: (threshold bits (n_bins + 1,) int64, table, key offset).

    For positive float32 values the order of the bit patterns (as integers) is the
    order of the values, so comparing bits compares energies. The table gives, for each
    cell of float32 values sharing their top 19 bits, the number of thresholds at or below
    the cell's smallest value; a kernel then needs one table read and (rarely) one or two
    comparisons per event. Negative energies and NaN have larger bit patterns than any
    threshold and fall outside the band, as in numpy (log10 -> NaN or -inf).
    """
    thr = energy_thresholds(e_min, e_max, n_bins)
    bits = thr.view(np.uint32).astype(np.int64)
    kmin = int(bits[0] >> LUT_SHIFT)
    kmax = int(bits[-1] >> LUT_SHIFT)
    cell_lo = np.arange(kmin, kmax + 1, dtype=np.int64) << LUT_SHIFT
    table = np.searchsorted(bits, cell_lo, side="right").astype(np.int32)
    return bits, table, kmin


@nb.njit(cache=True, inline="always")
def energy_bin_lut(bits: int, thr_bits: np.ndarray, table: np.ndarray, kmin: int) -> int:
    """Bin (0-based) of a float32 energy given by its bit pattern (int32 view, as int64);
    -1 when outside the band. The kernels in :mod:`serendip.represent.maps` inline this."""
    k = (bits >> LUT_SHIFT) - kmin
    if k < 0 or k >= table.shape[0]:
        return -1
    n = thr_bits.shape[0] - 1
    r = np.int64(table[k])
    while r <= n and thr_bits[r] <= bits:
        r += 1
    r -= 1
    if r < 0 or r >= n:
        return -1
    return r


#: entry of :func:`energy_bin_table` for a look-up cell that holds a bin edge
AMBIGUOUS = -2


def energy_bin_table(
    e_min: float, e_max: float, n_bins: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Direct energy-bin look-up: (threshold bits (n_bins + 1,) int64, table int16, key offset).

    ``table[(bits >> LUT_SHIFT) - kmin]`` is the bin (0-based) of every float32 energy whose
    bit pattern falls in that cell, -1 for cells outside the band, or :data:`AMBIGUOUS`
    for the few cells (at most ``n_bins + 1``) that hold a threshold, where the kernel
    compares against the thresholds (as :func:`energy_bin_lut`). Keys outside the table
    are outside the band. One load per event instead of a load and a comparison
    (measured: the energy part of an E-t map 1.6x faster).
    """
    if n_bins > 32000:
        raise ValueError(f"at most 32,000 energy bins, got {n_bins}")
    bits, table, kmin = energy_lookup(e_min, e_max, n_bins)
    n_tab = len(table)
    cell_lo = (np.arange(n_tab, dtype=np.int64) + kmin) << LUT_SHIFT
    cell_hi = cell_lo + (1 << LUT_SHIFT) - 1
    r_lo = np.searchsorted(bits, cell_lo, side="right") - 1
    r_hi = np.searchsorted(bits, cell_hi, side="right") - 1
    direct = np.where((r_lo >= 0) & (r_lo < n_bins), r_lo, -1)
    out = np.where(r_lo == r_hi, direct, AMBIGUOUS).astype(np.int16)
    return bits, out, kmin
