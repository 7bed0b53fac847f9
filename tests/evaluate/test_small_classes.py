"""evaluate with one- and two-member inlier classes, and loud failures (issue 17, item 4).

The label-using detectors (mcif, latent, mcdsvdd) raised on an inlier class of one training row
and were dropped from the results without a word, with exit status 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from serendip.cli import app
from serendip.evaluate import leave_one_subclass_out
from serendip.evaluate.small_classes import OTHER, merge_small_classes

DETECTORS = """
[detectors.iforest]
kind = "iforest"
params = {{ n_estimators = 20 }}

[detectors.mcif]
kind = "mcif"
params = {{ n_estimators = 20 }}

[detectors.latent]
kind = "latent"
params = {{ max_epochs = 2, hidden_sizes = [8], latent_dim = 4, n_estimators = 10 }}

[detectors.mcdsvdd]
kind = "mcdsvdd"
params = {{ max_epochs = 2, pretrain_epochs = 1, hidden_sizes = [8], rep_dim = 4 }}
"""

CONFIG = (
    """
[data]
table = "table.csv"
label = "klass"

[protocol]
seeds = [0]
held_out = ["C"]
{protocol}
"""
    + DETECTORS
)


def _table(seed=0) -> pd.DataFrame:
    """A: 40 rows, C: 20 (held out), B: one row, D: two rows (one training row after the split)."""
    rng = np.random.default_rng(seed)
    y = np.array(["A"] * 40 + ["C"] * 20 + ["B"] + ["D"] * 2)
    X = rng.normal(size=(len(y), 3)) + (y == "C")[:, None] * 4.0
    return pd.DataFrame(X, columns=["f1", "f2", "f3"]).assign(klass=y)


def _evaluate(tmp_path, protocol="", *args):
    _table().to_csv(tmp_path / "table.csv", index=False)
    (tmp_path / "cfg.toml").write_text(CONFIG.format(protocol=protocol))
    res = CliRunner().invoke(
        app, ["evaluate", str(tmp_path / "cfg.toml"), "--out", str(tmp_path / "out"),
              "--no-plot", *args],
    )  # fmt: skip
    return res, " ".join(res.output.split())


def test_one_member_inlier_class_runs_every_detector_and_says_it_merged(tmp_path):
    res, out = _evaluate(tmp_path)
    assert res.exit_code == 0, out
    results = pd.read_csv(tmp_path / "out" / "results.csv")
    assert set(results.detector) == {"iforest", "mcif", "latent", "mcdsvdd"}
    status = pd.read_csv(tmp_path / "out" / "status.csv", keep_default_na=False)
    assert (status["status"] == "ok").all() and len(status) == 4
    assert (
        status["merged"].str.contains(OTHER, regex=False).all()
        and status["merged"].str.contains("B").all()
    )
    assert "merged into" in out and "B" in out
    assert "merged" in (tmp_path / "out" / "results.md").read_text()
    warnings = pd.read_parquet(tmp_path / "out" / "warnings.parquet")
    assert "merged_small_classes" in set(warnings["code"])


def test_skip_policy_names_the_skipped_detectors_with_their_reason(tmp_path):
    res, out = _evaluate(tmp_path, 'small_classes = "skip"')
    assert res.exit_code == 0, out
    status = pd.read_csv(tmp_path / "out" / "status.csv", keep_default_na=False)
    skipped = status[status.status == "skipped"]
    assert set(skipped.detector) == {"mcif", "latent", "mcdsvdd"}
    assert skipped["reason"].str.contains("fewer than 3 training rows").all()
    for name in ("mcif skipped", "latent skipped", "mcdsvdd skipped"):
        assert name in out, out
    md = (tmp_path / "out" / "table_auroc.md").read_text()
    assert md.count("skipped") == 3  # the summary table names them, it does not drop them


def test_error_policy_is_a_named_failure_and_a_non_zero_exit(tmp_path):
    res, out = _evaluate(tmp_path, 'small_classes = "error"')
    assert res.exit_code == 1, out
    assert "mcif failed" in out and "fewer than 2 training rows" in out
    assert "--allow-failures" in out
    assert "failed" in (tmp_path / "out" / "table_auroc.md").read_text()
    status = pd.read_csv(tmp_path / "out" / "status.csv", keep_default_na=False)
    assert set(status.loc[status.status == "failed", "detector"]) == {"mcif", "latent", "mcdsvdd"}
    res, out = _evaluate(tmp_path, 'small_classes = "error"', "--allow-failures")
    assert res.exit_code == 0, out


def test_merge_of_a_single_row_joins_the_largest_class():
    y, text = merge_small_classes(np.array(["a", "a", "a", "b"]), ["b"])
    assert list(y) == ["a"] * 4 and "largest class 'a'" in text
    y, text = merge_small_classes(np.array(["a", "a", "a", "b", "c"]), ["b", "c"])
    assert list(y) == ["a", "a", "a", OTHER, OTHER] and "b, c" in text


def test_partial_failure_is_marked_next_to_the_numbers():
    calls = []

    class Flaky:
        def fit(self, X, y=None):
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("boom")
            self.mu = X.mean(0)
            return self

        def score_samples(self, X):
            return ((X - self.mu) ** 2).sum(1)

    from serendip.evaluate.report import wide_table

    df = _table()
    res = leave_one_subclass_out(
        df[["f1", "f2", "f3"]], df.klass, {"flaky": Flaky}, seeds=(0, 1), held_out=["C"],
        show_progress=False,
    )  # fmt: skip
    assert len(res.failures) == 1
    cell = wide_table(res.summary, "auroc", status=res.status).iloc[0, 0]
    assert "(1 of 2 failed)" in cell
    assert res.problems()["n_runs"].tolist() == [1]
