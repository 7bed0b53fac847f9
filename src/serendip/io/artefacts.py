"""Instrumental artefacts of each source, measured at ingest from the raw event columns.

A real event file holds more than photons from the sky. Chandra's dither drags a source near a
chip edge, a node boundary or a bad column on and off the detector with the dither's periods,
which the light curve shows as dips and a period; a cosmic-ray afterglow or a hot pixel puts
several events in one pixel in consecutive frames, which looks like a fast transient; a bright
source's readout streak (events read out during the frame transfer) lands on every source of
its column; a source bright enough to put more than about one photon per PSF in a frame is
piled up (flattened flares, hardened spectra); and NuSTAR and NICER lose live time at high
rates. This module is the one place for the instrument parameters that say so
(:data:`DITHER_PATTERNS`, :data:`READOUTS`) and measures, per source (all events of its region,
every energy), the diagnostics that the candidate stage turns into flags
(:mod:`serendip.catalog.artefacts`):

* ``ccd``: the CCD holding most of the source's events (-1: no CCD column)
* ``n_ccds``: CCDs holding >= 5% of its events (2: dithered across a chip gap)
* ``chip_x, chip_y``: median chip position [chip pixel] on that CCD
* ``edge_dist_pix``: distance [chip pixel] of that position to the nearest chip edge, ACIS node
  boundary or bad column of that CCD (a column with < 30% of its neighbours' counts,
  :func:`bad_columns`); NaN without chip columns
* ``dither_amp_pix``: the epoch's dither amplitude [pixel] (half the peak-to-peak width)
* ``r90_pix``: the source region's half-size [pixel] (the 90% PSF radius of a source list)
* ``dither_z2``: largest Rayleigh power Z^2_1 at the dither periods and their first harmonics
* ``dither_ref_z2``: median Z^2_1 at :data:`REF_FACTORS` times that period, away from every
  dither period (the source's own red noise: a flare has power at every period)
* ``dither_fap_dex``: -log10 false-alarm probability of ``dither_z2`` (chi^2_2, trials =
  periods)
* ``afterglow_max``: events of the longest chain in one pixel (or one 2x2 block) over frames at
  most :data:`CHAIN_FRAME_GAP` apart
* ``afterglow_fap_dex``: -log10 chance probability of that chain from the source's own rate per
  frame (:func:`afterglow_chains`)
* ``afterglow_t0/t1``: [s] first and last event of the chain
* ``afterglow_purity``: the chain's share of the source's events from :data:`PURITY_FRAMES`
  frames before to as many after it: about 1 for an afterglow or hot pixel on a faint source,
  well below for a real flare, which lasts longer and whose photons spread over the PSF and the
  dither path
* ``streak_frac``: expected readout-streak counts from brighter sources of the same CCD columns,
  as a fraction of the source's counts
* ``frame_s``: frame time [s] (``TIMEDEL``/``FRAMETIM``/``EXPTIME`` or the instrument's)
* ``counts_per_frame_max``: largest counts per frame in bins of :data:`FRAMES_PER_BIN` frames
  (the per-source time series itself, ``pileup.parquet``: :func:`pileup_series`)
* ``counts_per_frame_mean``: counts per frame over the good time
* ``pileup_threshold``: the instrument's counts-per-frame threshold (:data:`READOUTS`)
* ``pileup_time_frac``: share of the source's good frames in bins at or above that threshold
* ``pileup_t0, pileup_t1``: [s] start of the first and end of the last such bin (NaN: none)
* ``oot_fraction``: the camera's and mode's out-of-time event fraction (mission registry,
  :meth:`serendip.io.missions.Mission.oot_fraction`; NaN where the instrument has none)
* ``oot_counts``: expected out-of-time events of the source (``oot_fraction`` x its events):
  counts registered during the readout, so missing from its region and smeared along its
  readout column; stated (flag ``out_of_time``), not corrected
* ``dead_frac_max``: largest dead-time fraction in bins of :data:`DEAD_BIN_S` s (NuSTAR
  ``PRIOR``, NICER ``DEADTIME``); NaN where the data have neither

Every diagnostic that cannot be measured (no chip columns, a mission without dither or frames)
is NaN, and :func:`note_unmeasured` says so with a counted notice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from serendip.notices import notice

#: columns of the per-source artefact table (``artefacts.parquet``), after ``obsreg_id``
ARTEFACT_COLUMNS = [
    "obsreg_id", "ccd", "n_ccds", "chip_x", "chip_y", "edge_dist_pix", "dither_amp_pix",
    "r90_pix", "dither_z2", "dither_ref_z2", "dither_fap_dex", "afterglow_max",
    "afterglow_fap_dex", "afterglow_t0", "afterglow_t1", "afterglow_purity", "streak_frac", "frame_s",
    "counts_per_frame_max", "counts_per_frame_mean", "pileup_threshold", "dead_frac_max",
    "pileup_time_frac", "pileup_t0", "pileup_t1", "oot_fraction", "oot_counts",
]
#: columns of the per-source counts-per-frame time series (``pileup.parquet``,
#: :func:`pileup_series`): bin ``start``/``stop`` [s], good ``frames`` in the bin, source
#: ``counts`` and ``counts_per_frame``, and the instrument's threshold
PILEUP_COLUMNS = ["obsreg_id", "start", "stop", "frames", "counts", "counts_per_frame",
                  "pileup_threshold"]


@dataclass(frozen=True)
class DitherPattern:
    """A telescope's dither: Lissajous amplitude and periods, for one instrument and epoch.

    ``amplitude_arcsec`` is half the peak-to-peak width; ``periods_s`` the two axes' periods;
    the pattern applies to observations with ``mjd_from <= MJD < mjd_to``.
    """

    name: str
    telescope: str
    instrument: str
    amplitude_arcsec: float
    periods_s: tuple[float, float]
    #: the detector's pixel [arcsec] (chip coordinates, in which edges are measured)
    pixel_arcsec: float
    mjd_from: float = -np.inf
    mjd_to: float = np.inf


#: 2022-10-01 (MJD): Chandra doubled ACIS's dither width and periods
CHANDRA_DITHER_CHANGE_MJD = 59853.0
#: dither patterns (Chandra Proposers' Observatory Guide; the 2022 change from the CXC's
#: announcement): ACIS 16" peak-to-peak with 1000 s / 707 s before October 2022, 32" with
#: 2000 s / 1414 s after; HRC 40" with 1087 s / 768 s
DITHER_PATTERNS = (
    DitherPattern("Chandra ACIS (before 2022-10)", "CHANDRA", "ACIS", 8.0, (1000.0, 707.0),
                  0.492, mjd_to=CHANDRA_DITHER_CHANGE_MJD),
    DitherPattern("Chandra ACIS (from 2022-10)", "CHANDRA", "ACIS", 16.0, (2000.0, 1414.0),
                  0.492, mjd_from=CHANDRA_DITHER_CHANGE_MJD),
    DitherPattern("Chandra HRC", "CHANDRA", "HRC.*", 20.0, (1087.0, 768.0), 0.13175),
)


@dataclass(frozen=True)
class Readout:
    """A framed detector: frame time, pile-up threshold and readout streak.

    ``pileup_counts_per_frame``: counts per frame inside the source region above which the
    source is piled up (about 5-10% of its events lost or merged); ``streak_fraction``: share
    of a source's counts read out during the frame transfer along its column (the readout
    streak, XMM's out-of-time events); ``node_columns``: chip columns where readout nodes
    meet (ACIS: four nodes of 256 columns).
    """

    name: str
    telescope: str
    instrument: str
    frame_s: float
    pileup_counts_per_frame: float
    streak_fraction: float = 0.0
    node_columns: tuple[float, ...] = ()


#: framed detectors (Chandra POG; XMM-Newton Users Handbook, pile-up limits of the full-frame
#: modes: MOS 0.70 ct/s, pn 6 ct/s; Swift XRT PC about 0.6 ct/s). A file's ``TIMEDEL``,
#: ``FRAMETIM`` or ``EXPTIME`` keyword wins over the default frame time (subarrays, window modes)
READOUTS = (
    Readout("Chandra ACIS", "CHANDRA", "ACIS", 3.2, 0.1, 0.0128, (256.5, 512.5, 768.5)),
    Readout("XMM-Newton EPIC MOS", "XMM", "EMOS[12]", 2.6, 1.8, 0.0035),
    Readout("XMM-Newton EPIC pn", "XMM", "EPN", 0.0734, 0.44, 0.063),
    Readout("Swift XRT PC", "SWIFT", "XRT", 2.5, 1.5),
)

#: CCDs holding at least this fraction of a source's events count in ``n_ccds``
CCD_FRACTION = 0.05
#: a column with fewer counts than this fraction of its neighbours' median is bad. A bad
#: column of a level-2 file has its events removed (on ObsID 754 every such column holds 0
#: events against 18-190 in its neighbours, in triplets: the bad column and the two beside it,
#: plus the ACIS node boundaries 256/257, 512/513, 768/769); a partial deficit (one column of
#: 754 keeps 30% of its neighbours' counts) is not a removed column and is not taken as one
BAD_COLUMN_FRACTION = 0.1
#: ...when that median is at least this many counts (otherwise too few events to tell)
BAD_COLUMN_MIN_COUNTS = 20.0
#: half-width [columns] of the neighbourhood a column is compared with
BAD_COLUMN_HALF_WIDTH = 5
#: reference periods around each dither period (factors), for the power's local level: a
#: dither peak is about ``P / T`` wide, a flare's or a trend's power changes slowly with period
REF_FACTORS = (0.7, 0.75, 0.8, 0.85, 1.15, 1.2, 1.3, 1.4)
#: sources with fewer events get no dither power (NaN)
MIN_DITHER_EVENTS = 20
#: an afterglow chain: events in one pixel whose frames are at most this many apart
CHAIN_FRAME_GAP = 1
#: the largest share of a source's events one pixel gets (PSF core; conservative for the
#: chance probability of a chain)
PIXEL_SHARE = 0.25
#: the chain's purity counts the source's events this many frames either side of it
PURITY_FRAMES = 10
#: frames per bin of the counts-per-frame light curve
FRAMES_PER_BIN = 100
#: bin [s] of the dead-time fraction
DEAD_BIN_S = 100.0


def dither_pattern(telescope: str, instrument: str, mjd: float | None) -> DitherPattern | None:
    """The dither of an observation (first match of :data:`DITHER_PATTERNS`), or None."""
    for d in DITHER_PATTERNS:
        if (re.fullmatch(d.telescope, telescope.strip(), re.I)
                and re.fullmatch(d.instrument, instrument.strip(), re.I)
                and (mjd is None or not np.isfinite(mjd) or d.mjd_from <= mjd < d.mjd_to)):
            return d
    return None


def readout(telescope: str, instrument: str) -> Readout | None:
    """The framed detector of a file (first match of :data:`READOUTS`), or None."""
    for r in READOUTS:
        if re.fullmatch(r.telescope, telescope.strip(), re.I) and re.fullmatch(
                r.instrument, instrument.strip(), re.I):
            return r
    return None


def empty_artefacts() -> pd.DataFrame:
    """An artefact table with no rows."""
    return pd.DataFrame({c: pd.Series(dtype=object if c == "obsreg_id" else np.float64)
                         for c in ARTEFACT_COLUMNS})


# ------------------------------------------------------------------ pieces, vectorised over sources
def _flat(members: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(owner (m,), event index (m,)) of every (source, event) membership."""
    sizes = np.array([len(m) for m in members], dtype=np.int64)
    owner = np.repeat(np.arange(len(members)), sizes)
    idx = np.concatenate(members).astype(np.int64) if sizes.sum() else np.zeros(0, np.int64)
    return owner, idx


