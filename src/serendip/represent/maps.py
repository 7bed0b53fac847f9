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
the file's row of the output once (no per-event temporaries). The output is the only large
allocation (100,000 cubes of 24 x 16 x 16 float32 are 2.5 GB; large outputs are placed on
an anonymous memory map, see :func:`new_float32`); for populations whose cubes do not fit
in memory pass ``out=np.lib.format.open_memmap(...)``. Work proceeds in chunks of
``CHUNK_FILES`` files, with a progress bar when ``progress=True``.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable

import numba as nb
import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.eventset import EventSet
from serendip.represent.binning import LUT_SHIFT, bin_of, energy_lookup, linear_edges

DEFAULT_T_MAX = 150_000.0  # s, longest exposure the absolute-time maps cover
DEFAULT_DT_FLOOR = 1e-3  # s, floor of gaps before log10 in dt_mode="log"
CHUNK_FILES = 20_000


# --------------------------------------------------------------------------- kernels
# Each kernel accumulates one file in a small scratch histogram (in L1 cache) and then
# writes the file's row of the output once, sequentially (normalised on the way if
# asked): scattering counts straight into a 24 KB cube row in main memory costs a cache
# miss per event. The energy and unit-interval look-ups are written out inside the
# kernels (numba's inlining of helper functions was ~5x slower here); they compute
# exactly what binning.energy_bin_lut and binning.bin_of do (numpy's histogramdd bins).
@nb.njit(cache=True)
def _flush(buf, touched, n_touched, out2, f, normalize):
    """Write scratch ``buf`` to ``out2[f]`` (min-max normalised in float64 if asked), reset it."""
    row = out2[f]
    if normalize:
        lo = buf.min()
        hi = buf.max()
        if hi > lo:
            span = np.float64(hi) - np.float64(lo)
            for j in range(buf.shape[0]):
                row[j] = np.float32((np.float64(buf[j]) - np.float64(lo)) / span)
        else:
            row[:] = 0.0
    else:
        row[:] = buf
    if n_touched < buf.shape[0] // 4:
        for j in range(n_touched):
            buf[touched[j]] = 0.0
    else:
        buf[:] = 0.0


@nb.njit(cache=True)
def _et_kernel(
    offsets,
    time,
    ebits,
    thr_bits,
    table,
    kmin,
    t_edges,
    tstart,
    out2,
    start,
    stop,
    absolute,
    normalize,
):
    """Write rows ``out2[f]`` (t_bins * e_bins, row-major) for files ``start..stop``.

    ``ebits``: energies' float32 bit patterns viewed as int32; see ``binning.energy_lookup``.
    """
    n_e = thr_bits.shape[0] - 1
    n_tab = table.shape[0]
    n_t = t_edges.shape[0] - 1
    buf = np.zeros(n_t * n_e, dtype=np.float32)
    buf2 = np.zeros(n_t * n_e, dtype=np.float32)  # odd events: halves dependency chains
    touched = np.empty(0, dtype=np.int64)  # maps are small: reset by a full clear
    for f in range(start, stop):
        a = offsets[f]
        b = offsets[f + 1]
        t0 = tstart[f] if absolute else (time[a] if b > a else 0.0)
        span = time[b - 1] - t0 if b > a else 0.0
        inv = 1.0 / span if span > 0 else 0.0
        for i in range(a, b):
            # energy bin (exact numpy bin of log10(float64(E))): binning.energy_bin_lut written
            # out by hand, because calling it (even inlined) made this kernel 4x slower (measured)
            bits = np.int64(ebits[i])
            k = (bits >> LUT_SHIFT) - kmin
            if k < 0 or k >= n_tab:
                continue
            r = np.int64(table[k])
            while r <= n_e and thr_bits[r] <= bits:
                r += 1
            ie = r - 1
            if ie < 0 or ie >= n_e:
                continue
            if absolute:
                it = bin_of(time[i] - t0, t_edges)
                if it < 0:
                    continue
            else:
                # tau = (t - t0) / span in [0, 1]; multiply by the reciprocal and use the
                # exact division only within 1e-9 of a bin edge (the product's error is
                # ~1e-16, so elsewhere both give the same bin)
                x = (time[i] - t0) * inv * n_t
                it = int(x)
                if x - it < 1e-9 or x - it > 1.0 - 1e-9:
                    tau = (time[i] - t0) / span if span > 0 else 0.0
                    it = min(int(tau * n_t), n_t - 1)
                    while it > 0 and t_edges[it] > tau:
                        it -= 1
                    while it < n_t - 1 and t_edges[it + 1] <= tau:
                        it += 1
            if i & 1:
                buf2[it * n_e + ie] += np.float32(1.0)
            else:
                buf[it * n_e + ie] += np.float32(1.0)
        buf += buf2
        buf2[:] = 0.0
        _flush(buf, touched, buf.shape[0], out2, f, normalize)


