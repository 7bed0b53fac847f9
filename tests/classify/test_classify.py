"""Features, UMLCAXS reproduction, votes, grouped splits, calibration, model files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.classify.boosted import ClusterBoostClassifier
from serendip.classify.calibration import IsotonicCalibrator, TemperatureScaler
from serendip.classify.features import (
    UMLCAXS_FEATURES,
    UMLCAXS_LOG,
    UMLCAXS_MINMAX,
    add_umlcaxs_columns,
    umlcaxs_features,
    xray_features,
)
from serendip.classify.gmm import elbow
from serendip.classify.metrics import classification_scores, expected_calibration_error
from serendip.classify.modelio import load_classifier, save_classifier
from serendip.classify.splits import grouped_folds
from serendip.classify.transforms import LogMinMaxScaler
from serendip.classify.umlcaxs import MahalanobisClusterClassifier, UmlcaxsClassifier
from serendip.classify.votes import source_votes
from serendip.errors import InputError, ModelFileError
from serendip.simulate.csc import toy_csc_properties


def synthetic_detections(n_src=90, seed=0):
    """CSC-like detection table: 3 classes with different spectra/variability, 1-4 detections per source."""
    rng = np.random.default_rng(seed)
    cls = np.array(["AGN", "XRB", "YSO"])[np.arange(n_src) % 3]
    ndet = rng.integers(1, 5, n_src)
    name = np.repeat([f"2CXO J{i:06d}" for i in range(n_src)], ndet)
    c = np.repeat(cls, ndet)
    n = len(c)
    ra0, dec0 = (
        np.repeat(rng.uniform(0, 360, n_src), ndet),
        np.repeat(rng.uniform(-60, 60, n_src), ndet),
    )
    jitter = 0.1 / 3600  # detections of one source within 0.1 arcsec
    df = pd.DataFrame(
        {
            "name": name,
            "obsid": np.arange(n) + 1000,
            "region_id": 1,
            "ra": ra0 + jitter * rng.normal(size=n),
            "dec": dec0 + jitter * rng.normal(size=n),
        }
    )
    df = pd.concat([df, toy_csc_properties(c, rng)], axis=1)
    df["label"] = c
    return df


def test_umlcaxs_features_and_transform():
    df = synthetic_detections()
    F = umlcaxs_features(df)
    assert list(F.columns) == UMLCAXS_FEATURES
    np.testing.assert_allclose(F["var_ratio_h"], df["var_sigma_h"] / df["var_mean_h"])
    np.testing.assert_allclose(
        F["var_newq_b"], (df["var_max_b"] + df["var_min_b"]) / 2 / df["var_mean_b"]
    )
    with pytest.raises(InputError, match="var_ratio_s"):
        add_umlcaxs_columns(df.drop(columns=["var_sigma_s"]), source="cat.csv")
    X = F.to_numpy().copy()
    X[0, UMLCAXS_FEATURES.index("bb_kt")] = 0.0  # zero survives through the floor
    log_c = [UMLCAXS_FEATURES.index(c) for c in UMLCAXS_LOG]
    mm_c = [UMLCAXS_FEATURES.index(c) for c in UMLCAXS_MINMAX]
    sc = LogMinMaxScaler(log_c, mm_c).fit(X)
    Z = sc.transform(X)
    assert np.allclose(Z[:, log_c + mm_c].min(axis=0), 0) and np.allclose(
        Z[:, log_c + mm_c].max(axis=0), 1
    )
    np.testing.assert_array_equal(Z[:, 0], X[:, 0])  # hardness ratios pass through
    j = UMLCAXS_FEATURES.index("bb_kt")
    assert sc.floor_[j] == pytest.approx(np.min(X[1:, j]) / 10)
    xf = xray_features(df)
    np.testing.assert_allclose(
        xf["hr_hm"], (df.flux_aper_h - df.flux_aper_m) / (df.flux_aper_h + df.flux_aper_m)
    )
    with pytest.raises(InputError, match="missing X-ray flux"):
        xray_features(df.drop(columns=["flux_aper_m"]), source="cat.fits")


def test_bic_elbow():
    ks = np.arange(1, 11)
    bic = np.r_[1000.0, 200 - np.arange(9)]  # one sharp drop, then flat
    assert elbow(ks, bic) == 2
    bic2 = np.r_[1000, 600, 300, 120, 100, 95, 92, 90, 89, 88.0]
    assert elbow(ks, bic2) == 4


def test_mahalanobis_min_members_rule():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (40, 3)), rng.normal(5, 1, (40, 3)), rng.normal(5, 1, (2, 3))])
    y = np.array(["A"] * 40 + ["B"] * 40 + ["C"] * 2, dtype=object)
    cl = np.zeros(len(y), dtype=int)
    m = MahalanobisClusterClassifier().fit(X, y, cl)
    p = m.predict_proba(X[:80], cl[:80])
    assert m.counts_[0].tolist() == [40, 40, 2]
    assert np.all(p[:, 2] == 0)  # class C: 2 members < 3 features -> probability 0
    assert (p.argmax(axis=1) == np.r_[np.zeros(40), np.ones(40)]).mean() > 0.95


def test_umlcaxs_reproduction_and_source_votes():
    df = synthetic_detections()
    X = umlcaxs_features(df).to_numpy()
    y = df["label"].to_numpy(dtype=object)
    y[::5] = None  # some unlabelled detections still join the mixture
    log_c = [UMLCAXS_FEATURES.index(c) for c in UMLCAXS_LOG]
    model = UmlcaxsClassifier(log_columns=log_c, minmax_columns=[3], k_range=(1, 2, 3, 4, 5)).fit(
        X, y
    )
    assert model.n_clusters_ in (1, 2, 3, 4, 5) and len(model.bic_) == 5
    proba = model.predict_proba(X)
    assert proba.shape == (len(df), 3) and np.allclose(proba.sum(axis=1), 1)
    acc = np.mean(model.classes_[proba.argmax(axis=1)] == df["label"].to_numpy())
    assert acc > 0.85
    src = source_votes(proba, df["name"].to_numpy(), model.classes_, extra=df[["ra", "dec"]])
    assert len(src) == df["name"].nunique() and src["n_detections"].sum() == len(df)
    assert {"p_AGN", "p_AGN_std", "soft_class", "hard_class", "status", "ra"} <= set(src.columns)
    assert src["p_AGN"].dtype == np.float64  # numeric, not "mean±std" text
    first = df["name"].iloc[0]
    rows = (df["name"] == first).to_numpy()
    assert src.set_index("name").loc[first, "p_YSO"] == pytest.approx(proba[rows, 2].mean())
    assert set(src["status"]) <= {"unique", "ambiguous"}
    assert (src["status"] == "unique").equals(src["soft_class"] == src["hard_class"])


def test_votes_hard_soft_disagree():
    p = np.array([[0.9, 0.1], [0.45, 0.55], [0.45, 0.55]])
    s = source_votes(p, np.array(["x", "x", "x"]), ["A", "B"])
    assert (
        s.loc[0, "soft_class"] == "A"
        and s.loc[0, "hard_class"] == "B"
        and s.loc[0, "status"] == "ambiguous"
    )
    assert s.loc[0, "hard_votes"] == pytest.approx(2 / 3)


def test_grouped_splits_never_share_a_source():
    df = synthetic_detections(n_src=60, seed=3)
    folds = grouped_folds(df["label"].to_numpy(), df["name"].to_numpy(), n_splits=5)
    assert len(folds) == 5
    test_all = np.concatenate([te for _, te in folds])
    assert np.array_equal(np.sort(test_all), np.arange(len(df)))
    for tr, te in folds:
        assert not set(df["name"].iloc[tr]) & set(df["name"].iloc[te])


def test_calibration_improves_ece_on_held_out():
    rng = np.random.default_rng(5)
    n, C = 4000, 4
    y = rng.integers(0, C, n)
    # an over-confident classifier: right 60% of the time but always ~97% sure
    pred = np.where(rng.random(n) < 0.6, y, rng.integers(0, C, n))
    logits = rng.normal(0, 0.3, (n, C))
    logits[np.arange(n), pred] += 4.0
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    fit, test = slice(0, 2000), slice(2000, None)
    before = expected_calibration_error(p[test], y[test])
    ts = TemperatureScaler().fit(p[fit], y[fit])
    iso = IsotonicCalibrator().fit(p[fit], y[fit])
    after_t = expected_calibration_error(ts.transform(p[test]), y[test])
    after_i = expected_calibration_error(iso.transform(p[test]), y[test])
    assert before > 0.15 and ts.temperature_ > 1.5
    assert after_t < 0.05 and after_i < 0.05
    np.testing.assert_allclose(iso.transform(p[test]).sum(axis=1), 1)
    # accuracy is unchanged by temperature scaling (same argmax)
    assert np.array_equal(ts.transform(p[test]).argmax(1), p[test].argmax(1))


def test_boosted_model_roundtrip_without_pickle(tmp_path):
    df = synthetic_detections(n_src=120, seed=1)
    F = xray_features(df)
    X, y, g = F.to_numpy(), df["label"].to_numpy(), df["name"].to_numpy()
    for calib in ("temperature", "isotonic"):
        m = ClusterBoostClassifier(
            n_components=3, max_iter=20, calibration=calib, calibration_folds=3
        ).fit(X, y, groups=g)
        p = m.predict_proba(X)
        assert (
            classification_scores(np.searchsorted(m.classes_, y), m.decide(p), m.classes_)[
                "balanced_accuracy"
            ]
            > 0.8
        )
        np.testing.assert_allclose(
            m.predict_proba_uncalibrated(X), m.boost_.predict_proba(m._design(X)), atol=1e-9
        )
        path = save_classifier(
            tmp_path / f"m_{calib}.safetensors", m, "xray", list(F.columns), {"note": "test"}
        )
        m2, settings, _ = load_classifier(path)
        np.testing.assert_allclose(m2.predict_proba(X), p, atol=1e-10)
        assert settings["feature_names"] == list(F.columns) and list(m2.classes_) == list(
            m.classes_
        )
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelFileError):
        load_classifier(bad)


def test_umlcaxs_model_roundtrip(tmp_path):
    df = synthetic_detections(n_src=60, seed=2)
    X = umlcaxs_features(df).to_numpy()
    m = UmlcaxsClassifier(log_columns=[4, 6, 8, 10, 11], minmax_columns=[3], n_components=3).fit(
        X, df["label"].to_numpy()
    )
    path = save_classifier(tmp_path / "u.safetensors", m, "umlcaxs", UMLCAXS_FEATURES)
    m2, _, _ = load_classifier(path)
    np.testing.assert_allclose(m2.predict_proba(X), m.predict_proba(X), atol=1e-10)


def test_cross_validate_out_of_fold_grouped():
    from serendip.classify.crossval import cross_validate

    df = synthetic_detections(n_src=90, seed=9)
    X = umlcaxs_features(df).to_numpy()
    r = cross_validate(
        lambda: UmlcaxsClassifier(
            log_columns=[4, 6, 8, 10, 11], minmax_columns=[3], n_components=2
        ),
        X,
        df["label"].to_numpy(),
        df["name"].to_numpy(),
        n_splits=3,
    )
    assert r["proba"].shape == (len(df), 3) and np.allclose(r["proba"].sum(axis=1), 1)
    assert sorted(np.concatenate([te for _, te in r["folds"]]).tolist()) == list(range(len(df)))
    assert r["scores"]["balanced_accuracy"] > 0.8 and 0 <= r["ece"] <= 1
    assert r["reliability"]["count"].sum() == len(df)


def test_toy_population_counts_offaxis_and_source_scatter():
    """Faint detections are noisier; with source_scatter, detections of one source resemble
    each other more than other sources of their class."""
    from serendip.simulate.csc import toy_csc_population

    rng = np.random.default_rng(0)
    pop = toy_csc_population(400, {"AGN": 1.0}, rng, max_detections=6, source_scatter=0.2)
    assert pop["name"].nunique() == 400 and (pop["label"] == "AGN").all()
    assert pop["theta"].between(0, 12).all() and (pop["src_cnts_aper_b"] >= 3).all()
    faint = pop["src_cnts_aper_b"] < 20
    assert pop.loc[faint, "hard_hm"].std() > 1.5 * pop.loc[~faint, "hard_hm"].std()
    same = toy_csc_population(400, {"AGN": 1.0}, np.random.default_rng(0), max_detections=6)
    spread = [p[p["src_cnts_aper_b"] > 80].groupby("name")["hard_hm"].mean().std() for p in (pop, same)]
    assert spread[0] > 1.4 * spread[1]  # bright detections: the per-source offset shows