def bad_columns(ccd: np.ndarray, chipx: np.ndarray, lo: int, hi: int) -> dict[int, np.ndarray]:
    """Bad columns of each CCD from the whole file's events: columns (chip x, from ``lo`` to
    ``hi``) holding fewer than :data:`BAD_COLUMN_FRACTION` of the median counts of the
    :data:`BAD_COLUMN_HALF_WIDTH` columns on either side, where that median is at least
    :data:`BAD_COLUMN_MIN_COUNTS` (an evt2 file has its bad columns' events removed, so they
    show as a deficit). Returns {ccd: sorted columns}."""
    from scipy.ndimage import median_filter

    out: dict[int, np.ndarray] = {}
    ncol = hi - lo + 1
    if ncol < 3 or not len(ccd):
        return out
    c0 = int(ccd.min())
    span = int(ccd.max()) - c0 + 1
    col = np.clip(np.round(chipx).astype(np.int64) - lo, 0, ncol - 1)
    counts = np.bincount((ccd - c0) * ncol + col, minlength=span * ncol).reshape(span, ncol)
    fp = np.ones(2 * BAD_COLUMN_HALF_WIDTH + 1, bool)
    fp[BAD_COLUMN_HALF_WIDTH] = False
    med = median_filter(counts.astype(np.float64), footprint=fp[None, :], mode="nearest")
    bad = (med >= BAD_COLUMN_MIN_COUNTS) & (counts < BAD_COLUMN_FRACTION * med)
    for k in np.flatnonzero(bad.any(axis=1)):
        out[int(k + c0)] = np.flatnonzero(bad[k]) + lo
    return out


