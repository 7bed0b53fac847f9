"""The train-detector and detect commands end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from serendip.cli import app
from serendip.io import tables

runner = CliRunner()


def _table(data, tmp_path):
    X, y, Xtest, is_out = data
    train = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]).assign(cls=y, extra="x")
    test = pd.DataFrame(Xtest, columns=[f"f{i}" for i in range(6)]).assign(
        obj_id=[f"o{i}" for i in range(len(Xtest))]
    )
    tables.write_table(train, tmp_path / "train.parquet")
    tables.write_table(test, tmp_path / "test.csv")
    return tmp_path / "train.parquet", tmp_path / "test.csv"


def test_train_and_detect(data, tmp_path):
    _, _, Xtest, is_out = data
    train, test = _table(data, tmp_path)
    model = tmp_path / "m.safetensors"
    r = runner.invoke(
        app,
        [
            "train-detector",
            str(train),
            "--detector",
            "mcif",
            "--features",
            "f0,f1,f2",
            "--features",
            "f3",
            "-f",
            "f4,f5",
            "--label-column",
            "cls",
            "--param",
            "n_estimators=30",
            "--out",
            str(model),
        ],
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / "scores.parquet"
    png = tmp_path / "scores.png"
    r = runner.invoke(app, ["detect", str(model), str(test), "--out", str(out), "--plot", str(png)])
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = tables.read_table(out)
    assert list(res.columns[:4]) == ["obj_id", "score", "rank", "anomaly"]
    assert {"score_alpha", "score_mu", "score_zeta"} <= set(res.columns)
    np.testing.assert_array_equal(res["obj_id"], [f"o{i}" for i in range(len(Xtest))])
    assert sorted(res["rank"]) == list(range(1, len(res) + 1))
    assert res.loc[res["rank"] == 1, "score"].item() == res["score"].max()
    top = res.nsmallest(int(is_out.sum()), "rank").index
    assert is_out[top].mean() > 0.9
    np.testing.assert_allclose(
        res["score"], res[["score_alpha", "score_mu", "score_zeta"]].min(axis=1)
    )


def test_cli_errors_are_one_line(data, tmp_path):
    train, test = _table(data, tmp_path)
    model = tmp_path / "m.safetensors"
    r = runner.invoke(
        app, ["train-detector", str(train), "-d", "mcif", "-f", "f0,f1", "--out", str(model)]
    )
    assert r.exit_code == 2 and "--label-column" in r.output and "Traceback" not in r.output
    r = runner.invoke(
        app, ["train-detector", str(train), "-d", "iforest", "-f", "f0,nope", "--out", str(model)]
    )
    assert r.exit_code == 2 and "nope" in r.output
    r = runner.invoke(
        app, ["train-detector", str(train), "-d", "iforest", "-f", "f0,extra", "--out", str(model)]
    )
    assert r.exit_code == 2 and "not numeric" in r.output
    r = runner.invoke(
        app, ["train-detector", str(train), "-d", "iforest", "-f", "f0,f1", "--out", str(model)]
    )
    assert r.exit_code == 0, r.output
    model.write_bytes(model.read_bytes()[:100])
    r = runner.invoke(app, ["detect", str(model), str(test), "--out", str(tmp_path / "s.csv")])
    assert r.exit_code == 2 and "m.safetensors" in r.output


def test_detect_refuses_missing_values(data, tmp_path):
    train, test = _table(data, tmp_path)
    model = tmp_path / "m.safetensors"
    assert (
        runner.invoke(
            app, ["train-detector", str(train), "-d", "knn", "-f", "f0,f1", "--out", str(model)]
        ).exit_code
        == 0
    )
    df = tables.read_table(test)
    df.loc[4, "f1"] = np.nan
    tables.write_table(df, test)
    r = runner.invoke(app, ["detect", str(model), str(test), "--out", str(tmp_path / "s.csv")])
    assert r.exit_code == 2 and "row 4" in r.output
    r = runner.invoke(
        app, ["detect", str(model), str(test), "--out", str(tmp_path / "s.csv"), "--drop-missing"]
    )
    assert r.exit_code == 0
    assert len(tables.read_table(tmp_path / "s.csv")) == len(df) - 1
