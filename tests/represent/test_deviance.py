"""Count-aware maps (serendip.represent.deviance): scale-free for constant sources, large for
bursts, adapted time blocks, the minimum-counts rule."""

from __future__ import annotations

import numpy as np
import pytest

from serendip.errors import InputError
from serendip.represent.deviance import (
    MIN_COUNTS_FOR_TIME,
    deviance_maps,
    signed_deviance,
    squash,
    time_blocks,
)


def _constant(n_counts: float, n: int, rng) -> np.ndarray:
    """Poisson maps (n, 24, 16) of a constant source with a falling spectrum."""
    spec = np.linspace(2.0, 0.2, 16)
    mu = n_counts * spec / spec.sum() / 24
    return rng.poisson(np.broadcast_to(mu, (n, 24, 16))).astype(np.float32)


def test_constant_sources_look_alike_at_any_brightness():
    rng = np.random.default_rng(0)
    faint, bright = _constant(60, 400, rng), _constant(20_000, 400, rng)
    # the reference's raw counts differ by ~300x; the deviance maps have the same scale
    sd_faint = deviance_maps(faint).std()
    sd_bright = deviance_maps(bright).std()
    assert 0.5 < sd_faint < 1.3 and 0.8 < sd_bright < 1.3
    assert abs(sd_faint - sd_bright) < 0.4


def test_a_burst_stands_out_where_it_happens():
    rng = np.random.default_rng(1)
    m = _constant(60, 1, rng)
    m[0, 10, 3:9] += 8  # a 48-count burst in time bin 10
    d = deviance_maps(m)[0]
    assert d.shape == (24, 16) and d.dtype == np.float32
    assert d[10].max() > 4  # its time block
    assert d[10].max() == d.max()
    assert d[0].max() < d[10].max()


def test_time_blocks_follow_the_counts():
    assert time_blocks(np.array([0, 9, 10, 40, 60, 1000]), 24).tolist() == [1, 1, 2, 8, 12, 24]


def test_minimum_counts_rule_gives_zero_maps():
    m = np.zeros((2, 24, 16), np.float32)
    m[0, 3, 2] = MIN_COUNTS_FOR_TIME - 1  # all counts at one time: but too few to judge
    m[1, 3, 2] = MIN_COUNTS_FOR_TIME
    d = deviance_maps(m)
    assert not d[0].any()
    assert d[1].max() > 0


def test_cubes_keep_their_shape_and_the_groups_must_divide():
    rng = np.random.default_rng(2)
    c = rng.poisson(0.05, size=(3, 24, 16, 16)).astype(np.float32)
    assert deviance_maps(c).shape == (3, 24, 16, 16)
    with pytest.raises(InputError, match="divide"):
        deviance_maps(c, groups=3)
    with pytest.raises(InputError, match="counts"):
        deviance_maps(c[0, 0])


def test_signed_deviance_and_squash():
    d = signed_deviance(np.array([0.0, 5.0, 20.0, 3.0]), np.array([5.0, 5.0, 5.0, 0.0]))
    assert d[0] < 0 and d[1] == 0 and d[2] > 0 and d[3] == 0
    assert d[0] == pytest.approx(-np.sqrt(10.0))
    s = squash(np.array([-100.0, 0.0, 100.0]))
    assert s[1] == 0.5 and 0 <= s[0] < 0.01 and 0.99 < s[2] <= 1
