"""serendip's calibrated cross-fitted classifier, decision rules, prior shift and ``--cv``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from serendip.classify.calibration import DirichletCalibrator
from serendip.classify.crossfit import CrossFitBoostClassifier
from serendip.classify.metrics import expected_calibration_error
from serendip.classify.modelio import load_classifier, save_classifier
from serendip.classify.priors import decide, em_priors, shift_priors
from serendip.cli import app

from .test_classify import synthetic_detections


def _blobs(n=600, seed=0, weights=(0.7, 0.2, 0.1)):
    """Three overlapping Gaussian classes with unequal priors; NaN in one column."""
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=weights)
    X = rng.normal(size=(n, 4)) + np.eye(3, 4)[y] * 1.5
    X[rng.random(n) < 0.2, 3] = np.nan
    return X, np.array(["A", "B", "C"])[y]


def test_crossfit_is_calibrated_and_round_trips(tmp_path):
    X, y = _blobs(900)
    m = CrossFitBoostClassifier(max_iter=40).fit(X[:600], y[:600])
    p = m.predict_proba(X[600:])
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    yi = np.searchsorted(m.classes_, y[600:])
    assert (p.argmax(1) == yi).mean() > 0.6
    assert expected_calibration_error(p, yi) < 0.1
    # uncalibrated overconfident members are corrected by the calibrator
    assert len(m.members_) == 3 and m.oof_proba_.shape == (600, 3)
    path = save_classifier(
        tmp_path / "m.safetensors", m, "xray", ["a", "b", "c", "d"], {"cv_ece": 0.1}
    )
    m2, settings, _ = load_classifier(path)
    np.testing.assert_allclose(m2.predict_proba(X[600:]), p, atol=1e-12)
    assert settings["info"]["cv_ece"] == 0.1
    # rows outside the training range are counted
    far = X[600:602].copy()
    far[0, 0] = 1e6
    assert list(m2.out_of_domain(far)) == [1, 0]


def test_dirichlet_calibrator_fixes_a_wrong_prior():
    rng = np.random.default_rng(1)
    y = rng.choice(2, size=4000, p=[0.8, 0.2])
    true_p1 = np.where(y == 1, 0.7, 0.15)  # roughly
    p1 = np.clip(true_p1 + rng.normal(0, 0.05, y.size), 0.01, 0.99)
    biased = np.column_stack([1 - p1, p1]) ** 0.3  # under-confident, then renormalised
    biased /= biased.sum(1, keepdims=True)
    cal = DirichletCalibrator().fit(biased, y)
    assert expected_calibration_error(cal.transform(biased), y) < expected_calibration_error(
        biased, y
    )


def test_decision_rules_and_prior_shift():
    P = np.array([[0.6, 0.3, 0.1], [0.5, 0.1, 0.4]])
    priors = np.array([0.8, 0.1, 0.1])
    assert list(decide(P, "argmax")) == [0, 0]
    assert list(decide(P, "balanced", priors)) == [1, 2]
    cost = np.ones((3, 3)) - np.eye(3)
    cost[2, :2] = 3.0  # missing class 2 is expensive
    assert list(decide(P, "cost", cost=cost)) == [0, 2]
    with pytest.raises(ValueError, match="cost matrix"):
        decide(P, "cost")
    Q = shift_priors(P, priors, [1 / 3] * 3)
    np.testing.assert_allclose(Q.sum(1), 1.0)
    assert Q[0, 1] > P[0, 1]


def test_em_recovers_shifted_priors():
    """Calibrated posteriors under training priors; a target sample with other priors."""
    rng = np.random.default_rng(2)
    mu = np.array([-1.5, 0.0, 1.5])
    train = np.array([0.6, 0.3, 0.1])
    target = np.array([0.1, 0.3, 0.6])
    y = rng.choice(3, size=5000, p=target)
    x = rng.normal(mu[y], 1.0)
    lik = np.exp(-0.5 * (x[:, None] - mu) ** 2)
    P = lik * train / (lik * train).sum(1, keepdims=True)  # exact posteriors, training prior
    q, adj, _ = em_priors(P, train)
    np.testing.assert_allclose(q, target, atol=0.04)
    # after the shift the probabilities are calibrated for the target: mean p ~ class fraction
    assert np.abs(adj.mean(0) - np.bincount(y, minlength=3) / len(y)).max() < 0.04
    assert np.abs(P.mean(0) - target).max() > 0.2


def test_prior_shift_calibrates_a_simulated_field_population():
    """A model trained on an even class mix, applied to a simulated CSC population with
    field priors (AGN 80%): miscalibrated as it is, calibrated after the prior correction
    (given or EM); recall and ECE stratified by net counts and off-axis angle."""
    from serendip.classify.diagnostics import strata_of, stratified_scores
    from serendip.classify.metrics import classwise_ece
    from serendip.simulate.csc import toy_csc_population

    rng = np.random.default_rng(0)
    train = toy_csc_population(900, {"AGN": 1 / 3, "XRB": 1 / 3, "YSO": 1 / 3}, rng)
    field = toy_csc_population(4000, {"AGN": 0.8, "XRB": 0.05, "YSO": 0.15}, rng)
    cols = ["hard_hm", "hard_hs", "hard_ms", "powlaw_gamma", "var_prob_b", "var_prob_s"]
    m = CrossFitBoostClassifier(max_iter=30, max_leaf_nodes=15).fit(
        train[cols].to_numpy(), train["label"].to_numpy(), groups=train["name"].to_numpy()
    )
    P = m.predict_proba(field[cols].to_numpy())
    yi = np.searchsorted(m.classes_, field["label"].to_numpy())
    q = np.array([0.8, 0.05, 0.15])
    given = shift_priors(P, m.priors_, q)
    _, em, _ = em_priors(P, m.priors_)
    truth = np.bincount(yi, minlength=3) / len(yi)
    assert np.abs(P.mean(0) - truth).max() > 0.1  # without the correction: AGN too rare
    for M in (given, em):
        # (EM re-estimates the priors from these 4,000 rows: 0.02-0.035 off the truth here)
        assert np.abs(M.mean(0) - truth).max() < 0.04
        assert classwise_ece(M, yi) < classwise_ece(P, yi) / 4
    s = stratified_scores(given, yi, given.argmax(1), m.classes_, strata_of(field))
    assert {"net counts", "off-axis angle [arcmin]"} <= set(s["stratum"])
    counts = s[s["stratum"] == "net counts"]
    # few counts, noisier measurements: XRB recall lower in the faintest bin than in the
    # brightest bin with enough rows (the last bin holds ~60 rows, a handful of XRBs)
    big = counts[counts["n"] >= 500]
    assert len(big) >= 2 and big["recall_XRB"].iloc[0] < big["recall_XRB"].iloc[-1]


def test_classify_cv_cli_writes_honest_figures(tmp_path):
    df = synthetic_detections(n_src=60, seed=3)
    # two sources carry a deliberately wrong label: the audit must rank them first
    wrong = df["name"].isin(["2CXO J000000", "2CXO J000003"])  # AGN sources
    df.loc[wrong, "label"] = "YSO"
    df["ref"] = np.where(wrong, "bad paper", "good paper")
    df["src_cnts_aper_b"] = np.exp(np.random.default_rng(0).normal(4, 1.5, len(df)))
    df.to_csv(tmp_path / "lab.csv", index=False)
    (tmp_path / "c.toml").write_text(
        '[input]\npath = "lab.csv"\n[model]\nkind = "boost"\nfeature_set = "xray"\n'
        'label_column = "label"\nlabel_reference_column = "ref"\nn_members = 2\nn_components = 2\n'
        'max_leaf_nodes = 7\nclass_weight = "none"\n'
    )
    res = CliRunner().invoke(
        app,
        ["classify", str(tmp_path / "c.toml"), "--cv", "3", "--audit", "5", "--out", str(tmp_path / "o")],
    )
    assert res.exit_code == 0, res.output
    assert "baseline HGB" in res.output and "out-of-fold" in res.output
    assert "label-noise audit" in res.output
    audit = pd.read_csv(tmp_path / "o" / "cv_label_audit.csv")
    top = audit.head(int(wrong.sum()))
    assert (top["label_provenance"] == "column label: bad paper").all()
    assert (top["most_probable"] == "AGN").all() and audit["p_label"].is_monotonic_increasing
    strat = pd.read_csv(tmp_path / "o" / "cv_stratified.csv")
    assert {"net counts", "|b| [deg]"} <= set(strat["stratum"])
    assert {"recall_AGN", "ece"} <= set(strat.columns) and strat["n"].min() >= 20
    o = tmp_path / "o"
    for f in ("cv_reliability.png", "cv_confusion.png", "cv_confusion_baseline.png"):
        assert (o / f).stat().st_size > 5000
    scores = pd.read_csv(o / "cv_scores.csv")
    assert len(scores) == 3 and scores["ece"].between(0, 1).all()
    assert {"recall_AGN", "precision_XRB"} <= set(scores.columns)
    pred = pd.read_parquet(o / "cv_predictions.parquet")
    # grouped folds: every source sits in exactly one fold
    assert (pred.groupby("name")["fold"].nunique() == 1).all()
    metrics = json.loads((o / "cv_metrics.json").read_text())
    _, settings, _ = load_classifier(o / "model.safetensors")
    assert settings["info"]["cv_ece"] == pytest.approx(metrics["rows"][0]["ece"])
    assert settings["params"]["max_leaf_nodes"] == 7 and settings["params"]["class_weight"] is None
    assert settings["info"]["cv"].startswith("3-fold stratified, grouped by source")


def test_shared_binning_trees_predict_on_raw_features_exactly():
    """Members grow their trees on shared bin indices; the exported thresholds, turned back
    into feature values, route raw rows exactly as the trees route the indices (ties, values
    outside the training range, missing values and splits on missingness included)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from serendip.classify.trees import (
        codes_to_raw,
        export_hgb,
        hgb_predict_proba,
        quantile_edges,
        to_codes,
    )

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 4))
    X[:, 1] = np.round(X[:, 1] * 3)  # few distinct values: ties on the thresholds
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nansum(X[:, :3], axis=1) > 0).astype(int) + (X[:, 3] > 1)
    X[y == 2, 2] = np.nan  # missingness alone separates a class: +inf thresholds
    tr, te = slice(0, 1000), slice(1000, None)
    edges = quantile_edges(X[tr])
    assert max(len(e) for e in edges) == 254 and len(edges[1]) < 30
    m = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(to_codes(X[tr], edges), y[tr])
    a = codes_to_raw(export_hgb(m), edges)
    assert np.isinf(a["hgb_threshold"][a["hgb_is_leaf"] == 0]).any()
    Xt = X[te].copy()
    Xt[0, 0], Xt[1, 0] = 50.0, -50.0
    np.testing.assert_array_equal(m.predict_proba(to_codes(Xt, edges)), hgb_predict_proba(a, Xt))
