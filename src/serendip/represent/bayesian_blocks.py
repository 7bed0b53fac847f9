"""Bayesian Blocks (Scargle et al. 2013) for event data, as a numba kernel over many files.

Follows ``astropy.stats.bayesian_blocks(t, fitness="events", p0=p0)`` step for step:
events at the same time are merged into one cell with a count; cell edges are midpoints
between cells; fitness ``N_k ln(N_k / T_k)``; prior ``ncp_prior = 4 - ln(73.53 p0 N^-0.478)``
(N = number of cells); dynamic programming then peeling off the last block. The block
edges equal astropy's for files up to ``max_cells`` distinct times.

The optimum is found without evaluating every start ``k`` of the last block at every step
``r`` (astropy's O(N^2) logarithms), with the same answer (tested against the full
programme, ties included):

* a bound without logarithm, ``N ln(N/T) <= N (ln rho - 1) + N^2 / (rho T)`` (the tangent
  of ``ln`` at the rate ``rho`` of the last winning block), skips every start that cannot
  reach the best value seen so far; only the few near the optimum take a logarithm;
* PELT pruning (Killick, Fearnhead & Eckley 2012): the events fitness is superadditive, so a
  start whose value falls below ``best[r]`` can never win again and is dropped for good
  (after a change of rate most earlier starts go).

* dormant starts: after a full step, a start more than ``GAP`` below the best is not even
  bounded for as long as the Poisson deviance of the new cells against the winner's rate
  stays below its gap (convexity and subadditivity of the fitness: it cannot win meanwhile);
  an epoch ends after ``EPOCH`` new starts or when the deviance nears the smallest gap.

A steady source is still O(N^2) in the worst case, but most steps of a steady bright source
now touch only the starts near the best (3x less CPU than the bound alone on the 20,000
simulated files of ``bench_speed.py``, identical summaries).

Files are spread over all numba threads (ranges of about equal O(N^2) cost). Files with
more distinct times than ``max_cells`` (the algorithm is O(N^2)) are first binned into ``max_cells`` equal-width time bins and the counts passed as binned events
(as astropy does for ``x=counts``), an approximation that keeps the cost bounded.

Why hand-written: with the same block edges, the numba kernel measures 24-38x faster than
``astropy.stats.bayesian_blocks(t, fitness="events", p0=0.05)`` per file: 8.7 ms against
206 ms, and 9.8 against 375 ms, in two runs on simulated Chandra files (about 300 events
each; median of 3 runs of 60 files in one process on the project's shared, heavily loaded
2-core machine; 39x in the issue's earlier measurement;
the ratio grows with the events per file, the cost being O(N^2) in both). Reproduce:
``python benchmarks/bench_hand_vs_library.py`` (section ``hand-vs-library`` of BENCHMARKS.md),
which also checks that the edges agree.
"""

from __future__ import annotations

import numba as nb
import numpy as np

DEFAULT_P0 = 0.05
DEFAULT_MAX_CELLS = 1000
#: dormant starts: a start more than GAP below the best value is skipped while it cannot win
GAP = 0.5
#: an epoch of dormant starts ends after this many new starts (a full step prunes them)
EPOCH = 32
#: epochs only with at least this many live starts
EPOCH_MIN = 16


