"""Detectors built from detectors: inner-CV tuning on inliers only, and rank-averaged ensembles.

Both have the harness interface (``fit(X, y=None)``, ``score_samples(X)``, higher = more
anomalous) and are built by :func:`serendip.evaluate.detectors.make_detector` with the kinds
``"tuned"`` and ``"rank_average"``:

* :class:`InnerCVTuned` picks a detector's settings from a small grid **using the training
  (inlier) rows only**: each inlier class with at least ``min_class_rows`` rows is in turn a
  pseudo-anomaly; the detector is fitted on ``1 - test_fraction`` of the other inlier classes'
  rows and scores the rest of them plus the pseudo-anomaly class; the settings with the best
  mean AUROC over the pseudo-anomaly classes are refitted on every training row. The held-out
  (true anomaly) class is never seen, so the choice cannot leak into the outer evaluation. With
  fewer than two usable inlier classes there is nothing to tune on: the first grid point (the
  detector's defaults unless the grid says otherwise) is used and ``tuned_by_`` says so.
* :class:`RankAverage` fits each member on the same rows and scores a batch by the mean of the
  members' rank percentiles *within that batch* (so members of different score scales weigh the
  same). Scores are relative to the batch scored; score the whole test set at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def _grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    keys = list(grid)
    return [dict(zip(keys, vals, strict=True)) for vals in itertools.product(*grid.values())]


def _uses_labels(det) -> bool:
    from serendip.evaluate.small_classes import needs_labels

    return needs_labels(det)


class InnerCVTuned:
    """A detector whose settings are chosen by leave-one-inlier-class-out on the training rows.

    Parameters
    ----------
    detector : kind of the tuned detector (any :func:`make_detector` kind but these two).
    grid : setting -> candidate values; every combination is tried (keep it small).
    params : fixed settings of the detector.
    min_class_rows : an inlier class needs this many rows to serve as a pseudo-anomaly.
    test_fraction : fraction of the other classes' rows scored with the pseudo-anomaly.
    random_state : seed of the inner splits (and of the detector when it takes one).

    Attributes after ``fit``: ``best_params_`` (the chosen grid point), ``cv_scores_``
    (list of (grid point, mean inner AUROC or NaN)), ``tuned_by_`` (a sentence), ``model_``.
    """

    def __init__(
        self,
        detector: str,
        grid: Mapping[str, Sequence[Any]] | None = None,
        params: Mapping[str, Any] | None = None,
        min_class_rows: int = 10,
        test_fraction: float = 0.25,
        random_state: int | None = 0,
    ):
        self.detector = detector
        self.grid = dict(grid or {})
        self.params = dict(params or {})
        self.min_class_rows = min_class_rows
        self.test_fraction = test_fraction
        self.random_state = random_state
        self.needs_labels = _uses_labels(self._make({}))

    def _make(self, point: Mapping[str, Any]):
        from serendip.evaluate.detectors import make_detector
        from serendip.evaluate.protocol import _set_seed

        det = make_detector(self.detector, {**self.params, **point})
        if self.random_state is not None and "random_state" not in {**self.params, **point}:
            _set_seed(det, self.random_state)
        return det

    def _fit_one(self, det, X, y):
        return det.fit(X, y) if self.needs_labels else det.fit(X)

    def fit(self, X, y=None):
        """Choose the settings on (X (n, d), y (n,) inlier classes), then refit on all rows."""
        from serendip.evaluate.metrics import auroc

        X = np.asarray(X, dtype=np.float64)
        points = _grid_points(self.grid) or [{}]
        self.cv_scores_: list[tuple[dict[str, Any], float]] = []
        yv = None if y is None else np.asarray(y).astype(str)
        pseudo = []
        if yv is not None:
            classes, counts = np.unique(yv, return_counts=True)
            pseudo = [c for c, n in zip(classes, counts, strict=True) if n >= self.min_class_rows]
            if len(classes) < 2:
                pseudo = []
        if len(points) > 1 and pseudo:
            rng = np.random.default_rng(self.random_state)
            folds = []
            for c in pseudo:
                rest = np.flatnonzero(yv != c)
                test_rest = rng.random(rest.size) < self.test_fraction
                folds.append((rest[~test_rest], np.r_[rest[test_rest], np.flatnonzero(yv == c)],
                              c))  # fmt: skip
            for point in points:
                aucs = []
                for tr, te, c in folds:
                    try:
                        det = self._fit_one(
                            self._make(point), X[tr], None if yv is None else yv[tr]
                        )
                        aucs.append(auroc(yv[te] == c, det.score_samples(X[te])))
                    except Exception:  # noqa: BLE001 - a grid point that fails is not chosen
                        aucs.append(np.nan)
                good = np.isfinite(aucs)
                self.cv_scores_.append((point, float(np.mean(np.asarray(aucs)[good])) if good.any()
                                        else float("nan")))  # fmt: skip
            means = np.array([m for _, m in self.cv_scores_])
            best = int(np.nanargmax(means)) if np.isfinite(means).any() else 0
            self.best_params_ = points[best]
            self.tuned_by_ = (
                f"best mean inner AUROC {means[best]:.3f} over {len(pseudo)} inlier classes held "
                f"out in turn ({len(points)} grid points)"
            )
        else:
            self.best_params_ = points[0]
            self.tuned_by_ = (
                "not tuned: a single grid point"
                if len(points) == 1
                else f"not tuned: fewer than 2 inlier classes with >= {self.min_class_rows} rows"
            )
        self.model_ = self._fit_one(self._make(self.best_params_), X, yv)
        return self

    def score_samples(self, X) -> np.ndarray:
        """The refitted detector's scores, (n,), higher = more anomalous."""
        return np.asarray(self.model_.score_samples(np.asarray(X, dtype=np.float64)), dtype=float)


