"""Leave-one-subclass-out: held-out class never trained on, tables in every format, CLI on a tiny config."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from serendip.evaluate.protocol import leave_one_subclass_out


class _Recorder:
    """A detector that records what it was trained on (distance to the training mean as score)."""

    seen: list[tuple[np.ndarray, np.ndarray]] = []

    def fit(self, X, y=None):
        _Recorder.seen.append((X.copy(), None if y is None else np.asarray(y).copy()))
        self.mu = X.mean(0)
        return self

    def score_samples(self, X):
        return np.linalg.norm(X - self.mu, axis=1)


def _blobs(seed=0):
    rng = np.random.default_rng(seed)
    centres = {"A": (0, 0), "B": (4, 0), "C": (0, 4), "D": (30, 30)}
    sizes = {"A": 120, "B": 100, "C": 80, "D": 20}
    X = np.concatenate([rng.normal(centres[c], 1.0, size=(n, 2)) for c, n in sizes.items()])
    y = np.concatenate([[c] * n for c, n in sizes.items()])
    X = np.c_[
        X, 1000 + 0 * X[:, 0]
    ]  # a marker column: training rows are recognisable by their index
    return X, y


def test_held_out_class_never_in_training_and_far_class_is_found():
    X, y = _blobs()
    X[:, 2] = np.arange(len(y))  # row index, to check which rows each detector saw
    _Recorder.seen = []
    res = leave_one_subclass_out(
        X, y, {"rec": _Recorder}, seeds=(0, 1), scale=None, show_progress=False
    )
    assert len(_Recorder.seen) == 2 * 4
    runs = res.runs
    for (Xtr, ytr), (_, row) in zip(
        _Recorder.seen, runs[runs.metric == "auroc"].iterrows(), strict=True
    ):
        held = row["held_out_class"]
        assert held not in set(ytr)
        assert not np.any(y[Xtr[:, 2].astype(int)] == held)
    s = res.summary.set_index(["held_out_class", "metric"])
    assert s.loc[("D", "auroc"), "mean"] > 0.95  # the far-away class is an obvious anomaly
    assert s.loc[("D", "aupr"), "mean"] > s.loc[("D", "aupr_baseline"), "mean"]
    assert set(res.summary.columns) >= {"held_out_class", "detector", "metric", "mean", "std"}


def test_hierarchy_branch_mode_trains_within_branch():
    X, y = _blobs()
    X[:, 2] = np.arange(len(y))
    _Recorder.seen = []
    hier = {"left": ["A", "B"], "right": ["C", "D"]}
    res = leave_one_subclass_out(
        X, y, {"rec": _Recorder}, hierarchy=hier, seeds=(0,), scale=None, show_progress=False
    )
    helds = res.runs[res.runs.metric == "auroc"]["held_out_class"].tolist()
    for (_, ytr), held in zip(_Recorder.seen, helds, strict=True):
        branch = [b for b, subs in hier.items() if held in subs][0]
        assert set(ytr) == set(hier[branch]) - {held}


def test_pyod_and_sklearn_baselines_and_tables(tmp_path):
    X, y = _blobs()
    dets = {
        "pyod_iforest": ("pyod.IForest", {"n_estimators": 50}),
        "pyod_ecod": "pyod.ECOD",
        "sk_if": ("sklearn.IsolationForest", {"n_estimators": 50}),
    }
    res = leave_one_subclass_out(X, y, dets, seeds=(0, 1), held_out=["D", "A"], show_progress=False)
    assert not res.failures
    assert (res.summary.query("held_out_class == 'D' and metric == 'auroc'")["mean"] > 0.9).all()
    paths = res.write(tmp_path)
    df = pd.read_csv(tmp_path / "results.csv")
    assert list(df.columns) == ["held_out_class", "detector", "metric", "mean", "std"]
    assert set(df.detector) == set(dets)
    for name in (
        "table_auroc.csv",
        "table_auroc.md",
        "table_auroc.tex",
        "table_aupr.md",
        "results.md",
        "results.tex",
        "results.png",
        "runs.csv",
    ):
        assert (tmp_path / name).is_file() and (tmp_path / name).stat().st_size > 0, name
    md = (tmp_path / "table_aupr.md").read_text()
    assert "random (prevalence)" in md and "**" in md
    assert "\\begin{tabular}" in (tmp_path / "table_auroc.tex").read_text()
    assert "results.png" in paths


def test_failing_detector_is_recorded_not_fatal():
    class Broken:
        def fit(self, X, y=None):
            raise ValueError("boom")

    X, y = _blobs()
    res = leave_one_subclass_out(
        X, y, {"broken": Broken, "ok": _Recorder}, seeds=(0,), held_out=["D"], show_progress=False
    )
    assert len(res.failures) == 1 and "boom" in res.failures[0][1]
    assert set(res.summary.detector) == {"ok"}


def test_cli_evaluate_tiny_config(tmp_path):
    from serendip.cli import app

    X, y = _blobs()
    df = pd.DataFrame(X[:, :2], columns=["f1", "f2"]).assign(
        klass=y, obj=[f"o{i // 2}" if c == "A" else f"p{i}" for i, c in enumerate(y)]
    )
    df.loc[3, "f1"] = np.nan  # imputed, not fatal
    df.to_csv(tmp_path / "table.csv", index=False)
    (tmp_path / "cfg.toml").write_text(
        """
[data]
table = "table.csv"
label = "klass"
group = "obj"

[protocol]
seeds = [0, 1]
held_out = ["D", "C"]

[detectors.pyod_knn]
kind = "pyod.KNN"

[detectors.iso]
kind = "sklearn.IsolationForest"
params = { n_estimators = 30 }
"""
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path / "cfg.toml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    res = pd.read_csv(out / "results.csv")
    assert set(res.held_out_class) == {"D", "C"} and set(res.detector) == {"pyod_knn", "iso"}
    assert (out / "results.png").is_file()
    # a bad config is a one-line error, exit code 2
    (tmp_path / "bad.toml").write_text("[data]\ntable='table.csv'\n")
    bad = CliRunner().invoke(app, ["evaluate", str(tmp_path / "bad.toml"), "--out", str(out)])
    assert bad.exit_code == 2 and "label" in bad.output


def test_unknown_detector_kind_is_a_config_error():
    from serendip.errors import ConfigError
    from serendip.evaluate.detectors import make_detector

    with pytest.raises(ConfigError):
        make_detector("NoSuchDetector")
    with pytest.raises(ConfigError):
        make_detector("pyod.NoSuchThing")


def test_median_fill_of_missing_features_is_a_counted_notice():
    from serendip.notices import NoticeLog

    X, y = _blobs()
    X[:5, 0] = np.nan
    X[7, 1] = np.inf
    df = pd.DataFrame(X, columns=["flux", "hr", "marker"])
    with NoticeLog() as log:
        res = leave_one_subclass_out(df, y, {"rec": _Recorder}, seeds=(0,), show_progress=False)
    recs = [r for r in log.records if r.code == "imputed_missing"]
    assert len(recs) == 1 and recs[0].count == 6 and recs[0].total == X.size
    assert "flux (5)" in recs[0].message and "hr (1)" in recs[0].message
    assert "marker" not in recs[0].message
    assert np.isfinite(res.runs["value"].dropna()).all()
    with NoticeLog() as log:
        leave_one_subclass_out(_blobs()[0], y, {"rec": _Recorder}, seeds=(0,), show_progress=False)
    assert not [r for r in log.records if r.code == "imputed_missing"]