@nb.njit(cache=True, error_model="numpy")
def bb_cells(t, x, p0, best, last, edges, cps, work, cand):  # noqa: PLR0912, PLR0915
    """Bayesian blocks of cells at times ``t`` (sorted, distinct) with counts ``x`` (integers).

    Workspace arrays ``best``, ``last``, ``edges`` (N + 1), ``cps`` (N + 1), ``work``
    (float64, (6, N + 1)) and ``cand`` (int64, (2, N + 1)) are overwritten. Returns the number
    of change-point indices ``m``; the block edges are ``edges[cps[:m]]`` (``m - 1`` blocks).

    The same optimum as astropy's O(N^2) loop over every start ``k`` of the last block, with
    three exact savings (see the module docstring): a start whose value is bounded below the
    best known value is not evaluated (tangent bound ``ln y <= ln rho + y / rho - 1``, no
    logarithm), a start that can never win again is dropped (PELT, Killick et al. 2012:
    the events fitness is superadditive), and a start far below the best is left alone for
    as many steps as the new cells cannot close its gap (dormant starts, below).
    """
    n = t.shape[0]
    edges[0] = t[0]
    for i in range(1, n):
        edges[i] = 0.5 * (t[i] + t[i - 1])
    edges[n] = t[n - 1]
    tend = t[n - 1]
    ncp = 4.0 - np.log(73.53 * p0 * (n**-0.478))
    cum = work[0, : n + 1]  # cum[k] = counts of cells < k
    bl = work[1, : n + 1]  # bl[k] = tend - edges[k], astropy's block_length
    cF = work[2, : n + 1]  # live starts: best value before the start, cumulative counts, length
    cC = work[3, : n + 1]
    cB = work[4, : n + 1]
    ub = work[5, : n + 1]  # bound (then exact value) of each live start
    ks = cand[0, : n + 1]  # the start (cell index) of each live start
    act = cand[1, : n + 1]  # during an epoch: the live starts still evaluated
    cum[0] = 0.0
    for i in range(n):
        cum[i + 1] = cum[i] + x[i]
        bl[i] = tend - edges[i]
    bl[n] = tend - edges[n]
    rate_all = cum[n] / bl[0] if bl[0] > 0 and cum[n] > 0 else 1.0
    m = 0  # number of live starts, ascending in k
    win = -1  # position of the previous winner in the live list
    # Dormant starts. After a full step at r0 with winner w (value V_w, rate rho_w), a start
    # j with value (or bound) V_j stays below w at every later step r while the new cells
    # r0+1..r (dN counts over dT) keep D = g(dN, dT) - dN (ln rho_w + 1) + rho_w dT below the
    # gap V_w - V_j: the fitness g(N, T) = N ln(N / T) is convex and homogeneous, so
    # V_j(r) <= V_j(r0) + g(dN, dT) (subadditive) and V_w(r) >= V_w(r0) + grad g . (dN, dT)
    # (tangent). D is the Poisson deviance of the new cells against rho_w: small while the
    # rate holds. Such an epoch evaluates only the starts within GAP of the best and the
    # starts added since r0; it ends (a full step with pruning) when D nears the smallest
    # dormant gap or the added starts pass EPOCH.
    epoch = False
    n_act = 0
    m0 = 0
    gmin = 0.0
    rho0 = 1.0
    c0 = 0.0
    b0 = 0.0
    for r in range(n):
        ks[m] = r
        cF[m] = best[r - 1] if r > 0 else 0.0
        cC[m] = cum[r]
        cB[m] = bl[r]
        m += 1
        cr1 = cum[r + 1]
        blr = bl[r + 1]
        # seed the threshold with the exact values of the newest start and the last winner
        thr = -np.inf
        rho = rate_all
        for j in (m - 1, win):
            if j < 0:
                continue
            nk = cr1 - cC[j]
            tk = cB[j] - blr
            fit = nk * np.log(nk / tk) if nk > 0 else 0.0
            a = fit - ncp + cF[j]
            thr = max(thr, a)
            if j == win and nk > 0:
                rho = nk / tk
        lr1 = np.log(rho) - 1.0
        inv_rho = 1.0 / rho
        tol = 1e-9 * (1.0 + abs(thr) + cr1 * (2.0 + abs(lr1)))
        if epoch:
            dn = cr1 - c0
            dt = b0 - blr
            dev = rho0 * dt - dn
            if dn > 0:
                dev += dn * np.log(dn / (rho0 * dt))
            if dev < gmin - tol and m - m0 <= EPOCH:
                # evaluate the near starts (ascending positions) and those added since r0
                amax = -np.inf
                imax = 0
                n_new = m - m0
                for q in range(n_act + n_new - 1, -1, -1):  # descending k, as below
                    j = act[q] if q < n_act else m0 + q - n_act
                    nk = cr1 - cC[j]
                    tk = cB[j] - blr
                    u = cF[j] + nk * lr1 + nk * nk * inv_rho / tk - ncp
                    if u < thr - tol:
                        continue
                    fit = nk * np.log(nk / tk) if nk > 0 else 0.0
                    a = fit - ncp
                    if ks[j] > 0:
                        a += cF[j]
                    thr = max(thr, a)
                    if a >= amax:
                        amax = a
                        imax = j
                last[r] = ks[imax]
                best[r] = amax
                win = imax
                continue
            epoch = False
        # upper bounds of every live start: N ln(N/T) <= N (ln rho - 1) + N^2 / (rho T)
        lowest = np.inf
        for j in range(m):
            nk = cr1 - cC[j]
            tk = cB[j] - blr
            ub[j] = cF[j] + nk * lr1 + nk * nk * inv_rho / tk - ncp
        amax = -np.inf
        imax = 0
        for j in range(m - 1, -1, -1):  # descending k: ties -> smallest k, as np.argmax
            if ub[j] < thr - tol:
                lowest = min(lowest, ub[j])
                continue
            nk = cr1 - cC[j]
            tk = cB[j] - blr
            fit = nk * np.log(nk / tk) if nk > 0 else 0.0
            a = fit - ncp
            if ks[j] > 0:
                a += cF[j]
            ub[j] = a
            lowest = min(lowest, a)
            thr = max(thr, a)
            if a >= amax:
                amax = a
                imax = j
        last[r] = ks[imax]
        best[r] = amax
        # drop starts dominated for good by the start r + 1
        keep = amax - ncp - tol
        if lowest >= keep:  # nothing to drop (a steady source): skip the pass
            win = imax
        else:
            w = 0
            while w < m and ub[w] >= keep:
                w += 1
            win = imax if imax < w else -1
            for j in range(w, m):
                if ub[j] >= keep:
                    if j == imax:
                        win = w
                    ks[w] = ks[j]
                    cF[w] = cF[j]
                    cC[w] = cC[j]
                    cB[w] = cB[j]
                    ub[w] = ub[j]
                    w += 1
            m = w
        # start an epoch where most live starts are far below the best
        if m < EPOCH_MIN or win < 0:
            continue
        nk = cr1 - cC[win]
        if nk <= 0:
            continue
        n_act = 0
        gmin = np.inf
        for j in range(m):
            g = amax - ub[j]
            if g <= GAP:
                act[n_act] = j
                n_act += 1
            else:
                gmin = min(gmin, g)
        if 2 * n_act > m:
            continue
        epoch = True
        rho0 = nk / (cB[win] - blr)
        c0 = cr1
        b0 = blr
        m0 = m
    # peel off the last block (astropy's loop, including its length-N change-point array)
    i_cp = n
    ind = n
    while i_cp > 0:
        i_cp -= 1
        cps[i_cp] = ind
        if ind == 0:
            break
        ind = last[ind - 1]
    if i_cp == 0:
        cps[0] = 0
    m = n - i_cp
    for j in range(m):
        cps[j] = cps[i_cp + j]
    return m


