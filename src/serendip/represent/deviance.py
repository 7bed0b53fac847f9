"""Count-aware E-t maps and E-t-dt cubes: signed Poisson deviance from a constant rate.

The reference normalises each map by its own minimum and maximum, so a 30-count map is
stretched to the same [0, 1] range as a 30,000-count one and is mostly Poisson noise; a
source's brightness then decides where it lands in feature space, and a faint fast transient
looks like any faint steady source. :func:`deviance_maps` replaces the counts by how far each
part of the map is from what a **constant source with the same spectrum** would give, in
units that mean the same at every brightness:

1. Time bins adapted to the counts: the time axis (``T`` bins over the file's span) is cut
   into ``d`` equal blocks, ``d`` the largest divisor of ``T`` with at least ``min_expected``
   expected counts per block (``n_counts / d >= min_expected``). A 40-count file is judged in
   8 blocks of 3 bins, a 5,000-count file in all 24. Files with fewer than
   ``2 * min_expected`` counts get one block, i.e. an all-zero map (no time information):
   the **minimum-counts rule** (:data:`MIN_COUNTS_FOR_TIME` with the defaults, 10 counts).
2. Energy (and, for cubes, dt) bins are summed in ``groups`` equal groups, so each cell
   holds enough counts for a deviance to mean something.
3. In each (block, group) cell the expected count under a constant rate is the group's total
   divided by ``d`` (each block spans the same share of the file's time axis), and the cell's
   value is the signed deviance residual
   ``sign(n - mu) * sqrt(2 * (n * ln(n / mu) - (n - mu)))`` (0 where ``mu = 0``), which is
   approximately standard normal for a constant source at any brightness.
4. Each cell's value is spread back over the fine bins it covers, so the output has the
   input's shape and feeds the same PCA / autoencoder architectures.

A constant source's map is noise of unit scale; a flare or fast transient is a block of large
positive values at its time, in every energy group it emits in. Bright sources still reach
larger values than faint ones (their departures are more significant), but a 10 % ripple of
a 2,000-count source and a 40-count burst now lie on one scale.
"""

from __future__ import annotations

import numpy as np

from serendip.errors import InputError

#: default smallest expected counts per time block
MIN_EXPECTED = 5.0
#: with the defaults, files with fewer counts than this have all-zero deviance maps
MIN_COUNTS_FOR_TIME = int(2 * MIN_EXPECTED)


def signed_deviance(n: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Signed Poisson deviance residual of counts ``n`` against expectations ``mu`` (same
    shape; 0 where ``mu <= 0``)."""
    n = np.asarray(n, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    pos = mu > 0
    safe_mu = np.where(pos, mu, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0) / safe_mu), 0.0)
    d = np.sqrt(np.maximum(2.0 * (term - (n - safe_mu)), 0.0))
    return np.where(pos, np.sign(n - mu) * d, 0.0)


def _divisors(n: int) -> np.ndarray:
    return np.array([d for d in range(1, n + 1) if n % d == 0], dtype=np.int64)


def time_blocks(
    n_counts: np.ndarray, t_bins: int, min_expected: float = MIN_EXPECTED
) -> np.ndarray:
    """Number of time blocks per file, (n_files,) int: the largest divisor ``d`` of ``t_bins``
    with ``n_counts / d >= min_expected`` (1 when none)."""
    divs = _divisors(int(t_bins))
    n_counts = np.asarray(n_counts, dtype=np.float64)
    ok = n_counts[:, None] / divs[None, :] >= float(min_expected)
    # divisors ascend: the last True column
    last = np.where(ok.any(1), ok.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1), 0)
    return divs[last]


def deviance_maps(
    counts: np.ndarray, *, min_expected: float = MIN_EXPECTED, groups: int = 4
) -> np.ndarray:
    """Count-aware representation of raw E-t maps or E-t-dt cubes (rules in the module doc).

    Parameters
    ----------
    counts : (n_files, t_bins, e_bins) raw counts of E-t maps, or (n_files, t_bins, e_bins,
        dt_bins) of E-t-dt cubes (dense; see :meth:`SparseCubes.toarray`).
    min_expected : smallest expected counts per time block.
    groups : groups of energy bins (and of dt bins, for cubes); must divide their numbers.

    Returns
    -------
    float32 array of the input's shape: signed Poisson deviance residuals (dimensionless).
    """
    X = np.asarray(counts)
    if X.ndim not in (3, 4):
        raise InputError(
            None, f"deviance maps need (n, t, e) or (n, t, e, dt) counts; got {X.shape}"
        )
    if min_expected <= 0:
        raise InputError(None, f"min_expected must be > 0, got {min_expected}")
    n, t_bins = X.shape[:2]
    rest = X.shape[2:]
    if any(r % groups for r in rest):
        raise InputError(None, f"groups = {groups} must divide the bins {rest}")
    # group energy (and dt) bins: (n, T, g[, g])
    shape = (n, t_bins) + sum(((groups, r // groups) for r in rest), ())
    G = X.reshape(shape).sum(axis=tuple(range(3, len(shape), 2)), dtype=np.float64)
    G = G.reshape(n, t_bins, -1)  # (n, T, cells)
    blocks = time_blocks(G.sum(axis=(1, 2)), t_bins, min_expected)
    out = np.zeros_like(G)
    for d in np.unique(blocks):
        if d == 1:
            continue  # one block: the constant-rate expectation equals the counts
        sel = np.flatnonzero(blocks == d)
        w = t_bins // d
        C = G[sel].reshape(len(sel), int(d), w, -1).sum(2)  # (m, d, cells)
        mu = np.broadcast_to(C.sum(1, keepdims=True) / d, C.shape)
        out[sel] = np.repeat(signed_deviance(C, mu), w, axis=1)
    out = out.astype(np.float32).reshape((n, t_bins) + (groups,) * len(rest))
    for ax, r in enumerate(rest, start=2):
        out = np.repeat(out, r // groups, axis=ax)
    return out


#: deviance that :func:`squash` maps to 0.5 + 0.5 * tanh(1) (about 0.88)
SQUASH_SCALE = 4.0


def squash(deviance: np.ndarray, scale: float = SQUASH_SCALE) -> np.ndarray:
    """Deviance maps mapped into (0, 1) for the autoencoders (whose decoders end in a
    sigmoid): ``0.5 + 0.5 * tanh(deviance / scale)``; 0.5 = as expected, float32."""
    return (0.5 + 0.5 * np.tanh(np.asarray(deviance, dtype=np.float64) / scale)).astype(np.float32)
