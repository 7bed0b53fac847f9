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
