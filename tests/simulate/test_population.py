"""simulate_population: determinism, class sizes, counts, Poisson statistics, output layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.io import EventSet, read_table
from serendip.simulate import DEFAULT_CLASS_FRACTIONS, LABELS, class_counts, simulate_population
from serendip.simulate.population import SimulationOptions, draw_parameters


def test_same_seed_same_population_other_seed_differs():
    a = simulate_population(300, seed=5)
    b = simulate_population(300, seed=5)
    c = simulate_population(300, seed=6)
    np.testing.assert_array_equal(a.events.offsets, b.events.offsets)
    np.testing.assert_array_equal(a.events.time, b.events.time)
    np.testing.assert_array_equal(a.events.energy, b.events.energy)
    pd.testing.assert_frame_equal(a.sources, b.sources)
    assert a.events.n_events != c.events.n_events or not np.array_equal(
        a.events.time, c.events.time
    )


def test_chunking_keeps_every_chunk_valid():
    pop = simulate_population(250, seed=2, chunk_size=60)  # 5 chunks
    assert pop.events.n_files == 250
    assert (np.diff(pop.events.offsets) == pop.sources["n_events"].to_numpy()).all()
    for i in (0, 59, 60, 61, 249):
        t, _ = pop.events.events_of(i)
        assert np.all(np.diff(t) >= 0)


def test_class_sizes_are_exact(default_pop):
    n = default_pop.events.n_files
    got = default_pop.sources["label"].value_counts().to_dict()
    want = class_counts(n, DEFAULT_CLASS_FRACTIONS)
    assert {k: v for k, v in want.items() if v} == got
    for lab, frac in DEFAULT_CLASS_FRACTIONS.items():
        assert abs(got.get(lab, 0) - frac * n) <= 1
    assert set(got) <= set(LABELS)


def test_custom_fractions_and_bad_fractions():
    pop = simulate_population(101, seed=1, class_fractions={"fxt": 1.0, "steady": 3.0})
    counts = pop.sources["label"].value_counts().to_dict()
    assert counts == {"steady": 76, "fxt": 25}
    with pytest.raises(ValueError, match="unknown class"):
        simulate_population(10, class_fractions={"supernova": 1.0})
    with pytest.raises(ValueError):
        simulate_population(10, class_fractions={"fxt": -1.0, "steady": 2.0})
    with pytest.raises(TypeError, match="unknown simulation option"):
        simulate_population(10, n_photons=3)


def test_count_distribution_gives_2e7_events_for_100k_sources():
    opts = SimulationOptions()
    P = draw_parameters(100_000, 0, DEFAULT_CLASS_FRACTIONS, opts)
    lam = P["expected_counts"] + P["expected_background"]
    assert lam.sum() >= 2.0e7
    src = P["expected_counts"]
    assert src.min() >= 3.0 and src.max() <= 1.0e4
    lg = np.log10(src)
    assert abs(np.median(lg) - np.log10(90.0)) < 0.03
    assert 0.5 < lg.std() < 0.65  # log-normal width 0.6 dex, slightly narrowed by the truncation
    assert (src < 10).mean() > 0.01 and (src > 3000).mean() > 0.001  # a few counts up to thousands
    expo = P["exposure"]
    assert expo.min() >= 1e3 and expo.max() <= 1.5e5


def test_realised_counts_match_expectation(default_pop):
    s = default_pop.sources
    assert (s["n_events"] == s["n_source_events"] + s["n_background_events"]).all()
    assert (np.diff(default_pop.events.offsets) == s["n_events"]).all()
    for col in ("n_source_events", "n_background_events"):
        exp_col = "expected_counts" if col == "n_source_events" else "expected_background"
        diff = s[col].sum() - s[exp_col].sum()
        assert abs(diff) < 5 * np.sqrt(s[exp_col].sum()), col
    # per class too (each class's rate normalisation is right)
    for lab, g in s.groupby("label"):
        assert (
            abs(g["n_source_events"].sum() - g["expected_counts"].sum())
            < 5 * np.sqrt(g["expected_counts"].sum()) + 5
        ), lab


def test_steady_counts_are_poisson(default_pop):
    s = default_pop.sources
    st = s[s["label"] == "steady"]
    lam = st["expected_counts"].to_numpy()
    n = st["n_source_events"].to_numpy()
    dispersion = np.mean((n - lam) ** 2 / lam)
    assert 0.88 < dispersion < 1.12
    # within files: counts in 10 equal time bins scatter like Poisson (chi2 / dof ~ 1)
    ev = default_pop.events
    idx = np.flatnonzero(((s["label"] == "steady") & (s["n_events"] > 100)).to_numpy())
    sub = ev.select(idx)
    f = sub.file_index
    ts = s["tstart"].to_numpy()[idx][f]
    te = s["tstop"].to_numpy()[idx][f]
    b = np.minimum(((sub.time - ts) / (te - ts) * 10).astype(int), 9)
    h = np.bincount(f * 10 + b, minlength=len(idx) * 10).reshape(len(idx), 10)
    m = h.mean(axis=1, keepdims=True)
    chi2_dof = ((h - m) ** 2 / m).sum(axis=1) / 9
    assert 0.9 < chi2_dof.mean() < 1.1


def test_event_layout_and_band(default_pop):
    ev = default_pop.events
    assert ev.energy.dtype == np.float32 and ev.time.dtype == np.float64
    assert ev.energy.min() >= 500.0 and ev.energy.max() < 7000.0
    s = default_pop.sources
    f = ev.file_index
    assert (ev.time >= s["tstart"].to_numpy()[f]).all() and (
        ev.time <= s["tstop"].to_numpy()[f]
    ).all()
    sorted_within = np.diff(ev.time)[np.diff(f) == 0]
    assert (sorted_within >= 0).all()
    # times sit on the ACIS frame grid
    frac = ((ev.time - s["tstart"].to_numpy()[f]) / 3.24104) % 1.0
    assert np.allclose(frac[ev.time < s["tstop"].to_numpy()[f]], 0.5, atol=1e-4)
    assert s["obsreg_id"].is_unique
    assert (s["obsreg_id"] == s["obsid"].astype(str) + "_" + s["region"].astype(str)).all()
    files = default_pop.files
    assert list(files.columns[:10]) == [
        "obsreg_id", "telescope", "instrument", "obsid", "exposure", "tstart", "tstop", "n_events", "energy_source", "path",
    ]  # fmt: skip
    assert (files["telescope"] == "CHANDRA").all() and (files["instrument"] == "ACIS").all()
    assert np.allclose(files["tstop"] - files["tstart"], files["exposure"])
    # sources of one ObsID share the observation
    g = s.groupby("obsid")[["tstart", "exposure"]].nunique()
    assert (g == 1).all().all()


def test_not_applicable_parameters_are_nan(default_pop):
    s = default_pop.sources
    steady = s[s["label"] == "steady"]
    for col in ("t_peak", "rise", "decay", "period", "amplitude", "depth", "duration"):
        assert steady[col].isna().all(), col
    assert s.loc[s["label"] == "periodic", ["period", "amplitude"]].notna().all().all()
    assert (
        s.loc[s["label"] == "eclipse", ["period", "duration", "depth", "t_peak"]]
        .notna()
        .all()
        .all()
    )
    assert (
        s.loc[s["label"] == "flare", ["t_peak", "rise", "decay", "amplitude"]].notna().all().all()
    )
    pl = s["spectral_model"] == "powerlaw"
    assert (
        s.loc[pl, "gamma"].notna().all()
        and s.loc[~pl & (s["label"] != "fxt"), "gamma"].isna().all()
    )


def test_write_round_trip(tmp_path):
    pop = simulate_population(40, seed=3)
    paths = pop.write(tmp_path / "sim")
    assert {p.name for p in paths.values()} == {
        "events.parquet",
        "files.parquet",
        "sources.parquet",
    }
    ev = EventSet.read(paths["events"], order=list(pop.files["obsreg_id"]))
    np.testing.assert_array_equal(ev.offsets, pop.events.offsets)
    np.testing.assert_array_equal(ev.time, pop.events.time)
    src = read_table(paths["sources"])
    assert list(src["label"]) == list(pop.sources["label"])
    assert len(read_table(paths["files"])) == 40
