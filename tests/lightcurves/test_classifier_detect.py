"""GRU classifier, classifier-latent detector, prefix scores, Custom path, shipped model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from serendip.detect.lc_detect import (
    DEFAULT_MODEL_PATH,
    CustomLatentDetector,
    LightCurveAnomalyDetector,
    load_default,
    score_lightcurves,
)
from serendip.errors import InputError, ModelFileError
from serendip.features.lc_classifier import GRUClassifier
from serendip.simulate.optical import simulate_lightcurves

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny():
    """A tiny detector trained on 3 well-separated classes (a few seconds on one thread)."""
    lc, meta = simulate_lightcurves({"SNIa": 24, "LPV": 24, "EB": 24}, seed=11, n_days=40)
    clf = GRUClassifier(hidden_size=8, latent_size=4, max_epochs=3, batch_size=32, lr=1e-2, seed=0)
    det = LightCurveAnomalyDetector(clf, max_len=32, n_estimators=30, detector_fit_per_class=None)
    det.fit(lc, meta)
    return det, lc, meta


def test_training_is_seeded_and_loss_recorded(tiny):
    det, lc, meta = tiny
    assert 1 <= det.classifier.history_["epochs_run"] <= 3
    assert list(det.classes_) == ["EB", "LPV", "SNIa"]
    clf2 = GRUClassifier(hidden_size=8, latent_size=4, max_epochs=3, batch_size=32, lr=1e-2, seed=0)
    det2 = LightCurveAnomalyDetector(
        clf2, max_len=32, n_estimators=30, detector_fit_per_class=None
    ).fit(lc, meta)
    a, b = det.score(lc, meta), det2.score(lc, meta)
    np.testing.assert_allclose(a["score"], b["score"], rtol=1e-5)
    proba = a[[f"p_{c}" for c in det.classes_]].to_numpy()
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)


def test_prefix_scores_one_per_prefix_and_last_equals_whole(tiny):
    det, lc, meta = tiny
    ids = meta["object_id"].iloc[[0, 30]].tolist()
    sub = lc[lc.object_id.isin(ids)]
    hist = det.score_prefixes(sub, meta)
    n_obs = sub.groupby("object_id").size().clip(upper=32)
    assert hist.groupby("object_id").size().reindex(n_obs.index).tolist() == n_obs.tolist()
    for oid, h in hist.groupby("object_id"):
        assert h["n_obs"].tolist() == list(range(1, n_obs[oid] + 1))
        assert np.all(np.diff(h["time"]) > 0)
    whole = det.score(sub, meta).set_index("object_id")["score"]
    last = hist.groupby("object_id")["score"].last()
    np.testing.assert_allclose(last.reindex(whole.index), whole, rtol=1e-6)


def test_custom_module_matches_builtin_latents(tiny, tmp_path):
    """The Custom path (forward hook on a named layer, prefixes as a batch) reproduces the built-in one."""
    det, lc, meta = tiny
    net = det.classifier.net_
    custom = CustomLatentDetector(net, "latent", use_context=True, max_len=32, n_estimators=30)
    custom.fit(lc, meta)
    seqs = det.sequences(lc, meta)
    np.testing.assert_allclose(custom._latents(seqs), det.classifier.latent(seqs), atol=1e-5)
    sub = lc[lc.object_id == meta.object_id.iloc[5]]
    a = custom.score_prefixes(sub, meta)
    # same forest settings and data -> the same prefix scores as the built-in detector refitted alike
    det_same = LightCurveAnomalyDetector(
        det.classifier, max_len=32, n_estimators=30, detector_fit_per_class=None
    )
    det_same._fit_forest(
        det.classifier.latent(seqs),
        meta.set_index("object_id").loc[seqs.object_ids, "label"].to_numpy(),
    )
    b = det_same.score_prefixes(sub, meta)
    np.testing.assert_allclose(a["score"], b["score"], atol=1e-6)
    fig = custom.plot_real_time(lc, meta.object_id.iloc[5], meta, path=tmp_path / "rt.png")
    assert (tmp_path / "rt.png").stat().st_size > 1000 and len(fig.axes) == 2
    with pytest.raises(InputError, match="no layer"):
        CustomLatentDetector(net, "nope")


def test_save_load_roundtrip_and_mcif(tiny, tmp_path):
    det, lc, meta = tiny
    p = det.save(tmp_path / "m.safetensors")
    back = LightCurveAnomalyDetector.load(p)
    np.testing.assert_allclose(
        back.score(lc, meta)["score"], det.score(lc, meta)["score"], rtol=1e-6
    )
    m = LightCurveAnomalyDetector(det.classifier, detector="mcif", max_len=32, n_estimators=20)
    m._fit_forest(det.classifier.latent(det.sequences(lc, meta)), meta["label"].to_numpy())
    Z = m.fit_latents_.astype(float)
    mat = m.forest_.score_matrix(Z)
    assert mat.shape == (len(Z), 3) and list(m.forest_.classes_) == ["EB", "LPV", "SNIa"]
    # column j is the forest of classes_[j]: objects of class j are least anomalous in column j on average
    for j, c in enumerate(m.forest_.classes_):
        assert np.argmin(mat[m.fit_labels_ == c].mean(0)) == j
    np.testing.assert_allclose(m.forest_.score(Z), mat.min(1))
    (tmp_path / "junk.safetensors").write_bytes(b"not a model")
    with pytest.raises(ModelFileError):
        LightCurveAnomalyDetector.load(tmp_path / "junk.safetensors")


def test_shipped_model_loads_and_scores():
    assert DEFAULT_MODEL_PATH.is_file() and DEFAULT_MODEL_PATH.stat().st_size < 3 * 2**20
    det = load_default()
    lc, meta = simulate_lightcurves({"SNIa": 3, "RRL": 3, "SLSN": 2}, seed=99, n_days=150)
    out = score_lightcurves(lc, meta)
    assert len(out) == 8 and np.all(np.isfinite(out["score"]))
    assert set(out["predicted_class"]) <= set(det.classes_)
    # context may be omitted (filled with defaults); mags are accepted too
    mags = lc[lc.flux > 0].assign(
        mag=lambda d: 23.9 - 2.5 * np.log10(d.flux), mag_err=lambda d: 1.0857 * d.flux_err / d.flux
    )
    out2 = score_lightcurves(mags.drop(columns=["flux", "flux_err"]))
    assert len(out2) == 8 and np.all(np.isfinite(out2["score"]))
    hist = det.score_prefixes(lc[lc.object_id == meta.object_id[0]], meta)
    assert len(hist) == min((lc.object_id == meta.object_id[0]).sum(), det.max_len)


def test_fit_rejects_missing_labels():
    lc, meta = simulate_lightcurves({"SNIa": 4, "EB": 4}, seed=1, n_days=30)
    det = LightCurveAnomalyDetector(
        GRUClassifier(hidden_size=4, latent_size=2, max_epochs=1), max_len=16
    )
    with pytest.raises(InputError, match="no label"):
        det.fit(lc, meta.iloc[:3])
    with pytest.raises(InputError):
        det.fit(lc, pd.DataFrame({"object_id": meta.object_id}))
