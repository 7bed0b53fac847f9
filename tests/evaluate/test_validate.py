"""evaluate: no silent wrong answer on bad tables, and failures are not an exit 0 (issue 15, item 9)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from serendip.cli import app

CONFIG = """
[data]
table = "table.csv"
label = "klass"
{group}

[protocol]
seeds = [0]

[detectors.iso]
kind = "sklearn.IsolationForest"
params = {{ n_estimators = 20 }}
"""


def _table(n=90, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = np.array(["A", "B", "C"])[np.arange(n) % 3]
    X = rng.normal(size=(n, 3)) + (y == "C")[:, None] * 5.0
    return pd.DataFrame(X, columns=["f1", "f2", "f3"]).assign(
        klass=y, obj=[f"o{i}" for i in range(n)]
    )


def _evaluate(tmp_path, df: pd.DataFrame, *args, group: bool = False):
    df.to_csv(tmp_path / "table.csv", index=False)
    (tmp_path / "cfg.toml").write_text(CONFIG.format(group='group = "obj"' if group else ""))
    res = CliRunner().invoke(
        app,
        [
            "evaluate",
            str(tmp_path / "cfg.toml"),
            "--out",
            str(tmp_path / "out"),
            "--no-plot",
            *args,
        ],
    )
    return res, " ".join(res.output.split())


def test_a_text_cell_in_a_numeric_column_is_an_error(tmp_path):
    """It silently dropped the whole column from the default features (21 -> 20)."""
    df = _table().astype({"f2": object})
    df.loc[17, "f2"] = "n/a?"
    res, out = _evaluate(tmp_path, df)
    assert res.exit_code == 2, out
    assert "table.csv" in out and "'f2'" in out and "1 non-numeric" in out and "row 17" in out


def test_text_only_columns_are_skipped_and_counted(tmp_path):
    res, out = _evaluate(tmp_path, _table())  # "obj" is a text column, not a feature
    assert res.exit_code == 0, out
    warn = pd.read_parquet(tmp_path / "out" / "warnings.parquet")
    row = warn[warn["code"] == "text_columns_skipped"].iloc[0]
    assert row["count"] == 1 and "obj" in row["message"]


@pytest.mark.parametrize("rows", [slice(0, 1), slice(None, None, 3)], ids=["one row", "one class"])
def test_one_row_or_one_class_is_an_error(tmp_path, rows):
    """Both gave exit 0 and "wrote 4 files" with a header-only results.csv."""
    res, out = _evaluate(tmp_path, _table().iloc[rows])
    assert res.exit_code == 2, out
    assert "'klass'" in out and "at least 2 classes" in out
    assert not (tmp_path / "out" / "results.csv").exists()


def test_no_class_that_can_be_held_out_is_an_error(tmp_path):
    df = _table().iloc[:4]  # classes of 1-2 objects
    df = df.assign(klass=["A", "B", "C", "D"])
    res, out = _evaluate(tmp_path, df)
    assert res.exit_code == 2 and "no class can be held out" in out, out


def test_conflicting_classes_per_object_are_one_error_line(tmp_path):
    """It gave a 34-line traceback."""
    df = _table()
    df.loc[5, "obj"] = "o4"  # o4 now has rows of classes B and C
    res, out = _evaluate(tmp_path, df, group=True)
    assert res.exit_code == 2 and "Traceback" not in res.output, out
    assert "'o4'" in out and "'obj'" in out and "different classes" in out


def test_a_failing_detector_is_a_row_and_a_non_zero_exit(tmp_path, monkeypatch):
    from sklearn.ensemble import IsolationForest

    def broken(self, X, y=None, **kw):
        raise RuntimeError("no convergence")

    monkeypatch.setattr(IsolationForest, "fit", broken)
    res, out = _evaluate(tmp_path, _table())
    assert res.exit_code == 1 and "no detector produced a result" in out, out
    fails = pd.read_csv(tmp_path / "out" / "failures.csv")
    assert len(fails) == 3 and fails["reason"].str.contains("no convergence").all()
    res, out = _evaluate(tmp_path, _table(), "--allow-failures")
    assert res.exit_code == 1 and "no detector produced a result" in out  # nothing at all


def test_allow_failures_accepts_partial_results(tmp_path, monkeypatch):
    from sklearn.ensemble import IsolationForest

    real = IsolationForest.fit
    calls = []

    def flaky(self, X, y=None, **kw):
        calls.append(1)
        if len(calls) % 3 == 1:  # the first run of each evaluation
            raise RuntimeError("too few rows")
        return real(self, X, y, **kw)

    monkeypatch.setattr(IsolationForest, "fit", flaky)
    df = _table()
    res, out = _evaluate(tmp_path, df)
    assert res.exit_code == 1, out
    res, out = _evaluate(tmp_path, df, "--allow-failures")
    assert res.exit_code == 0, out
    assert len(pd.read_csv(tmp_path / "out" / "results.csv"))
    assert len(pd.read_csv(tmp_path / "out" / "failures.csv"))
