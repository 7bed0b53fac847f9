"""The field's background light curve and each source's expected-rate template."""

from __future__ import annotations

import numpy as np
import pytest

from serendip.io.background import field_excess, weighted_intervals
from serendip.notices import NoticeLog


def _background(flare: bool, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 5e4, 20000)
    if flare:
        t = np.concatenate([t, rng.uniform(3e4, 3.1e4, 2000)])  # 5x for 1 ks
    return np.sort(t)


def test_quiet_background_gives_a_flat_template():
    t = _background(False)
    edges, excess = field_excess(t, np.full(len(t), 1e-3), len(t), np.array([0.0]), np.array([5e4]))
    assert len(edges) > 10 and not np.any(excess)
    s, e, w = weighted_intervals(np.array([0.0]), np.array([5e4]), edges, excess, 200.0, 500)
    assert len(s) == 1 and w[0] == 1.0


def test_flare_enters_the_template_in_proportion_to_area():
    t = _background(True)
    area_bg = 1000.0  # pixel^2: weights 1/area give the rate per pixel^2
    with NoticeLog() as log:
        edges, excess = field_excess(t, np.full(len(t), 1 / area_bg), len(t),
                                     np.array([0.0]), np.array([5e4]))
    assert "background_variable" in set(log.to_frame()["code"])
    mid = 0.5 * (edges[1:] + edges[:-1])
    assert np.all(excess[(mid > 3.02e4) & (mid < 3.08e4)] > 0)
    assert not np.any(excess[(mid < 2.9e4) | (mid > 3.2e4)])
    # a source of area 100 px^2 with 300 events: 2000 * 100 / 1000 = 200 flare counts expected
    s, e, w = weighted_intervals(np.array([0.0, 4e4]), np.array([3.5e4, 5e4]), edges, excess,
                                 100.0, 300)
    assert np.all(np.diff(s) > 0) and np.all(e > s)
    assert float(np.sum(w * (e - s))) == pytest.approx(float(np.sum(e - s)))
    expected = w * (e - s) / float(np.sum(w * (e - s))) * 300
    in_flare = (s >= 3e4) & (e <= 3.1e4)
    assert expected[in_flare].sum() == pytest.approx(200 + 100 / 4.5e4 * 1e3, rel=0.25)


def test_screening_keeps_a_source_that_flares_itself():
    from serendip.io.background import flare_intervals, screen_flare

    edges = np.linspace(0.0, 1e4, 11)
    excess = np.zeros(10)
    excess[6] = 1e-4  # 5 background counts expected in a 50 px^2 source
    flares = flare_intervals(edges, excess)
    assert flares[0].tolist() == [6000.0] and flares[1].tolist() == [7000.0]
    rng = np.random.default_rng(0)
    s, e, w = weighted_intervals(np.array([0.0]), np.array([1e4]), edges, excess, 50.0, 100)
    quiet = np.sort(rng.uniform(0, 1e4, 100))
    keep, s2, e2, w2, n_cut = screen_flare(quiet, s, e, w, flares)
    assert n_cut == int(np.count_nonzero((quiet >= 6000) & (quiet < 7000))) == int((~keep).sum())
    assert float(np.sum(e2 - s2)) == pytest.approx(9000.0)
    own = np.sort(np.concatenate([quiet, rng.uniform(6000, 6300, 40)]))
    keep, s3, e3, w3, n_cut = screen_flare(own, s, e, w, flares)
    assert n_cut == -1 and keep.all() and float(np.sum(e3 - s3)) == pytest.approx(1e4)
