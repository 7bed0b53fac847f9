"""Out-of-domain warning of light-curve models (issue 17, item 6): curves from another survey or
simulator setting are flagged, curves like the training ones are not; stored without pickle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from serendip.detect.lc_detect import DEFAULT_MODEL_PATH, KIND, LightCurveAnomalyDetector
from serendip.detect.lc_domain import DESCRIPTORS, DomainCheck, sequence_descriptors
from serendip.features.lc_classifier import GRUClassifier
from serendip.simulate.optical import simulate_lightcurves

torch.set_num_threads(1)
CLASSES = {"SNIa": 30, "LPV": 30, "EB": 30}


@pytest.fixture(scope="module")
def tiny():
    lc, meta = simulate_lightcurves(CLASSES, seed=5, n_days=60)
    clf = GRUClassifier(hidden_size=8, latent_size=4, max_epochs=2, batch_size=32, lr=1e-2, seed=0)
    det = LightCurveAnomalyDetector(clf, max_len=40, n_estimators=20, detector_fit_per_class=None)
    return det.fit(lc, meta)


def test_other_survey_is_flagged_and_training_like_curves_are_not(tiny, caplog):
    lc, meta = simulate_lightcurves(CLASSES, seed=6, n_days=60)  # same setting, new objects
    same = tiny.score(lc, meta)
    assert same["out_of_domain"].mean() <= 0.1
    # another survey: sparse cadence over three seasons, deeper noise floor
    lc2, meta2 = simulate_lightcurves(CLASSES, seed=7, n_days=900, cadence_days=20.0,
                                      limiting_mag=22.5)  # fmt: skip
    other = tiny.score(lc2, meta2)
    assert other["out_of_domain"].mean() >= 0.8
    assert other["domain_score"].median() > 3 * same["domain_score"].median()
    assert "out_of_domain" in caplog.text and "do not look like" in caplog.text


def test_domain_statistics_survive_save_and_load(tiny, tmp_path):
    lc, meta = simulate_lightcurves({"SNIa": 4, "EB": 4}, seed=8, n_days=60)
    back = LightCurveAnomalyDetector.load(tiny.save(tmp_path / "m.safetensors"))
    a, b = tiny.score(lc, meta), back.score(lc, meta)
    np.testing.assert_allclose(a["domain_score"], b["domain_score"], rtol=1e-6)
    assert back.domain_.threshold_ == tiny.domain_.threshold_


def test_descriptors_of_a_known_curve():
    lc = pd.DataFrame({"object_id": "a", "time": [0.0, 2.0, 4.0, 10.0], "band": ["g", "r", "g", "r"],
                       "flux": [100.0, 200.0, 100.0, 50.0], "flux_err": 10.0})  # fmt: skip
    det = LightCurveAnomalyDetector(max_len=8)
    d = dict(zip(DESCRIPTORS, sequence_descriptors(det.sequences(lc))[0], strict=True))
    assert d["log10_n_points"] == pytest.approx(np.log10(4))
    assert d["log10_span_days"] == pytest.approx(np.log10(11))
    assert d["log10_median_gap_days"] == pytest.approx(np.log10(2 + 1e-3))
    assert d["n_bands"] == 2
    check = DomainCheck().fit(np.zeros((50, 2)) + np.arange(50)[:, None] / 50)
    assert check.score(np.array([[0.5, 0.5]]))[0] == 0 and check.score(np.array([[5, 0.5]]))[0] > 1


def test_shipped_model_flags_real_ztf_curves():
    """The shipped model is trained on the simulator; real ZTF alert curves must warn."""
    from serendip.io.lightcurves import standardize_lightcurves
    from serendip.io.modelfile import load_model
    from serendip.paths import real_data_dir

    arrays, settings, _ = load_model(DEFAULT_MODEL_PATH, KIND)
    assert "domain" in settings["forest"]  # stored with the model, no pickle
    root = real_data_dir()
    if root is None:
        pytest.skip("real data folder not present")
    d = root / "lightcurve_testdata_ztf_snia_sdss_rrlyr"
    sn = pd.read_csv(d / "ztf_bts_snia_lightcurves.csv.gz", nrows=2000)
    sn = sn.replace({"band": {"R": "r"}}).rename(columns={"ztf_id": "object_id"})
    det = LightCurveAnomalyDetector(**settings["params"])  # classifier only: no forest refit
    det.classifier = GRUClassifier.from_state(arrays, settings["classifier"])
    dom = DomainCheck.from_state(arrays, settings["forest"]["domain"])
    ctx = pd.DataFrame({"object_id": sn["object_id"].unique(), "redshift": 0.0, "mw_ebv": 0.05})
    seqs = det.sequences(standardize_lightcurves(sn, d), ctx)
    score = dom.score(sequence_descriptors(seqs), det.classifier.latent(seqs))
    assert (score > dom.threshold_).mean() >= 0.8
