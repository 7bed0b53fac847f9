"""``serendip run`` with ``[input] lightcurves``: features -> detectors -> embedding ->
candidates -> report -> explorer, as for event files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from serendip.io.tables import read_table
from serendip.simulate.optical import simulate_lightcurves


@pytest.fixture(scope="module")
def lc_run(tmp_path_factory):
    from serendip.pipeline import load_config, run_pipeline

    d = tmp_path_factory.mktemp("lcrun")
    lc, meta = simulate_lightcurves(12, ["SNIa", "RRL", "AGN"], seed=2, n_days=90)
    # the survey's own column names, one object's rows scattered through the table
    lc = lc.rename(columns={"object_id": "ID", "time": "MJD", "band": "Filter",
                            "flux": "Flux", "flux_err": "FluxErr"})  # fmt: skip
    lc.sample(frac=1.0, random_state=0).to_csv(d / "lc.csv", index=False)
    meta.rename(columns={"label": "type"})[["object_id", "type"]].head(2).to_csv(
        d / "known.csv", index=False
    )
    (d / "run.toml").write_text(
        f'[input]\nlightcurves = ["{d / "lc.csv"}"]\nknown_transients = "{d / "known.csv"}"\n'
        'lightcurve_features = "basic"\n[embed]\nperplexity = 8.0\nn_iter = 60\n'
        "[cluster]\nmin_samples = 4\n[candidates]\nk_neighbours = 4\n[report]\nn_top = 4\n"
    )
    cfg = load_config(d / "run.toml")
    assert cfg["input"]["simulate"] is False  # the light curves are the input, recorded
    run_pipeline(cfg, d / "run", progress=False)
    return d / "run", meta


def test_run_on_light_curves_gives_candidates_report_and_stated_imputation(lc_run):
    run, meta = lc_run
    cands = read_table(run / "candidates.parquet")
    assert set(cands["obsreg_id"]) == set(meta["object_id"].astype(str))  # one row per object
    assert cands["score"].notna().all() and (cands["known_type"].fillna("") != "").sum() == 2
    imp = read_table(run / "stages" / "features" / "imputation.parquet")
    assert {"column", "n_missing", "fill_value", "action"} <= set(imp.columns)
    feats = read_table(run / "stages" / "features" / "features.parquet")
    assert "n_missing_features" in feats.columns and not feats.isna().any().any()
    html = (run / "report.html").read_text()
    assert html.count("data:image/png;base64") >= 4 and "Light curves of the top 4" in html
    assert "<h3>E-t maps" not in html
    warn = read_table(run / "warnings.parquet")
    assert "default_band" not in set(warn["code"])  # the Filter column was found


def test_explorer_serves_light_curve_panel_per_band(lc_run):
    from serendip.app.server import create_app

    run, meta = lc_run
    client = TestClient(create_app(run))
    rrl = str(meta.loc[meta["label"] == "RRL", "object_id"].iloc[0])
    src = client.get(f"/api/source/{rrl}").json()
    lc = src["lightcurve"]
    assert set(lc["bands"]) == {"g", "r"} and lc["value"] == "flux"
    g = lc["bands"]["g"]
    assert len(g["t"]) == len(g["y"]) == len(g["err"]) > 5 and all(e > 0 for e in g["err"])
    if lc["period_days"] is not None:  # folded view for a periodic object
        assert len(g["phase"]) == len(g["t"]) and 0 <= min(g["phase"]) < max(g["phase"]) < 1
    assert src["et_map"] is None
    page = client.get("/static/app.js").text
    assert "opticalFigure" in page and "folded" in page


def test_periodic_object_is_folded_on_its_period():
    from serendip.represent.lc_view import lightcurve_view

    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(0, 60, 150))
    f = 100 + 30 * np.sin(2 * np.pi * t / 0.61) + rng.normal(0, 2, t.size)
    lc = pd.DataFrame({"object_id": "v", "time": t, "band": "g", "flux": f, "flux_err": 2.0})
    v = lightcurve_view(lc)
    assert v["period_days"] == pytest.approx(0.61, rel=0.01)
    assert len(v["bands"]["g"]["phase"]) == t.size
