"""Exposure in time from Chandra's dither: the fraction of each source's PSF on the active chip.

Chandra dithers in a Lissajous pattern (:data:`serendip.io.artefacts.DITHER_PATTERNS`: ACIS
16" peak-to-peak with 1000 s / 707 s before October 2022, 32" with 2000 s / 1414 s after;
HRC 40" with 1087 s / 768 s). A source within the dither amplitude of a chip edge or a bad
column is dragged on and off the active area, so a constant source shows dips at the dither
periods. This module derives, from the event file alone, each such source's relative exposure
``e(t)``: the fraction of its PSF on the active chip area as the dither moves it, in the form
:mod:`serendip.io.exposure` consumes (``start``, ``stop``, ``fracexp``), which ingest
multiplies into the source's expected-rate template.

The dither phase (and the pattern's orientation on each chip) is not known without an aspect
solution, and none is read: it is **fitted from the events' chip positions vs time**. Within
one CCD every source moves along the same path, so ``chipx`` and ``chipy`` of the sources'
events are fitted (least squares, one intercept per source, shared coefficients per CCD) by
``sin`` and ``cos`` of ``2 pi t / P`` at the epoch's two periods ``P``; the intercepts are the
sources' dither-free chip positions. The PSF is a circular Gaussian whose width is the
robust scatter of the events about that path (at least :data:`MIN_SIGMA_PIX`). The fraction on
the chip is that of the chip rectangle (``chip_range`` of the file, half a pixel beyond the
first and last pixel) less that on the bad columns (:func:`serendip.io.artefacts.bad_columns`,
one pixel wide each). Not modelled: ACIS node boundaries (no lost area; their grade effects
are small), chip gaps between two CCDs (a source with events on two CCDs gets no curve, counted
in a notice) and vignetting (smooth over the dither's 16-40").

Only sources whose PSF fraction drops below ``1 -`` :data:`MIN_LOSS` at some time get a curve
(:func:`dither_curves`); the others keep their template unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr

from serendip.io.artefacts import CCD_FRACTION, MIN_DITHER_EVENTS, DitherPattern, bad_columns

#: curve bins per shortest dither period (707 s / 32 = 22 s before 2022-10)
BINS_PER_PERIOD = 32
#: smallest PSF width [chip pixel] (Gaussian sigma): chip pixels are rounded positions
MIN_SIGMA_PIX = 0.5
#: a source gets a curve when its PSF fraction on the chip falls below 1 - MIN_LOSS
MIN_LOSS = 1e-3
#: floor of the relative exposure (a curve never removes good time: events there stay)
MIN_FRACEXP = 1e-3
#: a fitted path more than this times the pattern's amplitude from its centre is not trusted
MAX_AMPLITUDE_FACTOR = 2.0
#: curve columns (as :data:`serendip.io.exposure.CURVE_COLUMNS`, without ``obsreg_id``)
COLUMNS = ["start", "stop", "fracexp"]


def _design(t: np.ndarray, pattern: DitherPattern, t_ref: float) -> np.ndarray:
    """(n, 4) ``sin``, ``cos`` at each of the pattern's two periods, times relative to ``t_ref``."""
    tau = np.asarray(t, np.float64) - t_ref
    cols = []
    for p in pattern.periods_s:
        w = 2.0 * np.pi / p
        cols += [np.sin(w * tau), np.cos(w * tau)]
    return np.stack(cols, axis=1)