@nb.njit(cache=True, error_model="numpy")
def _bb_files(offsets, time, p0, max_cells, n_blocks, rate_ratio, max_rate, start, stop):
    """Files ``start..stop``: number of blocks, max/min block rate [1] and max block rate [counts/s]."""
    nmax = 1
    for f in range(start, stop):
        nmax = max(nmax, offsets[f + 1] - offsets[f])
    cap = min(nmax, max_cells)
    t = np.empty(cap)
    x = np.empty(cap)
    best = np.empty(cap)
    last = np.empty(cap, dtype=np.int64)
    edges = np.empty(cap + 1)
    cps = np.empty(cap + 1, dtype=np.int64)
    work = np.empty((6, cap + 1))
    cand = np.empty((2, cap + 1), dtype=np.int64)
    for f in range(start, stop):
        a = offsets[f]
        b = offsets[f + 1]
        n_blocks[f] = 0
        rate_ratio[f] = np.nan
        max_rate[f] = np.nan
        if b - a < 2 or time[b - 1] <= time[a]:
            if b > a:
                n_blocks[f] = 1
                rate_ratio[f] = 1.0
            continue
        # distinct times with counts
        nc = 1
        for i in range(a + 1, b):
            if time[i] != time[i - 1]:
                nc += 1
        if nc <= max_cells:
            c = 0
            t[0] = time[a]
            x[0] = 1.0
            for i in range(a + 1, b):
                if time[i] != time[i - 1]:
                    c += 1
                    t[c] = time[i]
                    x[c] = 0.0
                x[c] += 1.0
        else:
            # equal-width bins, centres as cell times (zero-count bins kept)
            nc = max_cells
            t0 = time[a]
            w = (time[b - 1] - t0) / nc
            for c in range(nc):
                t[c] = t0 + (c + 0.5) * w
                x[c] = 0.0
            for i in range(a, b):
                c = int((time[i] - t0) / w)
                if c >= nc:
                    c = nc - 1
                x[c] += 1.0
        m = bb_cells(
            t[:nc], x[:nc], p0, best[:nc], last[:nc], edges[: nc + 1], cps[: nc + 1], work, cand
        )
        # block rates: counts of the cells in each block over the block width
        rmin = np.inf
        rmax = -np.inf
        for j in range(m - 1):
            lo_c = cps[j]
            hi_c = cps[j + 1]
            cnt = 0.0
            for c in range(lo_c, hi_c):
                cnt += x[c]
            width = edges[hi_c] - edges[lo_c]
            if width > 0:
                r = cnt / width
                rmin = min(rmin, r)
                rmax = max(rmax, r)
        n_blocks[f] = m - 1
        if rmax > -np.inf:
            max_rate[f] = rmax
            rate_ratio[f] = rmax / rmin if rmin > 0 else np.inf
    return n_blocks


