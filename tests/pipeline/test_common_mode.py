"""Bursts shared by many sources of one observation are flagged background_flare and demoted."""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.catalog.common_mode import flag_background_flares
from serendip.notices import NoticeLog


def test_coincident_bursts_flagged_lone_burst_kept():
    n = 40
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 5e4, n)
    sig = np.full(n, 1.0)
    sig[:6] = 4.0  # six sources of ObsID 1 burst at the same time
    t[:6] = 3e4 + rng.uniform(-100, 100, 6)
    sig[6] = 9.0  # a lone burst in ObsID 1 elsewhere
    t[6] = 1e4
    sig[20:26] = 4.0  # six in ObsID 2 at different times
    t[20:26] = np.arange(6) * 8e3
    cands = pd.DataFrame({
        "obsreg_id": [f"s{i}" for i in range(n)], "rank": np.arange(1, n + 1),
        "score": np.linspace(1, 0.5, n), "reasons": ["not flagged"] * n,
        "obsid": ["1"] * 20 + ["2"] * 20, "burst_sig": sig, "burst_time": t,
        "burst_width": np.full(n, 1000.0)})
    with NoticeLog() as log:
        out = flag_background_flares(cands)
    flagged = set(out.loc[out["background_flare"], "obsreg_id"])
    assert flagged == {f"s{i}" for i in range(6)}
    assert "background_flare" in set(log.to_frame()["code"])
    assert out["rank"].tolist() == list(range(1, n + 1))
    assert out["score"].is_monotonic_decreasing
    assert out.loc[out["obsreg_id"] == "s0", "reasons"].iloc[0].startswith("background_flare")
    assert out.loc[out["obsreg_id"] == "s0", "rank"].iloc[0] > 20  # demoted
    assert out.loc[out["obsreg_id"] == "s6", "rank"].iloc[0] <= 7 - 6 + 1  # lone burst kept
