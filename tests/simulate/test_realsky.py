"""The simulator's real-sky effects (issue 19, item 7): background flares with their annulus
events, dither over chip edges, afterglow chains and pile-up, measured and flagged as for a
real file; off by default and deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.catalog.artefacts import flag_artefacts
from serendip.represent import event_features
from serendip.simulate import simulate_population
from serendip.simulate.realsky import add_real_sky


@pytest.fixture(scope="module")
def pops():
    base = simulate_population(300, seed=3)
    rs = add_real_sky(base, seed=3, flare_fraction=0.5, edge_fraction=0.2, afterglow_fraction=0.1)
    return base, rs


def test_off_by_default_and_deterministic(pops):
    base, rs = pops
    assert base.artefacts is None and base.background is None
    again = add_real_sky(base, seed=3, flare_fraction=0.5, edge_fraction=0.2, afterglow_fraction=0.1)
    np.testing.assert_array_equal(again.events.time, rs.events.time)
    np.testing.assert_array_equal(again.events.energy, rs.events.energy)
    with pytest.raises(TypeError, match="unknown real-sky option"):
        add_real_sky(base, seed=3, flares=0.5)


def test_background_flare_in_sources_and_annulus(pops):
    _, rs = pops
    s = rs.sources
    fl = s["bkg_flare"].to_numpy()
    assert 0.3 < fl.mean() < 0.7
    ev = rs.events
    own = ev.file_index
    added = rs.component == 2
    # every flare event lies in its observation's flare interval
    t0, t1 = s["bkg_flare_t0"].to_numpy()[own], s["bkg_flare_t1"].to_numpy()[own]
    assert added.any() and np.all((ev.time[added] >= t0[added]) & (ev.time[added] <= t1[added]))
    assert not np.any(added & ~fl[own])
    # the annulus (13.75x the area) is denser inside the flare than outside
    b = rs.background.merge(s[["obsreg_id", "bkg_flare_t0", "bkg_flare_t1", "tstart", "tstop"]])
    b = b[b["bkg_flare_t0"].notna()]
    inside = (b["time"] >= b["bkg_flare_t0"]) & (b["time"] <= b["bkg_flare_t1"])
    dur_in = (s["bkg_flare_t1"] - s["bkg_flare_t0"]).where(fl).sum()
    dur_all = (s["tstop"] - s["tstart"]).where(fl).sum()
    assert inside.sum() / dur_in > 3 * (~inside).sum() / (dur_all - dur_in)


def test_edges_afterglows_and_pileup_measured_and_flagged(pops):
    base, rs = pops
    s = rs.sources.set_index("obsreg_id")
    a = rs.artefacts.set_index("obsreg_id").reindex(s.index)
    edge = s["edge_kind"].eq("edge") & (s["n_events"] >= 20)
    assert edge.sum() >= 10
    # dithered over the edge: events lost, and measured near the edge
    lost = base.sources.set_index("obsreg_id").loc[edge[edge].index, "n_events"] - s.loc[edge, "n_events"]
    assert (lost > 0).mean() > 0.8
    near = a.loc[edge, "edge_dist_pix"] < a.loc[edge, "dither_amp_pix"] + a.loc[edge, "r90_pix"]
    assert near.mean() > 0.8
    glow = s["afterglow_n"] > 0
    assert glow.sum() >= 15
    assert (a.loc[glow, "afterglow_max"] >= s.loc[glow, "afterglow_n"]).mean() > 0.9
    # the candidate stage's burst columns, as the pipeline makes them
    f = event_features(rs.events, rs.files).set_index("obsreg_id").reindex(s.index)
    cands = pd.DataFrame({"obsreg_id": s.index, "rank": np.arange(1, len(s) + 1),
                          "score": np.linspace(1, 0, len(s)), "reasons": "not flagged",
                          "n_events": s["n_events"].to_numpy(), "burst_sig": f["burst_sig"].to_numpy(),
                          "gap_sig": f["gap_sig"].to_numpy(),
                          "burst_time": (s["tstart"] + f["burst_t_frac"] * f["duration"]).to_numpy(),
                          "burst_width": (f["burst_width_frac"] * f["duration"]).to_numpy()})
    out = flag_artefacts(cands, rs.artefacts).set_index("obsreg_id")
    # an afterglow that makes a burst of a steady faint source is flagged single_pixel
    quiet = glow & s["label"].isin(["steady", "agn"]) & (s["n_events"] < 100)
    bursting = quiet & (f["burst_sig"] > 2)
    assert bursting.sum() >= 5
    assert out.loc[bursting[bursting].index, "single_pixel"].mean() > 0.8
    assert not out.loc[~glow, "single_pixel"].any()
    # pile-up: merged events only where two fall in one frame; bright sources lose most
    rate = base.sources.set_index("obsreg_id")["n_events"] / (s["tstop"] - s["tstart"]) * 3.24104
    assert s.loc[rate > 0.1, "n_piled"].sum() > s.loc[rate < 0.01, "n_piled"].sum()
    np.testing.assert_array_equal(out["pileup"].reindex(a.index).to_numpy(),
                                  (a["counts_per_frame_max"] >= a["pileup_threshold"]).to_numpy())


def test_scan_mode_constant_sources_give_uniform_false_alarm_probabilities():
    """eROSITA-like scan-mode exposure in the simulator: constant sources seen in vignetted
    passes carry their exposure curve as the expected-rate template (gtis), and their KS
    false-alarm probabilities are uniform; against a constant rate they are not. The scan is
    compressed (300 s passes every 10 min, not 40 s every 4 h) so that most sources have >= 10
    events."""
    from scipy import stats

    base = simulate_population(400, seed=5, class_fractions={"steady": 1.0})
    rs = add_real_sky(base, seed=5, flare_fraction=0.0, edge_fraction=0.0, afterglow_fraction=0.0,
                      pileup=False, scan_fraction=1.0, scan_period_s=600.0,
                      scan_pass_s=300.0)
    s = rs.sources
    assert s["scan"].all() and (s["scan_passes"] >= 1).mean() > 0.9
    assert rs.gtis is not None and set(rs.gtis["obsreg_id"]) <= set(rs.files["obsreg_id"])
    assert (rs.files["exposure"] < base.files["exposure"]).all()  # mean exposure < 1
    assert (rs.files["n_events"].to_numpy()[s["scan_passes"].to_numpy() == 0] == 0).all()
    # every event lies in a pass, where the curve gives exposure
    t = rs.events.time
    own = rs.events.file_index
    c = rs.exposure_curves
    ok = np.zeros(len(t), bool)
    for k, oid in enumerate(rs.events.obsreg_id):
        m = own == k
        ck = c[c["obsreg_id"] == oid]
        j = np.clip(np.searchsorted(ck["start"].to_numpy(), t[m], "right") - 1, 0, len(ck) - 1)
        ok[m] = t[m] < ck["stop"].to_numpy()[j]
    assert ok.all()
    f = event_features(rs.events, rs.files, rs.gtis)
    n = rs.files["n_events"].to_numpy()
    p = f["ks_pvalue"].to_numpy()[n >= 10]
    assert len(p) > 150
    ks = stats.kstest(p, "uniform").pvalue
    assert ks > 0.01 and (p < 0.01).mean() < 0.03, ks
    flat = event_features(rs.events, rs.files, None)["ks_pvalue"].to_numpy()[n >= 10]
    assert stats.kstest(flat, "uniform").pvalue < 1e-4 and (flat < 0.01).mean() > 0.05, (
        stats.kstest(flat, "uniform").pvalue, (flat < 0.01).mean(), ks)
    with pytest.raises(ValueError, match="scan_pass_s"):
        add_real_sky(base, seed=5, scan_fraction=0.5, scan_pass_s=0.0)
