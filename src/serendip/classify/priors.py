"""Decision rules and class-prior shift for calibrated class probabilities.

Probabilities ``proba`` (n, C) are calibrated for the class mix they were trained under
(``train_priors``, (C,)). Two separate questions follow:

* **which class to report** (:func:`decide`): ``"argmax"`` (most probable class: the Bayes
  rule for accuracy), ``"balanced"`` (argmax of p(c|x) / prior(c): the Bayes rule for
  balanced accuracy) or ``"cost"`` (the class of least expected cost under a user's cost
  matrix). The rule never changes the probabilities;
* **what the probabilities are in another population** (:func:`shift_priors`,
  :func:`em_priors`): with class-conditional densities unchanged, p'(c|x) is proportional
  to p(c|x) q(c) / prior(c). The target priors ``q`` are given, or re-estimated on the
  unlabelled target table by EM (Saerens, Latinne & Decaestecker 2002, Neural Computation
  14, 21).
"""

from __future__ import annotations

import numpy as np

RULES = ("argmax", "balanced", "cost")
_EPS = 1e-12


def decide(proba, rule: str = "argmax", priors=None, cost=None) -> np.ndarray:
    """Class indices (n,) from probabilities ``proba`` (n, C) under a decision ``rule``.

    ``priors`` (C,) are needed for ``"balanced"``; ``cost`` (C, C), ``cost[i, j]`` = the
    cost of reporting class j when the truth is i, for ``"cost"`` (expected cost
    ``proba @ cost``, smallest wins).
    """
    proba = np.asarray(proba, dtype=np.float64)
    if rule == "argmax":
        return proba.argmax(axis=1)
    if rule == "balanced":
        if priors is None:
            raise ValueError("the balanced rule needs the training class priors")
        return (proba / np.maximum(np.asarray(priors, dtype=np.float64), _EPS)).argmax(axis=1)
    if rule == "cost":
        C = np.asarray(cost, dtype=np.float64) if cost is not None else None
        if C is None or C.shape != (proba.shape[1], proba.shape[1]):
            raise ValueError(
                f"the cost rule needs a {proba.shape[1]}x{proba.shape[1]} cost matrix "
                "(rows: true class, columns: reported class, in class order)"
            )
        return (proba @ C).argmin(axis=1)
    raise ValueError(f"decision rule must be one of {list(RULES)}, not {rule!r}")


def shift_priors(proba, train_priors, new_priors) -> np.ndarray:
    """Probabilities (n, C) re-weighted from ``train_priors`` to ``new_priors`` (both (C,))."""
    proba = np.asarray(proba, dtype=np.float64)
    w = np.asarray(new_priors, dtype=np.float64) / np.maximum(
        np.asarray(train_priors, dtype=np.float64), _EPS
    )
    q = proba * w
    return q / np.maximum(q.sum(axis=1, keepdims=True), _EPS)


def em_priors(
    proba, train_priors, tol: float = 1e-6, max_iter: int = 1000
) -> tuple[np.ndarray, np.ndarray, int]:
    """EM estimate of the class priors of an unlabelled population (Saerens et al. 2002).

    ``proba`` (n, C): calibrated probabilities of the target rows under ``train_priors``.
    Returns ``(priors, adjusted_proba, n_iter)``: the estimated priors (C,), the
    probabilities re-weighted to them (n, C) and the iterations used.
    """
    proba = np.asarray(proba, dtype=np.float64)
    p0 = np.asarray(train_priors, dtype=np.float64)
    q = p0.copy()
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        new = shift_priors(proba, p0, q).mean(axis=0)
        done = np.abs(new - q).max() < tol
        q = new
        if done:
            break
    return q, shift_priors(proba, p0, q), n_iter
