"""Counterpart catalogues the user crossmatches: match probability and columns as features."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from serendip.classify.counterparts import counterpart_features
from serendip.cli import app
from serendip.errors import InputError
from serendip.io.tables import read_table

from .test_classify import synthetic_detections


def _offset(ra, dec, dx_arcsec, dy_arcsec):
    return ra + dx_arcsec / 3600 / np.cos(np.radians(dec)), dec + dy_arcsec / 3600


def test_counterpart_features_probability_columns_and_missing():
    rng = np.random.default_rng(1)
    n = 300
    src = pd.DataFrame({"ra": rng.uniform(0, 360, n), "dec": rng.uniform(-60, 60, n)})
    has = np.arange(n) % 4 != 0  # every 4th source has no counterpart
    # true counterparts 0.5" (1 sigma per axis) away; far ones (3.5 sigma) get a low probability
    dx, dy = rng.normal(0, 0.5, (2, n))
    dx[1::8], dy[1::8] = 1.75, 0.0
    ra, dec = _offset(src["ra"].to_numpy(), src["dec"].to_numpy(), dx, dy)
    cat = pd.DataFrame(
        {
            "RA": ra[has],
            "DEC": dec[has],
            "rmag": 15.0 + np.arange(n)[has] / 100,
            "kind": "star",
            "err": 0.1,
        }
    )
    F, info = counterpart_features(
        src,
        cat,
        name="opt",
        columns=["rmag"],
        radius_arcsec=2.0,
        sigma_sources=0.5,
        sigma_catalog="err",
        cat_ra="RA",
        cat_dec="DEC",
        catalog_name="opt.csv",
    )
    assert list(F.columns) == ["opt_p_match", "opt_rmag"] and len(F) == n
    assert F.index.equals(src.index) and info["features"] == list(F.columns)
    # no counterpart: the column is missing (the row stays), the match probability 0
    assert F.loc[~has, "opt_rmag"].isna().all() and (F.loc[~has, "opt_p_match"] == 0).all()
    np.testing.assert_allclose(F.loc[has, "opt_rmag"], cat["rmag"])
    near = has & (np.hypot(dx, dy) < 0.7)
    far = has & (np.arange(n) % 8 == 1)
    assert F.loc[near, "opt_p_match"].min() > 0.95
    assert F.loc[far, "opt_p_match"].max() < F.loc[near, "opt_p_match"].min()
    assert info["n_matched"] == int(has.sum()) and info["false_match_fraction"] < 0.02
    # default columns: every numeric column but the coordinates and the error column
    F2, _ = counterpart_features(src, cat, sigma_catalog="err", cat_ra="RA", cat_dec="DEC")
    assert list(F2.columns) == ["cp_p_match", "cp_rmag"]
    with pytest.raises(InputError, match=r"opt.csv.*'kind'.*not numeric"):
        counterpart_features(
            src, cat, columns=["kind"], cat_ra="RA", cat_dec="DEC", catalog_name="opt.csv"
        )
    with pytest.raises(InputError, match=r"opt.csv.*'w9'"):
        counterpart_features(
            src, cat, columns=["w9"], cat_ra="RA", cat_dec="DEC", catalog_name="opt.csv"
        )


def test_classify_cli_counterparts_section_adds_match_probability_feature(tmp_path):
    df = synthetic_detections(n_src=60, seed=11)
    first = df.groupby("name").first().reset_index()
    # AGN and YSO sources have an infrared counterpart with a class-dependent colour; XRBs none
    keep = first["label"] != "XRB"
    rng = np.random.default_rng(2)
    cat = pd.DataFrame(
        {
            "ra": first.loc[keep, "ra"].to_numpy(),
            "dec": first.loc[keep, "dec"].to_numpy(),
            "w1_w2": np.where(first.loc[keep, "label"] == "AGN", 1.0, 0.2)
            + rng.normal(0, 0.05, int(keep.sum())),
        }
    )
    df.to_csv(tmp_path / "dets.csv", index=False)
    cat.to_csv(tmp_path / "ir.csv", index=False)
    (tmp_path / "c.toml").write_text(
        '[input]\npath = "dets.csv"\n[model]\nkind = "boost"\nlabel_column = "label"\n'
        "n_members = 2\nmax_leaf_nodes = 7\n"
        '[counterparts]\npath = "ir.csv"\nname = "ir"\nradius_arcsec = 1.5\n'
        "position_error_arcsec = 0.3\n"
        '[output]\nformats = ["parquet"]\nplots = false\n'
    )
    res = CliRunner().invoke(
        app, ["classify", str(tmp_path / "c.toml"), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 0, res.output
    det = read_table(tmp_path / "o" / "detections.parquet")
    assert len(det) == len(df)  # rows without a counterpart are kept
    xrb = det["label"] == "XRB"
    assert det.loc[xrb, "ir_w1_w2"].isna().all() and (det.loc[xrb, "ir_p_match"] == 0).all()
    assert det.loc[~xrb, "ir_p_match"].min() > 0.5 and det.loc[~xrb, "ir_w1_w2"].notna().all()
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    cp = summary["counterparts"]
    assert cp["features"] == ["ir_p_match", "ir_w1_w2"] and cp["n_matched"] == int(
        (~xrb).sum()
    )  # detections
    assert 0 <= cp["false_match_fraction"] < 0.05
    from serendip.classify.modelio import load_classifier

    _, settings, _ = load_classifier(tmp_path / "o" / "model.safetensors")
    assert settings["feature_names"][-2:] == ["ir_p_match", "ir_w1_w2"]
    warn = read_table(tmp_path / "o" / "warnings.csv")
    assert {"counterpart_crossmatch", "no_counterpart"} <= set(warn["code"])
    row = warn[warn["code"] == "counterpart_crossmatch"].iloc[0]
    assert "false-match fraction" in row["message"] and "ir.csv" in row["source"]
