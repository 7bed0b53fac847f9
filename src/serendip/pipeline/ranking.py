"""Rank event files without a full run: features, anomaly score and candidate score.

``rank_files`` is the discovery run's ranking (``features`` -> ``candidates``) without the
embedding and clustering stages: use it to score a handful of new files, or inside
injection-and-recovery experiments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.io.eventset import EventSet


def rank_files(
    events: EventSet,
    files: pd.DataFrame | None = None,
    known: pd.DataFrame | None = None,
    *,
    case: str = "events",
    k: int = 10,
    nn_span: float = 0.2,
    n_estimators: int = 300,
    random_state: int = 0,
) -> pd.DataFrame:
    """Candidate table of ``events`` (see :func:`serendip.catalog.build_candidates`).

    Parameters
    ----------
    events : the files' events.
    files : per-file table (``obsreg_id``, ``tstart``, ``tstop`` [s]) giving each file's
        observing interval; default first to last event.
    known : known transients (``obsreg_id``, ``type``) among these files, or None.
    case : feature case (:data:`serendip.features.CASES`).

    Returns
    -------
    DataFrame sorted by rank (1 = most interesting) with reasons and event features.
    """
    from serendip.catalog import anomaly_scores, build_candidates
    from serendip.features import extract_features
    from serendip.represent import event_features

    table = event_features(events, files)
    result = extract_features(
        case, events=events, event_table=table, files=files, seed=random_state
    )
    X = np.asarray(result.features, dtype=np.float64)
    anomaly = anomaly_scores(X, random_state=random_state, n_estimators=n_estimators)
    return build_candidates(
        events.obsreg_id.astype(str),
        X,
        known=known,
        event_features=table,
        anomaly=anomaly,
        k=k,
        nn_span=nn_span,
        random_state=random_state,
    )
