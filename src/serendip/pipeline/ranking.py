"""Rank event files: features -> anomaly score -> candidate score.

:func:`rank_features` is the candidate stage of the discovery run (the run adds clusters and
the embedding); :func:`rank_files` goes from raw events to the ranked table without the
embedding and clustering stages: use it to score a handful of new files, or inside
injection-and-recovery experiments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.io.eventset import EventSet


def rank_features(
    obsreg_id,
    X: np.ndarray,
    event_table: pd.DataFrame,
    known: pd.DataFrame | None = None,
    *,
    clusters: np.ndarray | None = None,
    embedding: np.ndarray | None = None,
    anomaly: str = "iforest",
    k: int = 10,
    nn_span: float = 0.2,
    n_estimators: int = 300,
    random_state: int = 0,
    files: pd.DataFrame | None = None,
    artefacts: pd.DataFrame | None = None,
    events: EventSet | None = None,
    background: pd.DataFrame | None = None,
    gtis: pd.DataFrame | None = None,
    case: str | None = None,
    extra_scores: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Anomaly score of the features ``X`` (n_files, n_features), then the ranked candidate
    table (:func:`serendip.catalog.build_candidates`) with ``event_table`` appended and, when
    the per-file table ``files`` is given, the observation columns of each file
    (:func:`serendip.catalog.candidates.with_observation_columns`) and the common-mode
    ``background_flare`` flag (:func:`serendip.catalog.common_mode.flag_background_flares`);
    with the ingest's per-source diagnostics ``artefacts`` (``artefacts.parquet``), the
    instrumental-artefact flags (:func:`serendip.catalog.artefacts.flag_artefacts`); with the
    sources' ``events`` and their background-annulus events ``background``
    (``background.parquet``), the common-mode test also uses each candidate's own annulus;
    with ``gtis`` (``gtis.parquet``) the burst windows are mapped back from the live-time
    axis to mission time.

    ``anomaly`` names the detector: "iforest" (default), any name in
    :data:`serendip.detect.DETECTORS`, or "auto": the detectors of the feature ``case``
    (:attr:`serendip.features.registry.FeatureCase.detectors`) combined by calibrated rank
    (:func:`serendip.catalog.anomaly.combined_anomaly_scores`). Each detector's own score is
    kept in the table as ``anomaly_<name>`` and the rule in ``attrs["ANOMALY"]``. A rule
    may name a score of the representation itself (``map_deviance``, from
    :attr:`serendip.features.FeatureResult.scores`), passed in ``extra_scores``; when it is
    missing the rule's detectors are used without it, and a notice says so.
    """
    from serendip.catalog import build_candidates
    from serendip.catalog.anomaly import combined_anomaly_scores
    from serendip.catalog.candidates import with_observation_columns

    detectors, extra = _split_rule(anomaly_detectors(anomaly, case), extra_scores)
    scores, parts = combined_anomaly_scores(
        X, detectors, random_state=random_state, n_estimators=n_estimators, extra=extra
    )
    cands = build_candidates(
        np.asarray(obsreg_id).astype(str),
        X,
        clusters=clusters,
        known=known,
        event_features=event_table,
        embedding=embedding,
        anomaly=scores,
        k=k,
        nn_span=nn_span,
        random_state=random_state,
    )
    cands = _with_detector_columns(cands, obsreg_id, parts)
    if files is None:
        return cands
    from serendip.catalog.common_mode import flag_background_flares

    cands = flag_background_flares(with_observation_columns(cands, files, gtis), events, background)
    if artefacts is not None:
        from serendip.catalog.artefacts import flag_artefacts

        cands = flag_artefacts(cands, artefacts)
    return cands


def anomaly_detectors(anomaly: str, case: str | None) -> tuple[str, ...]:
    """The detectors behind ``candidates.anomaly``: the named one, or for "auto" the
    feature case's validated rule (``("iforest",)`` when no case is given)."""
    if anomaly != "auto":
        return (str(anomaly),)
    if case is None:
        return ("iforest",)
    from serendip.features.registry import FEATURE_CASES

    return tuple(FEATURE_CASES[case].detectors)


