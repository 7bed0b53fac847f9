"""Survival function of the two-sided one-sample Kolmogorov-Smirnov statistic, vectorised.

``ks_sf(d, n)`` equals ``scipy.stats.kstwo.sf(d, n)`` (Simard & L'Ecuyer 2011, as scipy
computes it) to an absolute error below ``1e-5`` and a relative error below ``1e-4``
(tested against scipy on random and edge-case inputs), at about 0.1 us per value instead
of 50-2,500 us (scipy evaluates its exact methods one value at a time in Python).

Per regime (``t = n d``), as in scipy's ``_kolmogn``:

* ``t <= 1`` and ``t >= n - 1``: Ruben-Gambino closed forms (exact);
* ``d >= 0.5``, and ``n d^2`` above 4 (``n <= 140``) or 2.2 (``n > 140``):
  twice the one-sided tail ``scipy.special.smirnov(n, d)``, as scipy computes it, here by
  :func:`smirnov_sf` (the same exact sum, truncated where its terms vanish: scipy's
  ufunc costs about 2 ms a value at n = 8,000);
* ``n <= 140``, ``n d^2 <= 4``: scipy's exact Durbin-matrix / Pomeranz values, tabulated
  once on a grid of :data:`TABLE_POINTS` values of ``d`` per ``n`` (``serendip/data/``,
  rebuilt by ``python -m serendip.represent.kolmogorov``) and interpolated linearly in
  ``log p``;
* ``n > 140``, ``n d^2 < 2.2``: the Pelz-Good asymptotic expansion of the Kolmogorov
  distribution to order ``n^-3/2`` (scipy uses it too, from ``n x^1.5 > 1.4``; where scipy
  uses the Durbin matrix instead the two differ by less than ``3.1e-6``).
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numba as nb
import numpy as np

#: largest n whose middle regime is tabulated (scipy's own switch to asymptotics)
N_TABLE = 140
#: grid points per n in the tabulated regime
TABLE_POINTS = 1024
TABLE_PATH = Path(__file__).resolve().parent.parent / "data" / "kolmogorov_sf_table.npz"

_PI2 = np.pi**2
_PI4 = np.pi**4
_PI6 = np.pi**6
_SQRT2PI = np.sqrt(2.0 * np.pi)
_SQRT3 = np.sqrt(3.0)


def _table_range(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) of the tabulated ``d`` for each ``n``: ``1/n < d < min(0.5, 2/sqrt(n))``."""
    n = np.asarray(n, dtype=np.float64)
    return 1.0 / n, np.minimum(0.5, 2.0 / np.sqrt(n))


def build_table(points: int = TABLE_POINTS) -> dict[str, np.ndarray]:
    """scipy's exact ``kstwo.sf`` on the grid of the tabulated regime (slow: minutes)."""
    from scipy import stats

    ns = np.arange(2, N_TABLE + 1)
    lo, hi = _table_range(ns)
    logp = np.full((len(ns), points), np.nan)
    for j, n in enumerate(ns):  # one-off table generation
        if hi[j] > lo[j]:
            d = np.linspace(lo[j], hi[j], points)
            logp[j] = np.log(stats.kstwo.sf(d, n))
    logp = logp.astype(np.float32)  # 7 digits: interpolation error dominates (< 4e-6)
    return {"n": ns, "lo": lo, "hi": hi, "log_sf": logp}


@lru_cache(maxsize=1)
def _table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.load(TABLE_PATH) as z:
        lo = np.r_[np.zeros(2), z["lo"]]  # indexed by n (rows 0 and 1 unused)
        hi = np.r_[np.zeros(2), z["hi"]]
        logp = np.vstack([np.zeros((2, z["log_sf"].shape[1])), z["log_sf"]])
    return lo, hi, np.ascontiguousarray(logp)


@nb.njit(cache=True, error_model="numpy")
def _pelz_good_sf(n, x):
    """1 - Pelz-Good CDF of D_n at x (scipy's ``_kolmogn_PelzGood(n, x, cdf=False)``)."""
    if x <= 0.0:
        return 1.0
    if x >= 1.0:
        return 0.0
    z = np.sqrt(n) * x
    z2 = z * z
    z3 = z2 * z
    z4 = z2 * z2
    z6 = z4 * z2
    qlog = -_PI2 / 8.0 / z2
    if qlog < -708.0:
        return 1.0
    q = np.exp(qlog)
    k1a = -z2
    k1b = _PI2 / 4.0
    k2a = 6.0 * z6 + 2.0 * z4
    k2b = (2.0 * z4 - 5.0 * z2) * _PI2 / 4.0
    k2c = _PI4 * (1.0 - 2.0 * z2) / 16.0
    k3d = _PI6 * (5.0 - 30.0 * z2) / 64.0
    k3c = _PI4 * (-60.0 * z2 + 212.0 * z4) / 16.0
    k3b = _PI2 * (135.0 * z4 - 96.0 * z6) / 4.0
    k3a = -30.0 * z6 - 90.0 * z4 * z4
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    maxk = int(np.ceil(16.0 * z / np.pi))
    for k in range(maxk, 0, -1):
        m = 2.0 * k - 1.0
        m2 = m * m
        m4 = m2 * m2
        m6 = m4 * m2
        qp = q ** (8.0 * k)
        s0 = s0 * qp + 1.0
        s1 = s1 * qp + (k1a + k1b * m2)
        s2 = s2 * qp + (k2a + k2b * m2 + k2c * m4)
        s3 = s3 * qp + (k3a + k3b * m2 + k3c * m4 + k3d * m6)
    c = q * _SQRT2PI
    s0 *= c / z
    s1 *= c / (6.0 * z4)
    s2 *= c / (72.0 * z4 * z3)
    s3 *= c / (6480.0 * z6 * z4)
    q2 = np.exp(-_PI2 / 2.0 / z2)
    e2 = 0.0
    e3 = 0.0
    s3z = _SQRT3 * z
    for k in range(maxk, 0, -1):
        kk = float(k) * k
        qk = q2**kk
        e2 += kk * qk
        kp = np.pi * k
        e3 += (s3z + kp) * (s3z - kp) * kk * qk
    s2 += e2 * _PI2 * _SQRT2PI / (-36.0 * z3)
    s3 += e3 * _PI2 * _SQRT2PI / (216.0 * z6)
    rn = np.sqrt(n)
    cdf = s0 + s1 / rn + s2 / n + s3 / (n * rn)
    return 1.0 - cdf


