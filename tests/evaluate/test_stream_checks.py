"""Stream-realism checks (issue 17, item 8): artefact light curves and the share of the top list
they take, periods on the window function's aliases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.evaluate.metrics import artefact_fraction_at_budget
from serendip.represent.lc_window import alias_check, spectral_window
from serendip.simulate.lc_artefacts import inject_artefacts


def _nightly(n_obj=6, seed=0):
    """Constant sources observed once a night (same hour +- 30 min) for 200 nights."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_obj):
        t = np.sort(rng.choice(200, 80, replace=False) + 0.3 + rng.uniform(-0.02, 0.02, 80))
        rows.append(pd.DataFrame({"object_id": f"o{i}", "time": t, "band": "g",
                                  "flux": 100 + rng.normal(0, 2, t.size), "flux_err": 2.0}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def test_window_function_and_aliases():
    lc = _nightly()
    t = lc.loc[lc.object_id == "o0", "time"].to_numpy()
    assert spectral_window(t, [1.0])[0] > 0.9 and spectral_window(t, [0.37])[0] < 0.2
    periods = {"o0": 1.0005, "o1": 0.5, "o2": 29.6, "o3": 3.7, "o4": 0.31, "o5": 1 / (1 / 0.9973)}
    out = alias_check(periods, lc)
    assert out.loc["o0", "nearest_alias"] == "solar day" and out.loc["o0", "is_alias"]
    assert out.loc["o1", "nearest_alias"] == "solar day x2"
    assert out.loc["o2", "nearest_alias"] == "lunar month"
    assert not out.loc["o3", "is_alias"] and out.loc["o3", "nearest_alias"] == ""
    assert out["window_power"].between(0, 1).all()


def test_artefacts_and_their_share_of_the_top_list():
    hosts = _nightly(10)
    rows, labels = inject_artefacts(hosts, 9, seed=1)
    assert labels["artefact_kind"].value_counts().to_dict() == {
        "dipole": 3, "crossing": 3, "bad_epoch": 3}  # fmt: skip
    dev = rows.assign(z=(rows.flux - 100).abs() / rows.flux_err).groupby("object_id")["z"].max()
    assert (dev > 15).all()  # every artefact has an epoch far off its host's level
    dip = rows[rows.object_id.str.endswith("dipole")]
    assert (dip.flux < 60).any() or (dip.flux > 140).any()
    bad = rows[rows.object_id.str.endswith("bad_epoch")]
    low = bad.loc[bad.flux < 60, "time"].round()
    assert low.nunique() <= 3  # the same bad nights in every curve
    is_art = np.r_[np.ones(5), np.zeros(95)]
    scores = np.r_[np.full(5, 10.0), np.linspace(0, 1, 95)]
    assert artefact_fraction_at_budget(is_art, scores, 0.05) == 1.0
    assert artefact_fraction_at_budget(is_art, -scores, 0.05) == 0.0
    assert artefact_fraction_at_budget(is_art, np.zeros(100), 0.1) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="unknown artefact"):
        inject_artefacts(hosts, 3, kinds=["ghost"])


class _Centre:
    """Distance to the training mean (records the training labels)."""

    seen: list = []

    def fit(self, X, y=None):
        _Centre.seen.append(None if y is None else set(np.asarray(y)))
        self.mu = X.mean(0)
        return self

    def score_samples(self, X):
        return np.linalg.norm(X - self.mu, axis=1)


def _mixed(seed=0):
    """Common A, B; rare R (moderately far); artefacts J (very far: they top any distance list)."""
    rng = np.random.default_rng(seed)
    spec = {"A": ((0, 0), 300), "B": ((3, 0), 200), "R": ((0, 6), 30), "artefact": ((40, 40), 20)}
    X = np.concatenate([rng.normal(c, 1.0, (n, 2)) for c, n in spec.values()])
    y = np.concatenate([[k] * n for k, (_, n) in spec.items()])
    return X, y


def test_artefact_class_is_scored_as_junk_never_trained_or_held_out():
    from serendip.evaluate.protocol import leave_one_subclass_out

    X, y = _mixed()
    _Centre.seen = []
    res = leave_one_subclass_out(X, y, {"centre": _Centre}, seeds=(0,), train_mode="all",
                                 show_progress=False, artefact_class="artefact")  # fmt: skip
    assert set(res.summary.held_out_class) == {"A", "B", "R"}  # never held out
    assert all("artefact" not in s for s in _Centre.seen)  # never trained on
    s = res.summary.set_index(["held_out_class", "metric"])["mean"]
    # 20 artefacts far away fill the whole top 1% (k <= 20) of every ranking
    assert s[("R", "artefacts@1%")] == 1.0 and s[("R", "recall@1%")] == 0.0
    run = res.runs[(res.runs.metric == "auroc") & (res.runs.held_out_class == "R")].iloc[0]
    assert run["n_test"] >= 20 + 30  # all artefacts and all of R are in the test set
    with pytest.raises(Exception, match="cannot be held out"):
        leave_one_subclass_out(X, y, {"c": _Centre}, held_out=["artefact"], seeds=(0,),
                               show_progress=False, artefact_class="artefact")  # fmt: skip


def test_stream_mix_keeps_proportions_and_reports_the_top_list():
    from serendip.evaluate.stream import draw_mix, stream_mix

    X, y = _mixed()
    idx = draw_mix(y, np.arange(y.size), {"A": 0.6, "B": 0.3, "R": 0.05, "artefact": 0.05}, None, 0)
    counts = pd.Series(y[idx]).value_counts()
    assert counts["A"] == 2 * counts["B"] and counts["R"] == counts["artefact"] == 20
    _Centre.seen = []
    res = stream_mix(X, y, {"centre": _Centre}, anomalies=["R"], artefact_class="artefact",
                     mix={"A": 0.6, "B": 0.3, "R": 0.05, "artefact": 0.05}, seeds=(0, 1))  # fmt: skip
    assert all(s == {"A", "B"} for s in _Centre.seen)  # known classes only
    s = res.summary.set_index("metric")["mean"]
    assert s["artefacts@1%"] == 1.0 and s["anomalies@1%"] == 0.0
    assert s["auroc"] > 0.9  # R is found, behind the artefacts
    assert s["anomalies@15%"] > 0.1
    assert res.settings["mix"][0]["R"] == 10  # half of each class is in the test split


def test_cli_evaluate_reports_the_artefact_share(tmp_path):
    from typer.testing import CliRunner

    from serendip.cli import app

    X, y = _mixed()
    pd.DataFrame(X, columns=["f1", "f2"]).assign(klass=y).to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "c.toml").write_text('[data]\ntable = "t.csv"\nlabel = "klass"\n[protocol]\n'
                                     'seeds = [0]\ntrain_mode = "all"\n[detectors.knn]\n'
                                     'kind = "pyod.KNN"\n')  # fmt: skip
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["evaluate", str(tmp_path / "c.toml"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "artefacts" in r.output and "artefacts@1%" in r.output
    art = pd.read_csv(out / "artefacts.csv").set_index("detector")
    assert art.loc["knn", "artefacts@1%"] == 1.0
    # named but absent: an error, not a silent plain evaluation
    (tmp_path / "c2.toml").write_text((tmp_path / "c.toml").read_text().replace(
        'train_mode = "all"', 'train_mode = "all"\nartefact_class = "bogus"'))  # fmt: skip
    r2 = CliRunner().invoke(app, ["evaluate", str(tmp_path / "c2.toml"), "--out", str(out)])
    assert r2.exit_code != 0 and "bogus" in r2.output
