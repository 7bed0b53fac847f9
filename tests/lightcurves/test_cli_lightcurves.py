"""``serendip lightcurves``: a survey-style table to a feature table, exclusions and warnings."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from serendip.cli import build_app
from serendip.simulate.optical import simulate_lightcurves


def _table(tmp_path):
    lc, _ = simulate_lightcurves(2, ["SNIa", "RRL"], seed=1, n_days=60)
    # survey-style column names, rows shuffled (an object's rows not contiguous)
    lc = lc.sample(frac=1.0, random_state=0).rename(
        columns={"object_id": "ID", "time": "MJD", "band": "Filter", "flux": "Flux",
                 "flux_err": "FluxErr"}
    )  # fmt: skip
    short = pd.DataFrame(
        {"ID": ["short"] * 3, "MJD": [1.0, 2.0, 3.0], "Filter": ["g"] * 3,
         "Flux": [10.0, 11.0, 12.0], "FluxErr": [1.0, 1.0, 1.0]}
    )  # fmt: skip
    bad = short.assign(ID="short", MJD=[4.0, 5.0, 6.0], FluxErr=[np.nan, 0.0, 1.0])
    p = tmp_path / "lc.csv"
    pd.concat([lc, short, bad]).to_csv(p, index=False)
    return p, lc["ID"].nunique()


def test_lightcurves_verb_writes_features_exclusions_and_warnings(tmp_path):
    p, n_sim = _table(tmp_path)
    out = tmp_path / "feat" / "features.parquet"
    res = CliRunner().invoke(build_app(["lightcurves"]), ["lightcurves", str(p), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "features/s" in res.output and "excluded" in res.output
    feats = pd.read_parquet(out)
    assert len(feats) == n_sim + 1 and "short" in feats.index
    # the short curve is missing, not median-filled
    assert feats.loc["short"].isna().all()
    assert feats.notna().any(axis=1).sum() >= 2  # the simulated curves have features
    objects = pd.read_parquet(out.with_name("features_objects.parquet"))
    assert objects.loc["short", "excluded"] and "fewer than 5" in objects.loc["short", "reason"]
    assert objects.loc["short", "n_points"] == 4  # 3 + the one good row of the second block
    assert (objects["excluded"] == feats.isna().all(axis=1)).all()
    warn = pd.read_parquet(out.parent / "warnings.parquet")
    codes = dict(zip(warn["code"], warn["count"], strict=False))
    assert codes["drop_nan"] == 1 and codes["drop_nonpositive_err"] == 1
    assert codes["object_excluded"] == int(objects["excluded"].sum())
    missing = warn[warn["code"] == "feature_missing"].set_index("source")["count"]
    assert (missing == feats.isna().sum()[missing.index]).all()
    assert set(missing.index) == set(feats.columns[feats.isna().any()])


def test_lightcurves_verb_bad_table_is_one_line_error(tmp_path):
    p = tmp_path / "x.csv"
    pd.DataFrame({"ID": ["a"], "MJD": [1.0]}).to_csv(p, index=False)
    res = CliRunner().invoke(
        build_app(["lightcurves"]), ["lightcurves", str(p), "--out", str(tmp_path / "f.parquet")]
    )
    assert res.exit_code == 2 and "no flux or mag" in res.output and "['ID', 'MJD']" in res.output
