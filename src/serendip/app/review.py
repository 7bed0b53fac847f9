"""Candidate review order: the static ranking or an active-learning re-ranking from labels.

Labels map to the ranker's targets as: "interesting" and any known-transient type -> 1,
"not interesting" and "artefact" -> 0. The active ranker
(:class:`serendip.detect.active.ActiveRanker`) is updated from *all* labels on every
:meth:`Reviewer.rerank`; until the first re-rank (or when the module or strategy is not
available) the active score equals the static score.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from serendip.app.rundata import RunData
from serendip.detect.strategies import DEFAULT_STRATEGY, STRATEGIES
from serendip.errors import InputError

NEGATIVE_LABELS = ("not interesting", "artefact")
#: simulated classes counted as "interesting" by the static comparison curve
RARE_SIMULATED = ("flare", "fxt", "dip", "stellar_flare")


def available_strategies() -> list[str]:
    """Active-learning strategies of :mod:`serendip.detect.active` ("static" included)."""
    return list(STRATEGIES)


def default_strategy() -> str:
    """The active ranker's default strategy."""
    return DEFAULT_STRATEGY


def warm_up() -> None:
    """Import the active ranker (scikit-learn) ahead of first use."""
    try:
        import serendip.detect.active  # noqa: F401
    except ImportError:
        pass


def label_targets(labels: pd.Series) -> np.ndarray:
    """(m,) int: 1 for interesting / known types, 0 for "not interesting" and "artefact"."""
    return (~labels.astype(str).isin(NEGATIVE_LABELS)).to_numpy().astype(np.int64)


def discovery_curve(latest: pd.DataFrame) -> dict:
    """Interesting sources found against sources inspected, in the order they were first labelled."""
    y = label_targets(latest["label"]) if len(latest) else np.zeros(0, np.int64)
    return {
        "n_inspected": np.arange(1, len(y) + 1).tolist(),
        "n_interesting": np.cumsum(y).astype(int).tolist(),
    }


def static_curve(data: RunData, latest: pd.DataFrame) -> dict:
    """What the static ranking finds in as many reviews as the user made.

    With simulation truth: sources of the rare simulated classes (flares, FXTs, dips) among
    the first n of the static order (``basis`` "simulation truth"). Without: interesting
    labels among the labelled sources in static-rank order (``basis`` "labelled sources
    only", a lower bound on what static review would have found).
    """
    n = len(latest)
    truth = data.truth_label()
    if truth is not None:
        rows = np.argsort(np.asarray(data.rank), kind="stable")[: max(n, 1)]
        y = np.isin(truth[rows], list(RARE_SIMULATED)).astype(np.int64)[:n]
        basis = "simulation truth"
    else:
        rows = data.rows_of(latest["obsreg_id"].tolist()) if n else np.zeros(0, np.int64)
        ok = rows >= 0
        yl = label_targets(latest["label"])[ok] if n else np.zeros(0, np.int64)
        order = np.argsort(np.asarray(data.rank)[rows[ok]], kind="stable")
        y = yl[order]
        basis = "labelled sources only"
    return {
        "n_inspected": np.arange(1, len(y) + 1).tolist(),
        "n_interesting": np.cumsum(y).astype(int).tolist(),
        "basis": basis,
    }


class Reviewer:
    """Holds the current active score of every source of ``data`` (thread-safe).

    ``strategy``: one of :func:`available_strategies` or "default" (the ranker's default).
    """

    def __init__(self, data: RunData, strategy: str = "default"):
        strategies = available_strategies()
        if strategy == "default":
            strategy = default_strategy()
        if strategy not in strategies:
            raise InputError(
                "strategy", f"unknown strategy {strategy!r}; choose one of {strategies}"
            )
        self.data = data
        self.strategy = strategy
        self.active_score = np.asarray(data.score, dtype=np.float64).copy()
        self.fitted_labels = -1  # labels used by the current active_score (-1: never fitted)
        self._ranker = None
        self._lock = threading.Lock()

    def rerank(self, latest: pd.DataFrame) -> np.ndarray:
        """Refit the ranker from ``latest`` labels (obsreg_id, label); returns the active scores."""
        rows = self.data.rows_of(latest["obsreg_id"].tolist()) if len(latest) else np.zeros(0, int)
        ok = rows >= 0
        idx = rows[ok]
        y = label_targets(latest["label"])[ok] if len(latest) else np.zeros(0, np.int64)
        with self._lock:
            if self.strategy == "static":
                score = np.asarray(self.data.score, dtype=np.float64).copy()
            else:
                if self._ranker is None:  # fitted once; each re-rank passes all labels
                    from serendip.detect.active import ActiveRanker

                    self.data.wait_details()
                    ranker = ActiveRanker(strategy=self.strategy, random_state=0)
                    ranker.fit(self.data.features_std, np.asarray(self.data.score, np.float64))
                    self._ranker = ranker
                self._ranker.update(idx, y)
                score = np.asarray(self._ranker.score_samples(), dtype=np.float64)
            self.active_score = score
            self.fitted_labels = len(idx)
            return score

    def order(self, kind: str) -> np.ndarray:
        """Rows in review order: "static" by rank, "active" by active score (ties by rank)."""
        rank = np.asarray(self.data.rank)
        if kind == "static":
            return np.argsort(rank, kind="stable")
        return np.lexsort((rank, -self.active_score))