def fit_dither_path(
    t: np.ndarray,
    chipx: np.ndarray,
    chipy: np.ndarray,
    owner: np.ndarray,
    n_src: int,
    pattern: DitherPattern,
    t_ref: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The dither path on one CCD from its sources' events.

    ``t`` (m,) [s], ``chipx``, ``chipy`` (m,) [chip pixel] events of the sources on this CCD;
    ``owner`` (m,) source index (0..n_src-1). Model: ``chip(t) = c_src + D(t) @ coef`` with
    ``D`` from :func:`_design`. Returns ``(coef (4, 2), c0 (n_src, 2) [chip pixel], sigma
    (n_src,) [chip pixel], n (n_src,) events)`` or None when the fit is not determined (fewer
    than :data:`MIN_DITHER_EVENTS` events, a span under one longest period, a singular design,
    or a path wider than :data:`MAX_AMPLITUDE_FACTOR` times the pattern's amplitude).
    """
    if len(t) < MIN_DITHER_EVENTS or np.ptp(t) < max(pattern.periods_s):
        return None
    D = _design(t, pattern, t_ref)
    Y = np.stack([chipx, chipy], axis=1).astype(np.float64)
    n = np.bincount(owner, minlength=n_src).astype(np.float64)
    nn = np.maximum(n, 1.0)[:, None]
    Dm = np.stack([np.bincount(owner, weights=D[:, j], minlength=n_src) for j in range(4)], 1) / nn
    Ym = np.stack([np.bincount(owner, weights=Y[:, j], minlength=n_src) for j in range(2)], 1) / nn
    Dw, Yw = D - Dm[owner], Y - Ym[owner]  # within each source: intercepts drop out
    if np.linalg.matrix_rank(Dw) < 4:
        return None
    coef, *_ = np.linalg.lstsq(Dw, Yw, rcond=None)
    amp = pattern.amplitude_arcsec / pattern.pixel_arcsec
    grid = _design(t_ref + np.linspace(0, 2 * max(pattern.periods_s), 512), pattern, t_ref) @ coef
    if np.max(np.abs(grid)) > MAX_AMPLITUDE_FACTOR * amp * np.sqrt(2):
        return None
    c0 = Ym - Dm @ coef
    res = Y - c0[owner] - D @ coef
    # robust PSF width of each source: median absolute residual over both axes / 0.6745
    r = pd.Series(np.abs(res).ravel()).groupby(np.repeat(owner, 2)).median()
    sigma = np.full(n_src, np.nan)
    sigma[r.index.to_numpy()] = r.to_numpy() / 0.6745
    return coef, c0, np.maximum(sigma, MIN_SIGMA_PIX), n


def psf_fraction(
    x: np.ndarray,
    y: np.ndarray,
    sigma: float | np.ndarray,
    chip_range: tuple[float, float],
    bad: np.ndarray | None = None,
) -> np.ndarray:
    """Fraction of a circular Gaussian PSF (``sigma`` [chip pixel]) centred at chip position
    ``x``, ``y`` (any shape) on the active chip: the square ``chip_range`` (first and last
    pixel, each half a pixel wide) less the one-pixel-wide ``bad`` columns (chip x)."""
    lo, hi = float(chip_range[0]) - 0.5, float(chip_range[1]) + 0.5
    fx = ndtr((hi - x) / sigma) - ndtr((lo - x) / sigma)
    fy = ndtr((hi - y) / sigma) - ndtr((lo - y) / sigma)
    if bad is not None and len(bad):
        b = np.asarray(bad, np.float64).reshape((-1,) + (1,) * np.ndim(x))
        on_bad = (ndtr((b + 0.5 - x) / sigma) - ndtr((b - 0.5 - x) / sigma)).sum(axis=0)
        fx = np.clip(fx - on_bad, 0.0, None)
    return fx * fy


def dither_curves(
    time: np.ndarray,
    ccd: np.ndarray | None,
    aux: dict[str, np.ndarray],
    header: dict,
    members: list[np.ndarray],
    good: tuple[np.ndarray, np.ndarray] | None,
    pattern: DitherPattern | None,
) -> tuple[list[pd.DataFrame | None], dict[str, int]]:
    """Relative exposure curves of a file's sources from the dither path.

    Parameters
    ----------
    time : (n,) [s] the file's events (every energy). ``ccd`` (n,) their CCDs or None;
    aux : raw columns with ``chipx``, ``chipy`` (n,) [chip pixel] (absent: no curves);
    header : ``chip_range`` ((first, last) chip pixel) or None (the events' range);
    members : each source's event indices; ``good`` the file's good-time intervals [s];
    pattern : the observation's dither (:func:`serendip.io.artefacts.dither_pattern`) or None.

    Returns ``(curves, counts)``: per source a DataFrame (``start``, ``stop`` [s], ``fracexp``)
    or None (no loss, or not measurable), and the counts for the notices: ``corrected``,
    ``two_ccds`` (events on two CCDs: chip gap not modelled), ``unfitted`` (too few events or
    no determined path on its CCD), ``measurable`` (sources with chip positions and a pattern).
    """
    n_src = len(members)
    counts = {"corrected": 0, "two_ccds": 0, "unfitted": 0, "measurable": 0}
    out: list[pd.DataFrame | None] = [None] * n_src
    chipx, chipy = aux.get("chipx"), aux.get("chipy")
    if (pattern is None or ccd is None or chipx is None or chipy is None or not n_src
            or good is None or not len(good[0])):
        return out, counts
    sizes = np.array([len(m) for m in members], np.int64)
    owner = np.repeat(np.arange(n_src), sizes)
    idx = np.concatenate(members).astype(np.int64) if sizes.sum() else np.zeros(0, np.int64)
    if not len(idx):
        return out, counts
    counts["measurable"] = int(np.count_nonzero(sizes))
    c_ev = ccd[idx]
    c0 = int(c_ev.min())
    per = np.bincount(owner * (int(c_ev.max()) - c0 + 1) + (c_ev - c0),
                      minlength=n_src * (int(c_ev.max()) - c0 + 1)).reshape(n_src, -1)
    main = per.argmax(axis=1) + c0
    two = (per >= CCD_FRACTION * np.maximum(sizes, 1)[:, None]).sum(axis=1) > 1
    counts["two_ccds"] = int(np.count_nonzero(two & (sizes > 0)))
    lo, hi = header.get("chip_range") or (float(np.min(chipx)), float(np.max(chipx)))
    bad = bad_columns(ccd, chipx, int(lo), int(hi))
    t_ref = float(good[0][0])
    width = min(pattern.periods_s) / BINS_PER_PERIOD
    edges = np.arange(float(good[0][0]), float(good[1][-1]) + width, width)
    mid = 0.5 * (edges[:-1] + edges[1:])
    D = _design(mid, pattern, t_ref)
    for c in np.unique(main[(sizes > 0) & ~two]):  # a few CCDs; each fit vectorised
        srcs = np.flatnonzero((main == c) & (sizes > 0) & ~two)
        local = np.full(n_src, -1)
        local[srcs] = np.arange(len(srcs))
        on = (local[owner] >= 0) & (c_ev == c)
        fit = fit_dither_path(time[idx[on]], chipx[idx[on]], chipy[idx[on]], local[owner[on]],
                              len(srcs), pattern, t_ref)
        if fit is None:
            counts["unfitted"] += len(srcs)
            continue
        coef, cpos, sigma, n_on = fit
        path = D @ coef  # (n_bins, 2)
        frac = psf_fraction(cpos[:, 0][:, None] + path[None, :, 0],
                            cpos[:, 1][:, None] + path[None, :, 1], sigma[:, None],
                            (lo, hi), bad.get(int(c)))  # (n_srcs, n_bins)
        for j in np.flatnonzero((frac.min(axis=1) < 1.0 - MIN_LOSS) & (n_on > 0)):
            out[srcs[j]] = pd.DataFrame({"start": edges[:-1], "stop": edges[1:],
                                         "fracexp": np.maximum(frac[j], MIN_FRACEXP)})
            counts["corrected"] += 1
    return out, counts


def note_curves(counts: dict[str, int], pattern: DitherPattern | None, source: str) -> None:
    """Counted notices for :func:`dither_curves`: the sources given a dither exposure curve
    and those near an edge that could not be (two CCDs, no fitted path)."""
    from serendip.notices import notice

    total = counts.get("measurable", 0)
    if not total or pattern is None:
        return
    if counts["corrected"]:
        notice("ingest", "dither_exposure",
               f"{counts['corrected']:,} of {total:,} sources come within their PSF of a chip edge "
               f"or bad column as the dither ({pattern.name}) moves them: each gets the fraction "
               "of its PSF on the chip vs time (dither phase fitted from the events' chip "
               "positions) as its relative exposure (switch off: dither_exposure=False, CLI "
               "--no-dither-exposure)", source=source, count=counts["corrected"], total=total,
               severity="info")
    for key, why in (("two_ccds", "have events on two CCDs (dithered across a chip gap, whose "
                      "geometry is not modelled): no dither exposure curve"),
                     ("unfitted", "lie on a CCD whose dither path could not be fitted (fewer "
                      f"than {MIN_DITHER_EVENTS} source events or an observation shorter than one "
                      "dither period): no dither exposure curve")):
        if counts[key]:
            notice("ingest", f"dither_exposure_{key}", f"{counts[key]:,} of {total:,} sources {why}",
                   source=source, count=counts[key], total=total, severity="info")