def rank_percentiles(scores: np.ndarray) -> np.ndarray:
    """Ranks of ``scores`` (n,) scaled to (0, 1], ties sharing their mean rank."""
    from scipy.stats import rankdata

    s = np.asarray(scores, dtype=np.float64)
    return rankdata(s, method="average") / max(s.size, 1)


class RankAverage:
    """Mean rank percentile (within the scored batch) of several detectors.

    Parameters
    ----------
    members : list of ``kind`` strings, ``[kind, params]`` pairs or ``{"kind":, "params":}``
        tables (any :func:`make_detector` kind, ``"tuned"`` included).
    random_state : seed given to members that take one (unless their params set it).
    """

    def __init__(self, members: Sequence[Any], random_state: int | None = 0):
        if not members:
            raise ValueError("rank_average needs at least one member")
        self.members = list(members)
        self.random_state = random_state
        self.needs_labels = any(_uses_labels(m) for m in self._build())

    def _build(self) -> list:
        from serendip.evaluate.detectors import make_detector
        from serendip.evaluate.protocol import _set_seed

        out = []
        for m in self.members:
            if isinstance(m, str):
                kind, params = m, {}
            elif isinstance(m, Mapping):
                kind, params = m["kind"], dict(m.get("params", {}))
            else:
                kind, params = m[0], dict(m[1]) if len(m) > 1 else {}
            det = make_detector(kind, params)
            if self.random_state is not None and "random_state" not in params:
                _set_seed(det, self.random_state)
            out.append(det)
        return out

    def fit(self, X, y=None):
        """Fit every member on X (n, d) (labels y to those that use them); returns self."""
        X = np.asarray(X, dtype=np.float64)
        self.models_ = self._build()
        for det in self.models_:
            det.fit(X, y) if _uses_labels(det) else det.fit(X)
        return self

    def score_samples(self, X) -> np.ndarray:
        """Mean of the members' rank percentiles over the rows of X, (n,), in (0, 1]."""
        X = np.asarray(X, dtype=np.float64)
        ranks = [rank_percentiles(det.score_samples(X)) for det in self.models_]
        return np.mean(ranks, axis=0)
