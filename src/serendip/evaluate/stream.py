"""A stream-like evaluation: a realistic class mix with rare classes and artefacts in one set.

Leave-one-class-out asks "is this one class found among the others", with every class at the
size the labelled set happens to have. An alert stream is different: a few common classes, rare
ones at a per-mille to per-cent level, and bogus light curves (in the SNAD search of ZTF DR3,
188 of 277 inspected outliers were artefacts). :func:`stream_mix` draws such a mix from a
labelled set and measures what an inspection list would hold:

* per seed, objects are drawn per class in the proportions ``mix`` (the largest set the
  labelled objects allow, at most ``n_objects``; the table's own proportions when ``mix`` is
  None), then split into train and test (:func:`serendip.evaluate.splits.grouped_stratified_split`);
* detectors are trained on the training rows of the *known* classes (neither ``anomalies`` nor
  the artefact class; label-using detectors get those labels) and score the whole test split,
  which keeps the mix;
* metrics per run: AUROC, AUPR and recall at the budgets of the ``anomalies`` against everything
  else (artefacts count as negatives), the share of each budget's top list that is anomalies
  (``anomalies@1%``) and that is artefacts (``artefacts@1%``).

The result is an :class:`serendip.evaluate.protocol.EvaluationResult` with one "held-out class",
``stream``, so its tables, status and failures are written as leave-one-class-out's are.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.evaluate.metrics import (
    DEFAULT_BUDGETS,
    all_metrics,
    artefact_fraction_at_budget,
    artefact_metrics,
)
from serendip.evaluate.protocol import (
    STATUS_COLUMNS,
    DetectorSpec,
    EvaluationResult,
    _prepare,
    _resolve,
    _set_seed,
    state_imputation,
    summarise,
)
from serendip.evaluate.splits import grouped_stratified_split

#: the held-out-class value of every row of a stream evaluation
STREAM = "stream"


def draw_mix(
    labels, groups, mix: Mapping[str, float], n_objects: int | None, seed: int
) -> np.ndarray:
    """Row indices of a sample with objects per class in the proportions ``mix``.

    The sample is the largest that the objects of every class allow (so the proportions hold
    exactly up to rounding), capped at ``n_objects``; each class in ``mix`` gets >= 1 object.
    """
    y = np.asarray(labels).astype(str)
    g = np.asarray(groups)
    total = float(sum(mix.values()))
    frac = {str(c): float(f) / total for c, f in mix.items()}
    objs = {c: pd.unique(g[y == c]) for c in frac}
    missing = [c for c, o in objs.items() if len(o) == 0]
    if missing:
        raise InputError(None, f"class(es) {missing} of the mix are not among the labels "
                         f"{sorted(set(y))[:20]}")  # fmt: skip
    n = min(len(objs[c]) / frac[c] for c in frac if frac[c] > 0)
    if n_objects:
        n = min(n, n_objects)
    rng = np.random.default_rng(seed)
    chosen = []
    for c, f in frac.items():
        k = min(len(objs[c]), max(1, int(round(f * n)))) if f > 0 else 0
        chosen.append(rng.choice(objs[c], size=k, replace=False))
    keep = np.isin(g, np.concatenate(chosen))
    return np.flatnonzero(keep)


def stream_mix(
    X,
    labels,
    detectors: Mapping[str, DetectorSpec],
    *,
    anomalies: Sequence[str],
    mix: Mapping[str, float] | None = None,
    artefact_class: str | None = None,
    n_objects: int | None = None,
    groups=None,
    seeds: Sequence[int] = (0, 1, 2),
    test_size: float = 0.5,
    budgets: Sequence[float] = DEFAULT_BUDGETS,
    scale: str | None = "standard",
    pass_labels: bool = True,
    small_classes: str = "merge",
    min_label_rows: int = 3,
) -> EvaluationResult:
    """Score detectors on a stream-like mix of classes (see the module docstring).

    Parameters
    ----------
    X : (n_rows, n_features) features (DataFrame or array); NaN allowed (imputed per split).
    labels : (n_rows,) class of each row.
    detectors : name -> detector spec, as in :func:`serendip.evaluate.leave_one_subclass_out`.
    anomalies : the rare classes a user wants at the top of the list (the positives).
    mix : class -> relative frequency in the stream (normalised); classes not listed are left
        out. None: every row, in the table's proportions.
    artefact_class : label of bogus objects (negatives; ``artefacts@<budget>`` reported).
    n_objects : cap on the number of objects drawn per seed.
    groups : (n_rows,) object id per row (default: each row is one object).
    seeds : one draw, split and detector seed per seed.
    test_size : fraction of each class's drawn objects in the test split.
    budgets : inspection budgets (fractions) for recall and the top-list shares.
    scale, pass_labels, small_classes, min_label_rows : as in ``leave_one_subclass_out``.

    Returns
    -------
    EvaluationResult with ``held_out_class`` = ``"stream"``; ``settings["mix"]`` holds the
    objects per class of each seed's test split.
    """
    from serendip.evaluate.small_classes import (
        POLICIES,
        merge_small_classes,
        needs_labels,
        small_inlier_classes,
    )

    if small_classes not in POLICIES:
        raise ValueError(f"small_classes must be one of {POLICIES}, not {small_classes!r}")
    Xv = np.asarray(X.to_numpy() if isinstance(X, pd.DataFrame) else X, dtype=np.float64)
    y = np.asarray(labels).astype(str)
    if Xv.ndim != 2 or Xv.shape[0] != y.size:
        raise InputError(None, f"features {Xv.shape} and {y.size} labels do not match")
    g = np.arange(y.size) if groups is None else np.asarray(groups)
    anomalies = [str(a) for a in anomalies]
    unknown = sorted(set(anomalies) - set(y))
    if unknown or not anomalies:
        raise InputError(None, f"anomaly class(es) {unknown or '(none given)'} not among the "
                         f"labels {sorted(set(y))[:20]}")  # fmt: skip
    if artefact_class is not None:
        artefact_class = str(artefact_class)
        if artefact_class not in set(y):
            raise InputError(None, f"artefact class {artefact_class!r} is not among the labels")
        if artefact_class in anomalies:
            raise InputError(None, f"{artefact_class!r} is both an anomaly and the artefact class")
    if mix is not None:
        left_out = sorted(set(y) - {str(c) for c in mix})
        if left_out:
            from serendip.notices import notice

            n_left = int(np.isin(y, left_out).sum())
            notice("evaluate", "stream_classes_left_out", f"class(es) {left_out} are not in the "
                   f"stream mix: {n_left:,} rows not used", count=n_left, total=int(y.size))  # fmt: skip
    columns = list(X.columns) if isinstance(X, pd.DataFrame) else None
    state_imputation(Xv, columns)
    factories = {name: _resolve(spec) for name, spec in detectors.items()}
    rows, failures, status, mixes = [], [], [], {}
    for seed in seeds:
        idx = (
            draw_mix(y, g, mix, n_objects, seed) if mix is not None
            else np.arange(y.size)
        )  # fmt: skip
        tr_rel, te_rel = grouped_stratified_split(y[idx], g[idx], test_size=test_size, seed=seed)
        tr_all, te = idx[tr_rel], np.sort(idx[te_rel])
        is_anom_all = np.isin(y, anomalies)
        is_art_all = y == artefact_class if artefact_class is not None else np.zeros(y.size, bool)
        tr = tr_all[~is_anom_all[tr_all] & ~is_art_all[tr_all]]
        if np.intersect1d(g[tr], g[te]).size:
            raise RuntimeError("an object is in both the training and the test set")
        mixes[seed] = pd.Series(y[te]).groupby(g[te]).first().value_counts().to_dict()
        Xtr, Xte = _prepare(Xv[tr], Xv[te], scale)
        is_anom, is_art = is_anom_all[te], is_art_all[te]
        small = small_inlier_classes(y[tr], min_label_rows) if pass_labels else []
        y_fit, merged = y[tr], ""
        if small and small_classes == "merge":
            y_fit, merged = merge_small_classes(y[tr], small)
        for name, (factory, reseed) in factories.items():
            det = factory()
            _set_seed(det, seed) if reseed else None
            state = {"seed": seed, "held_out_class": STREAM, "detector": name,
                     "status": "ok", "reason": "", "merged": merged}  # fmt: skip
            if small and small_classes == "skip" and needs_labels(det):
                state.update(status="skipped", reason=f"inlier class(es) {', '.join(small)} "
                             f"have fewer than {min_label_rows} training rows")  # fmt: skip
                status.append(state)
                continue
            t0 = time.perf_counter()
            try:
                det.fit(Xtr, y_fit) if pass_labels else det.fit(Xtr)
                t1 = time.perf_counter()
                sc = np.asarray(det.score_samples(Xte), dtype=np.float64)
                t2 = time.perf_counter()
                if not np.all(np.isfinite(sc)):
                    raise ValueError("non-finite scores")
                metrics = all_metrics(is_anom, sc, budgets)
                for b in budgets:
                    metrics[f"anomalies@{b * 100:g}%"] = artefact_fraction_at_budget(is_anom, sc, b)
                if artefact_class is not None:
                    metrics.update(artefact_metrics(is_art, sc, budgets))
                metrics["fit_s"], metrics["score_s"] = t1 - t0, t2 - t1
            except Exception as exc:  # noqa: BLE001 - record the failure and go on
                reason = f"{type(exc).__name__}: {exc}"
                failures.append((f"{name} / stream / seed {seed}", reason))
                state.update(status="failed", reason=reason)
                metrics = {}
            status.append(state)
            for metric, value in metrics.items():
                rows.append({"seed": seed, "held_out_class": STREAM, "branch": "stream",
                             "detector": name, "metric": metric, "value": value,
                             "n_train": len(tr), "n_test": len(te),
                             "n_anomalies": int(is_anom.sum())})  # fmt: skip
    runs = pd.DataFrame(rows, columns=["seed", "held_out_class", "branch", "detector", "metric",
                                       "value", "n_train", "n_test", "n_anomalies"])  # fmt: skip
    settings = {
        "protocol": "stream_mix",
        "seeds": list(seeds),
        "test_size": test_size,
        "budgets": list(budgets),
        "scale": scale,
        "anomalies": anomalies,
        "artefact_class": artefact_class,
        "mix": {int(k): v for k, v in mixes.items()},
        "requested_mix": dict(mix) if mix is not None else None,
    }
    return EvaluationResult(runs=runs, summary=summarise(runs), failures=failures,
                            settings=settings, status=pd.DataFrame(status, columns=STATUS_COLUMNS))  # fmt: skip
