"""serendip.et_map / etdt_cube / dedt_map on one event list equal the run's batch functions."""

from __future__ import annotations

import numpy as np

import serendip


def test_single_source_representations_equal_the_batch_ones():
    pop = serendip.simulate_population(60, seed=4)
    ev = pop.events
    i = 7
    t, e = ev.events_of(i)
    shuffled = np.random.default_rng(0).permutation(len(t))
    m = serendip.et_map(t[shuffled], e[shuffled])  # any order
    np.testing.assert_array_equal(m, np.asarray(serendip.et_maps(ev))[i])
    cubes = serendip.etdt_cubes(ev)
    dense = cubes.toarray() if hasattr(cubes, "toarray") else np.asarray(cubes)
    np.testing.assert_array_equal(serendip.etdt_cube(t, e), dense[i])
    np.testing.assert_array_equal(serendip.dedt_map(t, e), np.asarray(serendip.dedt_maps(ev))[i])
    assert m.shape == (24, 16) and m.sum() > 0
