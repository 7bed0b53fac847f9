"""The simulator learns the real sky: background flares, dither over chip edges and bad
columns, afterglow chains and pile-up, added to a simulated population (all off by default).

:func:`add_real_sky` takes a :class:`~serendip.simulate.population.Population` and returns a new
one whose events carry what the real instrument adds (:class:`RealSkyOptions`, each switchable):

* **background flares** in a stated fraction of observations (``flare_fraction``): one flare
  per flared observation, 1-5 ks long (log-uniform, at most the exposure), whose rate is
  ``flare_amplitude`` x (log-uniform) the quiescent background, added to every source of
  the observation (component 2) and to each source's background annulus
  (:attr:`Population.background`, area :data:`ANNULUS_AREA_RATIO` x the source's);
* **dither over a chip edge or a bad column** (``edge_fraction`` of sources): the source sits
  ``U(0, amplitude)`` from a chip edge (70%) or a bad column (30%); the detector follows the
  epoch's Lissajous dither (:data:`serendip.io.artefacts.DITHER_PATTERNS`: ACIS before
  October 2022 16" with 1000 s / 707 s, after 32" with 2000 s / 1414 s), and each event is
  lost with the probability that its PSF position (Gaussian, :data:`PSF_SIGMA_PIX`) falls off
  the chip or on the bad column;
* **afterglow chains** (``afterglow_fraction`` of sources): 4-10 events in one chip pixel in
  consecutive frames at a random time (component 3);
* **pile-up** (``pileup``): two events of one source in one frame merge with probability
  :data:`PILEUP_MERGE` into one of their summed energy, lost when above the band: bright
  sources and flare peaks lose counts and harden.

Every event gets chip coordinates (``chipx``, ``chipy``, CCD, frame number), and the
artefact diagnostics are measured from them as for a real file
(:func:`serendip.io.artefacts.measure_artefacts`, :attr:`Population.artefacts`), so the
candidate stage's flags work on simulated runs too. The truth is added to ``sources``:
``bkg_flare`` (the observation flared), ``bkg_flare_t0``, ``bkg_flare_t1`` [s],
``bkg_flare_amp``, ``edge_kind`` (``""``, ``"edge"``, ``"bad_column"``), ``edge_dist_pix``,
``afterglow_n``, ``afterglow_t0`` [s], ``n_piled`` (events merged away).

* **scan-mode exposure** (``scan_fraction`` of sources, off by default): the source is seen as
  in eROSITA's survey, in passes of ``scan_pass_s`` (40 s) every ``scan_period_s`` (4 h), each
  vignetted (a parabolic profile in 2 s bins, at most 20 per pass, whose peak, the pass's cross-scan offset, is
  ``U(0.4, 1)``); its events and its annulus's are thinned by that relative exposure. The curve
  becomes the source's expected-rate template as an ingested survey file's would
  (:func:`serendip.io.exposure.with_curve`): :attr:`Population.gtis` (written as
  ``gtis.parquet``) and :attr:`Population.exposure_curves`; ``files.exposure`` is multiplied by the
  mean relative exposure. Truth: ``scan`` (bool), ``scan_passes``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from scipy.special import ndtr

from serendip.io.artefacts import dither_pattern, measure_artefacts
from serendip.io.eventset import EventSet

#: the source's background annulus, as a multiple of its region's area (1.5-4x the radius)
ANNULUS_AREA_RATIO = 13.75
#: PSF width [chip pixel] (Gaussian sigma) for the fraction of an event off the chip
PSF_SIGMA_PIX = 1.0
#: probability that two events of one source in one frame merge (pile-up)
PILEUP_MERGE = 0.5
#: region half-size [pixel] of a simulated source (the r90 of the artefact diagnostics)
R90_PIX = 2.5
#: Chandra's MJD reference of the simulated mission times
MJDREF = 50814.0


@dataclass(frozen=True)
class RealSkyOptions:
    """Which real-sky effects :func:`add_real_sky` adds, and how often."""

    flare_fraction: float = 0.2
    flare_amplitude: tuple[float, float] = (5.0, 50.0)
    flare_duration_s: tuple[float, float] = (1000.0, 5000.0)
    edge_fraction: float = 0.03
    afterglow_fraction: float = 0.01
    afterglow_length: tuple[int, int] = (4, 10)
    pileup: bool = True
    scan_fraction: float = 0.0
    scan_period_s: float = 14400.0
    scan_pass_s: float = 40.0

    @classmethod
    def from_kwargs(cls, options) -> RealSkyOptions:
        """Options from keywords; unknown keys raise TypeError, fractions outside [0, 1] ValueError."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise TypeError(f"unknown real-sky option(s) {unknown}; known: {sorted(names)}")
        opts = cls(**options)
        if opts.scan_period_s <= 0 or not 0 < opts.scan_pass_s <= opts.scan_period_s:
            raise ValueError("need scan_period_s > 0 and 0 < scan_pass_s <= scan_period_s, got "
                             f"{opts.scan_period_s}, {opts.scan_pass_s}")
        for f in ("flare_fraction", "edge_fraction", "afterglow_fraction", "scan_fraction"):
            if not 0.0 <= getattr(opts, f) <= 1.0:
                raise ValueError(f"{f} must be in [0, 1], got {getattr(opts, f)}")
        return opts