def rayleigh_power(owner: np.ndarray, t: np.ndarray, n_src: int, periods: np.ndarray) -> np.ndarray:
    """Z^2_1 (n_src, n_periods) of each source's times ``t`` [s] at ``periods`` [s]."""
    n = np.bincount(owner, minlength=n_src).astype(np.float64)
    out = np.zeros((n_src, len(periods)))
    for j, p in enumerate(periods):  # a few dozen periods, each vectorised over every event
        ph = (2.0 * np.pi / p) * t
        c = np.bincount(owner, weights=np.cos(ph), minlength=n_src)
        s = np.bincount(owner, weights=np.sin(ph), minlength=n_src)
        out[:, j] = 2.0 * (c * c + s * s) / np.maximum(n, 1.0)
    return out


def dither_power(owner: np.ndarray, t: np.ndarray, n_src: int, pattern: DitherPattern,
                 span_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dither_z2, dither_ref_z2, dither_fap_dex)`` of each source (see module docstring);
    NaN for sources under :data:`MIN_DITHER_EVENTS` events or an observation shorter than
    three of the longest dither period."""
    nan = np.full(n_src, np.nan)
    if span_s < 3 * max(pattern.periods_s) or not len(t):
        return nan, nan.copy(), nan.copy()
    test = np.array([p / h for p in pattern.periods_s for h in (1, 2)])
    ref = test[:, None] * np.asarray(REF_FACTORS)[None, :]  # (n_test, n_ref)
    clean = np.min(np.abs(np.log(ref[:, :, None] / test[None, None, :])), axis=2) > 0.08
    z = rayleigh_power(owner, t - t.min(), n_src, np.concatenate([test, ref.ravel()]))
    zt = z[:, : len(test)]
    zr = z[:, len(test):].reshape(n_src, len(test), -1)
    level = np.nanmedian(np.where(clean[None], zr, np.nan), axis=2)  # (n_src, n_test)
    j = np.argmax(zt / np.maximum(level, 1e-9), axis=1)
    rows = np.arange(n_src)
    z_test, z_ref = zt[rows, j], level[rows, j]
    fap = np.clip(-(np.log10(len(test)) - z_test / 2.0 / np.log(10.0)), 0.0, None)
    ok = np.bincount(owner, minlength=n_src) >= MIN_DITHER_EVENTS
    return np.where(ok, z_test, np.nan), np.where(ok, z_ref, np.nan), np.where(ok, fap, np.nan)


def afterglow_chains(owner: np.ndarray, ccd: np.ndarray, px: np.ndarray, py: np.ndarray,
                     frame: np.ndarray, t: np.ndarray, n_src: int,
                     n_frames: float, frame_s: float) -> tuple[np.ndarray, ...]:
    """Longest single-pixel (or 2x2-block) chain of each source over frames at most
    :data:`CHAIN_FRAME_GAP` apart.

    Returns ``(afterglow_max, afterglow_fap_dex, afterglow_t0, afterglow_t1, afterglow_purity)``
    (n_src,) each: the chain's events, -log10 of its chance probability
    ``n_frames * n_pixels * lam * (1 - exp(-lam * gap))^(L - 1)`` (``lam``: the source's events
    per frame times :data:`PIXEL_SHARE`, the most one pixel gets; ``n_pixels``: the pixels it
    touches, the trials), its first and last time [s] and its share of the source's
    events from :data:`PURITY_FRAMES` frames before to as many after it.
    """
    best = np.zeros(n_src, np.int64)
    t0 = np.full(n_src, np.nan)
    t1 = np.full(n_src, np.nan)
    if not len(owner):
        return best.astype(float), np.zeros(n_src), t0, t1, np.full(n_src, np.nan)
    n_ev = np.bincount(owner, minlength=n_src).astype(np.float64)
    xi, yi = np.round(px).astype(np.int64), np.round(py).astype(np.int64)
    pix_key = ((owner * 64 + (ccd % 64)) * 65536 + (xi % 65536)) * 65536 + (yi % 65536)
    n_pix = np.bincount(owner[np.unique(pix_key, return_index=True)[1]], minlength=n_src)
    for scale in (1, 2):  # one pixel, then 2x2 blocks (a chain split over two pixels)
        key = ((owner * 64 + (ccd % 64)) * 65536 + (xi // scale % 65536)) * 65536 + (yi // scale % 65536)
        o = np.lexsort((frame, key))
        k, f = key[o], frame[o]
        new = np.ones(len(k), bool)
        new[1:] = (k[1:] != k[:-1]) | (f[1:] - f[:-1] > CHAIN_FRAME_GAP)
        run = np.cumsum(new) - 1
        length = np.bincount(run)
        first = np.flatnonzero(new)
        last = np.append(first[1:], len(k)) - 1
        src = owner[o][first]
        # longest run of each source: sort runs by (source, length) and take each source's last
        order = np.lexsort((length, src))
        top = order[np.append(src[order][1:] != src[order][:-1], True)]
        better = length[top] > best[src[top]]
        s = src[top][better]
        best[s] = length[top][better]
        t0[s] = t[o][first[top][better]]
        t1[s] = t[o][last[top][better]]
    lam = PIXEL_SHARE * n_ev / np.maximum(n_frames, 1.0)
    step = -np.expm1(-lam * CHAIN_FRAME_GAP)
    with np.errstate(divide="ignore"):
        log_p = (np.log10(np.maximum(n_frames, 1.0) * np.maximum(n_pix, 1) * lam)
                 + (best - 1) * np.log10(np.clip(step, 1e-300, 1.0)))
    fap = np.where(best >= 2, np.clip(-log_p, 0.0, None), 0.0)
    # purity: events of the source within the chain's span, one frame either side
    o = np.lexsort((t, owner))
    span = float(t.max() - t.min()) + 4.0 * PURITY_FRAMES * frame_s + 1.0
    key = owner[o] * span + (t[o] - t.min())
    base = np.arange(n_src) * span - t.min()
    pad = PURITY_FRAMES * frame_s
    n_in = (np.searchsorted(key, base + np.nan_to_num(t1) + pad, "right")
            - np.searchsorted(key, base + np.nan_to_num(t0) - pad, "left"))
    purity = np.where(best >= 2, best / np.maximum(n_in, 1), np.nan)
    return best.astype(float), fap, t0, t1, purity


def counts_per_frame_bins(owner: np.ndarray, t: np.ndarray, n_src: int, frame_s: float,
                          good: tuple[np.ndarray, np.ndarray] | None,
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Counts per frame of each source over time: ``(edges (nb+1,) [s], frames (nb,) good
    frames per bin, counts (n_src, nb), total good frames)`` in bins of
    :data:`FRAMES_PER_BIN` frames from the first good time (each bin's good time, from
    ``good``, in frames)."""
    if good is None or not len(good[0]):
        good = (np.array([t.min()]), np.array([t.max() + frame_s]))
    g0, g1 = good
    width = FRAMES_PER_BIN * frame_s
    edges = np.arange(g0[0], g1[-1] + width, width)
    live = np.diff(np.clip(np.minimum(edges[:, None], g1[None, :]) - g0[None, :], 0, None).sum(1))
    nb = len(edges) - 1
    j = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, nb - 1)
    counts = np.bincount(owner * nb + j, minlength=n_src * nb).reshape(n_src, nb)
    return edges, live / frame_s, counts, float(np.sum(g1 - g0)) / frame_s


