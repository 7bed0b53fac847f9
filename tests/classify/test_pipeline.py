"""``serendip classify`` end to end, the shipped model, and its use on real CSC tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from serendip.cli import app
from serendip.io.tables import read_table

from .test_classify import synthetic_detections


def _write_config(tmp_path, body: str):
    cfg = tmp_path / "classify.toml"
    cfg.write_text(body)
    return cfg


def test_classify_cli_with_shipped_model(tmp_path):
    df = synthetic_detections(n_src=40, seed=4).drop(columns=["label"])
    df.to_csv(tmp_path / "mine.csv", index=False)
    cfg = _write_config(
        tmp_path,
        '[input]\npath = "mine.csv"\n[model]\nkind = "shipped"\nname = "csc_xray_grouped"\n',
    )
    res = CliRunner().invoke(app, ["classify", str(cfg), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    out = tmp_path / "out"
    for stem in ("detections", "sources"):
        for ext in (".parquet", ".fits", ".csv", ".vot"):
            assert (out / f"{stem}{ext}").stat().st_size > 0
    for png in ("hardness_variability.png", "bic.png", "reliability.png"):
        assert (out / png).stat().st_size > 5000
    det = read_table(out / "detections.parquet")
    src = read_table(out / "sources.parquet")
    pcols = ["p_AGN", "p_STAR_CV_NS", "p_XRB", "p_YSO"]
    assert all(det[c].dtype == np.float64 for c in pcols)
    np.testing.assert_allclose(det[pcols].sum(axis=1), 1.0, atol=1e-9)
    assert len(det) == len(df) and len(src) == df["name"].nunique()
    assert set(det["class"]) <= {"AGN", "STAR_CV_NS", "XRB", "YSO"}
    fits_src = read_table(out / "sources.fits")
    np.testing.assert_allclose(fits_src["p_AGN"], src["p_AGN"])


def test_classify_cli_umlcaxs_with_crossmatched_labels(tmp_path):
    df = synthetic_detections(n_src=90, seed=6)
    lab = df.groupby("name").first().reset_index()
    simbad = {"AGN": "QSO", "XRB": "HXB", "YSO": "TT*"}
    labels = pd.DataFrame(
        {"ra": lab["ra"], "dec": lab["dec"], "main_type": lab["label"].map(simbad)}
    )
    labels.loc[::10, "main_type"] = "Star"  # uninformative SIMBAD type: stays unlabelled
    labels.loc[5::10, "main_type"] = "TT?"  # candidate type: excluded by the config
    df.drop(columns=["label"]).to_parquet(tmp_path / "dets.parquet")
    labels.to_csv(tmp_path / "simbad.csv", index=False)
    cfg = _write_config(
        tmp_path,
        '[input]\npath = "dets.parquet"\n[model]\nkind = "umlcaxs"\nfeature_set = "umlcaxs"\n'
        'n_components = "bic"\n[labels]\npath = "simbad.csv"\notype_column = "main_type"\nradius_arcsec = 1.0\n'
        'exclude_candidates = true\nposition_error_arcsec = 0.3\n'
        '[output]\nformats = ["parquet", "csv"]\n',
    )
    res = CliRunner().invoke(app, ["classify", str(cfg), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    det = read_table(tmp_path / "o" / "detections.parquet")
    assert {"cluster", "p_HMXB", "p_QSO", "p_TTau_", "label"} <= set(det.columns)
    # every label carries its provenance; candidate types were dropped and counted
    has = det["label"].notna() & (det["label"] != "")
    assert det.loc[has, "label_provenance"].str.startswith("SIMBAD type via simbad.csv").all()
    assert (det.loc[has, "label_quality"] == "secure").all()
    assert not det.loc[has, "label_otype"].isin(["TT?", "Star"]).any()
    assert det.loc[has, "label_p_match"].between(0.5, 1).all()
    warn = read_table(tmp_path / "o" / "warnings.csv")
    assert {"candidate_labels_dropped", "label_crossmatch"} <= set(warn["code"])
    assert (tmp_path / "o" / "bic.png").exists()
    # the labelled rows are the training rows: no in-sample reliability diagram or ECE
    assert not (tmp_path / "o" / "reliability.png").exists()
    assert "ece" not in (tmp_path / "o" / "summary.json").read_text()
    truth = df["label"].map({"AGN": "QSO", "XRB": "HMXB", "YSO": "TTau*"}).to_numpy()
    assert np.mean(det["class"].to_numpy() == truth) > 0.8


def test_classify_cli_bad_inputs_give_clear_errors(tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        app, ["classify", str(tmp_path / "none.toml"), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2 and "no such config file" in res.output
    pd.DataFrame({"name": ["a"], "ra": [1.0]}).to_csv(tmp_path / "bad.csv", index=False)
    cfg = _write_config(tmp_path, '[input]\npath = "bad.csv"\n')
    res = runner.invoke(app, ["classify", str(cfg), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "bad.csv" in res.output and "missing X-ray flux" in res.output
    cfg = _write_config(tmp_path, '[input]\npath = "bad.csv"\n[model]\nkind = "magic"\n')
    res = runner.invoke(app, ["classify", str(cfg), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "model.kind = 'magic': unknown value; allowed: shipped" in res.output


@pytest.mark.realdata
def test_shipped_model_on_real_muwclass_table(real_data):
    from serendip.catalog.simbad_types import GROUPED
    from serendip.classify.features import xray_features
    from serendip.classify.modelio import load_shipped

    d = read_table(real_data / "csc_muwclass_training_set" / "TD_2022.csv")
    model, settings, extra = load_shipped("csc_xray_grouped")
    assert settings["feature_set"] == "xray" and settings["info"]["cv"].startswith("5-fold")
    X = xray_features(d, source="TD_2022.csv")[settings["feature_names"]].to_numpy()
    p = model.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-9)
    pred = model.classes_[model.decide(p)]
    truth = d["True_Class"].map(GROUPED).to_numpy()
    # the 2022 table overlaps the training table, so this checks the pipeline, not generalisation
    assert np.mean(pred == truth) > 0.6
    assert extra["rel_count"].sum() > 3000
