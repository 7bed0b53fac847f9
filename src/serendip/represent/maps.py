"""E-t maps and E-t-dt cubes of many event files at once (fused numba kernels).

Reference semantics (Dillmann et al. 2024), per file with events sorted by time:

* E-t map: ``tau = (t - min t) / (max t - min t)``, ``eps = log10(E / eV)``;
  ``np.histogram2d(tau, eps, range=[[0, 1], [log10 e_min, log10 e_max]], bins=(t_bins, e_bins))``.
* E-t-dt cube: ``dt = diff(t)``; ``tau`` and ``eps`` of the first ``n - 1`` events
  (``tau`` rescaled by the first ``n - 1`` times), ``dtau = (dt - min dt) / (max dt - min dt)``;
  ``np.histogramdd((tau, eps, dtau), range=[[0, 1], [log10 e_min, log10 e_max], [0, 1]])``.
* Normalised variant: each map ``(h - h.min()) / (h.max() - h.min())``.

serendip's convention for degenerate files (where the reference divides by zero and
silently loses the events as NaN): a zero span (one event; all events at one time;
constant gaps) rescales to 0, so those events land in the first bin; a constant map
normalises to all zeros. A file with no events gives an all-zero map; a file with fewer
than two events gives an all-zero cube. Events outside the energy band are not counted
(as in the reference).

Bins are computed exactly as ``np.histogramdd`` does (see :mod:`serendip.represent.binning`),
so the results equal the reference count for count. The kernels make one pass over the
events of each file (two for cubes), count them in a scratch histogram in cache and write
the file's row of the output once (no per-event temporaries); with many events the files
are split over all numba threads. :func:`maps_and_cubes` bins maps and cubes in the same
pass. Cubes are returned sparse (:class:`~serendip.represent.sparse.SparseCubes`: uint16
counts of the non-zero cells, about 0.04 GiB per 100,000 simulated sources instead of
2.3 GiB dense); ``dense=True`` or ``out=`` gives the dense float32 array (large outputs
on an anonymous memory map, see :func:`new_float32`; ``out=np.lib.format.open_memmap(...)``
for arrays larger than memory). Work proceeds in chunks of ``CHUNK_FILES`` files, with a
progress bar when ``progress=True``.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable

import numba as nb
import numpy as np
import pandas as pd
from numba.cpython.unsafe.numbers import trailing_zeros

from serendip.errors import InputError
from serendip.io.eventset import EventSet
from serendip.represent.binning import (
    AMBIGUOUS,
    LUT_SHIFT,
    bin_of,
    energy_bin_table,
    linear_edges,
)
from serendip.represent.sparse import SparseCubes

DEFAULT_T_MAX = 150_000.0  # s, longest exposure the absolute-time maps cover
DEFAULT_DT_FLOOR = 1e-3  # s, floor of gaps before log10 in dt_mode="log"
CHUNK_FILES = 20_000


# --------------------------------------------------------------------------- kernels
# One kernel bins maps and cubes (either or both, in one pass over the events). Each file
# is counted in small int32 scratch histograms (in cache) and its output row written once:
# dense map rows, and cube cells either as a dense row or as the file's sorted non-zero
# cells (sparse). The look-ups compute exactly numpy's bins: energies through
# binning.energy_bin_table (one table load per event), relative times and gaps by a
# reciprocal product with the exact division only within 1e-9 of a bin edge (the
# product's error is ~1e-16, so elsewhere both give the same bin).
@nb.njit(cache=True, inline="always")
def _unit_bin(x, scale, span, edges, n):
    """numpy's bin of ``x / span`` in [0, 1] over ``edges`` (n bins), given ``scale = n / span``."""
    y = x * scale
    k = int(y)
    fr = y - k
    if fr < 1e-9 or fr > 1.0 - 1e-9:
        tau = x / span if span > 0 else 0.0
        k = min(int(tau * n), n - 1)
        while k > 0 and edges[k] > tau:
            k -= 1
        while k < n - 1 and edges[k + 1] <= tau:
            k += 1
    return k


