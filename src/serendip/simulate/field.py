"""Overlapping observations of one field: the same sky sources seen in several ObsIDs.

:func:`simulate_field` places ``n_sources`` sources in one field (within ``field_radius``
arcmin of its centre) and observes the field ``n_observations`` times, each ObsID with its
own exposure, start time and pointing (offset by up to ``pointing_jitter`` arcmin). Every
source is one event file per observation (``obsreg_id = "<obsid>_<region>"``), so the
detections of one source share a sky position. What changes from one observation to the
next is what the instrument does to a position:

* off-axis angle ``theta`` [arcmin] from that observation's pointing;
* a PSF whose 1-sigma width grows with it, ``sigma_psf = 0.3 + 0.5 * (theta / 5)**2``
  arcsec (a rough ACIS-I shape), giving a 1-sigma position error
  ``pos_err_arcsec = sqrt(sigma_psf**2 / max(counts, 1) + 0.2**2)`` (statistical plus an
  astrometric 0.2 arcsec);
* the measured position: the true one plus a Gaussian draw of that error.

Each source has one quiescent rate (log-normal counts around ``counts_median`` per
``exposure_median``; absorbed power law) in every observation, plus a flat background.
``n_transients`` (source, observation) pairs, or the pairs given in ``transients``, get a
flare, stellar flare or fast X-ray transient of ``transient_counts`` expected counts
(:func:`serendip.simulate.inject.inject_transients`, same physics as the population). The
truth table (``sources``) has each detection's ``source_index`` (sky source), ``label``
(``steady`` or the transient kind), true position (``ra_true``, ``dec_true``) and the
injected parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from serendip.io.eventset import EventSet
from serendip.simulate._kernels import group_time_order
from serendip.simulate.population import Population
from serendip.simulate.spectra import sample_energies, spectral_rows, to_cdf
from serendip.simulate.timing import constant_arrivals, quantise_to_frames

#: Chandra MJDREF (mission seconds count from it)
CHANDRA_MJDREF = 50814.0
_FIELD_KINDS = ("flare", "stellar_flare", "fxt")


def _tangent(ra0: float, dec0: float, dx: np.ndarray, dy: np.ndarray):
    """(ra, dec) [deg] at tangent-plane offsets dx (east), dy (north) [deg] from (ra0, dec0)."""
    cosd = max(np.cos(np.radians(dec0)), 1e-3)
    return np.mod(ra0 + dx / cosd, 360.0), np.clip(dec0 + dy, -90.0, 90.0)


def simulate_field(
    n_sources: int = 40,
    n_observations: int = 4,
    seed: int = 0,
    *,
    centre: tuple[float, float] | None = None,
    field_radius: float = 8.0,
    pointing_jitter: float = 2.0,
    counts_median: float = 60.0,
    counts_sigma_dex: float = 0.4,
    exposure_median: float = 25.0e3,
    exposure_sigma_dex: float = 0.3,
    n_transients: int = 2,
    transients: Sequence[tuple[int, int, str]] | None = None,
    transient_counts: float = 150.0,
    frame_time: float = 3.24104,
    e_min: float = 500.0,
    e_max: float = 7000.0,
) -> Population:
    """Simulate ``n_observations`` overlapping observations of ``n_sources`` sky sources.

    Parameters
    ----------
    n_sources, n_observations : sky sources and observations (files = their product).
    seed : all randomness derives from it.
    centre : field centre (ra, dec) [deg]; default drawn from ``seed``.
    field_radius : sources lie within this radius of the centre [arcmin].
    pointing_jitter : each observation's pointing is offset by up to this [arcmin].
    counts_median, counts_sigma_dex : log-normal expected source counts at ``exposure_median``.
    exposure_median, exposure_sigma_dex : log-normal exposures [s] of the observations.
    n_transients : random (source, observation) pairs that get a transient (kinds cycle
        through flare, stellar_flare, fxt); ignored when ``transients`` is given.
    transients : explicit ``(source_index, observation_index, kind)`` triples.
    transient_counts : expected counts of each transient in the band.

    Returns
    -------
    :class:`~serendip.simulate.population.Population` whose ``files`` carry ``ra``, ``dec``
    (measured), ``pos_err_arcsec``, ``theta`` [arcmin] and ``mjdref``, and whose ``sources``
    carry ``source_index``, ``label``, ``ra_true``, ``dec_true``, ``theta``,
    ``expected_counts``, ``quiescent_rate`` [ct/s], ``bkg_rate`` and the transient's
    parameters (``t_peak``, ``rise``, ``decay``, ``duration``, ``transient_counts``).
    """
    from serendip.simulate.inject import inject_transients

    ns, no = int(n_sources), int(n_observations)
    if ns < 1 or no < 1:
        raise ValueError("n_sources and n_observations must be >= 1")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 11]))
    if centre is None:
        ra0 = float(rng.uniform(0.0, 360.0))
        dec0 = float(np.degrees(np.arcsin(rng.uniform(-0.9, 0.9))))
    else:
        ra0, dec0 = float(centre[0]), float(centre[1])
    r = field_radius / 60.0 * np.sqrt(rng.random(ns))
    phi = rng.uniform(0, 2 * np.pi, ns)
    sx, sy = r * np.cos(phi), r * np.sin(phi)  # true offsets [deg] (east, north)
    ra_t, dec_t = _tangent(ra0, dec0, sx, sy)
    counts = 10.0 ** (np.log10(counts_median) + counts_sigma_dex * rng.standard_normal(ns))
    rate = counts / exposure_median
    gamma = np.clip(rng.normal(1.8, 0.3, ns), 0.8, 3.2)
    nh = 10.0 ** np.clip(rng.normal(21.0, 0.5, ns), 19.5, 23.0)

    expo = np.clip(10.0 ** (np.log10(exposure_median) + exposure_sigma_dex
                            * rng.standard_normal(no)), 1e3, 1.5e5)
    tstart = np.round(np.sort(6.3e7 + rng.random(no) * 7.5e8), 3)
    obsid = 1 + rng.choice(30000, no, replace=False)
    jr = pointing_jitter / 60.0 * np.sqrt(rng.random(no))
    jp = rng.uniform(0, 2 * np.pi, no)
    px, py = jr * np.cos(jp), jr * np.sin(jp)

    # detections: observation-major (ObsID k, region = source + 1)
    o = np.repeat(np.arange(no), ns)
    s = np.tile(np.arange(ns), no)
    n = ns * no
    theta = np.hypot(sx[s] - px[o], sy[s] - py[o]) * 60.0  # arcmin
    T = expo[o]
    ts, te = tstart[o], tstart[o] + T
    lam = rate[s] * T
    sig_psf = 0.3 + 0.5 * (theta / 5.0) ** 2
    pos_err = np.sqrt(sig_psf**2 / np.maximum(lam, 1.0) + 0.2**2)
    ddx, ddy = (rng.standard_normal((2, n)) * pos_err / 3600.0)
    ra_m, dec_m = _tangent(ra0, dec0, sx[s] + ddx, sy[s] + ddy)
    bkg = np.exp(np.log(3e-6) + rng.random(n) * (np.log(6e-5) - np.log(3e-6)))

    i_src, t_src = constant_arrivals(rng, rate[s], ts, te)
    cdf = to_cdf(spectral_rows(np.zeros(ns, np.int64), gamma, np.full(ns, np.nan), nh, e_min, e_max))
    _, e_src = sample_energies(cdf, s[i_src], rng, e_min, e_max)
    i_bkg, t_bkg = constant_arrivals(rng, bkg, ts, te)
    e_bkg = e_min + rng.random(len(i_bkg)) * (e_max - e_min)
    idx = np.concatenate([i_src, i_bkg])
    time = np.concatenate([t_src, t_bkg])
    energy = np.concatenate([e_src, e_bkg]).astype(np.float32)
    comp = np.concatenate([np.zeros(len(i_src), np.int8), np.ones(len(i_bkg), np.int8)])
    if frame_time > 0:
        time = quantise_to_frames(time, ts[idx], te[idx], frame_time)

    ids = np.array([f"{obsid[a]}_{b + 1}" for a, b in zip(o, s, strict=True)], dtype=object)
    files = pd.DataFrame({
        "obsreg_id": ids.astype(str), "telescope": "CHANDRA", "instrument": "ACIS",
        "obsid": obsid[o].astype(np.int64), "exposure": T, "tstart": ts, "tstop": te,
        "n_events": 0, "energy_source": "simulated", "path": "", "ra": ra_m, "dec": dec_m,
        "pos_err_arcsec": pos_err, "theta": theta, "mjdref": CHANDRA_MJDREF,
    })
    truth = pd.DataFrame({
        "obsreg_id": ids.astype(str), "obsid": obsid[o].astype(np.int64),
        "region": (s + 1).astype(np.int64), "source_index": s.astype(np.int64),
        "observation_index": o.astype(np.int64), "label": "steady",
        "ra_true": ra_t[s], "dec_true": dec_t[s], "ra": ra_m, "dec": dec_m,
        "pos_err_arcsec": pos_err, "theta": theta, "exposure": T, "tstart": ts, "tstop": te,
        "expected_counts": lam, "quiescent_rate": rate[s], "bkg_rate": bkg,
        "expected_background": bkg * T, "gamma": gamma[s], "nh": nh[s],
    })
    for c in ("transient_counts", "t_peak", "rise", "decay", "duration"):
        truth[c] = np.nan

    if transients is None:
        k = min(int(n_transients), n)
        pick = rng.choice(n, k, replace=False) if k else np.zeros(0, np.int64)
        transients = [(int(s[p]), int(o[p]), _FIELD_KINDS[j % 3]) for j, p in enumerate(pick)]
    parts_i, parts_t, parts_e = [], [], []
    for j, (src_i, obs_i, kind) in enumerate(transients):
        if not (0 <= src_i < ns and 0 <= obs_i < no):
            raise ValueError(f"transient {(src_i, obs_i, kind)} outside {ns} sources x {no} observations")
        row = obs_i * ns + src_i
        empty = EventSet(ids[[row]], np.zeros(2, np.int64), np.zeros(0), np.zeros(0, np.float32))
        added, tr = inject_transients(
            empty, files.iloc[[row]], [0], kind, float(transient_counts), seed=int(seed) * 1000 + j
        )
        parts_i.append(np.full(added.n_events, row, np.int64))
        parts_t.append(added.time)
        parts_e.append(added.energy)
        truth.loc[row, "label"] = kind
        truth.loc[row, "transient_counts"] = float(transient_counts)
        for c in ("t_peak", "rise", "decay", "duration"):
            truth.loc[row, c] = float(tr[c].iloc[0])
    if parts_i:
        ti = np.concatenate(parts_i)
        tt = np.concatenate(parts_t)
        if frame_time > 0:
            tt = quantise_to_frames(tt, ts[ti], te[ti], frame_time)
        idx = np.concatenate([idx, ti])
        time = np.concatenate([time, tt])
        energy = np.concatenate([energy, np.concatenate(parts_e).astype(np.float32)])
        comp = np.concatenate([comp, np.zeros(len(ti), np.int8)])
    order = group_time_order(idx, time, n)
    cnt = np.bincount(idx, minlength=n)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(cnt, out=offsets[1:])
    events = EventSet(ids, offsets, time[order], energy[order])
    files["n_events"] = cnt
    truth["n_events"] = cnt
    return Population(events, files, truth, comp[order], seed=int(seed),
                      options={"field_observations": no, "n_sources": ns})
