"""Artefact diagnostics on small synthetic inputs: the epoch's dither, pile-up from counts per
frame, dead time, readout streaks, bad columns, and the flags they give."""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.catalog.artefacts import flag_artefacts
from serendip.io.artefacts import (
    CHANDRA_DITHER_CHANGE_MJD,
    bad_columns,
    counts_per_frame,
    dead_fraction,
    dither_pattern,
    measure_artefacts,
    streak_fraction,
)
from serendip.notices import NoticeLog


def test_dither_pattern_by_epoch_and_instrument():
    before = dither_pattern("CHANDRA", "ACIS", CHANDRA_DITHER_CHANGE_MJD - 1)
    after = dither_pattern("CHANDRA", "ACIS", CHANDRA_DITHER_CHANGE_MJD + 1)
    assert before.periods_s == (1000.0, 707.0) and before.amplitude_arcsec == 8.0
    assert after.periods_s == (2000.0, 1414.0) and after.amplitude_arcsec == 16.0
    assert dither_pattern("CHANDRA", "HRC-I", 55000).periods_s == (1087.0, 768.0)
    assert dither_pattern("XMM", "EPN", 55000) is None


def test_pileup_from_counts_per_frame():
    rng = np.random.default_rng(1)
    frame, T = 3.2, 3.2 * 2000
    bright = np.sort(rng.uniform(0, T, 1000))  # 0.5 counts per frame
    faint = np.sort(rng.uniform(0, T, 60))  # 0.03
    t = np.concatenate([bright, faint])
    owner = np.repeat([0, 1], [1000, 60])
    mx, mean = counts_per_frame(owner, t, 2, frame, (np.array([0.0]), np.array([T])))
    np.testing.assert_allclose(mean, [0.5, 0.03], rtol=1e-9)
    assert mx[0] > 0.4 and mx[1] < 0.1
    header = {"telescope": "CHANDRA", "instrument": "ACIS", "mjdref": 50814.0, "tstart": 0.0,
              "frame_s": frame, "chip_range": (1.0, 1024.0)}
    order = np.argsort(t, kind="stable")
    members = [np.flatnonzero(owner[order] == k) for k in (0, 1)]
    tab = measure_artefacts(t[order], None, {}, header, members, np.array([8.0, 8.0]),
                            ["a", "b"], 0.492, (np.array([0.0]), np.array([T])))
    cands = pd.DataFrame({"obsreg_id": ["a", "b"], "rank": [1, 2], "score": [1.0, 0.9],
                          "reasons": ["not flagged"] * 2})
    with NoticeLog() as log:
        out = flag_artefacts(cands, tab).set_index("obsreg_id")
    assert out.loc["a", "pileup"] and not out.loc["b", "pileup"]
    assert "pileup" in out.loc["a", "reasons"]
    assert out.loc["a", "rank"] == 1  # pile-up is said, not demoted
    assert "artefact_pileup" in set(log.to_frame()["code"])


def test_pileup_time_series_and_burst():
    """Counts per frame over time: a faint source piled up only during its flare gets a series
    whose bins above the threshold say when; the flag says its burst peak is flattened."""
    rng = np.random.default_rng(4)
    frame, T = 3.2, 3.2 * 3000
    quiet = rng.uniform(0, T, 60)  # 0.02 counts per frame
    flare = rng.uniform(4000.0, 4640.0, 200)  # 1 count per frame for 200 frames
    t = np.sort(np.concatenate([quiet, flare]))
    header = {"telescope": "CHANDRA", "instrument": "ACIS", "mjdref": 50814.0, "tstart": 0.0,
              "frame_s": frame, "chip_range": (1.0, 1024.0)}
    series: list = []
    tab = measure_artefacts(t, None, {}, header, [np.arange(len(t))], np.array([8.0]), ["a"],
                            0.492, (np.array([0.0]), np.array([T])), series_out=series)
    ser = series[0]
    assert list(ser.columns[:3]) == ["obsreg_id", "start", "stop"] and len(ser) == 30
    np.testing.assert_allclose(ser["counts"].sum(), len(t))
    hot = ser[ser["counts_per_frame"] >= 0.1]
    assert len(hot) and hot["start"].min() >= 3840 and hot["stop"].max() <= 4800
    r = tab.iloc[0]
    assert r["counts_per_frame_max"] == ser["counts_per_frame"].max()
    assert 0 < r["pileup_time_frac"] < 0.15 and r["pileup_t0"] == hot["start"].min()
    cands = pd.DataFrame({"obsreg_id": ["a"], "rank": [1], "score": [1.0], "reasons": ["not flagged"],
                          "burst_sig": [8.0], "burst_time": [4320.0], "burst_width": [320.0]})
    out = flag_artefacts(cands, tab)
    assert out.loc[0, "pileup"] and "peak is flattened" in out.loc[0, "reasons"]
    assert "of the good time" in out.loc[0, "reasons"]