def _per_frame(frames: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Counts per frame (n_src, nb) in bins mostly in good time (others 0)."""
    ok = frames >= 0.5 * FRAMES_PER_BIN
    return np.where(ok[None, :], counts / np.where(ok, frames, 1.0)[None, :], 0.0)


def counts_per_frame(owner: np.ndarray, t: np.ndarray, n_src: int, frame_s: float,
                     good: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """``(max, mean)`` counts per frame of each source: the max over bins of
    :data:`FRAMES_PER_BIN` frames (:func:`counts_per_frame_bins`), the mean over the whole
    good time."""
    if not len(t) or frame_s <= 0:
        return np.zeros(n_src), np.zeros(n_src)
    _, frames, counts, total = counts_per_frame_bins(owner, t, n_src, frame_s, good)
    return _per_frame(frames, counts).max(axis=1), np.bincount(owner, minlength=n_src) / max(total, 1.0)


def pileup_summary(edges: np.ndarray, frames: np.ndarray, counts: np.ndarray, threshold: float,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """From the counts-per-frame bins (:func:`counts_per_frame_bins`): ``(max, time_frac,
    t0, t1)`` of each source: the largest counts per frame, the share of good frames in bins at
    or above ``threshold``, and the start of the first and end of the last such bin [s]."""
    per = _per_frame(frames, counts)
    above = (per >= threshold) & (frames >= 0.5 * FRAMES_PER_BIN)[None, :]
    frac = (above * frames[None, :]).sum(axis=1) / max(float(frames.sum()), 1.0)
    any_ = above.any(axis=1)
    first = np.argmax(above, axis=1)
    last = above.shape[1] - 1 - np.argmax(above[:, ::-1], axis=1)
    t0 = np.where(any_, edges[:-1][first], np.nan)
    t1 = np.where(any_, edges[1:][last], np.nan)
    return per.max(axis=1), frac, t0, t1


def pileup_series(ids, edges: np.ndarray, frames: np.ndarray, counts: np.ndarray,
                  threshold: float) -> pd.DataFrame:
    """The counts-per-frame time series of every source (:data:`PILEUP_COLUMNS`): one row per
    source and bin of :data:`FRAMES_PER_BIN` frames with good time (bins under half good get
    ``counts_per_frame`` NaN: too little exposure to say)."""
    n_src, nb = counts.shape
    keep = frames > 0
    per = np.where((frames >= 0.5 * FRAMES_PER_BIN)[None, :],
                   counts / np.maximum(frames, 1e-9)[None, :], np.nan)
    cols = np.flatnonzero(keep)
    return pd.DataFrame({
        "obsreg_id": np.repeat(np.asarray(ids, dtype=object).astype(str), len(cols)),
        "start": np.tile(edges[:-1][cols], n_src),
        "stop": np.tile(edges[1:][cols], n_src),
        "frames": np.tile(frames[cols], n_src),
        "counts": counts[:, cols].ravel().astype(np.int64),
        "counts_per_frame": per[:, cols].ravel(),
        "pileup_threshold": np.full(n_src * len(cols), float(threshold)),
    })[PILEUP_COLUMNS]


def empty_pileup() -> pd.DataFrame:
    """A counts-per-frame series table with no rows."""
    return pd.DataFrame({c: pd.Series(dtype=object if c == "obsreg_id" else np.float64)
                         for c in PILEUP_COLUMNS})


def dead_fraction(t: np.ndarray, live_before: np.ndarray | None, dead: np.ndarray | None,
                  good: tuple[np.ndarray, np.ndarray] | None) -> float:
    """Largest dead-time fraction in bins of :data:`DEAD_BIN_S` s of the whole file (dead time
    is the detector's, not a source's): from NuSTAR's ``PRIOR`` (live time before each event)
    or NICER's ``DEADTIME`` (dead time of each event); NaN without either."""
    if (live_before is None and dead is None) or len(t) < 2:
        return float("nan")
    edges = np.arange(t.min(), t.max() + DEAD_BIN_S, DEAD_BIN_S)
    nb = len(edges) - 1
    if nb < 1:
        return float("nan")
    j = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, nb - 1)
    span = np.full(nb, DEAD_BIN_S)
    if good is not None and len(good[0]):
        span = np.diff(np.clip(np.minimum(edges[:, None], good[1][None, :]) - good[0][None, :],
                               0, None).sum(1))
    d = (np.bincount(j, weights=dead, minlength=nb) if dead is not None
         else span - np.bincount(j, weights=live_before, minlength=nb))
    ok = span >= 0.5 * DEAD_BIN_S
    if not ok.any():
        return float("nan")
    return float(np.clip(d[ok] / span[ok], 0.0, 1.0).max())


