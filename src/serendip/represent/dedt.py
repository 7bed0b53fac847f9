"""dE-dt maps: 2-D histograms of time and energy differences between events of a file.

The talk's representation uses all pairs of events, which is O(n^2). serendip uses the
pairs within ``lags`` steps in time order (each event with its next ``lags`` successors,
default K = 8): O(n K), independent of the order the events were given in (they are
time-sorted first), and still sensitive to clustering in time (bursts, flares make short
gaps) and spectral evolution (later-minus-earlier energy ratio).

Bins are fixed and absolute, so maps of different files are comparable:

* time axis: ``log10(max(dt, dt_floor) / s)`` over ``log_dt_range`` (default -3..5, i.e. 1 ms
  to 100 ks) in ``dt_bins`` bins;
* energy axis: ``log10(E_later / E_earlier)`` over ``log_ratio_range`` (default -1.2..1.2 dex,
  wider than the 500-7000 eV band's 1.15 dex) in ``de_bins`` bins.

Values beyond either range are clipped into the first or last bin, so every pair is
counted: a file with ``n`` events has ``sum_{k=1..K} max(n - k, 0)`` pairs. With
``normalize=True`` each map is divided by its number of pairs (a probability mass).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from serendip.errors import InputError
from serendip.io.eventset import EventSet
from serendip.represent.maps import _check_events, _prepare_out, _run_chunks

DEFAULT_LAGS = 8


@nb.njit(cache=True, error_model="numpy")
def _clip_bin(x, lo, hi, n):
    k = int(np.floor((x - lo) / (hi - lo) * n))
    if k < 0:
        return 0
    if k > n - 1:
        return n - 1
    return k


@nb.njit(cache=True, error_model="numpy")
def _dedt_kernel(
    offsets, time, loge, out, start, stop, lags, dt_lo, dt_hi, de_lo, de_hi, dt_floor, normalize
):
    n_dt = out.shape[1]
    n_de = out.shape[2]
    for f in range(start, stop):
        a = offsets[f]
        b = offsets[f + 1]
        total = 0
        for i in range(a, b - 1):
            last = min(b, i + lags + 1)
            for j in range(i + 1, last):
                dt = time[j] - time[i]
                x = np.log10(max(dt, dt_floor))
                y = loge[j] - loge[i]
                out[f, _clip_bin(x, dt_lo, dt_hi, n_dt), _clip_bin(y, de_lo, de_hi, n_de)] += 1.0
                total += 1
        if normalize and total > 0:
            out[f] /= np.float32(total)


def dedt_maps(
    events: EventSet,
    *,
    lags: int = DEFAULT_LAGS,
    dt_bins: int = 24,
    de_bins: int = 16,
    log_dt_range: tuple[float, float] = (-3.0, 5.0),
    log_ratio_range: tuple[float, float] = (-1.2, 1.2),
    dt_floor: float = 1e-3,
    normalize: bool = False,
    out: np.ndarray | None = None,
    progress: bool = False,
) -> np.ndarray:
    """dE-dt maps of every file over pairs of events within ``lags`` steps in time.

    Parameters
    ----------
    events : the files' events (time [s], energy [eV], energies must be > 0).
    lags : K, how many successors of each event are paired with it.
    dt_bins, de_bins : numbers of bins along log10 dt and log10 energy ratio.
    log_dt_range : (lo, hi) of log10(dt / s); dt is floored at ``dt_floor`` [s].
    log_ratio_range : (lo, hi) of log10(E_later / E_earlier).
    normalize : divide each map by its number of pairs.
    out : optional preallocated zero-filled float32 array (e.g. ``np.memmap``).

    Returns
    -------
    (n_files, dt_bins, de_bins) float32 pair counts (or fractions).
    """
    events = _check_events(events)
    if lags < 1:
        raise InputError(None, f"lags must be >= 1, got {lags}")
    if not (log_dt_range[1] > log_dt_range[0] and log_ratio_range[1] > log_ratio_range[0]):
        raise InputError(None, "ranges must be (lo, hi) with hi > lo")
    if dt_bins < 1 or de_bins < 1:
        raise InputError(None, "numbers of bins must be >= 1")
    if events.n_events and not np.all(events.energy > 0):
        raise InputError(None, "dE-dt maps need positive energies; found energy <= 0 eV")
    loge = np.log10(events.energy.astype(np.float64))
    res = _prepare_out(out, (events.n_files, int(dt_bins), int(de_bins)))

    def fill(s: int, e: int) -> None:
        _dedt_kernel(
            events.offsets,
            events.time,
            loge,
            res,
            s,
            e,
            int(lags),
            float(log_dt_range[0]),
            float(log_dt_range[1]),
            float(log_ratio_range[0]),
            float(log_ratio_range[1]),
            float(dt_floor),
            bool(normalize),
        )

    _run_chunks(events.n_files, fill, progress, "dE-dt maps")
    return res
