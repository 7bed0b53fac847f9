"""live_to_time inverts the live-time axis (gaps removed, intervals weighted by the background
template): mission times of events come back from their live-time fractions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.io.eventset import EventSet
from serendip.represent.livetime import live_time_events, live_to_time


def test_live_to_time_inverts_live_time_events():
    rng = np.random.default_rng(0)
    gtis = pd.DataFrame({"obsreg_id": ["a", "a", "a", "b"], "start": [0.0, 500.0, 900.0, 1e4],
                         "stop": [300.0, 800.0, 2000.0, 2e4], "weight": [1.0, 3.0, 0.5, 1.0]})
    ta = np.sort(np.concatenate([rng.uniform(0, 300, 20), rng.uniform(500, 800, 20),
                                 rng.uniform(900, 2000, 20)]))
    tb = np.sort(rng.uniform(1e4, 2e4, 30))
    ev = EventSet(np.array(["a", "b"], dtype=object), np.array([0, 60, 90]),
                  np.concatenate([ta, tb]), np.zeros(90, np.float32))
    live, lo, hi = live_time_events(ev, gtis, np.array([0.0, 1e4]), np.array([2000.0, 2e4]))
    frac = live.time / np.repeat(hi, [60, 30])
    ids = np.repeat(["a", "b"], [60, 30])
    np.testing.assert_allclose(live_to_time(ids, frac, gtis), ev.time, rtol=0, atol=1e-6)
    assert np.isnan(live_to_time(["c"], np.array([0.5]), gtis)).all()
