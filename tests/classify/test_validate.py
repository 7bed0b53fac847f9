"""classify refuses wholly invalid features and counts partly invalid ones (issue 15, item 8)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from serendip.classify.pipeline import run_classify
from serendip.cli import app
from serendip.errors import InputError
from serendip.notices import NoticeLog

from .test_classify import synthetic_detections

SHIPPED = {"model": {"kind": "shipped", "name": "csc_xray_grouped"}, "output": {"plots": False}}


def _run(df: pd.DataFrame, tmp_path, **cfg):
    path = tmp_path / "dets.csv"
    df.to_csv(path, index=False)
    config = {"input": {"path": str(path)}, **SHIPPED, **cfg}
    config["output"] = {"formats": ["parquet"], "plots": False}
    with NoticeLog() as log:
        summary = run_classify(config, tmp_path / "out")
    return summary, log


@pytest.fixture(scope="module")
def dets():
    return synthetic_detections(n_src=40, seed=4).drop(columns=["label"])


def test_an_all_nan_feature_column_is_an_error(dets, tmp_path):
    """Issue 15: an all-NaN powlaw_gamma changed 71 of 237 classes without a warning."""
    bad = dets.assign(powlaw_gamma=np.nan)
    with pytest.raises(InputError) as err:
        _run(bad, tmp_path)
    msg = str(err.value)
    assert "dets.csv" in msg and "'powlaw_gamma'" in msg and f"all {len(dets)} rows" in msg


def test_non_positive_fluxes_on_every_row_are_an_error(dets, tmp_path):
    """Issue 15: negative fluxes on every row made every log_flux_s NaN (144 of 237 changed)."""
    bad = dets.assign(flux_aper_s=-dets["flux_aper_s"])
    with pytest.raises(InputError) as err:
        _run(bad, tmp_path)
    msg = str(err.value)
    assert "'flux_aper_s'" in msg and "zero or negative" in msg and str(len(dets)) in msg


def test_partly_invalid_features_are_counted(dets, tmp_path):
    bad = dets.copy()
    bad.loc[:4, "flux_aper_h"] = 0.0
    bad.loc[:29, "powlaw_gamma"] = np.nan
    summary, log = _run(bad, tmp_path)
    assert summary["n_detections"] == len(dets)
    by_code = {(r.code, r.message.split("'")[1]): r for r in log.records}
    flux = by_code[("nonpositive_flux", "flux_aper_h")]
    assert flux.count == 5 and flux.total == len(dets)
    gamma = by_code[("missing_feature", "powlaw_gamma")]
    assert gamma.count == 30 and gamma.source.endswith("dets.csv")
    # a column the table does not have at all (per-detection tables have no inter-obs variability)
    absent = by_code[("absent_feature", "var_inter_prob")]
    assert absent.count == absent.total == len(dets) and absent.severity == "warning"


def test_classify_cli_writes_its_warnings_table(dets, tmp_path):
    bad = dets.copy()
    bad.loc[:2, "flux_aper_h"] = -1e-15
    bad.to_csv(tmp_path / "dets.csv", index=False)
    (tmp_path / "c.toml").write_text(
        '[input]\npath = "dets.csv"\n[model]\nkind = "shipped"\n[output]\nplots = false\n'
        'formats = ["parquet"]\n'
    )
    res = CliRunner().invoke(
        app, ["classify", str(tmp_path / "c.toml"), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 0, res.output
    warn = pd.read_parquet(tmp_path / "o" / "warnings.parquet")
    row = warn[warn["code"] == "nonpositive_flux"].iloc[0]
    assert row["count"] == 3 and "flux_aper_h" in row["message"]


def test_boosted_classifier_says_how_many_labels_it_needs(tmp_path):
    """Issue 15 item 11: it said "needs labelled rows" when it needs at least 10."""
    df = synthetic_detections(n_src=30, seed=2)
    df.loc[df.index[6:], "label"] = ""
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    cfg = {
        "input": {"path": str(path)},
        "model": {"kind": "boost", "label_column": "label"},
        "output": {"formats": ["parquet"], "plots": False},
    }
    with pytest.raises(InputError, match=r"at least 10 labelled rows, found 6"):
        run_classify(cfg, tmp_path / "out")
