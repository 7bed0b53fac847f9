"""The public API: a notebook does the whole demo with ``import serendip`` alone, and its
candidates equal those of the configured run (``serendip.run`` / ``serendip run``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pandas as pd

import serendip

N_SOURCES = 300
SEED = 3

#: the demo as a user writes it: only ``import serendip`` and public names
NOTEBOOK = textwrap.dedent(
    f"""
    import sys
    import numpy as np
    import serendip

    cfg = serendip.DEFAULT_CONFIG
    pop = serendip.simulate_population({N_SOURCES}, seed={SEED})
    known = pop.known_transients(cfg["input"]["known_fraction"])
    table = serendip.event_features(pop.events, pop.files)
    maps = serendip.et_maps(pop.events)                      # a representation, (n, 24, 16)
    assert maps.shape == (pop.events.n_files, 24, 16)
    feats = serendip.extract_features("events", events=pop.events, event_table=table,
                                      files=pop.files, seed={SEED})
    e = cfg["embed"]
    xy = serendip.TSNEEmbedder(perplexity=e["perplexity"], n_iter=e["n_iter"], n_jobs=-1,
                               random_state=e["random_state"], standardize=True
                               ).fit_transform(feats.features.astype(np.float64))
    c = cfg["cluster"]
    clusters = serendip.cluster_embedding(xy, "dbscan", eps=c["eps"], min_samples=c["min_samples"])
    k = cfg["candidates"]
    cands = serendip.rank_features(
        pop.events.obsreg_id, feats.features.astype(np.float64), table, known,
        clusters=clusters, embedding=xy, anomaly=k["anomaly"], k=k["k_neighbours"],
        nn_span=k["nn_span"], n_estimators=k["n_estimators"], random_state=k["random_state"],
        files=pop.files)
    cands.to_parquet(sys.argv[1])
    assert "serendip.cli" not in sys.modules
    """
)


def test_public_names_resolve_and_are_documented():
    assert len(serendip.__all__) >= 25
    for name in serendip.__all__:
        obj = getattr(serendip, name)
        if callable(obj) and not name.startswith("_"):
            assert (obj.__doc__ or "").strip(), f"serendip.{name} has no docstring"
    assert set(serendip.__all__) <= set(dir(serendip))


def test_notebook_candidates_equal_the_run(tmp_path):
    nb_out = tmp_path / "notebook.parquet"
    subprocess.run([sys.executable, "-c", NOTEBOOK, str(nb_out)], check=True)
    cfg = {"input": {"n_sources": N_SOURCES, "seed": SEED}}
    run = serendip.run(cfg, out=tmp_path / "run", stop_after="candidates")  # no report: faster
    assert isinstance(run, serendip.Run) and "candidates" in run.tables()
    ours = pd.read_parquet(nb_out)
    pd.testing.assert_frame_equal(
        ours.reset_index(drop=True), run.candidates.reset_index(drop=True), check_dtype=False
    )
    # a finished run reopens with its tables as attributes and a useful summary
    again = serendip.Run.open(tmp_path / "run")
    assert len(again.candidates) == N_SOURCES and len(again.embedding) == N_SOURCES
    assert again.events.n_files == N_SOURCES
    assert f"{N_SOURCES:,}" in repr(again) and "<table>" in again._repr_html_()
    assert again.config["input"]["seed"] == SEED


def test_run_open_rejects_a_folder_without_a_run(tmp_path):
    import pytest

    with pytest.raises(serendip.InputError, match="not a serendip run"):
        serendip.Run.open(tmp_path)
    with pytest.raises(serendip.InputError, match="no such run directory"):
        serendip.Run.open(tmp_path / "missing")


def test_import_is_lazy():
    code = "import sys, serendip; print(sorted(m for m in ('torch','pandas','sklearn','typer') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_stage_packages_are_callable():
    pop = serendip.simulate(60, seed=1)  # the package calls simulate_population
    assert pop.events.n_files == 60 and serendip.simulate.simulate_population is not None
    assert callable(serendip.classify) and callable(serendip.evaluate)
    assert "run_classify" in serendip.classify.__call__.__doc__
