"""Exposure in time per source: constant survey-mode sources (eROSITA scans, Swift snapshot
sequences) give uniform false-alarm probabilities once their relative exposure curve is the
expected-rate template, and are refused, naming what is missing, without one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from scipy import stats

from serendip.errors import InputError
from serendip.io.eventset import EventSet
from serendip.io.exposure import apply_curve, read_exposure_curve, survey_problem, with_curve
from serendip.io.ingest import ingest
from serendip.io.missions import identify_mission
from serendip.notices import NoticeLog
from serendip.represent.features import event_features

N_SOURCES = 200


def write_events(path, t, header, gti, pi):
    ev = fits.BinTableHDU.from_columns([fits.Column("TIME", "D", unit="s", array=t),
                                        fits.Column("PI", "J", array=np.full(len(t), pi))], name="EVENTS")
    g = fits.BinTableHDU.from_columns([fits.Column("START", "D", array=gti[0]),
                                       fits.Column("STOP", "D", array=gti[1])], name="GTI")
    ev.header.update(header)
    fits.HDUList([fits.PrimaryHDU(), ev, g]).writeto(path)


def draw(rng, lo, hi, frac, rate):
    """Constant-source events in bins [lo, hi) with relative exposure frac, sorted."""
    n = rng.poisson(rate * frac * (hi - lo))
    return np.sort(np.concatenate([rng.uniform(a, b, k) for a, b, k in zip(lo, hi, n, strict=True)]))


def erosita_scan(rng):
    """A day of survey: camera on all day (one GTI), the source crossing the field of view
    every 4 h for about 40 s, vignetted (parabolic profile in 2 s bins, each pass its own
    peak). Returns (events [s], good time, exposure curve)."""
    t0 = 6.0e8
    lo, hi, frac = [], [], []
    for p in range(6):
        c = t0 + 2000.0 + p * 14400.0
        peak = rng.uniform(0.4, 1.0)  # cross-scan offset of this pass
        edges = np.arange(c - 20.0, c + 20.0 + 1e-9, 2.0)
        mid = 0.5 * (edges[:-1] + edges[1:])
        lo += list(edges[:-1])
        hi += list(edges[1:])
        frac += list(peak * np.clip(1 - ((mid - c) / 20.0) ** 2, 0, None))
    lo, hi, frac = map(np.asarray, (lo, hi, frac))
    curve = pd.DataFrame({"start": lo, "stop": hi, "fracexp": frac})
    return draw(rng, lo, hi, frac, rate=3.0), (np.array([t0]), np.array([t0 + 86400.0])), curve


def swift_snapshots(rng):
    """Five snapshots of 1-1.5 ks an orbit or more apart; the source sits on a different part
    of the detector in each (relative exposure 0.3-1: vignetting, bad columns)."""
    starts = 7.0e8 + np.cumsum(rng.uniform(5800.0, 12000.0, 5))
    stops = starts + rng.uniform(1000.0, 1500.0, 5)
    frac = rng.uniform(0.3, 1.0, 5)
    curve = pd.DataFrame({"start": starts, "stop": stops, "fracexp": frac})
    return draw(rng, starts, stops, frac, rate=0.03), (starts, stops), curve


MAKERS = {"erosita": erosita_scan, "swift": swift_snapshots}


def ks_pvalues(times, goods, curves=None):
    """KS uniformity p-value of each source on its live-time axis: good time alone, or good
    time x its exposure curve (:func:`serendip.io.exposure.with_curve`)."""
    ids, rows = [], []
    for k, (t, g) in enumerate(zip(times, goods, strict=True)):
        s, e, w = g[0], g[1], np.ones(len(g[0]))
        if curves is not None:
            inside, s, e, w, _ = with_curve(t, s, e, None, curves[k])
            assert inside.all()
        ids.append(f"s{k}")
        rows.append(pd.DataFrame({"obsreg_id": f"s{k}", "start": s, "stop": e, "weight": w}))
    counts = np.array([len(t) for t in times])
    offsets = np.concatenate([[0], np.cumsum(counts)])
    t_all = np.concatenate(times)
    events = EventSet(np.array(ids, dtype=object), offsets, t_all, np.full(len(t_all), 1000.0, np.float32))
    files = pd.DataFrame({"obsreg_id": ids, "tstart": [g[0][0] for g in goods],
                          "tstop": [g[1][-1] for g in goods]})
    return event_features(events, files, pd.concat(rows, ignore_index=True))["ks_pvalue"].to_numpy()


@pytest.mark.parametrize("kind", ["erosita", "swift"])
def test_constant_survey_sources_give_uniform_false_alarm_probabilities(kind):
    rng = np.random.default_rng(19)
    sims = [MAKERS[kind](rng) for _ in range(N_SOURCES)]
    times, goods, curves = zip(*sims, strict=True)
    p = ks_pvalues(times, goods, curves)
    assert np.isfinite(p).all()
    assert stats.kstest(p, "uniform").pvalue > 0.01
    assert (p < 0.01).mean() < 0.03  # no excess of false alarms
    # the same sources tested against their good time alone: passes/snapshots look variable
    flat = ks_pvalues(times, goods)
    assert stats.kstest(flat, "uniform").pvalue < 1e-4 and (flat < 0.01).mean() > 0.15


@pytest.mark.parametrize("kind, header, pi, missing", [
    ("erosita", {"TELESCOP": "eROSITA", "INSTRUME": "TM1", "OBS_MODE": "SURVEY"}, 1000, "survey-mode"),
    ("swift", {"TELESCOP": "SWIFT", "INSTRUME": "XRT", "DATAMODE": "PHOTON"}, 100, "5 snapshots")])
def test_ingest_takes_survey_input_with_its_curves_and_refuses_it_without(tmp_path, kind, header, pi,
                                                                          missing):
    rng = np.random.default_rng(7)
    curves = []
    for k in range(3):
        t, g, c = MAKERS[kind](rng)
        write_events(tmp_path / f"{kind}{k}.fits", t, {**header, "OBSREGID": f"{kind}{k}"}, g, pi)
        curves.append(c.assign(obsreg_id=f"{kind}{k}"))
    res = ingest([tmp_path], progress=False, barycentre=False)
    assert res.n_ok == 0 and res.n_failed == 3
    reason = res.failures["reason"].iloc[0]
    assert missing in reason and "exposure curve" in reason and "exposure='constant'" in reason
    res = ingest([tmp_path], exposure=pd.concat(curves), progress=False, barycentre=False)
    assert res.n_ok == 3 and res.n_failed == 0
    g = res.gtis[res.gtis["obsreg_id"] == f"{kind}0"]
    c0 = curves[0][curves[0]["fracexp"] > 0]
    # the template follows the curve: good time = exposed bins, weights proportional to fracexp
    assert (g["stop"] - g["start"]).sum() == pytest.approx((c0["stop"] - c0["start"]).sum())
    assert g["weight"].std() > 0.1
    assert "relative exposure" in res.files["exposure_source"].iloc[0]
    with NoticeLog() as log:
        res = ingest([tmp_path], exposure="constant", progress=False, barycentre=False)
    assert res.n_ok == 3 and any(r.code == "survey_constant_exposure" for r in log.records)


def test_apply_curve_splits_weights_and_drops_unexposed_time():
    s, e, w, mean_e = apply_curve(np.array([0.0, 100.0]), np.array([50.0, 200.0]), np.ones(2),
                                  np.array([0.0, 25.0, 100.0]), np.array([25.0, 50.0, 150.0]),
                                  np.array([1.0, 0.5, 0.0]))
    # [100, 150] has zero exposure, [150, 200] lies outside the curve: both leave good time
    np.testing.assert_allclose(s, [0, 25])
    np.testing.assert_allclose(e, [25, 50])
    np.testing.assert_allclose(w, [4 / 3, 2 / 3])  # 1 : 0.5, mean 1 over the good time
    assert mean_e == pytest.approx((25 + 12.5) / 150)


def test_survey_problem_is_empty_for_pointed_data():
    m = identify_mission("eROSITA", "TM1", modes={"OBS_MODE": "POINTING"})
    assert survey_problem(m, "POINTING", (np.array([0.0]), np.array([1e4]))) == ""
    sw = identify_mission("SWIFT", "XRT", modes={"DATAMODE": "PHOTON"})
    assert survey_problem(sw, "PHOTON", (np.array([0.0, 1500.0]), np.array([1000.0, 2500.0]))) == ""


def test_real_srctool_light_curve_reads_as_an_exposure_curve(real_data):
    """The eFEDS light curve (eSASS srctool): FRACEXP of its first band per 100 s bin."""
    c = read_exposure_curve(real_data / "stingray_testdata/LightCurve_bexvar.fits")
    with fits.open(real_data / "stingray_testdata/LightCurve_bexvar.fits") as h:
        d = h[1].data
        assert len(c) == len(d) == 3740
        np.testing.assert_allclose(c["fracexp"], d["FRACEXP"][:, 0], rtol=1e-6)
    np.testing.assert_allclose((c["stop"] - c["start"])[:-1], 100.0)  # the last bin is shorter
    np.testing.assert_allclose(c["stop"] - c["start"], d["TIMEDEL"])
    assert 0 < (c["fracexp"] > 0).sum() < len(c)


def test_et_maps_use_the_expected_rate_template():
    """A constant source twice as exposed in the first half of its good time: on clock time its
    E-t map is twice as bright early; on the template axis it is flat; a gap is closed."""
    from serendip.represent import et_maps
    from serendip.represent.livetime import on_template_axis

    rng = np.random.default_rng(3)
    t = np.sort(np.concatenate([rng.uniform(0, 1000, 4000), rng.uniform(3000, 4000, 2000)]))
    ev = EventSet(np.array(["a"], dtype=object), np.array([0, len(t)]), t,
                  rng.uniform(600, 6000, len(t)).astype(np.float32))
    gtis = pd.DataFrame({"obsreg_id": "a", "start": [0.0, 3000.0], "stop": [1000.0, 4000.0],
                         "weight": [4 / 3, 2 / 3]})
    clock = et_maps(ev, normalize=False)[0].sum(axis=1)
    flat = et_maps(on_template_axis(ev, gtis), normalize=False)[0].sum(axis=1)
    assert (clock == 0).sum() >= 8  # the gap: empty time bins
    assert (flat > 0).all() and flat.std() / flat.mean() < 0.15
    assert on_template_axis(ev, None) is ev


def test_csc_light_curve_and_table_read_as_exposure_curves(tmp_path):
    t = fits.BinTableHDU.from_columns([
        fits.Column("TIME_MIN", "D", array=[100.0, 200.0, 300.0]),
        fits.Column("TIME_MAX", "D", array=[200.0, 300.0, 400.0]),
        fits.Column("EXPOSURE", "E", array=[50.0, 100.0, 25.0])], name="LIGHTCURVE")
    t.header["TIMEZERO"] = 10.0
    fits.HDUList([fits.PrimaryHDU(), t]).writeto(tmp_path / "lc3.fits")
    c = read_exposure_curve(tmp_path / "lc3.fits")
    np.testing.assert_allclose(c["start"], [110, 210, 310])
    np.testing.assert_allclose(c["fracexp"], [0.5, 1.0, 0.25])
    pd.DataFrame({"START": [0.0, 5.0], "stop": [5.0, 4.0], "FracExp": [1.0, 1.0]}).to_csv(
        tmp_path / "c.csv", index=False)
    assert len(read_exposure_curve(tmp_path / "c.csv")) == 1  # stop <= start: dropped
    pd.DataFrame({"start": [0.0]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(InputError, match="lacks column"):
        read_exposure_curve(tmp_path / "bad.csv")
