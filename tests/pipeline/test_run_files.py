"""``serendip run`` on event files (not the built-in simulation): ingest -> report."""

from __future__ import annotations

import pandas as pd

from serendip.pipeline import load_config, run_pipeline
from serendip.simulate import simulate_population, write_fits_events


def test_run_on_fits_files_with_a_known_transient_list_and_a_bad_file(tmp_path):
    pop = simulate_population(400, seed=3)
    data = tmp_path / "data"
    write_fits_events(pop, data)
    (data / "broken_evt2.fits").write_bytes(b"SIMPLE  =   this is not a FITS file")
    flares = pop.sources.loc[pop.sources["label"].isin(["flare", "fxt"]), "obsreg_id"].head(3)
    known = tmp_path / "known.csv"
    pd.DataFrame({"obsreg_id": flares, "type": "flare"}).to_csv(known, index=False)
    cfg = load_config(
        overrides={
            "input": {"simulate": False, "paths": [str(data)], "known_transients": str(known)},
            "embed": {"n_iter": 250, "perplexity": 10.0},
            "cluster": {"eps": 1.0, "min_samples": 5},
        }
    )
    run = tmp_path / "run"
    records = run_pipeline(cfg, run, progress=False)
    assert set(records) == {
        "input",
        "represent",
        "features",
        "embed",
        "cluster",
        "candidates",
        "significance",
        "sources",
        "completeness",
        "report",
    }
    # ingested files with good-time intervals: the scrambles ran on them
    assert pd.read_parquet(run / "significance.parquet")["fap"].between(0, 1).all()
    failures = pd.read_csv(run / "failures.csv")
    assert failures["file"].str.endswith("broken_evt2.fits").tolist() == [True]
    cands = pd.read_parquet(run / "candidates.parquet")
    assert len(cands) == 400 and set(cands["obsreg_id"]) == set(pop.sources["obsreg_id"])
    assert (cands.set_index("obsreg_id").loc[list(flares), "known_type"] == "flare").all()
    assert not (run / "sources.parquet").exists()  # no truth table for real files
    assert (run / "report.html").stat().st_size > 10_000
