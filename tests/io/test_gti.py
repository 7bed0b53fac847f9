"""GTI interval algebra and event filtering against brute-force definitions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from serendip.io.gti import (
    GTISet,
    in_intervals,
    intersect_intervals,
    merge_intervals,
    total_length,
    union_intervals,
)

intervals = st.lists(
    st.tuples(st.integers(0, 50), st.integers(0, 10)).map(
        lambda p: (float(p[0]), float(p[0] + p[1]))
    ),
    min_size=0,
    max_size=8,
)


def _covered(ivs, grid):
    """Brute force: points of ``grid`` inside any closed interval."""
    m = np.zeros(len(grid), dtype=bool)
    for a, b in ivs:
        if b > a:
            m |= (grid >= a) & (grid <= b)
    return m


GRID = np.arange(-1.0, 62.0, 0.25)


@settings(max_examples=150, deadline=None)
@given(intervals)
def test_merge_matches_brute_force(ivs):
    s, e = merge_intervals(np.array([a for a, _ in ivs]), np.array([b for _, b in ivs]))
    assert np.all(np.diff(s) > 0) and np.all(e > s)
    assert np.all(s[1:] > e[:-1])  # disjoint, not touching
    np.testing.assert_array_equal(in_intervals(GRID, (s, e)), _covered(ivs, GRID))


@settings(max_examples=150, deadline=None)
@given(intervals, intervals)
def test_intersection_and_union(a, b):
    A = (np.array([x for x, _ in a]), np.array([y for _, y in a]))
    B = (np.array([x for x, _ in b]), np.array([y for _, y in b]))
    inter = intersect_intervals(A, B)
    # open interior points (quarter grid avoids touching-point degeneracy of zero-length overlaps)
    mid = GRID + 0.125
    np.testing.assert_array_equal(in_intervals(mid, inter), _covered(a, mid) & _covered(b, mid))
    np.testing.assert_array_equal(
        in_intervals(mid, union_intervals([A, B])), _covered(a, mid) | _covered(b, mid)
    )


def test_total_length_and_mask_edges():
    iv = merge_intervals(np.array([0.0, 5.0, 4.0]), np.array([2.0, 8.0, 6.0]))
    np.testing.assert_array_equal(iv[0], [0.0, 4.0])
    np.testing.assert_array_equal(iv[1], [2.0, 8.0])
    assert total_length(iv) == 6.0
    t = np.array([-0.1, 0.0, 2.0, 2.1, 3.99, 4.0, 8.0, 8.01])
    np.testing.assert_array_equal(in_intervals(t, iv), [0, 1, 1, 0, 0, 1, 1, 0])


def test_per_ccd_and_common_mask_and_ontime():
    g = GTISet(
        common=merge_intervals(np.array([0.0]), np.array([100.0])),
        per_ccd={
            0: merge_intervals(np.array([10.0]), np.array([20.0])),
            1: merge_intervals(np.array([50.0]), np.array([150.0])),
        },
    )
    t = np.array([15.0, 15.0, 60.0, 60.0, 120.0, 5.0])
    ccd = np.array([0, 1, 0, 1, 1, 2])
    np.testing.assert_array_equal(g.mask(t, ccd), [1, 0, 0, 1, 0, 0])
    assert g.ontime() == 10.0 + 50.0  # common [0,100] with union [10,20]+[50,150]
    assert g.ontime(np.array([0])) == 10.0
    assert GTISet().ontime() is None
