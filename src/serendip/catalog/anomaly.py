"""Unsupervised anomaly score of every file from its features (higher = more anomalous).

Default: an isolation forest - :class:`serendip.detect.IForest` (serendip's own,
pickle-free), or scikit-learn's ``IsolationForest`` with the sign of its
``score_samples`` flipped when that is unavailable. Any fitted-or-not
:class:`serendip.detect.BaseDetector` can be passed instead.
"""

from __future__ import annotations

import numpy as np

from serendip.embed._base import check_features


def anomaly_scores(X, detector=None, random_state: int = 0, n_estimators: int = 200) -> np.ndarray:
    """Fit a detector on all files and score them, (n_files,) float64, higher = more anomalous.

    Parameters
    ----------
    X : (n_files, n_features) features.
    detector : ``None`` / ``"iforest"`` for an isolation forest, or a detector object with
        ``fit`` and ``score_samples`` following serendip's sign convention.
    random_state, n_estimators : of the default isolation forest.
    """
    X = check_features(X)
    if detector is None or detector == "iforest":
        try:
            from serendip.detect import IForest

            det = IForest(n_estimators=n_estimators, random_state=random_state)
        except ImportError:  # pragma: no cover - detect is part of serendip
            from sklearn.ensemble import IsolationForest

            model = IsolationForest(n_estimators=n_estimators, random_state=random_state).fit(X)
            return -model.score_samples(X).astype(np.float64)
    elif isinstance(detector, str):
        from serendip.detect import make_detector

        det = make_detector(detector)
    else:
        det = detector
    if not hasattr(det, "threshold_"):
        det.fit(X)
    return np.asarray(det.score_samples(X), dtype=np.float64)


def calibrated_rank(scores: np.ndarray) -> np.ndarray:
    """Each file's fraction of files scoring at or below it, (n_files,) in (0, 1]: the
    empirical CDF of the scores, which puts detectors with different units on one scale."""
    s = np.asarray(scores, dtype=np.float64)
    order = np.sort(s)
    return np.searchsorted(order, s, side="right") / max(len(s), 1)


def combined_anomaly_scores(
    X,
    detectors=("iforest",),
    random_state: int = 0,
    n_estimators: int = 200,
    extra: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Scores of several detectors on ``X``, combined by calibrated rank.

    Each detector (names in :data:`serendip.detect.DETECTORS`; "iforest" with
    ``n_estimators`` trees) is fitted on all files and scored; each score column ``extra``
    (name -> (n_files,) score, higher = more anomalous) joins them. The combined score is the
    mean of their :func:`calibrated_rank` values (in (0, 1], higher = more anomalous); with
    one detector and no extra score it is that detector's raw score, unchanged. Ties of the
    mean are broken by the first detector's calibrated rank (added times 1e-9, smaller than
    any difference of two means, which are multiples of 1 / (n_parts * n_files), for fewer
    than 10^8 files), so two files tie only when the first detector ties too.

    Returns
    -------
    combined : (n_files,) float64.
    parts : {name: (n_files,) raw score} of each detector and extra score.
    """
    parts: dict[str, np.ndarray] = {}
    for name in detectors:
        if name == "iforest":
            parts[name] = anomaly_scores(
                X, None, random_state=random_state, n_estimators=n_estimators
            )
        else:
            parts[name] = anomaly_scores(X, name, random_state=random_state)
    for name, v in (extra or {}).items():
        parts[name] = np.asarray(v, dtype=np.float64)
    if not parts:
        raise ValueError("combined_anomaly_scores needs at least one detector or extra score")
    if len(parts) == 1:
        return next(iter(parts.values())), parts
    ranks = [calibrated_rank(v) for v in parts.values()]
    combined = np.mean(ranks, axis=0) + 1e-9 * ranks[0]
    return combined, parts