def test_out_of_time_fraction_by_camera_and_mode():
    """XMM EPIC out-of-time fractions come from the mission registry by camera and mode and
    are stated for bright sources only (not corrected, not demoted)."""
    from serendip.io.missions import identify_mission

    pn, mos = identify_mission("XMM", "EPN"), identify_mission("XMM", "EMOS1")
    assert pn.oot_fraction("PrimeFullWindow") == (0.063, "PrimeFullWindow")
    assert pn.oot_fraction("PrimeSmallWindow")[0] == 0.011
    assert pn.oot_fraction("PrimeLargeWindow")[0] == 0.0016
    assert pn.oot_fraction("PrimeFullWindowExtended")[0] == 0.023
    frac, how = pn.oot_fraction("")
    assert frac == 0.063 and "unknown" in how
    assert mos.oot_fraction("PrimeFullWindow")[0] == 0.0035
    assert identify_mission("NICER", "XTI").oot_fraction("")[0] == 0.0
    rng = np.random.default_rng(5)
    T = 10000.0
    t = np.sort(rng.uniform(0, T, 2100))
    owner = np.r_[np.zeros(2000, int), np.ones(100, int)]
    rng.shuffle(owner)
    members = [np.flatnonzero(owner == k) for k in (0, 1)]
    header = {"telescope": "XMM", "instrument": "EPN", "mjdref": 50814.0, "tstart": 0.0,
              "frame_s": None, "mission_entry": pn, "mode": "PrimeFullWindow"}
    tab = measure_artefacts(t, None, {}, header, members, np.array([10.0, 10.0]), ["a", "b"],
                            4.1, (np.array([0.0]), np.array([T])))
    np.testing.assert_allclose(tab["oot_fraction"], 0.063)
    np.testing.assert_allclose(tab["oot_counts"], [0.063 * 2000, 0.063 * 100])
    cands = pd.DataFrame({"obsreg_id": ["a", "b"], "rank": [1, 2], "score": [1.0, 0.9],
                          "reasons": ["not flagged"] * 2})
    out = flag_artefacts(cands, tab).set_index("obsreg_id")
    assert out.loc["a", "out_of_time"] and not out.loc["b", "out_of_time"]
    assert "6.30% of its counts" in out.loc["a", "reasons"] and out.loc["a", "rank"] == 1
    header["mode"] = "PrimeSmallWindow"
    small = measure_artefacts(t, None, {}, header, members, np.array([10.0, 10.0]), ["a", "b"],
                              4.1, (np.array([0.0]), np.array([T])))
    np.testing.assert_allclose(small["oot_counts"], [0.011 * 2000, 0.011 * 100])


def test_dead_time_from_prior_and_deadtime_columns():
    t = np.arange(0.0, 1000.0, 0.01)
    prior = np.full(len(t), 0.01 * 0.8)  # 20% dead
    assert abs(dead_fraction(t, prior, None, None) - 0.2) < 0.01
    assert abs(dead_fraction(t, None, np.full(len(t), 0.001), None) - 0.1) < 0.01
    assert np.isnan(dead_fraction(t, None, None, None))


def test_streak_and_bad_columns():
    ccd = np.array([0, 0, 0, 1])
    x = np.array([100.0, 103.0, 600.0, 100.0])
    n = np.array([20000.0, 50.0, 50.0, 50.0])
    s = streak_fraction(ccd, x, np.full(4, 8.0), n, 0.0128, 1024.0)
    # 20000 x 1.28% x 16/1024 = 4 streak counts on the faint source of the same columns
    assert abs(s[1] - 4.0 / 50) < 1e-9 and s[2] == 0 and s[3] == 0 and s[0] == 0
    rng = np.random.default_rng(2)
    cx = rng.integers(1, 1025, 200_000).astype(float)
    cx = cx[cx != 333]  # column 333 lost its events
    bad = bad_columns(np.zeros(len(cx), np.int64), cx, 1, 1024)
    assert list(bad[0]) == [333]


def test_real_nicer_dead_time(real_data):
    """A real NICER event file (DEADTIME column): dead time measured, no frames invented."""
    from serendip.io.ingest import ingest

    path = real_data / "pint_testdata" / "J0218_nicer_2070030405_cleanfilt_cut_bary.evt.gz"
    if not path.is_file():
        import pytest

        pytest.skip("NICER test file not present")
    row = ingest([path], progress=False).artefacts.iloc[0]
    assert 0 < row["dead_frac_max"] < 0.01  # a cleaned, faint file: ~3e-5
    assert np.isnan(row["frame_s"]) and np.isnan(row["counts_per_frame_max"])
