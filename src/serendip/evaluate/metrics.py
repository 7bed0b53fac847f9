"""Ranking metrics for anomaly detection: AUROC, AUPR with its random baseline, recall at budgets.

Labels: 1 = anomaly (positive), 0 = inlier. Scores: higher = more anomalous.
AUPR is scikit-learn's average precision (never ``1 - x``); its random baseline is the
prevalence of anomalies. Recall at a budget b counts the anomalies among the top
``ceil(b * n)`` scores, with ties at the cut shared out in expectation (as if ties were
broken at random), so a constant score gets recall = b on average, never more.
"""

from __future__ import annotations

import numpy as np

DEFAULT_BUDGETS = (0.01, 0.02, 0.05, 0.15)


def _check(y_true, scores) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true).astype(bool).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError(f"{y.size} labels but {s.size} scores")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contain NaN or inf")
    return y, s


def auroc(y_true, scores) -> float:
    """Area under the ROC curve (NaN when only one class is present)."""
    from sklearn.metrics import roc_auc_score

    y, s = _check(y_true, scores)
    if y.all() or not y.any():
        return float("nan")
    return float(roc_auc_score(y, s))


def aupr(y_true, scores) -> float:
    """Area under the precision-recall curve (average precision), anomalies positive."""
    from sklearn.metrics import average_precision_score

    y, s = _check(y_true, scores)
    if not y.any():
        return float("nan")
    return float(average_precision_score(y, s))


def aupr_baseline(y_true) -> float:
    """AUPR of a random ranking: the fraction of anomalies (prevalence)."""
    y = np.asarray(y_true).astype(bool)
    return float(y.mean()) if y.size else float("nan")


def recall_at_budget(y_true, scores, budget: float) -> float:
    """Fraction of all anomalies found when inspecting the top ``budget`` fraction (0-1] of objects."""
    if not 0 < budget <= 1:
        raise ValueError("budget must be in (0, 1]")
    y, s = _check(y_true, scores)
    n_pos = int(y.sum())
    if n_pos == 0:
        return float("nan")
    k = int(np.ceil(budget * y.size - 1e-9))
    if k <= 0:
        return 0.0
    order = np.sort(s)[::-1]
    cut = order[k - 1]
    above = s > cut
    tied = s == cut
    slots = k - int(above.sum())
    found = y[above].sum() + slots * y[tied].sum() / tied.sum()
    return float(found / n_pos)


def artefact_fraction_at_budget(is_artefact, scores, budget: float = 0.01) -> float:
    """Fraction of the top ``budget`` fraction (0-1] of objects that are artefacts (bogus light
    curves), ties at the cut shared out in expectation: how much of an inspection list is junk."""
    if not 0 < budget <= 1:
        raise ValueError("budget must be in (0, 1]")
    y, s = _check(is_artefact, scores)
    k = int(np.ceil(budget * y.size - 1e-9))
    if k <= 0:
        return float("nan")
    cut = np.sort(s)[::-1][k - 1]
    above, tied = s > cut, s == cut
    slots = k - int(above.sum())
    return float((y[above].sum() + slots * y[tied].sum() / tied.sum()) / k)


def artefact_metrics(is_artefact, scores, budgets=DEFAULT_BUDGETS) -> dict[str, float]:
    """``{"artefacts@1%": ..., ...}``: the fraction of each budget's top list that is artefacts
    (:func:`artefact_fraction_at_budget`); lower is better."""
    return {artefact_name(b): artefact_fraction_at_budget(is_artefact, scores, b) for b in budgets}


def artefact_name(budget: float) -> str:
    """Metric name of the artefact share of a budget's top list: 0.01 -> 'artefacts@1%'."""
    return f"artefacts@{budget * 100:g}%"


def all_metrics(y_true, scores, budgets=DEFAULT_BUDGETS) -> dict[str, float]:
    """``{"auroc", "aupr", "aupr_baseline", "recall@1%", ...}`` for one ranking."""
    out = {
        "auroc": auroc(y_true, scores),
        "aupr": aupr(y_true, scores),
        "aupr_baseline": aupr_baseline(y_true),
    }
    for b in budgets:
        out[budget_name(b)] = recall_at_budget(y_true, scores, b)
    return out


def budget_name(budget: float) -> str:
    """Metric name of a budget: 0.05 -> 'recall@5%'."""
    pct = budget * 100
    return f"recall@{pct:g}%"
