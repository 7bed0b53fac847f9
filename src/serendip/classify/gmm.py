"""Gaussian-mixture clustering with the number of components chosen by the BIC elbow.

UMLCAXS fitted full-covariance mixtures for K = 1..K_max and read K at the elbow of the
BIC curve (K = 6 for CSC 2.0). :func:`bic_curve` computes the curve; :func:`elbow`
finds the knee as the point farthest below the chord joining the curve's ends
(Kneedle on the normalised curve); :func:`fit_gmm` fits the final model. GMM state is
exported as plain arrays (weights, means, covariances) for pickle-free model files.
"""

from __future__ import annotations

import numpy as np
from sklearn.mixture import GaussianMixture


def bic_curve(
    X: np.ndarray, ks, random_state: int = 42, n_init: int = 1, reg_covar: float = 1e-6
) -> np.ndarray:
    """BIC (lower is better) of a full-covariance GMM for every K in ``ks``; shape (len(ks),)."""
    X = np.asarray(X, dtype=np.float64)
    out = []
    for k in ks:  # one fit per K: a handful of fits, not a per-row loop
        gm = GaussianMixture(
            n_components=int(k),
            covariance_type="full",
            random_state=random_state,
            n_init=n_init,
            reg_covar=reg_covar,
        )
        out.append(gm.fit(X).bic(X))
    return np.asarray(out, dtype=np.float64)


def elbow(ks, bics) -> int:
    """The K at the elbow of a (mostly decreasing) BIC curve.

    Both axes are scaled to [0, 1]; the elbow is the K whose point lies farthest below
    the straight line from the first to the last point. Falls back to the BIC minimum
    when the curve has fewer than 3 points or is flat.
    """
    ks = np.asarray(ks, dtype=np.float64)
    b = np.asarray(bics, dtype=np.float64)
    if len(ks) < 3 or np.ptp(b) == 0:
        return int(ks[np.argmin(b)])
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    y = (b - b.min()) / np.ptp(b)
    chord = y[0] + (y[-1] - y[0]) * x
    return int(ks[np.argmax(chord - y)])


def fit_gmm(
    X: np.ndarray,
    n_components: int,
    random_state: int = 42,
    n_init: int = 1,
    reg_covar: float = 1e-6,
) -> GaussianMixture:
    """Fit a full-covariance GMM with ``n_components`` on (n, d) ``X``."""
    gm = GaussianMixture(
        n_components=int(n_components),
        covariance_type="full",
        random_state=random_state,
        n_init=n_init,
        reg_covar=reg_covar,
    )
    return gm.fit(np.asarray(X, dtype=np.float64))


def gmm_to_arrays(gm: GaussianMixture, prefix: str = "gmm_") -> dict[str, np.ndarray]:
    """A fitted GaussianMixture's weights, means, covariances and precisions as arrays (keys
    ``prefix`` + name).
    """
    return {
        prefix + "weights": gm.weights_,
        prefix + "means": gm.means_,
        prefix + "covariances": gm.covariances_,
    }


def gmm_from_arrays(a: dict[str, np.ndarray], prefix: str = "gmm_") -> GaussianMixture:
    """Rebuild a fitted GaussianMixture from its arrays (no refit)."""
    from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky

    w, m, c = a[prefix + "weights"], a[prefix + "means"], a[prefix + "covariances"]
    gm = GaussianMixture(n_components=len(w), covariance_type="full")
    gm.weights_, gm.means_, gm.covariances_ = w, m, c
    gm.precisions_cholesky_ = _compute_precision_cholesky(c, "full")
    gm.precisions_ = np.einsum("kij,klj->kil", gm.precisions_cholesky_, gm.precisions_cholesky_)
    gm.converged_, gm.n_iter_, gm.lower_bound_ = True, 0, 0.0
    gm.n_features_in_ = m.shape[1]
    return gm