@nb.njit(cache=True)
def _et_kernel(offsets, time, ebits, etab, thr_bits, kmin, t_edges, tstart, out2, start, stop):
    """E-t maps only: rows ``out2[f]`` (t_bins * e_bins) of files ``start..stop``.

    The maps-only loop of :func:`_bin_files`, kept separate because the general kernel's
    code for cubes made the maps 1.2-1.8x slower even when pruned, and without the
    normalisation (:func:`_normalise_rows`), whose mere presence in this function made it
    2x slower (measured; LLVM then leaves the row copy unvectorised).
    """
    n_e = thr_bits.shape[0] - 1
    n_tab = etab.shape[0]
    n_t = t_edges.shape[0] - 1
    buf = np.zeros(n_t * n_e, dtype=np.int32)
    for f in range(start, stop):
        a = offsets[f]
        b = offsets[f + 1]
        t0 = 0.0
        span = 0.0
        if b > a:
            if tstart is not None:
                t0 = tstart[f]
            else:
                t0 = time[a]
            span = time[b - 1] - t0
        scale = n_t / span if span > 0 else 0.0
        for i in range(a, b):
            bits = np.int64(ebits[i])
            k = (bits >> LUT_SHIFT) - kmin
            if np.uint64(k) >= np.uint64(n_tab):
                continue
            ie = np.int64(etab[k])
            if ie == AMBIGUOUS:
                r = 0
                while r <= n_e and thr_bits[r] <= bits:
                    r += 1
                ie = r - 1 if r - 1 < n_e else -1
            if ie < 0:
                continue
            if tstart is not None:
                it = bin_of(time[i] - t0, t_edges)
                if it < 0:
                    continue
            else:
                it = _unit_bin(time[i] - t0, scale, span, t_edges, n_t)
            buf[it * n_e + ie] += 1
        row = out2[f]
        for j in range(buf.shape[0]):
            row[j] = np.float32(buf[j])
            buf[j] = 0


@nb.njit(cache=True)
def _normalise_rows(out2, start, stop):
    """Rows ``start..stop`` of counts scaled to ``(x - min) / (max - min)`` (float64), 0 if constant."""
    for f in range(start, stop):
        row = out2[f]
        lo = np.float64(row.min())
        hi = np.float64(row.max())
        if hi > lo:
            for j in range(row.shape[0]):
                row[j] = np.float32((np.float64(row[j]) - lo) / (hi - lo))
        else:
            row[:] = 0.0


@nb.njit(cache=True, parallel=True)
def _et_kernel_parallel(bounds, offsets, time, ebits, etab, thr_bits, kmin, t_edges, tstart, out2):
    """:func:`_et_kernel` over the file ranges ``bounds[c]..bounds[c + 1]`` on all threads."""
    for c in nb.prange(bounds.shape[0] - 1):
        _et_kernel(
            offsets,
            time,
            ebits,
            etab,
            thr_bits,
            kmin,
            t_edges,
            tstart,
            out2,
            bounds[c],
            bounds[c + 1],
        )


