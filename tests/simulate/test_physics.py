"""Spectra, response and the time behaviour of each variable class."""

from __future__ import annotations

import numpy as np
import pytest

from serendip.simulate.response import (
    absorption_cross_section,
    band_probability,
    effective_area_cm2,
    energy_to_pi,
    measure_energy,
    resolution_sigma_ev,
)
from serendip.simulate.spectra import GRID_EDGES_KEV, sample_energies, spectral_rows, to_cdf
from serendip.simulate.timing import fred_integral, fxt_integral, periodic_trapezoid


# ------------------------------------------------------------------------- response
def test_response_curves():
    # Morrison & McCammon: ~2.4e-22 cm^2 per H at 1 keV, falls roughly as E^-2.5
    s1 = absorption_cross_section(np.array([1.0]))[0]
    assert 2.2e-22 < s1 < 2.6e-22
    assert absorption_cross_section(np.array([4.0]))[0] < s1 / 20
    e = np.linspace(0.3, 9.0, 500)
    a = effective_area_cm2(e)
    assert 1.2 < e[np.argmax(a)] < 1.9 and 350 < a.max() < 500
    fwhm = 2.355 * resolution_sigma_ev(np.array([1500.0, 5900.0]))
    assert 80 < fwhm[0] < 130 and 200 < fwhm[1] < 300
    p = band_probability(np.array([300.0, 500.0, 3000.0, 7000.0, 8000.0]))
    assert (
        p[0] < 0.01
        and abs(p[1] - 0.5) < 0.01
        and p[2] > 0.999
        and abs(p[3] - 0.5) < 0.01
        and p[4] < 1e-3
    )
    assert list(energy_to_pi(np.array([0.0, 14.59, 14.6, 1000.0]))) == [1, 1, 2, 69]


def test_measured_energies_truncated_gaussian():
    rng = np.random.default_rng(0)
    e = np.full(200_000, 3000.0)
    m = measure_energy(e, rng)
    assert (
        abs(m.mean() - 3000.0) < 1.0
        and abs(m.std() / resolution_sigma_ev(np.array([3000.0]))[0] - 1) < 0.01
    )
    edge = measure_energy(np.full(50_000, 520.0), rng)  # near the band edge: all inside
    assert edge.min() >= 500.0 and edge.max() < 7000.0


# -------------------------------------------------------------------------- spectra
def _sample(model, gamma, kt, nh, n=60_000, seed=0):
    rng = np.random.default_rng(seed)
    prob = spectral_rows(np.array([model]), np.array([gamma]), np.array([kt]), np.array([nh]))
    true, meas = sample_energies(to_cdf(prob), np.zeros(n, np.int64), rng)
    return prob[0], true, meas


def test_energies_follow_the_spectrum():
    prob, true, meas = _sample(0, 1.7, np.nan, 3e21)
    assert meas.min() >= 500 and meas.max() < 7000
    h = np.histogram(true / 1000.0, GRID_EDGES_KEV)[0]
    expected = prob * len(true)
    # group into 16 coarse bins and do a chi-square goodness-of-fit test
    hc, ec = h.reshape(16, 16).sum(1), expected.reshape(16, 16).sum(1)
    ok = ec > 20
    chi2 = ((hc[ok] - ec[ok]) ** 2 / ec[ok]).sum()
    assert chi2 < ok.sum() + 5 * np.sqrt(2 * ok.sum())
    # measured mean equals the spectrum's mean within a resolution-sized margin
    centre = np.sqrt(GRID_EDGES_KEV[1:] * GRID_EDGES_KEV[:-1]) * 1000
    assert abs(meas.mean() - (prob * centre).sum()) < 40


def test_absorption_and_temperature_harden():
    means = [_sample(0, 1.8, np.nan, nh, seed=1)[2].mean() for nh in (1e20, 1e22, 1e23)]
    assert means[0] + 300 < means[1] < means[2] - 300
    kts = [_sample(1, np.nan, kt, 1e21, seed=2)[2].mean() for kt in (0.2, 1.0)]
    assert kts[0] + 500 < kts[1]
    steep = _sample(0, 3.0, np.nan, 1e21, seed=3)[2].mean()
    flat = _sample(0, 1.0, np.nan, 1e21, seed=3)[2].mean()
    assert steep + 500 < flat