def _loguniform(rng, lo, hi, n):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


def _dither_offsets(t, pattern_amp, p1, p2, ph1, ph2):
    """Lissajous dither offset [pixel] (x, y) at times ``t``."""
    return (pattern_amp * np.sin(2 * np.pi * t / p1 + ph1),
            pattern_amp * np.sin(2 * np.pi * t / p2 + ph2))


#: bin [s] of a simulated scan pass's exposure curve (eROSITA's 40 s pass: 20 bins)...
SCAN_BIN_S = 2.0
#: ...and the most bins per pass (a longer pass gets wider bins)
SCAN_MAX_BINS = 20


def scan_curves(rng, tstart: np.ndarray, tstop: np.ndarray, period: float, pass_s: float,
                ) -> list[pd.DataFrame]:
    """One eROSITA-like exposure curve per source (``start``, ``stop`` [s], ``fracexp``): passes
    of ``pass_s`` every ``period`` (first at a random phase), parabolic vignetting in
    :data:`SCAN_BIN_S` bins, each pass's peak ``U(0.4, 1)``."""
    out = []
    half = 0.5 * pass_s
    nb = min(max(int(round(pass_s / SCAN_BIN_S)), 1), SCAN_MAX_BINS)
    rel = np.linspace(-half, half, nb + 1)
    mid = 0.5 * (rel[:-1] + rel[1:])
    prof = np.clip(1.0 - (mid / half) ** 2, 0.0, None)
    for a, b in zip(tstart, tstop, strict=True):
        centres = a + rng.uniform(0, period) + period * np.arange(int((b - a) // period) + 1)
        centres = centres[(centres - half >= a) & (centres + half <= b)]
        peak = rng.uniform(0.4, 1.0, len(centres))
        lo = (centres[:, None] + rel[None, :-1]).ravel()
        out.append(pd.DataFrame({"start": lo, "stop": lo + (rel[1] - rel[0]),
                                 "fracexp": (peak[:, None] * prof[None, :]).ravel()}))
    return out


def _curve_value(curve: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    """Relative exposure of ``curve`` at times ``t`` (0 outside its bins)."""
    if not len(curve):
        return np.zeros(len(t))
    s, e, f = (curve[c].to_numpy(np.float64) for c in ("start", "stop", "fracexp"))
    k = np.clip(np.searchsorted(s, t, side="right") - 1, 0, len(s) - 1)
    return np.where((t >= s[k]) & (t < e[k]), f[k], 0.0)


def add_real_sky(pop, seed: int = 0, **options):
    """A copy of ``pop`` with the real sky's effects (module docstring); ``options`` are the
    fields of :class:`RealSkyOptions`. Deterministic by ``seed``. The returned population has
    ``artefacts`` and ``background`` tables for the candidate stage."""
    from serendip.simulate.population import Population

    opts = RealSkyOptions.from_kwargs(options)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 19]))
    src = pop.sources.reset_index(drop=True).copy()
    ev = pop.events
    n = ev.n_files
    frame = float(pop.options.get("frame_time", 3.24104)) or 3.24104
    e_max = float(pop.options.get("e_max", 7000.0))
    tstart, tstop = src["tstart"].to_numpy(float), src["tstop"].to_numpy(float)
    expo = tstop - tstart
    bkg = src["bkg_rate"].to_numpy(float)
    owner = ev.file_index.astype(np.int64)
    t, e = ev.time.copy(), ev.energy.astype(np.float64)
    comp = pop.component.astype(np.int8).copy()

    # --- per-source geometry and dither
    mjd = MJDREF + tstart / 86400.0
    amp = np.empty(n)
    p1, p2 = np.empty(n), np.empty(n)
    for k, m in enumerate(mjd):  # two epochs: cheap per source
        pat = dither_pattern("CHANDRA", "ACIS", float(m))
        amp[k] = pat.amplitude_arcsec / pat.pixel_arcsec
        p1[k], p2[k] = pat.periods_s
    ph1, ph2 = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 2 * np.pi, n)
    ccd = src["ccd_id"].to_numpy(np.int64) if "ccd_id" in src else np.zeros(n, np.int64)
    cx0, cy0 = rng.uniform(60, 964, n), rng.uniform(60, 964, n)
    kind = np.full(n, "", dtype=object)
    dist = np.full(n, np.nan)
    on_edge = rng.random(n) < opts.edge_fraction
    d0 = rng.uniform(0, 1, n) * amp
    is_col = on_edge & (rng.random(n) < 0.3)
    kind[on_edge & ~is_col], kind[is_col] = "edge", "bad_column"
    cx0 = np.where(on_edge & ~is_col, 1024.5 - d0, cx0)
    bad_col = np.round(cx0 + d0)  # the bad column lies d0 beyond the source's position
    dist[on_edge] = d0[on_edge]

    # --- background flares: one per flared observation
    obs = src["obsid"].astype(str).to_numpy()
    uobs, oi = np.unique(obs, return_inverse=True)
    flared_obs = rng.random(len(uobs)) < opts.flare_fraction
    o_dur = _loguniform(rng, *opts.flare_duration_s, len(uobs))
    o_amp = _loguniform(rng, *opts.flare_amplitude, len(uobs))
    o_u = rng.random(len(uobs))
    first = np.zeros(len(uobs), np.int64)
    first[oi[::-1]] = np.arange(n)[::-1]
    dur = np.minimum(o_dur[oi], expo)
    f0 = tstart[first][oi] + o_u[oi] * np.maximum(expo - dur, 0.0)
    f1 = f0 + dur
    fl = flared_obs[oi]
    n_fl = np.where(fl, rng.poisson(bkg * o_amp[oi] * dur), 0)
    tf = np.repeat(f0, n_fl) + rng.random(int(n_fl.sum())) * np.repeat(dur, n_fl)
    ef = rng.uniform(float(pop.options.get("e_min", 500.0)), e_max, int(n_fl.sum()))
    # annulus: quiescent + flare, area ANNULUS_AREA_RATIO x the source's
    n_bq = rng.poisson(bkg * ANNULUS_AREA_RATIO * expo)
    n_bf = np.where(fl, rng.poisson(bkg * ANNULUS_AREA_RATIO * o_amp[oi] * dur), 0)
    b_own = np.concatenate([np.repeat(np.arange(n), n_bq), np.repeat(np.arange(n), n_bf)])
    b_t = np.concatenate([np.repeat(tstart, n_bq) + rng.random(int(n_bq.sum())) * np.repeat(expo, n_bq),
                          np.repeat(f0, n_bf) + rng.random(int(n_bf.sum())) * np.repeat(dur, n_bf)])

    # --- afterglow chains
    glow = rng.random(n) < opts.afterglow_fraction
    g_len = np.where(glow, rng.integers(opts.afterglow_length[0], opts.afterglow_length[1] + 1, n), 0)
    g_k0 = np.floor(rng.random(n) * np.maximum(expo / frame - g_len, 1)).astype(np.int64)
    g_own = np.repeat(np.arange(n), g_len)
    g_step = np.arange(int(g_len.sum())) - np.repeat(np.cumsum(g_len) - g_len, g_len)
    g_t = tstart[g_own] + (g_k0[g_own] + g_step + 0.5) * frame
    g_e = rng.uniform(float(pop.options.get("e_min", 500.0)), e_max, len(g_own))

    # --- all events together, then the dither's losses
    owner = np.concatenate([owner, np.repeat(np.arange(n), n_fl), g_own])
    t = np.concatenate([t, tf, g_t])
    e = np.concatenate([e, ef, g_e])
    comp = np.concatenate([comp, np.full(len(tf), 2, np.int8), np.full(len(g_t), 3, np.int8)])
    # --- scan-mode exposure: events (and the annulus's) thinned by the pass's relative exposure
    scan = rng.random(n) < opts.scan_fraction
    curves: dict[int, pd.DataFrame] = {}
    if scan.any():
        sidx = np.flatnonzero(scan)
        for k, c in zip(sidx, scan_curves(rng, tstart[sidx], tstop[sidx], opts.scan_period_s,
                                          opts.scan_pass_s), strict=True):
            curves[int(k)] = c
        frac = np.ones(len(t))
        bfrac = np.ones(len(b_t))
        for k, c in curves.items():
            m = owner == k
            frac[m] = _curve_value(c, t[m])
            mb = b_own == k
            bfrac[mb] = _curve_value(c, b_t[mb])
        keep0 = rng.random(len(t)) < frac
        owner, t, e, comp = owner[keep0], t[keep0], e[keep0], comp[keep0]
        bkeep = rng.random(len(b_t)) < bfrac
        b_own, b_t = b_own[bkeep], b_t[bkeep]
    dx, dy = _dither_offsets(t, amp[owner], p1[owner], p2[owner], ph1[owner], ph2[owner])
    is_glow = comp == 3
    # an afterglow sits in one pixel: no dither or PSF scatter
    chipx = np.where(is_glow, np.round(cx0[owner]), cx0[owner] + dx + rng.normal(0, PSF_SIGMA_PIX, len(t)))
    chipy = np.where(is_glow, np.round(cy0[owner]), cy0[owner] + dy + rng.normal(0, PSF_SIGMA_PIX, len(t)))
    keep = np.ones(len(t), bool)
    k_edge = (kind[owner] == "edge") & ~is_glow
    keep[k_edge] = rng.random(int(k_edge.sum())) >= ndtr((cx0[owner] + dx - 1024.5)[k_edge] / PSF_SIGMA_PIX)
    k_col = (kind[owner] == "bad_column") & ~is_glow
    lost = np.round(chipx) == bad_col[owner]
    keep[k_col & lost] = False
    # --- pile-up: events of one source in one frame merge
    fr = np.floor((t - tstart[owner]) / frame).astype(np.int64)
    n_piled = np.zeros(n, np.int64)
    if opts.pileup:
        o = np.lexsort((t, fr, owner))
        o = o[keep[o]]
        same = np.zeros(len(o), bool)
        same[1:] = (owner[o][1:] == owner[o][:-1]) & (fr[o][1:] == fr[o][:-1])
        merge = same & (rng.random(len(o)) < PILEUP_MERGE)
        head = np.maximum.accumulate(np.where(~same, np.arange(len(o)), 0))
        np.add.at(e, o[head[merge]], e[o[merge]])
        keep[o[merge]] = False
        n_piled = np.bincount(owner[o[merge]], minlength=n)
        keep &= e <= e_max  # a merged event above the band is lost (grade migration too)
    owner, t, e, comp = owner[keep], t[keep], e[keep], comp[keep]
    chipx, chipy, fr = np.round(chipx[keep]), np.round(chipy[keep]), fr[keep]
    chipx, chipy = np.clip(chipx, 1, 1024), np.clip(chipy, 1, 1024)
    order = np.lexsort((t, owner))
    owner, t, e, comp, chipx, chipy, fr = (a[order] for a in (owner, t, e, comp, chipx, chipy, fr))
    counts = np.bincount(owner, minlength=n)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    events = EventSet(ev.obsreg_id, offsets, t, e.astype(np.float32))

    # --- the artefact diagnostics, measured per observation as for a real file
    ids = np.asarray(ev.obsreg_id).astype(str)
    rows = []
    for k in range(len(uobs)):  # one call per observation (about 20 sources each)
        members_src = np.flatnonzero(oi == k)
        idx = np.concatenate([np.arange(offsets[s], offsets[s + 1]) for s in members_src])
        sizes = counts[members_src]
        members = np.split(np.arange(len(idx)), np.cumsum(sizes)[:-1])
        s0 = members_src[0]
        header = {"telescope": "CHANDRA", "instrument": "ACIS", "mjdref": MJDREF,
                  "tstart": float(tstart[s0]), "frame_s": frame, "chip_range": (1.0, 1024.0)}
        known = {int(ccd[s]): np.array([bad_col[s]]) for s in members_src if kind[s] == "bad_column"}
        tab = measure_artefacts(
            t[idx], ccd[owner[idx]], {"chipx": chipx[idx], "chipy": chipy[idx],
                                      "expno": fr[idx].astype(np.float64)},
            header, members, np.full(len(members_src), R90_PIX), list(ids[members_src]), 0.492,
            (np.array([tstart[s0]]), np.array([tstop[s0]])), known_bad=known)
        rows.append(tab)
    artefacts = pd.concat(rows, ignore_index=True)
    background = pd.DataFrame({"obsreg_id": ids[b_own], "time": b_t,
                               "area_ratio": 1.0 / ANNULUS_AREA_RATIO})

    src["n_events"] = counts
    src["bkg_flare"] = fl
    src["bkg_flare_t0"] = np.where(fl, f0, np.nan)
    src["bkg_flare_t1"] = np.where(fl, f1, np.nan)
    src["bkg_flare_amp"] = np.where(fl, o_amp[oi], np.nan)
    src["edge_kind"] = kind.astype(str)
    src["edge_dist_pix"] = dist
    src["afterglow_n"] = g_len
    src["afterglow_t0"] = np.where(glow, tstart + (g_k0 + 0.5) * frame, np.nan)
    src["n_piled"] = n_piled
    files = pop.files.copy()
    files["n_events"] = counts
    gtis = exposure_curves = None
    src["scan"] = scan
    per_pass = min(max(int(round(opts.scan_pass_s / SCAN_BIN_S)), 1), SCAN_MAX_BINS)
    src["scan_passes"] = [int(round(len(curves[k]) / per_pass))
                          if k in curves else 0 for k in range(n)]
    if curves:
        from serendip.io.exposure import with_curve

        rows, crow = [], []
        expo_col = files["exposure"].to_numpy(np.float64).copy() if "exposure" in files else None
        for k, c in curves.items():
            if not len(c):  # no whole pass inside the observation: no exposure, no events
                if expo_col is not None:
                    expo_col[k] = 0.0
                continue
            _, s2, e2, w2, mean_e = with_curve(t[offsets[k]:offsets[k + 1]], np.array([tstart[k]]),
                                               np.array([tstop[k]]), None, c)
            rows.append(pd.DataFrame({"obsreg_id": ids[k], "start": s2, "stop": e2, "weight": w2}))
            crow.append(c.assign(obsreg_id=ids[k]))
            if expo_col is not None:
                expo_col[k] *= mean_e
        if rows:
            gtis = pd.concat(rows, ignore_index=True)[["obsreg_id", "start", "stop", "weight"]]
        exposure_curves = pd.concat(crow, ignore_index=True)[["obsreg_id", "start", "stop", "fracexp"]]
        if expo_col is not None:
            files["exposure"] = expo_col
    return Population(events, files, src, comp, seed=pop.seed,
                      options={**pop.options,
                               "real_sky": {f.name: getattr(opts, f.name) for f in fields(opts)}},
                      artefacts=artefacts, background=background, gtis=gtis,
                      exposure_curves=exposure_curves)