#: names a rule may use that are scores of the representation, not detectors
MAP_SCORES = ("map_deviance",)


def _split_rule(rule: tuple[str, ...], extra_scores: dict | None):
    """(detectors to fit, {name: score} of the rule's representation scores)."""
    have = extra_scores or {}
    dets = tuple(r for r in rule if r not in MAP_SCORES)
    wanted = [r for r in rule if r in MAP_SCORES]
    missing = [r for r in wanted if r not in have]
    if missing:
        from serendip.notices import notice

        notice(
            "candidates",
            "rule_score_missing",
            f"the anomaly rule {' + '.join(rule)} needs {', '.join(missing)}, which these "
            'features do not carry (maps given as arrays, or maps = "reference"); '
            f"using {' + '.join(dets or ('iforest',))} alone",
        )
    extra = {r: np.asarray(have[r], dtype=np.float64) for r in wanted if r in have}
    if not dets and not extra:
        dets = ("iforest",)
    return dets, extra


def _with_detector_columns(cands: pd.DataFrame, obsreg_id, parts: dict) -> pd.DataFrame:
    """``anomaly_<name>`` columns (each detector's raw score) after ``anomaly_score``."""
    ids = np.asarray(obsreg_id).astype(str)
    pos = pd.Series(np.arange(len(ids)), index=ids).reindex(cands["obsreg_id"].astype(str))
    at = cands.columns.get_loc("anomaly_score") + 1
    attrs = dict(cands.attrs)
    for j, (name, v) in enumerate(parts.items()):
        cands.insert(at + j, f"anomaly_{name}", np.asarray(v)[pos.to_numpy()])
    cands.attrs = attrs
    cands.attrs["ANOMALY"] = " + ".join(parts) + (
        " (mean calibrated rank)" if len(parts) > 1 else ""
    )
    return cands


def rank_files(
    events: EventSet,
    files: pd.DataFrame | None = None,
    known: pd.DataFrame | None = None,
    *,
    gtis: pd.DataFrame | None = None,
    case: str = "events",
    k: int = 10,
    nn_span: float = 0.2,
    n_estimators: int = 300,
    random_state: int = 0,
    artefacts: pd.DataFrame | None = None,
    background: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Candidate table of ``events``, sorted by rank (1 = most interesting).

    Parameters
    ----------
    events : the files' events.
    files : per-file table (``obsreg_id``, ``tstart``, ``tstop`` [s]) giving each file's
        observing interval; default first to last event.
    known : known transients (``obsreg_id``, ``type``) among these files, or None.
    gtis : good-time intervals (``obsreg_id``, ``start``, ``stop`` [s]), so that gaps between
        them do not count as dips (see :func:`serendip.represent.event_features`).
    case : feature case (:data:`serendip.features.CASES`).
    artefacts : the ingest's per-source artefact diagnostics
        (:attr:`serendip.io.ingest.IngestResult.artefacts`), for the artefact flags; needs ``files``.
    background : each source's background-annulus events
        (:attr:`serendip.io.ingest.IngestResult.background`), for the own-annulus common-mode
        test; needs ``files``.
    """
    from serendip.features import extract_features
    from serendip.represent import event_features

    table = event_features(events, files, gtis)
    result = extract_features(
        case, events=events, event_table=table, files=files, seed=random_state, gtis=gtis
    )
    X = np.asarray(result.features, dtype=np.float64)
    return rank_features(
        events.obsreg_id,
        X,
        table,
        known,
        anomaly="auto",
        case=case,
        k=k,
        nn_span=nn_span,
        n_estimators=n_estimators,
        random_state=random_state,
        files=files,
        artefacts=artefacts,
        events=events,
        background=background,
        gtis=gtis,
        extra_scores=result.scores,
    )