def test_thermal_spectrum_has_iron_line():
    def line_to_side(meas):
        return ((meas > 6550) & (meas < 6850)).sum() / ((meas > 6000) & (meas < 6300)).sum()

    thermal = line_to_side(_sample(2, np.nan, 4.5, 1e21, n=200_000, seed=4)[2])
    powerlaw = line_to_side(_sample(0, 1.6, np.nan, 1e21, n=200_000, seed=4)[2])
    assert powerlaw < 0.8  # falling continuum x falling effective area
    assert thermal > 1.3 and thermal > 2 * powerlaw  # Fe XXV/XXVI K blend at 6.7 keV


# ------------------------------------------------------------ classes in time/energy
def _source_events(pop, label):
    """Source photons (no background) of one class: (file position, time, energy, sources rows)."""
    s = pop.sources
    idx = np.flatnonzero((s["label"] == label).to_numpy())
    ev = pop.events
    sub = ev.select(idx)
    counts = ev.counts[idx]
    within = np.arange(sub.n_events) - np.repeat(sub.offsets[:-1], counts)
    comp = pop.component[np.repeat(ev.offsets[idx], counts) + within]
    keep = comp == 0
    return (
        sub.file_index[keep],
        sub.time[keep],
        sub.energy[keep].astype(float),
        s.iloc[idx].reset_index(drop=True),
    )


def test_flares_where_they_were_put(variable_pop):
    f, t, e, s = _source_events(variable_pop, "flare")
    tp, rise, decay = (s[c].to_numpy() for c in ("t_peak", "rise", "decay"))
    ts, te, q, amp = (s[c].to_numpy() for c in ("tstart", "tstop", "quiescent_rate", "amplitude"))
    lo, hi = np.maximum(tp - 3 * rise, ts), np.minimum(tp + 3 * decay, te)
    inside = (t >= lo[f]) & (t <= hi[f])
    peak = (amp - 1) * q
    expected = q * (hi - lo) + peak * fred_integral(lo, hi, tp, rise, decay)
    n_in = np.bincount(f[inside], minlength=len(s))
    assert abs(n_in.sum() - expected.sum()) < 5 * np.sqrt(expected.sum())
    # the flare window is much brighter per second than the rest of the exposure
    rate_in = n_in / (hi - lo)
    rate_out = (np.bincount(f, minlength=len(s)) - n_in) / (te - ts - (hi - lo))
    assert np.median(rate_in / np.maximum(rate_out, 1e-9)) > 3
    # photons bunch at the peak: median offset from t_peak is within one decay time
    assert np.median(np.abs(t[inside] - tp[f[inside]]) / decay[f[inside]]) < 1.0


def test_fxt_spike_then_softening_tail(variable_pop):
    f, t, e, s = _source_events(variable_pop, "fxt")
    on, rise, dur, alpha = (s[c].to_numpy() for c in ("t_onset", "rise", "duration", "alpha"))
    ts, te, q, amp = (s[c].to_numpy() for c in ("tstart", "tstop", "quiescent_rate", "amplitude"))
    peak = (amp - 1) * q
    x = (t - on[f]) / dur[f]
    before = x < 0
    exp_before = q * (on - ts)
    assert abs(before.sum() - exp_before.sum()) < 5 * np.sqrt(exp_before.sum()) + 5
    spike = (x >= 0) & (x < 1)
    exp_spike = q * dur + peak * (dur - rise / 2)
    assert abs(spike.sum() - exp_spike.sum()) < 5 * np.sqrt(exp_spike.sum())
    exp_all = q * (te - ts) + peak * fxt_integral(te, on, rise, dur, alpha)
    assert abs(len(t) - exp_all.sum()) < 5 * np.sqrt(exp_all.sum())
    late = x >= 10
    assert late.sum() > 200
    assert e[spike].mean() > e[late].mean() + 300  # hard spike, soft tail
    assert (dur >= 10).all() and (dur <= 1000).all()


def test_stellar_flare_is_long_and_cools(variable_pop):
    f, t, e, s = _source_events(variable_pop, "stellar_flare")
    tp, decay = s["t_peak"].to_numpy(), s["decay"].to_numpy()
    x = (t - tp[f]) / decay[f]
    near_peak = (x > -0.2) & (x < 0.5)
    tail = x > 3
    quiet = x < -6
    assert near_peak.sum() > 500 and tail.sum() > 200 and quiet.sum() > 200
    # hot near the peak, cooling back towards the quiescent temperature in the tail
    assert e[near_peak].mean() > e[tail].mean() + 150
    assert e[near_peak].mean() > e[quiet].mean() + 150
    assert (decay >= 2000).all()


