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
