"""Timing statistics on the live-time axis: gaps between GTIs are not dips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.io.eventset import EventSet
from serendip.represent import event_features
from serendip.represent.livetime import live_time_events

T0 = 1.0e8
#: two good intervals of 20 ks with a 40 ks gap (e.g. a split observation), one of 30 ks
GTIS = {"gap": [(T0, T0 + 2e4), (T0 + 6e4, T0 + 8e4)], "flare": [(T0, T0 + 3e4)]}


def _uniform_in(intervals, n, rng):
    lengths = np.array([b - a for a, b in intervals])
    which = rng.choice(len(intervals), size=n, p=lengths / lengths.sum())
    starts = np.array([a for a, _ in intervals])
    return np.sort(starts[which] + rng.uniform(0, 1, n) * lengths[which])


def _population(seed=0):
    rng = np.random.default_rng(seed)
    steady = _uniform_in(GTIS["gap"], 1500, rng)
    flare = np.sort(
        np.concatenate(
            [_uniform_in(GTIS["flare"], 600, rng), T0 + 1.2e4 + rng.exponential(300.0, 250)]
        )
    )
    per = {k: (t, rng.uniform(600, 6500, len(t))) for k, t in (("gap", steady), ("flare", flare))}
    ev = EventSet.from_arrays(per)
    gtis = pd.DataFrame(
        [(k, a, b) for k, ivs in GTIS.items() for a, b in ivs],
        columns=["obsreg_id", "start", "stop"],
    )
    files = pd.DataFrame(
        {
            "obsreg_id": ["gap", "flare"],
            "tstart": [T0, T0],
            "tstop": [T0 + 8e4, T0 + 3e4],
        }
    )
    return ev, files, gtis


def test_live_time_matches_the_brute_force_definition():
    rng = np.random.default_rng(3)
    ivs = [(0.0, 10.0), (25.0, 30.0), (31.0, 60.0)]
    t = np.sort(np.concatenate([_uniform_in(ivs, 300, rng), [-5.0, 12.0, 30.5, 70.0]]))
    ev = EventSet.from_arrays({"a": (t, np.full(len(t), 1000.0)), "none": ([1.0, 2.0], [1e3, 1e3])})
    gtis = pd.DataFrame({"obsreg_id": ["a"] * 3, "start": [25.0, 0.0, 31.0], "stop": [30, 10, 60]})
    live, lo, hi = live_time_events(ev, gtis, np.array([0.0, 1.0]), np.array([60.0, 2.0]))
    a0, a1 = np.array(ivs).T
    brute = np.clip(t[:, None] - a0[None, :], 0.0, (a1 - a0)[None, :]).sum(axis=1)
    np.testing.assert_allclose(live.events_of(0)[0], brute, atol=1e-9)
    assert np.all(np.diff(live.events_of(0)[0]) >= 0)
    assert (lo[0], hi[0]) == (0.0, pytest.approx(44.0))
    # a file without intervals keeps its times and interval
    np.testing.assert_array_equal(live.events_of(1)[0], [1.0, 2.0])
    assert (lo[1], hi[1]) == (1.0, 2.0)


def test_overlapping_intervals_are_refused_not_double_counted():
    from serendip.errors import InputError

    ev = EventSet.from_arrays({"a": ([1.0, 5.0, 9.0], [1e3, 1e3, 1e3])})
    gtis = pd.DataFrame({"obsreg_id": ["a", "a"], "start": [0.0, 4.0], "stop": [6.0, 10.0]})
    with pytest.raises(InputError, match="overlap"):
        live_time_events(ev, gtis, np.array([0.0]), np.array([10.0]))


def test_a_gap_between_gtis_is_not_a_dip_and_a_flare_stays_a_flare():
    ev, files, gtis = _population()
    raw = event_features(ev, files).set_index("obsreg_id")
    live = event_features(ev, files, gtis).set_index("obsreg_id")
    # a steady source with a 40 ks gap between its GTIs: hugely "significant" gap on raw times
    assert raw.loc["gap", "gap_sig"] > 50
    assert live.loc["gap", "gap_sig"] < 3
    assert live.loc["gap", "var_prob"] < raw.loc["gap", "var_prob"]
    assert live.loc["gap", "bb_n_blocks"] <= raw.loc["gap", "bb_n_blocks"]
    # the flare inside one interval is still found
    assert live.loc["flare", "burst_sig"] > 20
    # duration and rate stay on the observing interval
    np.testing.assert_array_equal(live["duration"], raw["duration"])


def test_one_interval_over_the_whole_observation_changes_nothing():
    ev, files, _ = _population(seed=1)
    whole = pd.DataFrame(
        {"obsreg_id": files["obsreg_id"], "start": files["tstart"], "stop": files["tstop"]}
    )
    a = event_features(ev, files)
    b = event_features(ev, files, whole)
    cols = [c for c in a.columns if c != "obsreg_id"]
    np.testing.assert_allclose(
        a[cols].to_numpy(float), b[cols].to_numpy(float), rtol=1e-6, atol=1e-9, equal_nan=True
    )


def test_ingest_writes_each_files_gtis_and_the_pipeline_uses_them(fits_with_gap, tmp_path):
    from serendip.io.ingest import ingest, read_ingest, write_ingest

    res = ingest([fits_with_gap], progress=False)
    assert res.gtis[["start", "stop"]].to_numpy().tolist() == [
        [T0, T0 + 2e4],
        [T0 + 6e4, T0 + 8e4],
    ]
    assert set(res.gtis["obsreg_id"]) == set(res.files["obsreg_id"])
    write_ingest(res, tmp_path)
    back = read_ingest(tmp_path)
    pd.testing.assert_frame_equal(back.gtis, res.gtis)
    feats = event_features(back.events, back.files, back.gtis)
    assert feats["gap_sig"].iloc[0] < 3


@pytest.fixture
def fits_with_gap(tmp_path):
    import importlib.util
    from pathlib import Path

    maker_path = Path(__file__).resolve().parents[1] / "data" / "broken_events" / "make_broken.py"
    spec = importlib.util.spec_from_file_location("serendip_test_make_broken_lt", maker_path)
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    rng = np.random.default_rng(5)
    t = _uniform_in(GTIS["gap"], 800, rng)
    return maker.write_events(
        tmp_path / "gap.fits", time=t, t0=T0, duration=8e4, gti=GTIS["gap"], gz=False
    )


def test_weighted_live_time_is_the_integral_of_the_weight():
    """Live time with interval weights: cumulative expected counts, checked by brute force."""
    rng = np.random.default_rng(5)
    ivs = [(0.0, 10.0), (10.0, 14.0), (25.0, 30.0), (31.0, 60.0)]
    w = np.array([1.0, 6.0, 0.5, 1.2])
    t = np.sort(np.concatenate([_uniform_in(ivs, 400, rng), [-5.0, 20.0, 30.5, 70.0]]))
    ev = EventSet.from_arrays({"a": (t, np.full(len(t), 1000.0))})
    a0, a1 = np.array(ivs).T
    gtis = pd.DataFrame({"obsreg_id": ["a"] * 4, "start": a0, "stop": a1, "weight": w})
    live, lo, hi = live_time_events(ev, gtis, np.array([0.0]), np.array([60.0]))
    brute = (np.clip(t[:, None] - a0[None, :], 0.0, (a1 - a0)[None, :]) * w[None, :]).sum(axis=1)
    np.testing.assert_allclose(live.events_of(0)[0], brute, atol=1e-9)
    assert hi[0] == pytest.approx(float(np.sum(w * (a1 - a0))))
    # unit weights give the unweighted axis
    live1, _, _ = live_time_events(ev, gtis.assign(weight=1.0), np.array([0.0]), np.array([60.0]))
    live0, _, _ = live_time_events(ev, gtis.drop(columns="weight"), np.array([0.0]), np.array([60.0]))
    np.testing.assert_array_equal(live1.time, live0.time)


def test_source_following_its_template_is_not_a_burst():
    """Events drawn from a flaring expected rate: a burst on raw times, none with the weights."""
    rng = np.random.default_rng(2)
    T = 4e4
    ivs = [(T0, T0 + 2.8e4), (T0 + 2.8e4, T0 + 2.9e4), (T0 + 2.9e4, T0 + T)]
    w = np.array([1.0, 8.0, 1.0])
    lengths = np.array([b - a for a, b in ivs])
    k = rng.choice(3, size=800, p=w * lengths / np.sum(w * lengths))
    t = np.sort(np.array([a for a, _ in ivs])[k] + rng.uniform(0, 1, 800) * lengths[k])
    ev = EventSet.from_arrays({"s": (t, rng.uniform(600, 6500, 800))})
    files = pd.DataFrame({"obsreg_id": ["s"], "tstart": [T0], "tstop": [T0 + T]})
    g = pd.DataFrame({"obsreg_id": ["s"] * 3, "start": [a for a, _ in ivs],
                      "stop": [b for _, b in ivs], "weight": w})
    flat = event_features(ev, files, g.drop(columns="weight"))
    templ = event_features(ev, files, g)
    assert flat["burst_sig"].iloc[0] > 5
    assert templ["burst_sig"].iloc[0] < 3
    assert templ["ks_pvalue"].iloc[0] > 1e-3 > flat["ks_pvalue"].iloc[0]
