"""E-t maps and E-t-dt cubes equal the per-file np.histogram2d / np.histogramdd reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.errors import InputError
from serendip.io import EventSet
from serendip.represent import SparseCubes, et_maps, etdt_cubes, maps_and_cubes
from serendip.represent.binning import energy_thresholds, linear_edges
from serendip.represent.reference import reference_et, reference_etdt

from ._events import edge_case_files, make_population


@pytest.fixture(scope="module")
def population() -> EventSet:
    ev = make_population(1100, seed=3)
    assert ev.n_files >= 1000
    return ev


@pytest.mark.parametrize("normalize", [False, True])
def test_et_maps_equal_reference(population, normalize):
    maps = et_maps(population, normalize=normalize)
    assert maps.shape == (population.n_files, 24, 16) and maps.dtype == np.float32
    for i in range(population.n_files):
        ref = reference_et(*population.events_of(i), normalize=normalize)
        assert np.array_equal(maps[i], ref), population.obsreg_id[i]


@pytest.mark.parametrize("normalize", [False, True])
def test_etdt_cubes_equal_reference(population, normalize):
    cubes = etdt_cubes(population, normalize=normalize)
    assert cubes.shape == (population.n_files, 24, 16, 16) and cubes.dtype == np.float32
    for i in range(population.n_files):
        ref = reference_etdt(*population.events_of(i), normalize=normalize)
        assert np.array_equal(cubes[i], ref), population.obsreg_id[i]


def test_edge_cases_follow_the_documented_convention():
    files = edge_case_files()
    ev = EventSet.from_arrays(files)
    idx = {k: i for i, k in enumerate(files)}
    m = et_maps(ev)
    c = etdt_cubes(ev)
    assert m[idx["empty"]].sum() == 0 and c[idx["empty"]].sum() == 0
    assert m[idx["one"]][0].sum() == 1 and m[idx["one"]].sum() == 1  # zero span -> first time bin
    assert c[idx["one"]].sum() == 0  # no gap
    assert m[idx["all_same_time"]][0].sum() == 7
    assert c[idx["all_same_time"]][0, :, 0].sum() == 6  # tau = 0 and dtau = 0
    assert c[idx["constant_dt"]][:, :, 0].sum() == 49  # constant gaps -> first dt bin
    # band edges: 500 and 7000 eV (and the values just inside) are counted, just outside not
    assert m[idx["band_edges"]].sum() == 4
    assert m[idx["band_edges"]][:, 0].sum() == 2 and m[idx["band_edges"]][:, 15].sum() == 2
    assert m[idx["all_out_of_band"]].sum() == 0
    # normalised constant map -> zeros, not NaN
    n = et_maps(ev, normalize=True)
    assert np.isfinite(n).all() and n[idx["empty"]].max() == 0
    assert n.max() == 1.0


def test_energy_thresholds_match_numpy_log10():
    thr = energy_thresholds(500.0, 7000.0, 16)
    edges = linear_edges(np.log10(500.0), np.log10(7000.0), 16)
    # every float32 near each threshold bins as numpy would
    near = np.concatenate(
        [
            np.nextafter(np.repeat(thr, 3), thr.dtype.type(0)),
            thr,
            np.nextafter(thr, thr.dtype.type(1e9)),
        ]
    )
    near = near.astype(np.float32)
    ref = np.searchsorted(edges, np.log10(near.astype(np.float64)), side="right")
    ref[np.log10(near.astype(np.float64)) == edges[-1]] -= 1
    ours = np.searchsorted(thr, near, side="right")
    assert np.array_equal(ours, ref)


def test_custom_bins_and_band(population):
    sub = population.slice_files(0, 200)
    m = et_maps(sub, t_bins=10, e_bins=5, e_min=1000.0, e_max=5000.0)
    for i in range(sub.n_files):
        ref = reference_et(*sub.events_of(i), t_bins=10, e_bins=5, e_min=1000.0, e_max=5000.0)
        assert np.array_equal(m[i], ref)
    c = etdt_cubes(sub, t_bins=6, e_bins=4, dt_bins=3)
    for i in range(sub.n_files):
        assert np.array_equal(
            c[i], reference_etdt(*sub.events_of(i), t_bins=6, e_bins=4, dt_bins=3)
        )


def test_out_array_and_chunks(population, monkeypatch, tmp_path):
    import serendip.represent.maps as maps_mod

    monkeypatch.setattr(maps_mod, "CHUNK_FILES", 97)
    expected = et_maps(population)
    mm = np.lib.format.open_memmap(
        tmp_path / "m.npy", mode="w+", dtype=np.float32, shape=expected.shape
    )
    got = et_maps(population, out=mm, progress=True)
    assert got is mm and np.array_equal(np.asarray(mm), expected)
    monkeypatch.setattr(maps_mod, "LARGE_OUTPUT_BYTES", 0)  # memory-mapped output path
    mapped = etdt_cubes(population, dense=True)
    assert not mapped.flags.owndata and mapped.flags.writeable
    for i in range(0, population.n_files, 50):
        assert np.array_equal(mapped[i], reference_etdt(*population.events_of(i)))
    with pytest.raises(InputError, match="float32 of shape"):
        et_maps(population, out=np.zeros((2, 24, 16), np.float32))


def test_absolute_time_keeps_duration_and_rate():
    rng = np.random.default_rng(5)
    t_short = np.sort(rng.uniform(0, 10_000, 100))
    t_long = np.sort(rng.uniform(0, 100_000, 1000))  # same rate, 10x longer
    e = np.full(1000, 1000.0, np.float32)
    ev = EventSet.from_arrays({"short": (t_short + 1e8, e[:100]), "long": (t_long + 1e8, e)})
    files = pd.DataFrame({"obsreg_id": ["short", "long"], "tstart": [1e8, 1e8]})
    m = et_maps(ev, time_mode="absolute", t_max=100_000.0, t_bins=10, files=files)
    per_bin = m.sum(axis=2)
    assert per_bin[0, 0] == 100 and per_bin[0, 1:].sum() == 0  # short file: all in the first 10 ks
    assert per_bin[1].sum() == 1000 and per_bin[1].min() > 50  # long file: spread over all bins
    # reference semantics: histogram of (t - tstart) over [0, t_max]
    for i in range(2):
        t, en = ev.events_of(i)
        ref, _, _ = np.histogram2d(
            t - 1e8,
            np.log10(en.astype(np.float64)),
            bins=(10, 16),
            range=[[0, 1e5], [np.log10(500), np.log10(7000)]],
        )
        assert np.array_equal(m[i], ref.astype(np.float32))
    # relative maps of the two look alike (duration lost); absolute ones differ
    rel = et_maps(ev, t_bins=10)
    assert np.abs(rel[0] / rel[0].sum() - rel[1] / rel[1].sum()).sum() < 0.5
    # without a files table the first event is the start; events beyond t_max are not counted
    m2 = et_maps(ev, time_mode="absolute", t_max=5_000.0, t_bins=5)
    assert m2[0].sum() == np.sum(t_short - t_short[0] <= 5000)


def test_log_dt_cubes_sane():
    rng = np.random.default_rng(2)
    steady = np.sort(rng.uniform(0, 1e4, 300))
    bursty = np.sort(np.concatenate([rng.uniform(0, 1e4, 150), 5000 + rng.exponential(0.5, 150)]))
    e = rng.uniform(600, 6000, 300).astype(np.float32)
    ev = EventSet.from_arrays({"steady": (steady, e), "bursty": (bursty, e)})
    c = etdt_cubes(ev, dt_mode="log")
    assert c.shape == (2, 24, 16, 16)
    assert c[0].sum() == c[1].sum() == 299
    # reference semantics with log10(max(dt, floor)), rescaled per file
    for i in range(2):
        t, en = ev.events_of(i)
        d = np.log10(np.maximum(np.diff(t), 1e-3))
        d = (d - d.min()) / (d.max() - d.min())
        tau = (t[:-1] - t[0]) / (t[-2] - t[0])
        ref, _ = np.histogramdd(
            (tau, np.log10(en[:-1].astype(np.float64)), d),
            bins=(24, 16, 16),
            range=[[0, 1], [np.log10(500), np.log10(7000)], [0, 1]],
        )
        assert np.abs(c[i] - ref).sum() <= 2  # log10 of numba and numpy may differ in the last bit
    # linear dt crowds the steady file's gaps into the lowest bins; log spreads them
    lin = etdt_cubes(ev)
    occupied_lin = (lin[0].sum(axis=(0, 1)) > 0).sum()
    occupied_log = (c[0].sum(axis=(0, 1)) > 0).sum()
    assert occupied_log > occupied_lin
    with pytest.raises(InputError, match="dt_mode"):
        etdt_cubes(ev, dt_mode="quadratic")


def test_bad_input_raises_input_error():
    with pytest.raises(InputError, match="EventSet"):
        et_maps(np.zeros((3, 2)))
    ev = EventSet.from_arrays({"a": (np.arange(3.0), np.full(3, 1000.0))})
    with pytest.raises(InputError, match="time_mode"):
        et_maps(ev, time_mode="weird")
    with pytest.raises(ValueError, match="energy band"):
        et_maps(ev, e_min=0.0)


@pytest.mark.parametrize("band", [(500.0, 7000.0, 16), (300.0, 10000.0, 7), (1000.0, 1001.0, 3)])
def test_energy_bins_equal_numpy_near_every_edge(band):
    """Energies within 300 float32 steps of every threshold, and random bit patterns
    (incl. negative, zero, huge), bin exactly as np.histogram of log10(float64(E))."""
    e_min, e_max, n = band
    thr = energy_thresholds(e_min, e_max, n)
    steps = np.arange(-300, 301, dtype=np.int64)
    near = (
        (thr.view(np.int32).astype(np.int64)[:, None] + steps[None, :])
        .ravel()
        .astype(np.int32)
        .view(np.float32)
    )
    rng = np.random.default_rng(0)
    rand = (
        rng.integers(-(2**31), 2**31 - 1, 20_000, dtype=np.int64).astype(np.int32).view(np.float32)
    )
    rand = rand[np.isfinite(rand)]
    energies = np.concatenate([near, rand, np.float32([0.0, -0.0, 1e-30, 3e38])]).astype(np.float32)
    # one file, all events at one time: the map's first time row is the energy histogram
    ev = EventSet.from_arrays({"f": (np.zeros(len(energies)), energies)})
    got = et_maps(ev, t_bins=1, e_bins=n, e_min=e_min, e_max=e_max)[0, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        eps = np.log10(energies.astype(np.float64))
    ref, _ = np.histogram(eps[np.isfinite(eps)], bins=n, range=(np.log10(e_min), np.log10(e_max)))
    np.testing.assert_array_equal(got, ref.astype(np.float32))
    assert got.sum() > 0


@pytest.mark.parametrize("normalize", [False, True])
def test_sparse_cubes_equal_dense_and_are_small(population, normalize):
    cubes = etdt_cubes(population, normalize=normalize)
    dense = etdt_cubes(population, normalize=normalize, dense=True)
    assert isinstance(cubes, SparseCubes) and cubes.shape == dense.shape
    assert cubes.data.dtype == (np.float32 if normalize else np.uint16)
    assert cubes.indices.dtype == np.uint16
    assert np.array_equal(cubes.dense(), dense) and np.array_equal(np.asarray(cubes), dense)
    # canonical CSR: sorted cells, no stored zeros
    rows = np.repeat(np.arange(cubes.n_files), np.diff(cubes.indptr))
    key = rows * cubes.n_cells + cubes.indices.astype(np.int64)
    assert np.all(np.diff(key) > 0) and np.all(cubes.data != 0)
    assert cubes.nbytes < dense.nbytes / 10
    # row access, slices, selections and batches agree with the dense array
    assert np.array_equal(cubes[7], dense[7]) and np.array_equal(cubes[-1], dense[-1])
    assert np.array_equal(cubes[3, :, 2].sum(), dense[3, :, 2].sum())
    pick = np.array([5, 0, 99, 5])
    assert np.array_equal(cubes.select(pick).dense(), dense[pick])
    assert np.array_equal(cubes[10:20].dense(), dense[10:20])
    got = np.concatenate([b.copy() for _, _, b in cubes.batches(300)])
    assert np.array_equal(got, dense)
    sp = cubes.to_scipy()
    assert sp.shape == (cubes.n_files, 6144)
    assert np.array_equal(sp.toarray(), dense.reshape(len(dense), -1))
    joined = SparseCubes.concatenate([cubes[:400], cubes[400:]])
    assert np.array_equal(joined.indptr, cubes.indptr) and np.array_equal(joined.data, cubes.data)
    assert np.array_equal(SparseCubes.from_dense(dense).dense(), dense)


def test_normalised_sparse_cube_of_a_full_cube_drops_its_minimum():
    # a file filling every cell of a tiny cube: the minimum is not 0, so min-valued cells scale to 0
    rng = np.random.default_rng(4)
    t = np.sort(rng.uniform(0, 1000, 4000))
    e = rng.uniform(600, 6000, 4000).astype(np.float32)
    ev = EventSet.from_arrays({"full": (t, e), "one": (t[:2], e[:2])})
    c = etdt_cubes(ev, t_bins=2, e_bins=2, dt_bins=2, normalize=True)
    d = etdt_cubes(ev, t_bins=2, e_bins=2, dt_bins=2, normalize=True, dense=True)
    assert np.array_equal(c.dense(), d) and d[0].min() == 0 and d[0].max() == 1
    assert c.nnz == np.count_nonzero(d)


def test_maps_and_cubes_in_one_pass_equal_separate_calls(population):
    for normalize in (False, True):
        m, c = maps_and_cubes(population, normalize=normalize, t_bins=12, e_bins=8, dt_bins=4)
        assert np.array_equal(m, et_maps(population, normalize=normalize, t_bins=12, e_bins=8))
        ref = etdt_cubes(population, normalize=normalize, t_bins=12, e_bins=8, dt_bins=4)
        assert np.array_equal(c.dense(), ref.dense()) and c.data.dtype == ref.data.dtype
    m, c = maps_and_cubes(population, dense=True)
    assert np.array_equal(c, etdt_cubes(population, dense=True))


def test_parallel_kernels_equal_sequential(population, monkeypatch):
    import serendip.represent.maps as maps_mod

    seq_m, seq_c = maps_and_cubes(population)
    seq_norm = et_maps(population, normalize=True)
    monkeypatch.setattr(maps_mod, "PARALLEL_MIN_EVENTS", 1)
    par_m, par_c = maps_and_cubes(population)
    assert np.array_equal(par_m, seq_m) and np.array_equal(par_c.data, seq_c.data)
    assert np.array_equal(par_c.indptr, seq_c.indptr)
    assert np.array_equal(et_maps(population), seq_m)
    assert np.array_equal(et_maps(population, normalize=True), seq_norm)
