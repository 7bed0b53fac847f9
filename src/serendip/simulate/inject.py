"""Inject simulated transients into existing (e.g. real Chandra) event lists.

:func:`inject_transients` adds a flare, a long stellar flare or a fast X-ray transient on
top of the photons already in some files, or carves an absorption dip out of them by
thinning, and returns the new events with a truth table. Added photons come from the same
physics as :mod:`serendip.simulate.population` (exact Poisson arrivals by thinning,
absorbed spectra through the approximate ACIS-I response, measured energies in the band).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.eventset import EventSet
from serendip.io.tables import require_columns
from serendip.simulate._kernels import group_time_order
from serendip.simulate.response import E_MAX_EV, E_MIN_EV, absorption_cross_section
from serendip.simulate.spectra import sample_energies, spectral_rows, to_cdf
from serendip.simulate.timing import (
    fred_integral,
    fxt_integral,
    periodic_trapezoid,
    thin_fred,
    thin_fxt,
)

INJECT_KINDS = ("flare", "stellar_flare", "fxt", "dip")
_PARAMS = (
    "t_peak",
    "rise",
    "decay",
    "duration",
    "alpha",
    "gamma",
    "gamma_tail",
    "nh",
    "kt",
    "kt_peak",
)


def _loguniform(rng, lo, hi, n):
    return np.exp(np.log(lo) + rng.random(n) * (np.log(hi) - np.log(lo)))


def _resolve_index(events: EventSet, index) -> np.ndarray:
    idx = np.atleast_1d(np.asarray(index))
    if idx.dtype.kind in "OUS":
        pos = pd.Index(events.obsreg_id.astype(str)).get_indexer(idx.astype(str))
        if (pos < 0).any():
            raise InputError("events", f"obsreg_id {idx[pos < 0][0]!r} is not in the event set")
        idx = pos
    idx = idx.astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= events.n_files):
        raise InputError("events", f"file index out of range 0..{events.n_files - 1}")
    if len(np.unique(idx)) != len(idx):
        raise InputError("events", "index repeats a file; inject one transient per file per call")
    return idx


def _frame_phase(
    events: EventSet, idx: np.ndarray, tstart: np.ndarray, frame_time: float
) -> np.ndarray:
    """Per target file, the circular-mean offset [s] of existing event times within a frame."""
    sub = events.select(idx)
    f = sub.file_index
    ang = 2 * np.pi * np.mod(sub.time - tstart[f], frame_time) / frame_time
    c = np.bincount(f, np.cos(ang), minlength=len(idx))
    s = np.bincount(f, np.sin(ang), minlength=len(idx))
    phase = np.mod(np.arctan2(s, c), 2 * np.pi) / (2 * np.pi) * frame_time
    return np.where(sub.counts > 0, phase, frame_time / 2)


def inject_transients(
    events: EventSet,
    files: pd.DataFrame,
    index: Sequence[int] | np.ndarray,
    kind: str,
    counts: float | Sequence[float] | np.ndarray,
    seed: int = 0,
    *,
    e_min: float = E_MIN_EV,
    e_max: float = E_MAX_EV,
    frame_time: float | None = None,
    **params,
) -> tuple[EventSet, pd.DataFrame]:
    """Add one simulated transient to each file at ``index`` (or remove photons for a dip).

    Parameters
    ----------
    events : the existing events (e.g. real source regions of one ObsID).
    files : per-file table with ``obsreg_id``, ``tstart`` and ``tstop`` [s]; the transient is
        placed between each file's tstart and tstop.
    index : positions of the target files in ``events`` (or their obsreg_id strings).
    kind : ``"flare"`` (fast rise, exponential decay, absorbed power law), ``"stellar_flare"``
        (long, thermal, cooling), ``"fxt"`` (hard 10-1000 s spike, softening power-law
        tail) or ``"dip"`` (absorption dip that thins the existing photons, softest first).
    counts : expected number of photons added in the band (flare, stellar_flare, fxt) or
        removed (dip), per target (scalar or array). A dip can remove at most (almost) all
        photons inside its window; the truth says when the target was not reachable.
    seed : random seed; same inputs and seed give identical output.
    e_min, e_max : band of the added photons [eV].
    frame_time : if given [s], added photon times are snapped to CCD frames of this length
        with the frame phase of each file's existing photons (3.24104 for ACIS full frame).
    **params : fix any of t_peak, rise, decay, duration, alpha, gamma, gamma_tail, nh, kt,
        kt_peak (scalar or one value per target) instead of drawing them.

    Returns
    -------
    (EventSet, DataFrame) - all files of ``events`` (targets changed, others as they were)
    and the truth table: obsreg_id, file_index, kind, expected_counts, n_added, n_removed,
    tstart, tstop, t_peak, rise, decay, duration, alpha, gamma, gamma_tail, nh, kt, kt_peak,
    nh_dip, reachable.
    """
    if kind not in INJECT_KINDS:
        raise ValueError(f"kind must be one of {INJECT_KINDS}, got {kind!r}")
    unknown = sorted(set(params) - set(_PARAMS))
    if unknown:
        raise TypeError(f"unknown parameter(s) {unknown}; known: {list(_PARAMS)}")
    require_columns(files, ["obsreg_id", "tstart", "tstop"], "files table")
    idx = _resolve_index(events, index)
    n = len(idx)
    ids = events.obsreg_id[idx].astype(str)
    ftab = files.drop_duplicates("obsreg_id")
    ftab.index = ftab["obsreg_id"].astype(str)
    missing = ~pd.Index(ids).isin(ftab.index)
    if missing.any():
        raise InputError("files table", f"no row for obsreg_id {ids[missing][0]!r}")
    ts = ftab.loc[ids, "tstart"].to_numpy(dtype=np.float64)
    te = ftab.loc[ids, "tstop"].to_numpy(dtype=np.float64)
    if np.any(~(te > ts)):
        raise InputError("files table", f"tstop <= tstart for obsreg_id {ids[~(te > ts)][0]!r}")
    lam = np.broadcast_to(np.asarray(counts, dtype=np.float64), (n,)).copy()
    if np.any(~np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError("counts must be finite and >= 0")
    T = te - ts
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 3]))
    nan = np.full(n, np.nan)
    truth = {p: nan.copy() for p in (*_PARAMS, "nh_dip")}

    def par(name: str, draw):
        value = params.get(name)
        out = (
            draw()
            if value is None
            else np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
        )
        truth[name] = out
        return out

    new_file = np.zeros(0, np.int64)
    new_t = np.zeros(0)
    new_e = np.zeros(0)
    keep_old = np.ones(events.n_events, dtype=bool)
    n_removed = np.zeros(n, np.int64)
    reachable = np.ones(n, dtype=bool)

    if kind in ("flare", "stellar_flare"):
        if kind == "flare":
            decay = par(
                "decay",
                lambda: _loguniform(rng, 100.0, np.maximum(150.0, np.minimum(0.15 * T, 1e4)), n),
            )
            rise = par("rise", lambda: decay * rng.uniform(0.05, 0.3, n))
            gamma = par("gamma", lambda: rng.uniform(1.2, 2.0, n))
            nh = par("nh", lambda: _loguniform(rng, 1e20, 1e22, n))
            n_states = 1
            rows_par = (np.zeros(n, np.int64), gamma, nan, nh)
        else:
            decay = par(
                "decay",
                lambda: _loguniform(rng, 2e3, np.maximum(2.5e3, np.minimum(0.4 * T, 3e4)), n),
            )
            rise = par("rise", lambda: decay * rng.uniform(0.1, 0.5, n))
            kq = par("kt", lambda: _loguniform(rng, 0.3, 1.2, n))
            kp = par("kt_peak", lambda: rng.uniform(1.5, 4.0, n))
            nh = par("nh", lambda: _loguniform(rng, 1e19, 3e20, n))
            n_states = 4
            states = np.array([1.0, 0.55, 0.3, 0.12])
            kts = (kq[:, None] + (kp - kq)[:, None] * states[None, :]).ravel()
            rows_par = (np.full(4 * n, 2), np.full(4 * n, np.nan), kts, np.repeat(nh, 4))
        room = T - 3 * rise - 3 * decay
        tp = par(
            "t_peak",
            lambda: np.where(
                room > 0,
                ts + 3 * rise + rng.random(n) * np.maximum(room, 0),
                ts + rng.random(n) * T,
            ),
        )
        tp = np.clip(tp, ts, te)
        truth["t_peak"] = tp
        peak = lam / np.maximum(fred_integral(ts, te, tp, rise, decay), 1e-300)
        j, t = thin_fred(rng, ts, te, peak, tp, rise, decay)
        if n_states == 1:
            rows = j
        else:
            x = (t - tp[j]) / decay[j]
            rows = 4 * j + (x >= 0.5) + (x >= 1.5) + (x >= 3.0)
        cdf = to_cdf(spectral_rows(*rows_par, e_min, e_max))
        _, e = sample_energies(cdf, rows, rng, e_min, e_max)
        new_file, new_t, new_e = j, t, e
    elif kind == "fxt":
        dur = par(
            "duration",
            lambda: _loguniform(rng, 10.0, np.maximum(12.0, np.minimum(1000.0, 0.2 * T)), n),
        )
        rise = par("rise", lambda: dur * rng.uniform(0.05, 0.3, n))
        alpha = par("alpha", lambda: rng.uniform(1.1, 2.2, n))
        g0 = par("gamma", lambda: rng.uniform(0.6, 1.4, n))
        g1 = par("gamma_tail", lambda: g0 + rng.uniform(0.8, 1.6, n))
        nh = par("nh", lambda: _loguniform(rng, 1e20, 3e21, n))
        if "t_peak" in params:
            onset = np.broadcast_to(np.asarray(params["t_peak"], dtype=np.float64), (n,)) - rise
        else:
            onset = np.minimum(ts + rng.uniform(0.05, 0.7, n) * T, te - 2 * dur)
        onset = np.clip(onset, ts, te - dur)
        truth["t_peak"] = onset + rise
        peak = lam / np.maximum(fxt_integral(te, onset, rise, dur, alpha), 1e-300)
        j, t = thin_fxt(rng, ts, te, peak, onset, rise, dur, alpha)
        x = (t - onset[j]) / dur[j]
        rows = 4 * j + (x >= 1.0) + (x >= 3.0) + (x >= 10.0)
        gam = (
            g0[:, None] + (g1 - g0)[:, None] * np.array([0.0, 1 / 3, 2 / 3, 1.0])[None, :]
        ).ravel()
        cdf = to_cdf(
            spectral_rows(
                np.zeros(4 * n, np.int64),
                gam,
                np.full(4 * n, np.nan),
                np.repeat(nh, 4),
                e_min,
                e_max,
            )
        )
        _, e = sample_energies(cdf, rows, rng, e_min, e_max)
        new_file, new_t, new_e = j, t, e
    else:  # dip: thin the existing photons with an absorption profile
        dur = par("duration", lambda: rng.uniform(0.1, 0.3, n) * T)
        ramp = 0.25 * dur
        tmid = par("t_peak", lambda: ts + dur / 2 + rng.random(n) * np.maximum(T - dur, 0.0))
        sub_pos = np.repeat(events.offsets[idx], events.counts[idx]) + (
            np.arange(events.counts[idx].sum())
            - np.repeat(np.cumsum(events.counts[idx]) - events.counts[idx], events.counts[idx])
        )
        f = np.repeat(np.arange(n), events.counts[idx])
        prof = periodic_trapezoid(
            events.time[sub_pos], tmid[f], 10.0 * T[f] + dur[f], dur[f], ramp[f]
        )
        sig = absorption_cross_section(np.maximum(events.energy[sub_pos], 1.0) / 1000.0)

        def removed(lognh: np.ndarray) -> np.ndarray:
            """Expected photons removed per target for log10 N_H = ``lognh`` (n,)."""
            return np.bincount(f, -np.expm1(-sig * 10.0 ** lognh[f] * prof), minlength=n)

        lo, hi = np.full(n, 18.0), np.full(n, 26.0)
        reachable = removed(hi) >= lam
        for _ in range(60):  # bisection in log10 N_H, vectorised over targets
            mid = 0.5 * (lo + hi)
            big = removed(mid) >= lam
            hi = np.where(big, mid, hi)
            lo = np.where(big, lo, mid)
        nh_dip = 10.0 ** np.where(lam > 0, hi, -np.inf)
        truth["nh_dip"] = nh_dip
        p_keep = np.exp(-sig * nh_dip[f] * prof)
        kept = rng.random(len(sub_pos)) < p_keep
        keep_old[sub_pos[~kept]] = False
        n_removed = np.bincount(f[~kept], minlength=n)

    if frame_time and len(new_t):
        phase = _frame_phase(events, idx, ts, frame_time)
        k = np.round((new_t - ts[new_file] - phase[new_file]) / frame_time)
        new_t = np.clip(ts[new_file] + phase[new_file] + k * frame_time, ts[new_file], te[new_file])

    file_all = np.concatenate([events.file_index[keep_old], idx[new_file]])
    time_all = np.concatenate([events.time[keep_old], new_t])
    energy_all = np.concatenate([events.energy[keep_old], new_e.astype(np.float32)])
    order = group_time_order(file_all, time_all, events.n_files)
    offsets = np.zeros(events.n_files + 1, dtype=np.int64)
    np.cumsum(np.bincount(file_all, minlength=events.n_files), out=offsets[1:])
    out = EventSet(events.obsreg_id.copy(), offsets, time_all[order], energy_all[order])

    table = pd.DataFrame(
        {
            "obsreg_id": ids,
            "file_index": idx,
            "kind": kind,
            "expected_counts": lam,
            "n_added": np.bincount(new_file, minlength=n),
            "n_removed": n_removed,
            "tstart": ts,
            "tstop": te,
        }
    )
    for p in _PARAMS + ("nh_dip",):
        table[p] = truth[p]
    table["reachable"] = reachable
    return out, table
