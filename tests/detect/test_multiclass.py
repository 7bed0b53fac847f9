"""Per-class score columns: order equals classes_, matches per-class models, survives save/load."""

from __future__ import annotations

import numpy as np
import torch

from serendip.detect import (
    MCIF,
    BaseDetector,
    ClassifierLatentDetector,
    IForest,
    MultiClassDeepSVDD,
)

from .conftest import CENTRES


def test_mcif_columns_follow_classes_in_non_alphabetical_data(data, tmp_path):
    X, y, Xtest, _ = data
    assert list(dict.fromkeys(y)) == ["zeta", "alpha", "mu"]  # order of appearance is not sorted
    det = MCIF(n_estimators=40, random_state=3).fit(X, y)
    matrix, classes = det.score_matrix(Xtest)
    assert matrix.shape == (len(Xtest), 3)
    np.testing.assert_array_equal(classes, det.classes_)
    for k, cls in enumerate(classes):
        alone = IForest(n_estimators=40, random_state=3).fit(X[y == cls])
        np.testing.assert_array_equal(matrix[:, k], alone.score_samples(Xtest))
    np.testing.assert_array_equal(det.score_samples(Xtest), matrix.min(axis=1))
    # each inlier is least anomalous under the forest of its own class
    own = np.argmin(
        np.linalg.norm(Xtest[:, None, :] - CENTRES[None], axis=2), axis=1
    )  # index into CLASS_NAMES
    own_name = np.array(["zeta", "alpha", "mu"])[own]
    best = classes[np.argmin(matrix, axis=1)]
    assert np.mean(best[:150] == own_name[:150]) > 0.95
    back = BaseDetector.load(det.save(tmp_path / "m.safetensors"))
    m2, c2 = back.score_matrix(Xtest)
    np.testing.assert_array_equal(c2, classes)
    np.testing.assert_array_equal(m2, matrix)


def test_mcif_with_integer_labels(data):
    X, _, Xtest, _ = data
    labels = np.arange(len(X)) % 3 * 10 + 7  # 7, 17, 27
    det = MCIF(n_estimators=20).fit(X, labels)
    assert det.classes_.tolist() == [7, 17, 27]
    assert det.score_matrix(Xtest)[0].shape == (len(Xtest), 3)


def test_mcdsvdd_scores_with_its_training_centres(fitted, data, tmp_path):
    X, y, Xtest, _ = data
    det: MultiClassDeepSVDD = fitted["mcdsvdd"]
    assert det.centers_.shape == (3, 4)
    np.testing.assert_array_equal(det.classes_, ["alpha", "mu", "zeta"])
    Z = det.embed(Xtest)
    manual = ((Z[:, None, :] - det.centers_.numpy()[None].astype(np.float64)) ** 2).sum(axis=2)
    matrix, classes = det.score_matrix(Xtest)
    np.testing.assert_allclose(matrix, manual, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(det.score_samples(Xtest), manual.min(axis=1), rtol=1e-4, atol=1e-5)
    # training objects sit closest to their own class centre
    mtrain, _ = det.score_matrix(X)
    assert np.mean(classes[np.argmin(mtrain, axis=1)] == y) > 0.95
    back = BaseDetector.load(det.save(tmp_path / "c.safetensors"))
    assert torch.equal(back.centers_, det.centers_)


def test_latent_detector_keeps_both_options(fitted, data):
    X, y, Xtest, _ = data
    mc: ClassifierLatentDetector = fitted["latent_mcif"]
    single: ClassifierLatentDetector = fitted["latent_iforest"]
    assert (
        type(mc.latent_detector_).__name__ == "MCIF"
        and type(single.latent_detector_).__name__ == "IForest"
    )
    # the classifier learned the known classes
    assert np.mean(mc.predict_class(X) == y) > 0.95
    proba = mc.predict_proba(Xtest)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    matrix, classes = mc.score_matrix(Xtest)
    np.testing.assert_array_equal(classes, mc.classes_)
    np.testing.assert_array_equal(matrix.min(axis=1), mc.score_samples(Xtest))
    Z = single.transform(Xtest)
    assert Z.shape == (len(Xtest), 6)
    np.testing.assert_array_equal(
        single.latent_detector_.score_samples(Z), single.score_samples(Xtest)
    )
