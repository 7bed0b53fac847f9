"""Survey quality fields (rb, drb, nbad, distnr, sgscore) as counted filters and as features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from serendip.errors import InputError
from serendip.io.lightcurves import parse_quality_filter, read_lightcurves, standardize_lightcurves
from serendip.notices import NoticeLog
from serendip.represent.lc_features import quality_features


def _alerts():
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame({"objectId": np.repeat(["ZTFa", "ZTFb", "ZTFc"], n // 3),
                         "mjd": 59000 + np.tile(np.arange(n // 3), 3) * 1.5, "fid": 1,
                         "magpsf": 19 + rng.normal(0, 0.1, n), "sigmapsf": 0.1, "isdiffpos": "t",
                         "rb": np.r_[np.full(20, 0.9), np.full(20, 0.2), np.r_[np.nan, np.full(19, 0.8)]],
                         "nbad": np.r_[np.zeros(39), 3, np.zeros(20)],
                         "sgscore1": np.r_[np.full(20, 0.99), np.full(40, 0.01)]})  # fmt: skip


def test_quality_filters_drop_and_count_and_fields_become_features():
    raw = _alerts()
    with NoticeLog() as log:
        t = standardize_lightcurves(raw, "alerts.csv", quality_filters=["rb >= 0.55", "nbad==0"])
    qf = {r.message.split(" (")[0]: r.count for r in log.records if r.code == "quality_filter"}
    assert qf == {"filter rb >= 0.55": 20, "filter nbad == 0": 1}
    drop = sum(r.count for r in log.records if r.code == "drop_quality_filter")
    assert drop == 20  # the nbad row is also a low-rb row: dropped once
    assert set(t["object_id"]) == {"ZTFa", "ZTFc"} and len(t) == 40  # the NaN-rb row is kept
    assert any("1 detections have no value" in r.message for r in log.records)
    q = quality_features(t)
    assert q.loc["ZTFa", "q_rb_median"] == pytest.approx(0.9)
    assert q.loc["ZTFa", "q_sgscore_median"] == pytest.approx(0.99)
    assert q.loc["ZTFc", "q_nbad_max"] == 0.0
    with pytest.raises(InputError, match="no drb column"):
        standardize_lightcurves(raw, "alerts.csv", quality_filters=["drb > 0.5"])
    with pytest.raises(InputError, match="unknown field"):
        standardize_lightcurves(raw, "alerts.csv", quality_filters=["snr > 5"])
    assert parse_quality_filter(" distnr<1.5 ") == ("distnr", "<", 1.5)


def test_alerce_export_with_filters_through_the_cli(real_data, tmp_path):
    d = real_data / "alerce_lc_classifier_examples"
    det, non = d / "30_sne_detections_corr.csv.gz", d / "30_sne_non_detections.csv.gz"
    if not det.exists():
        pytest.skip("ALeRCE examples not present")
    raw = pd.read_csv(det)
    with NoticeLog() as log:
        t = read_lightcurves([det, non], quality_filters=["drb >= 0.9"])
    expect = int((raw["drb"] < 0.9).sum())
    assert sum(r.count for r in log.records if r.code == "drop_quality_filter") == expect > 0
    assert (t.loc[~t["is_upper_limit"], "drb"].dropna() >= 0.9).all()  # no value: kept, counted
    from serendip.cli import app

    out = tmp_path / "f.parquet"
    r = CliRunner().invoke(app, ["lightcurves", str(det), str(non), "--out", str(out),
                                 "-q", "drb >= 0.9", "--quality-features", "--features", "basic",
                                 "--no-progress"])  # fmt: skip
    assert r.exit_code == 0, r.output
    f = pd.read_parquet(out)
    assert {"q_rb_median", "q_drb_median", "q_nbad_max", "q_distnr_median",
            "q_sgscore_median"} <= set(f.columns) and (f["q_drb_median"].dropna() >= 0.9).all()  # fmt: skip