def streak_fraction(ccd: np.ndarray, chip_x: np.ndarray, half: np.ndarray, n_events: np.ndarray,
                    fraction: float, chip_len: float) -> np.ndarray:
    """Expected readout-streak counts in each source's region from brighter sources of the
    same CCD whose column range overlaps it, as a fraction of the source's counts: a source
    of ``N`` counts spreads ``fraction * N`` counts along its columns (``chip_len`` rows), so a
    region of height ``2 r`` gets ``fraction * N * 2 r / chip_len``."""
    n = len(ccd)
    out = np.zeros(n)
    if not fraction or n < 2:
        return out
    ok = (ccd >= 0) & np.isfinite(chip_x)
    bright = np.flatnonzero(ok & (n_events >= 1.0 / fraction))  # a streak of >= 1 count
    if not len(bright):
        return out
    same = (ccd[:, None] == ccd[None, bright]) & ok[:, None]
    cols = np.abs(chip_x[:, None] - chip_x[None, bright]) < (half[:, None] + half[None, bright])
    other = np.arange(n)[:, None] != bright[None, :]
    expected = fraction * n_events[bright][None, :] * 2.0 * half[:, None] / chip_len
    s = np.where(same & cols & other, expected, 0.0).sum(axis=1)
    return s / np.maximum(n_events, 1.0)


