"""Deep detectors: Deep SVDD does not collapse, VAE scores averaged and seeded, early stopping."""

from __future__ import annotations

import numpy as np

from serendip.detect import VAE, Autoencoder, DeepSVDD


def test_deep_svdd_loss_falls_and_scores_vary(fitted, data):
    X, _, Xtest, _ = data
    det: DeepSVDD = fitted["deepsvdd"]
    hist = det.loss_history_
    assert len(hist) >= 2
    assert hist[-1] < 0.8 * hist[0]  # SVDD phase reduces the loss from the warm start
    assert det.pretrain_history_["train_loss"][-1] < det.pretrain_history_["train_loss"][0]
    # no bias anywhere in phi (a bias allows the trivial collapsed solution)
    assert all("bias" not in name for name, _ in det.nets_.phi.named_parameters())
    scores = det.score_samples(Xtest)
    assert np.std(scores) > 1e-3 * np.mean(scores)
    assert len(np.unique(np.round(scores, 8))) > 0.9 * len(scores)
    assert np.all(np.abs(det.center_.numpy()) >= det.eps - 1e-7)


def test_vae_score_is_mean_over_draws_and_seeded(data):
    X, _, Xtest, _ = data
    kw = {"hidden_sizes": (16,), "latent_dim": 3, "max_epochs": 10, "batch_size": 64}
    a = VAE(n_draws=12, random_state=5, **kw).fit(X)
    b = VAE(n_draws=12, random_state=5, **kw).fit(X)
    draws = a.score_draws(Xtest)
    assert draws.shape == (len(Xtest), 12)
    assert np.all(draws.std(axis=1) > 0)  # the draws differ: it is not one random sample
    np.testing.assert_allclose(a.score_samples(Xtest), draws.mean(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(
        a.score_samples(Xtest), b.score_samples(Xtest)
    )  # same seed, same scores
    np.testing.assert_array_equal(a.score_samples(Xtest), a.score_samples(Xtest))  # repeatable
    # a row's score does not depend on the batch it is scored in
    np.testing.assert_allclose(
        a.score_samples(Xtest[::-1])[::-1], a.score_samples(Xtest), rtol=1e-5
    )
    np.testing.assert_allclose(a.score_samples(Xtest[:1]), a.score_samples(Xtest)[:1], rtol=1e-5)
    c = VAE(n_draws=12, random_state=6, **kw).fit(X)
    assert not np.array_equal(c.score_samples(Xtest), a.score_samples(Xtest))


def test_autoencoder_early_stopping_and_validation(data):
    X, _, _, _ = data
    det = Autoencoder(
        hidden_sizes=(16,), latent_dim=3, max_epochs=300, patience=2, lr=0.05, batch_size=64
    ).fit(X)
    hist = det.history_
    assert len(hist["val_loss"]) < 301 and hist["stopped_early"]  # stopped before max_epochs
    best = int(np.argmin(hist["val_loss"]))
    assert best == hist["best_epoch"]
    assert len(hist["val_loss"]) - 1 - best == 2  # exactly `patience` epochs without improvement
    assert hist["val_loss"][best] < hist["val_loss"][0]


def test_deep_models_are_seeded(data):
    X, _, Xtest, _ = data
    kw = {
        "hidden_sizes": (16,),
        "rep_dim": 4,
        "max_epochs": 5,
        "pretrain_epochs": 5,
        "batch_size": 64,
    }
    s1 = DeepSVDD(random_state=1, **kw).fit(X).score_samples(Xtest)
    s2 = DeepSVDD(random_state=1, **kw).fit(X).score_samples(Xtest)
    np.testing.assert_array_equal(s1, s2)
