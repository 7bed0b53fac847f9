"""The common-mode test with each candidate's own background annulus: a burst explained by an
excess in the source's own annulus is flagged background_flare; a real flare, which leaks only
its PSF wings into the annulus, is not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.catalog.common_mode import flag_background_flares
from serendip.io.eventset import EventSet
from serendip.notices import NoticeLog


def test_own_annulus_excess_flags_local_background_flare_not_real_flare():
    rng = np.random.default_rng(0)
    T, w0 = 20_000.0, 10_000.0  # observation length; burst window [w0, w0 + 500] s
    ids = ["obs_a", "obs_b", "obs_c"]
    src_t, bkg_t = [], []
    for i in ids:
        src = [rng.uniform(0, T, 100)]
        bkg = [rng.uniform(0, T, 400)]  # annulus area 10x the source's: 10x its background
        if i == "obs_a":  # a local background flare: 60 annulus events and its share (6) in the source
            bkg.append(w0 + rng.uniform(0, 500, 60))
            src.append(w0 + rng.uniform(0, 500, 8))
        if i == "obs_b":  # a real flare: 100 source events, 10 of them leak into the annulus
            src.append(w0 + rng.uniform(0, 500, 100))
            bkg.append(w0 + rng.uniform(0, 500, 10))
        src_t.append(np.sort(np.concatenate(src)))
        bkg_t += [(i, t) for t in np.concatenate(bkg)]
    counts = np.array([len(t) for t in src_t])
    events = EventSet(np.array(ids, dtype=object), np.concatenate([[0], np.cumsum(counts)]),
                      np.concatenate(src_t), np.zeros(counts.sum(), np.float32))
    background = pd.DataFrame(bkg_t, columns=["obsreg_id", "time"]).assign(area_ratio=0.1)
    cands = pd.DataFrame({
        "obsreg_id": ids, "rank": [1, 2, 3], "score": [1.0, 0.9, 0.8],
        "reasons": ["not flagged"] * 3, "obsid": ["1"] * 3, "burst_sig": [4.0, 30.0, 3.5],
        "burst_time": [w0 + 250] * 3, "burst_width": [500.0] * 3, "duration": [T] * 3})
    with NoticeLog() as log:
        out = flag_background_flares(cands, events, background).set_index("obsreg_id")
    assert out.loc["obs_a", "background_flare"]
    assert "own background annulus" in out.loc["obs_a", "reasons"]
    assert not out.loc["obs_b", "background_flare"]  # the real flare stays, first
    assert not out.loc["obs_c", "background_flare"]
    assert out.loc["obs_b", "rank"] == 1 and out.loc["obs_a", "rank"] == 3
    assert "background_flare_own" in set(log.to_frame()["code"])
    # without the annulus events the single-observation test cannot flag anything
    plain = flag_background_flares(cands)
    assert not plain["background_flare"].any()