def _profile(s, f, t):
    return periodic_trapezoid(
        t,
        s["t_peak"].to_numpy()[f],
        s["period"].to_numpy()[f],
        s["duration"].to_numpy()[f],
        s["ramp"].to_numpy()[f],
    )


def _hard_fraction(e):
    return (e > 2000).mean()


def test_eclipses_are_energy_independent_dips_harden(variable_pop):
    # eclipses: the core removes `depth` of the photons, with no change of spectrum
    f, t, e, s = _source_events(variable_pop, "eclipse")
    prof = _profile(s, f, t)
    core, out = prof == 1.0, prof == 0.0
    assert core.sum() > 300
    q, depth = s["quiescent_rate"].to_numpy(), s["depth"].to_numpy()
    grid = np.linspace(0, 1, 4001)
    ts, T = s["tstart"].to_numpy(), s["exposure"].to_numpy()
    prof_grid = _profile(
        s, np.repeat(np.arange(len(s)), len(grid)), (ts[:, None] + T[:, None] * grid).ravel()
    ).reshape(len(s), -1)
    core_time = (prof_grid == 1.0).mean(axis=1) * T
    exp_core = (q * (1 - depth) * core_time).sum()
    assert abs(core.sum() - exp_core) < 5 * np.sqrt(exp_core) + 0.02 * exp_core
    hr_core, hr_out = _hard_fraction(e[core]), _hard_fraction(e[out])
    se = np.sqrt(hr_core * (1 - hr_core) / core.sum())
    assert abs(hr_core - hr_out) < 4 * se + 0.01

    # dips: fewer photons in the dip, and those left are harder
    f, t, e, s = _source_events(variable_pop, "dip")
    prof = _profile(s, f, t)
    core, out = prof == 1.0, prof == 0.0
    assert core.sum() > 300
    assert _hard_fraction(e[core]) > _hard_fraction(e[out]) + 0.1
    depth = s["depth"].to_numpy()
    assert ((depth > 0.05) & (depth < 1)).all()


def test_red_noise_and_periodic_signals_are_detectable(variable_pop):
    ev, s = variable_pop.events, variable_pop.sources

    def chi2_dof(label):
        idx = np.flatnonzero((s["label"] == label).to_numpy())
        sub = ev.select(idx)
        f = sub.file_index
        ts, T = s["tstart"].to_numpy()[idx][f], s["exposure"].to_numpy()[idx][f]
        b = np.minimum(((sub.time - ts) / T * 20).astype(int), 19)
        h = np.bincount(f * 20 + b, minlength=len(idx) * 20).reshape(len(idx), 20)
        m = h.mean(axis=1, keepdims=True)
        return ((h - m) ** 2 / m).sum(axis=1) / 19

    assert np.median(chi2_dof("agn")) > 2.0
    # periodic: Rayleigh power Z1^2 at the true period (noise: ~2)
    idx = np.flatnonzero((s["label"] == "periodic").to_numpy())
    sub = ev.select(idx)
    f = sub.file_index
    phase = 2 * np.pi * (sub.time - s["tstart"].to_numpy()[idx][f]) / s["period"].to_numpy()[idx][f]
    c = np.bincount(f, np.cos(phase), minlength=len(idx))
    sn = np.bincount(f, np.sin(phase), minlength=len(idx))
    z2 = 2 * (c**2 + sn**2) / np.maximum(sub.counts, 1)
    assert np.median(z2) > 30
    amp = s["amplitude"].to_numpy()[idx]
    # expected Z1^2 ~ N A^2 / 2 for a sinusoid of semi-amplitude A: same order as measured
    ratio = np.median(z2 / (sub.counts * amp**2 / 2))
    assert 0.5 < ratio < 1.5


@pytest.mark.parametrize("label", ["flare", "fxt", "stellar_flare"])
def test_transients_are_detectable_but_not_trivially_huge(variable_pop, label):
    s = variable_pop.sources
    g = s[s["label"] == label]
    frac = g["flare_fraction"].to_numpy()
    assert (frac > 0.25).all() and (frac <= 1.0).all()
    if label != "fxt":
        assert frac.max() < 0.9
        amp = g["amplitude"].to_numpy()
        assert np.median(amp) > 3 and np.median(amp) < 1e4