# The outputs and the absolute time axis are optional arguments: numba compiles one
# specialisation per combination and prunes the ``is None`` branches, so a maps-only call
# runs the maps-only loop (a runtime flag instead cost 1.3x; the normalisation code written inline in
# the row loop 1.6x: measured on 20,000 simulated files).
@nb.njit(cache=True)
def _bin_files(
    offsets,
    time,
    ebits,
    etab,
    thr_bits,
    kmin,
    t_edges,
    tstart,
    d_edges,
    log_dt,
    dt_floor,
    map_out,
    cube_dense,
    cube_pos,
    cube_idx,
    cube_val,
    cube_nnz,
    start,
    stop,
):
    """Maps and/or cubes of files ``start..stop``.

    ``map_out``: (n_files, t_bins * e_bins) float32 or None (no maps). ``tstart``: per-file
    start [s] for the absolute time axis of maps (``t_edges`` in seconds), or None
    (relative axis). Cubes go dense to ``cube_dense`` (n_files, n_cells) or, given
    ``cube_pos`` (and ``cube_dense`` None), sparse: file ``f``'s cells to
    ``cube_idx``/``cube_val`` from ``cube_pos[f]`` (room for ``min(n - 1, n_cells)``
    cells), their number to ``cube_nnz[f]``; both None: no cubes. ``ebits``: energies'
    float32 bit patterns viewed as int32.
    """
    n_e = thr_bits.shape[0] - 1
    n_tab = etab.shape[0]
    n_t = t_edges.shape[0] - 1
    n_d = d_edges.shape[0] - 1
    n_m = n_t * n_e
    n_c = n_m * n_d
    mbuf = np.zeros(n_m, dtype=np.int32)
    cbuf = np.zeros(n_c if (cube_dense is not None or cube_pos is not None) else 1, np.int32)
    # cells of the current file: one bit each, read back in increasing order (sorted CSR
    # rows; an insertion sort of the touched cells instead cost 1.4x the whole kernel)
    touched = np.zeros((cbuf.shape[0] + 63) // 64, dtype=np.uint64)
    for f in range(start, stop):
        a = offsets[f]
        b = offsets[f + 1]
        t0 = 0.0
        span = 0.0
        scale = 0.0
        if b > a:
            if tstart is not None:
                t0 = tstart[f]
            else:
                t0 = time[a]
            span = time[b - 1] - t0
            scale = n_t / span if span > 0 else 0.0
        c0 = 0.0
        cspan = 0.0
        cscale = 0.0
        dmin = 0.0
        dspan = 0.0
        dscale = 0.0
        last = b - 1  # events before ``last`` have a gap to the next one
        if cube_dense is not None or cube_pos is not None:
            if b - a < 2:
                last = a
            else:
                # per-file ranges of the first n - 1 times and of the gaps
                c0 = time[a]
                cspan = time[b - 2] - c0
                cscale = n_t / cspan if cspan > 0 else 0.0
                dmin = np.inf
                dmax = -np.inf
                for i in range(a, b - 1):
                    d = time[i + 1] - time[i]
                    if log_dt:
                        d = np.log10(max(d, dt_floor))
                    dmin = min(dmin, d)
                    dmax = max(dmax, d)
                dspan = dmax - dmin
                dscale = n_d / dspan if dspan > 0 else 0.0
        for i in range(a, b):
            bits = np.int64(ebits[i])
            k = (bits >> LUT_SHIFT) - kmin
            if np.uint64(k) >= np.uint64(n_tab):
                continue
            ie = np.int64(etab[k])
            if ie == AMBIGUOUS:
                r = 0
                while r <= n_e and thr_bits[r] <= bits:
                    r += 1
                ie = r - 1 if r - 1 < n_e else -1
            if ie < 0:
                continue
            if map_out is not None:
                if tstart is not None:
                    it = bin_of(time[i] - t0, t_edges)
                    if it >= 0:
                        mbuf[it * n_e + ie] += 1
                else:
                    mbuf[_unit_bin(time[i] - t0, scale, span, t_edges, n_t) * n_e + ie] += 1
            if cube_dense is not None or cube_pos is not None:
                if i < last:
                    itc = _unit_bin(time[i] - c0, cscale, cspan, t_edges, n_t)
                    d = time[i + 1] - time[i]
                    if log_dt:
                        d = np.log10(max(d, dt_floor))
                    idt = _unit_bin(d - dmin, dscale, dspan, d_edges, n_d)
                    j = (itc * n_e + ie) * n_d + idt
                    touched[j >> 6] |= np.uint64(1) << np.uint64(j & 63)
                    cbuf[j] += 1
        # write the file's rows and clear the scratch
        if map_out is not None:
            row = map_out[f]
            for j in range(n_m):
                row[j] = np.float32(mbuf[j])
                mbuf[j] = 0
        if cube_dense is not None:
            row = cube_dense[f]
            for j in range(n_c):
                row[j] = np.float32(cbuf[j])
        if cube_dense is not None or cube_pos is not None:
            q = 0
            p = cube_pos[f] if cube_pos is not None else 0
            for w in range(touched.shape[0]):
                word = touched[w]
                while word:
                    j = (w << 6) + trailing_zeros(word)
                    word &= word - np.uint64(1)
                    if cube_pos is not None:
                        cube_idx[p + q] = j
                        cube_val[p + q] = cbuf[j]
                    cbuf[j] = 0
                    q += 1
                touched[w] = 0
            if cube_pos is not None:
                cube_nnz[f] = q


@nb.njit(cache=True, parallel=True)
def _bin_files_parallel(
    bounds,
    offsets,
    time,
    ebits,
    etab,
    thr_bits,
    kmin,
    t_edges,
    tstart,
    d_edges,
    log_dt,
    dt_floor,
    map_out,
    cube_dense,
    cube_pos,
    cube_idx,
    cube_val,
    cube_nnz,
):
    """:func:`_bin_files` over the file ranges ``bounds[c]..bounds[c + 1]`` on all threads."""
    for c in nb.prange(bounds.shape[0] - 1):
        _bin_files(
            offsets,
            time,
            ebits,
            etab,
            thr_bits,
            kmin,
            t_edges,
            tstart,
            d_edges,
            log_dt,
            dt_floor,
            map_out,
            cube_dense,
            cube_pos,
            cube_idx,
            cube_val,
            cube_nnz,
            bounds[c],
            bounds[c + 1],
        )


@nb.njit(cache=True)
def _compact(idx, val, pos, nnz, indptr):
    """Move each file's cells from its slot ``pos[f]`` to ``indptr[f]`` (in place, left)."""
    for f in range(nnz.shape[0]):
        src = pos[f]
        dst = indptr[f]
        if src != dst:
            for q in range(nnz[f]):
                idx[dst + q] = idx[src + q]
                val[dst + q] = val[src + q]


# --------------------------------------------------------------------------- helpers
def _check_events(events) -> EventSet:
    if not isinstance(events, EventSet):
        raise InputError(None, f"expected a serendip.io.EventSet, got {type(events).__name__}")
    return events


LARGE_OUTPUT_BYTES = 256 * 2**20


def new_float32(shape: tuple[int, ...]) -> np.ndarray:
    """A zero-filled float32 array; large ones on an anonymous memory map.

    numpy asks the kernel for transparent huge pages on large arrays; on machines where
    the kernel then compacts memory on every fault (THP defrag "madvise"), filling a
    1.5 GB cube array took 2-3x longer (measured 130-200 vs 58 ns/event). Arrays of at least
    ``LARGE_OUTPUT_BYTES`` go on an anonymous ``mmap`` (ordinary zero-filled pages, lazily);
    smaller ones, where huge pages still help (a 90 MB map array: 9 vs 12 ns/event), stay
    ``np.zeros``.
    """
    nbytes = int(np.prod(shape, dtype=np.int64)) * 4
    if nbytes < LARGE_OUTPUT_BYTES:
        return np.zeros(shape, dtype=np.float32)
    return np.frombuffer(mmap.mmap(-1, nbytes), dtype=np.float32).reshape(shape)


def _prepare_out(out: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """The output array: new (zero-filled) or the caller's ``out`` (checked)."""
    if out is None:
        return new_float32(shape)
    if out.shape != shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise InputError(
            None, f"out must be C-contiguous float32 of shape {shape}, got {out.dtype} {out.shape}"
        )
    return out


def _run_chunks(n_files: int, fill: Callable[[int, int], None], progress: bool, label: str) -> None:
    """Call ``fill(start, stop)`` over chunks of files, with a rich progress bar if asked."""
    ranges = [(s, min(s + CHUNK_FILES, n_files)) for s in range(0, n_files, CHUNK_FILES)]
    if not progress or len(ranges) <= 1:
        for s, e in ranges:
            fill(s, e)
        return
    from serendip.progress import progress_bar

    with progress_bar() as bar:
        task = bar.add_task(label, total=n_files)
        for s, e in ranges:
            fill(s, e)
            bar.advance(task, e - s)


def file_tstart(events: EventSet, files: pd.DataFrame | None) -> np.ndarray:
    """Per-file start time [s], (n_files,) float64: ``files.tstart`` where given, else the first event.

    ``files`` is a per-file table with columns ``obsreg_id`` and ``tstart``; files it does
    not list (or lists with NaN) fall back to their first event (0 for empty files).
    """
    first = np.zeros(events.n_files, dtype=np.float64)
    nonempty = events.counts > 0
    first[nonempty] = events.time[events.offsets[:-1][nonempty]]
    if files is None:
        return first
    if "obsreg_id" not in files.columns or "tstart" not in files.columns:
        raise InputError(
            "files table", f"needs columns obsreg_id and tstart; found {list(files.columns)}"
        )
    ts = pd.Series(files["tstart"].to_numpy(dtype=np.float64), index=files["obsreg_id"].astype(str))
    ts = ts[~ts.index.duplicated()]
    given = ts.reindex(events.obsreg_id.astype(str)).to_numpy()
    return np.where(np.isfinite(given), given, first)


# --------------------------------------------------------------------------- drivers
#: events from which the kernels run on all numba threads (below, thread start-up dominates)
PARALLEL_MIN_EVENTS = 200_000


def _file_ranges(offsets: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Bounds splitting files ``start:stop`` into ~4 parts per thread of about equal events."""
    n_parts = max(1, min(stop - start, 4 * nb.get_num_threads()))
    targets = np.linspace(offsets[start], offsets[stop], n_parts + 1)
    bounds = np.searchsorted(offsets[start : stop + 1], targets, side="left") + start
    bounds[0], bounds[-1] = start, stop
    return np.unique(bounds).astype(np.int64)


class _Binner:
    """Settings and outputs of one maps / cubes computation, run over chunks of files."""

    def __init__(self, events: EventSet, t_bins: int, e_bins: int, e_min: float, e_max: float):
        self.events = events
        self.t_edges = linear_edges(0.0, 1.0, t_bins)
        self.thr_bits, self.etab, self.kmin = energy_bin_table(e_min, e_max, e_bins)
        self.ebits = events.energy.view(np.int32)
        self.tstart: np.ndarray | None = None  # absolute time axis: per-file start [s]
        self.d_edges = linear_edges(0.0, 1.0, 1)
        self.log_dt = False
        self.dt_floor = DEFAULT_DT_FLOOR
        self.normalize = False
        self.map_out: np.ndarray | None = None
        self.cube_dense: np.ndarray | None = None
        self.cube_pos: np.ndarray | None = None
        self.cube_idx: np.ndarray | None = None
        self.cube_val: np.ndarray | None = None
        self.cube_nnz: np.ndarray | None = None
        self.dense_cubes: np.ndarray | None = None

    def _args(self) -> tuple:
        ev = self.events
        return (
            ev.offsets,
            ev.time,
            self.ebits,
            self.etab,
            self.thr_bits,
            self.kmin,
            self.t_edges,
            self.tstart,
            self.d_edges,
            self.log_dt,
            float(self.dt_floor),
            self.map_out,
            self.cube_dense,
            self.cube_pos,
            self.cube_idx,
            self.cube_val,
            self.cube_nnz,
        )

    def fill(self, start: int, stop: int) -> None:
        """Bin files ``start:stop`` (on all numba threads when there are many events)."""
        off = self.events.offsets
        parallel = off[stop] - off[start] >= PARALLEL_MIN_EVENTS and nb.get_num_threads() > 1
        if self.cube_dense is None and self.cube_pos is None:
            ev = self.events
            args = (ev.offsets, ev.time, self.ebits, self.etab, self.thr_bits, self.kmin)
            args += (self.t_edges, self.tstart, self.map_out)
            if parallel:
                _et_kernel_parallel(_file_ranges(off, start, stop), *args)
            else:
                _et_kernel(*args, start, stop)
        elif parallel:
            _bin_files_parallel(_file_ranges(off, start, stop), *self._args())
        else:
            _bin_files(*self._args(), start, stop)
        if self.normalize:  # sparse cubes are normalised in cube_result
            for rows in (self.map_out, self.cube_dense):
                if rows is not None:
                    _normalise_rows(rows, start, stop)

    def sparse_slots(self) -> None:
        """Room for each file's cube cells (``min(n - 1, n_cells)``) in sparse outputs."""
        counts = self.events.counts
        n_c = (len(self.t_edges) - 1) * (len(self.thr_bits) - 1) * (len(self.d_edges) - 1)
        room = np.minimum(np.maximum(counts - 1, 0), n_c)
        self.cube_pos = np.zeros(len(counts), dtype=np.int64)
        np.cumsum(room[:-1], out=self.cube_pos[1:])
        total = int(room.sum())
        self.cube_idx = np.empty(total, dtype=np.uint16 if n_c <= 65536 else np.int32)
        most = int(counts.max(initial=0)) - 1
        vtype = np.uint16 if most <= np.iinfo(np.uint16).max else np.uint32
        self.cube_val = np.empty(total, dtype=vtype)
        self.cube_nnz = np.zeros(len(counts), dtype=np.int64)

    def cube_result(self, shape: tuple[int, ...]) -> SparseCubes | np.ndarray:
        """The dense cubes if asked for, else the sparse ones (compacted)."""
        if self.dense_cubes is not None:
            return self.dense_cubes
        cube_shape = shape[1:]
        indptr = np.zeros(len(self.cube_nnz) + 1, dtype=np.int64)
        np.cumsum(self.cube_nnz, out=indptr[1:])
        _compact(self.cube_idx, self.cube_val, self.cube_pos, self.cube_nnz, indptr)
        nnz = int(indptr[-1])
        # copies, so the over-allocated slots are freed
        cubes = SparseCubes(
            self.cube_val[:nnz].copy(), self.cube_idx[:nnz].copy(), indptr, cube_shape
        )
        return normalise_sparse(cubes) if self.normalize else cubes


def normalise_sparse(cubes: SparseCubes) -> SparseCubes:
    """Each cube scaled to ``(x - min) / (max - min)`` (float64, stored float32), as dense.

    The minimum is 0 unless a file fills every cell; cells that scale to 0 are dropped.
    """
    n_cells = cubes.n_cells
    nnz = np.diff(cubes.indptr)
    row = np.repeat(np.arange(cubes.n_files), nnz)
    vals = cubes.data.astype(np.float64)
    hi = np.zeros(cubes.n_files)
    lo = np.zeros(cubes.n_files)
    if cubes.nnz:
        has = nnz > 0
        hi[has] = np.maximum.reduceat(vals, cubes.indptr[:-1][has])
        full = nnz == n_cells
        if full.any():
            lo[full] = np.minimum.reduceat(vals, cubes.indptr[:-1][has])[full[has]]
    span = (hi - lo)[row]
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(span > 0, (vals - lo[row]) / np.where(span > 0, span, 1.0), 0.0)
    keep = scaled != 0
    if keep.all():
        return SparseCubes(scaled.astype(np.float32), cubes.indices, cubes.indptr, cubes.cube_shape)
    indptr = np.zeros(cubes.n_files + 1, dtype=np.int64)
    np.cumsum(np.bincount(row[keep], minlength=cubes.n_files), out=indptr[1:])
    return SparseCubes(
        scaled[keep].astype(np.float32), cubes.indices[keep], indptr, cubes.cube_shape
    )


def _setup_cubes(
    binner: _Binner, dt_bins: int, dt_mode: str, dt_floor: float, normalize: bool
) -> None:
    if dt_mode not in ("linear", "log"):
        raise InputError(None, f"dt_mode must be 'linear' or 'log', got {dt_mode!r}")
    if not dt_floor > 0:
        raise InputError(None, f"dt_floor must be > 0 s, got {dt_floor}")
    binner.d_edges = linear_edges(0.0, 1.0, dt_bins)
    binner.log_dt = dt_mode == "log"
    binner.dt_floor = float(dt_floor)
    binner.normalize = bool(normalize)


def _cube_output(
    binner: _Binner, shape: tuple[int, ...], dense: bool, out: np.ndarray | None
) -> None:
    if dense or out is not None:
        binner.dense_cubes = _prepare_out(out, shape)
        # a view: kernels write every row
        binner.cube_dense = binner.dense_cubes.reshape(shape[0], int(np.prod(shape[1:])))
    else:
        binner.sparse_slots()


# --------------------------------------------------------------------------- public API
def et_maps(
    events: EventSet,
    *,
    t_bins: int = 24,
    e_bins: int = 16,
    e_min: float = 500.0,
    e_max: float = 7000.0,
    normalize: bool = False,
    time_mode: str = "relative",
    t_max: float | None = None,
    files: pd.DataFrame | None = None,
    out: np.ndarray | None = None,
    progress: bool = False,
) -> np.ndarray:
    """E-t maps of every file: counts in (time, log energy) bins.

    Parameters
    ----------
    events : the files' events (time [s], energy [eV]).
    t_bins, e_bins : numbers of time and energy bins (energy bins uniform in log10 E).
    e_min, e_max : energy band [eV]; events outside it are not counted.
    normalize : scale each map to [0, 1] by its own min and max (constant maps -> 0).
    time_mode : ``"relative"`` (the reference: time rescaled per file from its first to
        its last event) or ``"absolute"``: seconds since the file's start in fixed bins
        over [0, t_max], which keeps duration and rate; events outside are not counted.
    t_max : end of the absolute time axis [s] (default 150 ks).
    files : per-file table with ``obsreg_id`` and ``tstart`` [s] for absolute mode
        (missing files start at their first event).
    out : optional preallocated float32 array (e.g. ``np.memmap``, or the previous call's
        result to reuse its memory) of the output shape, any contents (every row is
        overwritten).
    progress : show a progress bar over chunks of files.

    Returns
    -------
    (n_files, t_bins, e_bins) float32 counts (or normalised values).
    """
    events = _check_events(events)
    binner = _Binner(events, t_bins, e_bins, e_min, e_max)
    _setup_maps(binner, events, t_bins, time_mode, t_max, files, normalize)
    res = _prepare_out(out, (events.n_files, int(t_bins), int(e_bins)))
    binner.map_out = res.reshape(events.n_files, int(t_bins) * int(e_bins))  # a view
    _run_chunks(events.n_files, binner.fill, progress, "E-t maps")
    return res


def _setup_maps(binner, events, t_bins, time_mode, t_max, files, normalize) -> None:
    if time_mode not in ("relative", "absolute"):
        raise InputError(None, f"time_mode must be 'relative' or 'absolute', got {time_mode!r}")
    if time_mode == "absolute":
        t_max = DEFAULT_T_MAX if t_max is None else float(t_max)
        binner.t_edges = linear_edges(0.0, t_max, t_bins)
        binner.tstart = file_tstart(events, files)
    binner.normalize = bool(normalize)


def etdt_cubes(
    events: EventSet,
    *,
    t_bins: int = 24,
    e_bins: int = 16,
    dt_bins: int = 16,
    e_min: float = 500.0,
    e_max: float = 7000.0,
    normalize: bool = False,
    dt_mode: str = "linear",
    dt_floor: float = DEFAULT_DT_FLOOR,
    dense: bool = False,
    out: np.ndarray | None = None,
    progress: bool = False,
) -> SparseCubes | np.ndarray:
    """E-t-dt cubes of every file: counts in (time, log energy, gap to next event) bins.

    Parameters
    ----------
    events : the files' events (time [s], energy [eV]).
    t_bins, e_bins, dt_bins : numbers of bins along time, log energy and gap.
    e_min, e_max : energy band [eV].
    normalize : scale each cube to [0, 1] by its own min and max (constant cubes -> 0).
    dt_mode : ``"linear"`` (the reference: gap rescaled per file to [0, 1] by its min and
        max) or ``"log"``: ``log10(max(dt, dt_floor))`` rescaled per file to [0, 1].
    dt_floor : smallest gap [s] before the logarithm in log mode (ties, frame time).
    dense : return a dense float32 array instead of :class:`SparseCubes` (24 KiB per file).
    out : optional preallocated C-contiguous float32 array (e.g. ``np.memmap``) to fill
        densely (implies ``dense``); every row is overwritten.
    progress : show a progress bar over chunks of files.

    Returns
    -------
    :class:`~serendip.represent.sparse.SparseCubes` of shape (n_files, t_bins, e_bins,
    dt_bins): counts as ``uint16`` (``uint32`` for files of more than 65,536 events) or
    float32 values when normalised; ``cubes[i]`` is file ``i``'s dense float32 cube and
    ``cubes.dense(a, b)`` a batch of them. With ``dense`` or ``out``: the (n_files, t_bins,
    e_bins, dt_bins) float32 array. Each file contributes ``n - 1`` gaps (the last event has
    no successor).
    """
    events = _check_events(events)
    binner = _Binner(events, t_bins, e_bins, e_min, e_max)
    _setup_cubes(binner, dt_bins, dt_mode, dt_floor, normalize)
    shape = (events.n_files, int(t_bins), int(e_bins), int(dt_bins))
    _cube_output(binner, shape, dense, out)
    _run_chunks(events.n_files, binner.fill, progress, "E-t-dt cubes")
    return binner.cube_result(shape)


def maps_and_cubes(
    events: EventSet,
    *,
    t_bins: int = 24,
    e_bins: int = 16,
    dt_bins: int = 16,
    e_min: float = 500.0,
    e_max: float = 7000.0,
    normalize: bool = False,
    dt_mode: str = "linear",
    dt_floor: float = DEFAULT_DT_FLOOR,
    dense: bool = False,
    progress: bool = False,
) -> tuple[np.ndarray, SparseCubes | np.ndarray]:
    """E-t maps and E-t-dt cubes in one pass over the events (same bins and band for both).

    Equal to ``(et_maps(events, ...), etdt_cubes(events, ...))`` with the shared options
    (relative time axis); each event's energy bin and both time bins are found once.
    """
    events = _check_events(events)
    binner = _Binner(events, t_bins, e_bins, e_min, e_max)
    _setup_cubes(binner, dt_bins, dt_mode, dt_floor, normalize)
    maps = _prepare_out(None, (events.n_files, int(t_bins), int(e_bins)))
    binner.map_out = maps.reshape(events.n_files, int(t_bins) * int(e_bins))
    shape = (events.n_files, int(t_bins), int(e_bins), int(dt_bins))
    _cube_output(binner, shape, dense, None)
    _run_chunks(events.n_files, binner.fill, progress, "E-t maps and E-t-dt cubes")
    return maps, binner.cube_result(shape)