@nb.njit(cache=True, parallel=True)
def _bb_files_parallel(bounds, offsets, time, p0, max_cells, n_blocks, rate_ratio, max_rate):
    """:func:`_bb_files` over the file ranges ``bounds[c]..bounds[c + 1]`` on all threads."""
    for c in nb.prange(bounds.shape[0] - 1):
        _bb_files(
            offsets, time, p0, max_cells, n_blocks, rate_ratio, max_rate, bounds[c], bounds[c + 1]
        )


def work_ranges(cost: np.ndarray, parts_per_thread: int = 8) -> np.ndarray:
    """Bounds splitting files (per-file ``cost``) into contiguous ranges of about equal cost."""
    n = len(cost)
    n_parts = max(1, min(n, parts_per_thread * nb.get_num_threads()))
    cum = np.concatenate([[0.0], np.cumsum(cost, dtype=np.float64)])
    bounds = np.searchsorted(cum, np.linspace(0.0, cum[-1], n_parts + 1), side="left")
    bounds[0], bounds[-1] = 0, n
    return np.unique(bounds).astype(np.int64)


def bayesian_blocks_edges(t: np.ndarray, p0: float = DEFAULT_P0) -> np.ndarray:
    """Block edges [s] of one file's event times (same answer as astropy's ``fitness='events'``)."""
    t = np.asarray(t, dtype=np.float64)
    if t.size == 0:
        raise ValueError("no events")
    ut, counts = np.unique(t, return_counts=True)
    n = len(ut)
    ws = (np.empty(n), np.empty(n, np.int64), np.empty(n + 1), np.empty(n + 1, np.int64))
    work, cand = np.empty((6, n + 1)), np.empty((2, n + 1), np.int64)
    m = bb_cells(ut, counts.astype(np.float64), float(p0), *ws, work, cand)
    return ws[2][ws[3][:m]].copy()


def bayesian_blocks_summary(
    offsets: np.ndarray,
    time: np.ndarray,
    p0: float = DEFAULT_P0,
    max_cells: int = DEFAULT_MAX_CELLS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per file: (number of blocks (n_files,) int64, max/min block-rate ratio, max block rate [counts/s]).

    Files with one event (or one distinct time) have 1 block and ratio 1; empty files 0 and NaN.
    """
    n = len(offsets) - 1
    n_blocks = np.zeros(n, dtype=np.int64)
    ratio = np.full(n, np.nan)
    max_rate = np.full(n, np.nan)
    offsets = np.asarray(offsets, np.int64)
    args = (offsets, np.asarray(time, np.float64), float(p0), int(max_cells))
    args += (n_blocks, ratio, max_rate)
    cells = np.minimum(np.diff(offsets), int(max_cells)).astype(np.float64)
    cost = cells * cells  # the dynamic programme is O(cells^2) per file
    if cost.sum() > 2e6 and nb.get_num_threads() > 1:
        _bb_files_parallel(work_ranges(cost), *args)
    else:
        _bb_files(*args, 0, n)
    return n_blocks, ratio, max_rate