def note_unmeasured(table: pd.DataFrame, source: str) -> None:
    """Counted notices for the diagnostics a file's sources could not get (no chip columns,
    no dither pattern, no frames)."""
    n = len(table)
    if not n:
        return
    for col, why in (("edge_dist_pix", "no chip coordinates (chipx/chipy, CCD) or no dither "
                      "pattern for this instrument: no edge_dither test"),
                     ("dither_fap_dex", "no dither pattern for this instrument and epoch, fewer "
                      f"than {MIN_DITHER_EVENTS} events, or an observation shorter than three "
                      "dither periods: no dither_period test"),
                     ("counts_per_frame_max", "no framed readout known for this instrument: no "
                      "pileup test")):
        k = int(table[col].isna().sum())
        if k:
            notice("ingest", f"artefact_unmeasured_{col}", why, source=source, count=k, total=n,
                   severity="info")


def measure_artefacts(
    time: np.ndarray,
    ccd: np.ndarray | None,
    aux: dict[str, np.ndarray],
    header: dict,
    members: list[np.ndarray],
    half_pix: np.ndarray,
    ids: list[str],
    pixel_arcsec: float | None,
    good: tuple[np.ndarray, np.ndarray] | None,
    known_bad: dict[int, np.ndarray] | None = None,
    series_out: list | None = None,
) -> pd.DataFrame:
    """The artefact table (:data:`ARTEFACT_COLUMNS`) of the sources of one file.

    Parameters
    ----------
    time : (n,) [s] the file's events (after its GTI cut, every energy).
    ccd : (n,) CCD of each event, or None.
    aux : optional raw columns, (n,) each: ``chipx``, ``chipy`` [chip pixel], ``expno``
        (frame number), ``prior`` (NuSTAR live time before the event [s]), ``deadtime``
        (NICER dead time of the event [s]).
    header : the file's header summary: ``telescope``, ``instrument``, ``mjdref``, ``tstart``,
        ``frame_s`` (the file's frame keyword [s] or None), ``chip_range`` ((lo, hi) chip
        pixels or None).
    members : each source's event indices (all energies).
    half_pix : (n_src,) region half-size [pixel] (NaN: unknown).
    ids : (n_src,) obsreg_ids.
    pixel_arcsec : sky pixel size [arcsec] (chip pixels are taken to be the same size).
    good : the file's merged good-time intervals [s], or None.
    known_bad : {ccd: bad chip columns} known beforehand (an instrument map, a simulation),
        added to those found from the events (:func:`bad_columns`).
    series_out : a list; when given, the sources' counts-per-frame time series
        (:func:`pileup_series`) is appended to it (nothing for an instrument without frames).
    """
    n_src = len(members)
    tab = {c: np.full(n_src, np.nan) for c in ARTEFACT_COLUMNS[1:]}
    tab["ccd"][:] = -1
    owner, idx = _flat(members)
    t = time[idx]
    n_ev = np.bincount(owner, minlength=n_src).astype(np.float64)
    tab["r90_pix"] = np.asarray(half_pix, np.float64)
    tel, ins = str(header.get("telescope", "")), str(header.get("instrument", ""))
    mjdref, tstart = header.get("mjdref"), header.get("tstart")
    mjd = (mjdref + tstart / 86400.0) if mjdref is not None and tstart is not None else None
    pattern = dither_pattern(tel, ins, mjd)
    ro = readout(tel, ins)
    mission = header.get("mission_entry")
    oot = mission.oot_fraction(header.get("mode"))[0] if mission is not None else 0.0
    if mission is not None and mission.out_of_time:
        tab["oot_fraction"][:] = oot
        tab["oot_counts"] = oot * n_ev
    chipx, chipy = aux.get("chipx"), aux.get("chipy")
    span_s = float(np.sum(good[1] - good[0])) if good is not None and len(good[0]) else (
        float(time.max() - time.min()) if len(time) else 0.0)
    if pattern is not None:
        tab["dither_z2"], tab["dither_ref_z2"], tab["dither_fap_dex"] = dither_power(
            owner, t, n_src, pattern, span_s)
        tab["dither_amp_pix"][:] = pattern.amplitude_arcsec / pattern.pixel_arcsec
    chip_ok = ccd is not None and chipx is not None and chipy is not None and len(idx)
    if chip_ok:
        c0 = int(ccd.min())
        cspan = int(ccd.max()) - c0 + 1
        per = np.bincount(owner * cspan + (ccd[idx] - c0), minlength=n_src * cspan).reshape(n_src, cspan)
        main = per.argmax(axis=1) + c0
        tab["ccd"] = np.where(n_ev > 0, main, -1).astype(np.float64)
        tab["n_ccds"] = (per >= CCD_FRACTION * np.maximum(n_ev, 1)[:, None]).sum(axis=1) * (n_ev > 0)
        on_main = ccd[idx] == main[owner]
        g = pd.DataFrame({"o": owner[on_main], "x": chipx[idx][on_main], "y": chipy[idx][on_main]})
        med = g.groupby("o").median()
        tab["chip_x"][med.index.to_numpy()] = med["x"].to_numpy()
        tab["chip_y"][med.index.to_numpy()] = med["y"].to_numpy()
        lo, hi = header.get("chip_range") or (float(np.min(chipx)), float(np.max(chipx)))
        cx, cy = tab["chip_x"], tab["chip_y"]
        dist = np.minimum.reduce([cx - (lo - 0.5), hi + 0.5 - cx, cy - (lo - 0.5), hi + 0.5 - cy])
        if ro is not None:
            for b in ro.node_columns:
                dist = np.minimum(dist, np.abs(cx - b))
        bad = bad_columns(ccd, chipx, int(lo), int(hi))
        for c, cols in (known_bad or {}).items():
            bad[int(c)] = np.union1d(bad.get(int(c), np.zeros(0)), np.asarray(cols, np.float64))
        for c, cols in bad.items():
            here = (tab["ccd"] == c) & np.isfinite(cx)
            if here.any():
                j = np.clip(np.searchsorted(cols, cx[here]), 1, len(cols)) - 1
                near = np.minimum(np.abs(cx[here] - cols[j]),
                                  np.abs(cx[here] - cols[np.minimum(j + 1, len(cols) - 1)]))
                dist[here] = np.minimum(dist[here], near)
        tab["edge_dist_pix"] = np.where(pattern is not None, dist, np.nan)
    # frames only for framed detectors (READOUTS): a TIMEDEL of an HRC or NICER file is a clock tick
    frame_s = (header.get("frame_s") or ro.frame_s) if ro is not None else None
    if frame_s and len(idx):
        tab["frame_s"][:] = frame_s
        frame = aux["expno"][idx].astype(np.int64) if "expno" in aux else np.floor(
            (t - time.min()) / frame_s).astype(np.int64)
        n_frames = span_s / frame_s
        if chip_ok:
            (tab["afterglow_max"], tab["afterglow_fap_dex"], tab["afterglow_t0"],
             tab["afterglow_t1"], tab["afterglow_purity"]) = afterglow_chains(
                owner, ccd[idx], chipx[idx], chipy[idx], frame, t, n_src, n_frames, frame_s)
        if ro is not None:
            thr = ro.pileup_counts_per_frame
            edges, frames, cts, total = counts_per_frame_bins(owner, t, n_src, frame_s, good)
            (tab["counts_per_frame_max"], tab["pileup_time_frac"], tab["pileup_t0"],
             tab["pileup_t1"]) = pileup_summary(edges, frames, cts, thr)
            tab["counts_per_frame_mean"] = n_ev / max(total, 1.0)
            tab["pileup_threshold"][:] = thr
            if series_out is not None:
                series_out.append(pileup_series(ids, edges, frames, cts, thr))
            streak = oot if oot > 0 or mission is not None and mission.out_of_time else ro.streak_fraction
            if chip_ok and streak:
                tab["streak_frac"] = streak_fraction(
                    tab["ccd"], tab["chip_x"], np.nan_to_num(tab["r90_pix"], nan=1.0), n_ev,
                    streak, float((header.get("chip_range") or (1, 1024))[1]))
    tab["dead_frac_max"][:] = dead_fraction(time, aux.get("prior"), aux.get("deadtime"), good)
    out = pd.DataFrame({"obsreg_id": np.asarray(ids, dtype=object).astype(str), **tab})
    return out[ARTEFACT_COLUMNS]