@nb.njit(cache=True, error_model="numpy")
def smirnov_sf(n, d):
    """P(D_n^+ >= d) of the one-sided KS statistic: the Birnbaum-Tingey (1951) sum in log space.

    Equals ``scipy.special.smirnov(n, d)`` (relative difference below 1e-9, tested) at
    O(sqrt(n)) cost instead of O(n): the terms are unimodal in ``j`` and the sum stops once
    they fall below ``e^-60`` of the largest.
    """
    if d <= 0.0:
        return 1.0
    if d >= 1.0:
        return 0.0
    nf = float(n)
    jmax = int(math.floor(nf * (1.0 - d)))
    lgc = 0.0  # log C(n, j)
    peak = -np.inf
    s = 0.0
    prev = -np.inf
    for j in range(0, min(jmax, n) + 1):
        if j > 0:
            lgc += math.log((nf - j + 1.0) / j)
        p = 1.0 - d - j / nf
        if p <= 0.0:
            break
        lt = lgc + (nf - j) * math.log(p) + (j - 1.0) * math.log(d + j / nf)
        if lt > peak:
            s = s * math.exp(peak - lt) + 1.0 if peak > -np.inf else 1.0
            peak = lt
        else:
            s += math.exp(lt - peak)
            if lt < peak - 60.0 and lt < prev:
                break
        prev = lt
    return d * s * math.exp(peak)


@nb.njit(cache=True)
def _smirnov2_many(n, x, out, idx):
    for j in idx:
        out[j] = min(2.0 * smirnov_sf(np.int64(n[j]), x[j]), 1.0)


@nb.njit(cache=True)
def _pelz_good_many(n, x, out, idx):
    for j in idx:
        out[j] = min(max(_pelz_good_sf(np.float64(n[j]), x[j]), 0.0), 1.0)


def ks_sf(d, n) -> np.ndarray:
    """P(D_n >= d) for arrays ``d`` (KS statistic) and ``n`` (sample size); see the module docstring.

    NaN where ``n < 1`` or either input is NaN.
    """
    d, n = np.broadcast_arrays(np.asarray(d, dtype=np.float64), np.asarray(n))
    d = d.ravel().copy()
    n = n.ravel().astype(np.float64)
    out = np.full(d.shape, np.nan)
    valid = np.isfinite(d) & np.isfinite(n) & (n >= 1) & (n == np.floor(n))
    ni = np.where(valid, n, 1.0).astype(np.int64)
    nf = ni.astype(np.float64)
    t = nf * d
    nx2 = t * d
    todo = valid.copy()

    def take(mask):
        nonlocal todo
        m = todo & mask
        todo &= ~mask
        return m

    out[take(d >= 1.0)] = 0.0
    out[take(d <= 0.0)] = 1.0
    out[take(t <= 0.5)] = 1.0
    m = take(t <= 1.0)
    if m.any():  # Ruben-Gambino: CDF = n! / n^n (2t - 1)^n
        from scipy.special import gammaln

        logc = gammaln(nf[m] + 1.0) - nf[m] * np.log(nf[m]) + nf[m] * np.log(2.0 * t[m] - 1.0)
        out[m] = 1.0 - np.exp(logc)
    m = take(t >= nf - 1.0)
    out[m] = 2.0 * (1.0 - d[m]) ** nf[m]
    small = ni <= N_TABLE
    m = np.flatnonzero(
        take((d >= 0.5) | (small & (nx2 > 4.0)) | (~small & (nx2 >= 2.2) & (nx2 < 370.0)))
    )
    if m.size:
        _smirnov2_many(nf, d, out, m)
    out[take(~small & (nx2 >= 370.0))] = 0.0
    m = take(small)
    if m.any():
        lo, hi, logp = _table()
        nm = ni[m]
        pos = (d[m] - lo[nm]) / (hi[nm] - lo[nm]) * (logp.shape[1] - 1)
        pos = np.clip(pos, 0.0, logp.shape[1] - 1.0)
        i0 = np.minimum(pos.astype(np.int64), logp.shape[1] - 2)
        w = pos - i0
        out[m] = np.exp(logp[nm, i0] * (1.0 - w) + logp[nm, i0 + 1] * w)
    m = np.flatnonzero(take(~small))
    if m.size:
        _pelz_good_many(nf, d, out, m)
    return np.clip(out, 0.0, 1.0)


if __name__ == "__main__":  # pragma: no cover - regenerates the shipped table
    TABLE_PATH.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(TABLE_PATH, **build_table())
    print(f"wrote {TABLE_PATH}")