@nb.njit(cache=True)
def _etdt_kernel(
    offsets,
    time,
    ebits,
    thr_bits,
    table,
    kmin,
    t_edges,
    d_edges,
    out2,
    start,
    stop,
    log_dt,
    dt_floor,
    normalize,
):
    """Write rows ``out2[f]`` (t_bins * e_bins * dt_bins, row-major) for files ``start..stop``."""
    n_e = thr_bits.shape[0] - 1
    n_tab = table.shape[0]
    n_t = t_edges.shape[0] - 1
    n_d = d_edges.shape[0] - 1
    buf = np.zeros(n_t * n_e * n_d, dtype=np.float32)
    nmax = 1
    for f in range(start, stop):
        nmax = max(nmax, offsets[f + 1] - offsets[f])
    touched = np.empty(nmax, dtype=np.int64)
    for f in range(start, stop):
        a = offsets[f]
        b = offsets[f + 1]
        c = 0
        if b - a >= 2:
            # per-file ranges of the first n - 1 times and of the gaps
            t0 = time[a]
            span = time[b - 2] - t0
            dmin = np.inf
            dmax = -np.inf
            for i in range(a, b - 1):
                d = time[i + 1] - time[i]
                if log_dt:
                    d = np.log10(max(d, dt_floor))
                dmin = min(dmin, d)
                dmax = max(dmax, d)
            dspan = dmax - dmin
            inv = 1.0 / span if span > 0 else 0.0
            dinv = 1.0 / dspan if dspan > 0 else 0.0
            for i in range(a, b - 1):
                bits = np.int64(ebits[i])
                k = (bits >> LUT_SHIFT) - kmin
                if k < 0 or k >= n_tab:
                    continue
                r = np.int64(table[k])
                while r <= n_e and thr_bits[r] <= bits:
                    r += 1
                ie = r - 1
                if ie < 0 or ie >= n_e:
                    continue
                # reciprocal products, exact division only near an edge (see _et_kernel)
                x = (time[i] - t0) * inv * n_t
                it = int(x)
                if x - it < 1e-9 or x - it > 1.0 - 1e-9:
                    tau = (time[i] - t0) / span if span > 0 else 0.0
                    it = min(int(tau * n_t), n_t - 1)
                    while it > 0 and t_edges[it] > tau:
                        it -= 1
                    while it < n_t - 1 and t_edges[it + 1] <= tau:
                        it += 1
                d = time[i + 1] - time[i]
                if log_dt:
                    d = np.log10(max(d, dt_floor))
                x = (d - dmin) * dinv * n_d
                idt = int(x)
                if x - idt < 1e-9 or x - idt > 1.0 - 1e-9:
                    dtau = (d - dmin) / dspan if dspan > 0 else 0.0
                    idt = min(int(dtau * n_d), n_d - 1)
                    while idt > 0 and d_edges[idt] > dtau:
                        idt -= 1
                    while idt < n_d - 1 and d_edges[idt + 1] <= dtau:
                        idt += 1
                j = (it * n_e + ie) * n_d + idt
                buf[j] += np.float32(1.0)
                touched[c] = j
                c += 1
        _flush(buf, touched, c, out2, f, normalize)


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
    out : optional preallocated float32 array (e.g. ``np.memmap``) of the output shape,
        any contents (every row is overwritten).
    progress : show a progress bar over chunks of files.

    Returns
    -------
    (n_files, t_bins, e_bins) float32 counts (or normalised values).
    """
    events = _check_events(events)
    if time_mode not in ("relative", "absolute"):
        raise InputError(None, f"time_mode must be 'relative' or 'absolute', got {time_mode!r}")
    absolute = time_mode == "absolute"
    if absolute:
        t_max = DEFAULT_T_MAX if t_max is None else float(t_max)
        t_edges = linear_edges(0.0, t_max, t_bins)
        tstart = file_tstart(events, files)
    else:
        t_edges = linear_edges(0.0, 1.0, t_bins)
        tstart = np.zeros(1)
    thr_bits, table, kmin = energy_lookup(e_min, e_max, e_bins)
    ebits = events.energy.view(np.int32)
    res = _prepare_out(out, (events.n_files, int(t_bins), int(e_bins)))
    out2 = res.reshape(events.n_files, -1)  # a view: kernels write every row

    def fill(s: int, e: int) -> None:
        _et_kernel(
            events.offsets,
            events.time,
            ebits,
            thr_bits,
            table,
            kmin,
            t_edges,
            tstart,
            out2,
            s,
            e,
            absolute,
            bool(normalize),
        )

    _run_chunks(events.n_files, fill, progress, "E-t maps")
    return res


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
    out: np.ndarray | None = None,
    progress: bool = False,
) -> np.ndarray:
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
    out : optional preallocated C-contiguous float32 array (e.g. ``np.memmap``); every row is overwritten.
    progress : show a progress bar over chunks of files.

    Returns
    -------
    (n_files, t_bins, e_bins, dt_bins) float32. Each file contributes ``n - 1`` gaps
    (the last event has no successor).
    """
    events = _check_events(events)
    if dt_mode not in ("linear", "log"):
        raise InputError(None, f"dt_mode must be 'linear' or 'log', got {dt_mode!r}")
    if not dt_floor > 0:
        raise InputError(None, f"dt_floor must be > 0 s, got {dt_floor}")
    t_edges = linear_edges(0.0, 1.0, t_bins)
    d_edges = linear_edges(0.0, 1.0, dt_bins)
    thr_bits, table, kmin = energy_lookup(e_min, e_max, e_bins)
    ebits = events.energy.view(np.int32)
    res = _prepare_out(out, (events.n_files, int(t_bins), int(e_bins), int(dt_bins)))
    out2 = res.reshape(events.n_files, -1)  # a view: kernels write every row
    log_dt = dt_mode == "log"

    def fill(s: int, e: int) -> None:
        _etdt_kernel(
            events.offsets,
            events.time,
            ebits,
            thr_bits,
            table,
            kmin,
            t_edges,
            d_edges,
            out2,
            s,
            e,
            log_dt,
            float(dt_floor),
            bool(normalize),
        )

    _run_chunks(events.n_files, fill, progress, "E-t-dt cubes")
    return res
