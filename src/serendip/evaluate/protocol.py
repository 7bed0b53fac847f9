"""Leave-one-subclass-out evaluation of anomaly detectors over a class hierarchy.

For every seed, objects are split once into train and test (stratified by class, grouped by
object: :func:`serendip.evaluate.splits.grouped_stratified_split`). Then each subclass ``s`` is
held out in turn as "the anomaly":

* train = training-split rows of the other subclasses (of ``s``'s branch when a hierarchy is
  given and ``train_mode="branch"``, of every class otherwise); detectors never see ``s``;
* test = test-split rows of the same classes plus every row of ``s`` (the rows of ``s`` from the
  training split were never used, so they join the test set, as in ALeRCE's TS2 - but the split
  is made once per seed before anything is fitted, so no fold leaks into another);
* missing values are imputed with the training medians and features scaled with statistics of
  the training rows only; every detector sees the same matrices.

Metrics per (seed, held-out class, detector): AUROC, AUPR and its baseline (prevalence), recall
at the inspection budgets; then mean and standard deviation over seeds.

With an artefact class (``artefact_class``: bogus light curves, subtraction residuals and the
like), that class is never held out and never trained on: every artefact object joins every
test set as a negative (neither the anomaly nor an inlier the detectors learnt), and each run
also records the share of the top ``b`` of the ranking that is artefacts (``artefacts@1%``, ...
:func:`serendip.evaluate.metrics.artefact_metrics`), i.e. how much of an inspection list a
detector fills with junk.

Every (seed, held-out class, detector) run is also a row of ``status`` (``ok``, ``failed`` or
``skipped``, with the reason and any merge of small inlier classes): a detector that fails on a
split is recorded, never dropped without a word. Inlier classes with fewer than
``min_label_rows`` training rows are merged, skipped or left to fail as ``small_classes`` says
(:mod:`serendip.evaluate.small_classes`).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.evaluate.metrics import DEFAULT_BUDGETS, all_metrics, artefact_metrics
from serendip.evaluate.splits import grouped_stratified_split

DetectorSpec = Callable[[], Any] | tuple[str, dict] | str


#: columns of :attr:`EvaluationResult.status`
STATUS_COLUMNS = ["seed", "held_out_class", "detector", "status", "reason", "merged"]


@dataclass
class EvaluationResult:
    """Per-run metrics (``runs``), their mean/std (``summary``) and the status of every run.

    ``failures`` lists ``(run, reason)`` of the runs that failed; ``status`` has one row per
    (seed, held-out class, detector) with columns :data:`STATUS_COLUMNS` (``status`` is ok,
    failed or skipped; ``merged`` says which small inlier classes were merged for that split).
    """

    runs: pd.DataFrame
    summary: pd.DataFrame
    failures: list[tuple[str, str]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    status: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=STATUS_COLUMNS))

    @property
    def skipped(self) -> pd.DataFrame:
        """The ``status`` rows of runs that were skipped (with their reason)."""
        return self.status[self.status["status"] == "skipped"]

    def problems(self) -> pd.DataFrame:
        """Failed and skipped runs per (detector, status, reason): ``n_runs`` and held-out classes."""
        bad = self.status[self.status["status"] != "ok"]
        if bad.empty:
            return pd.DataFrame(columns=["detector", "status", "reason", "n_runs", "held_out"])
        return (
            bad.groupby(["detector", "status", "reason"], sort=False)
            .agg(n_runs=("seed", "size"), held_out=("held_out_class", lambda v: ", ".join(
                dict.fromkeys(map(str, v)))))
            .reset_index()
        )  # fmt: skip

    def table(self, metric: str = "auroc") -> pd.DataFrame:
        """Wide table: rows held-out classes, columns detectors, values mean (and ``std`` sibling)."""
        sub = self.summary[self.summary["metric"] == metric]
        return sub.pivot(index="held_out_class", columns="detector", values="mean")

    def write(
        self, out_dir, formats: Sequence[str] = ("csv", "md", "tex"), plot: bool = True
    ) -> dict[str, Any]:
        """Write results.csv, runs.csv, per-metric tables in ``formats`` and a plot into ``out_dir``."""
        from serendip.evaluate.report import write_results

        return write_results(self, out_dir, formats=formats, plot=plot)


def _resolve(spec: DetectorSpec) -> tuple[Callable[[], Any], bool]:
    """(factory, whether the harness may set ``random_state`` to the seed)."""
    from serendip.evaluate.detectors import make_detector

    if callable(spec):
        return spec, True
    if isinstance(spec, str):
        return (lambda: make_detector(spec, {})), True
    kind, params = spec
    return (lambda: make_detector(kind, params)), "random_state" not in params


def state_imputation(X: np.ndarray, columns: Sequence[str] | None = None) -> dict[str, int]:
    """Count the missing (NaN, +-inf) values per column that the protocol median-fills.

    Each split sets them to the median of its training rows (0 for a column with none); this
    records that once, as notice ``evaluate/imputed_missing`` naming the columns and their
    counts. Returns ``{column: count}`` for the columns with any (empty when none).
    """
    X = np.asarray(X, dtype=np.float64)
    bad = (~np.isfinite(X)).sum(axis=0) if X.size else np.zeros(X.shape[1:], dtype=int)
    names = [str(c) for c in columns] if columns is not None else [
        f"column {j}" for j in range(X.shape[1])
    ]  # fmt: skip
    counts = {names[j]: int(bad[j]) for j in np.flatnonzero(bad)}
    if counts:
        from serendip.notices import notice

        listed = ", ".join(f"{c} ({k:,})" for c, k in list(counts.items())[:20])
        more = f" and {len(counts) - 20} more" if len(counts) > 20 else ""
        notice(
            "evaluate", "imputed_missing",
            f"{sum(counts.values()):,} missing feature values in {len(counts)} of "
            f"{X.shape[1]} columns set to each split's training median: {listed}{more}",
            count=sum(counts.values()), total=int(X.size),
        )  # fmt: skip
    return counts


def _prepare(
    X_train: np.ndarray, X_test: np.ndarray, scale: str | None
) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():  # an all-NaN column: its median is NaN, set to 0 below
        warnings.simplefilter("ignore", RuntimeWarning)
        med = (
            np.nanmedian(np.where(np.isfinite(X_train), X_train, np.nan), axis=0)
            if len(X_train)
            else None
        )
    med = np.where(np.isfinite(med), med, 0.0)
    Xtr = np.where(np.isfinite(X_train), X_train, med)
    Xte = np.where(np.isfinite(X_test), X_test, med)
    if scale == "standard":
        mu, sd = Xtr.mean(0), Xtr.std(0)
    elif scale == "robust":
        mu = np.median(Xtr, 0)
        q75, q25 = np.percentile(Xtr, [75, 25], axis=0)
        sd = (q75 - q25) / 1.349
    elif scale is None or scale == "none":
        return Xtr, Xte
    else:
        raise ValueError(f"scale must be 'standard', 'robust' or None, not {scale!r}")
    sd = np.where(sd > 0, sd, 1.0)
    return (Xtr - mu) / sd, (Xte - mu) / sd


def leave_one_subclass_out(
    X,
    labels,
    detectors: Mapping[str, DetectorSpec],
    *,
    groups=None,
    hierarchy: Mapping[str, Sequence[str]] | None = None,
    held_out: Sequence[str] | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    test_size: float = 0.2,
    budgets: Sequence[float] = DEFAULT_BUDGETS,
    scale: str | None = "standard",
    train_mode: str = "branch",
    pass_labels: bool = True,
    min_class_size: int = 2,
    small_classes: str = "merge",
    min_label_rows: int = 3,
    show_progress: bool = True,
    artefact_class: str | None = None,
) -> EvaluationResult:
    """Run the leave-one-subclass-out protocol.

    Parameters
    ----------
    X : (n_rows, n_features) features (DataFrame or array); NaN allowed (imputed per split).
    labels : (n_rows,) subclass of each row.
    detectors : name -> factory returning an unfitted detector, ``"kind"`` or ``(kind, params)``
        (kinds as in :func:`serendip.evaluate.detectors.make_detector`).
    groups : (n_rows,) object id per row (default: each row is one object).
    hierarchy : branch -> subclasses; classes not listed form their own branch ``"other"``.
    held_out : subclasses to hold out (default: every class with >= ``min_class_size`` objects
        whose branch keeps at least one other class).
    seeds : one split (and detector seed, when it has ``random_state``) per seed.
    test_size : fraction of objects per class in the test split.
    budgets : inspection budgets (fractions) for recall.
    scale : "standard", "robust" or None, fitted on the training rows.
    train_mode : "branch" (train on the held-out class's branch only) or "all".
    pass_labels : give the inliers' labels to ``fit`` (multi-class detectors use them).
    min_class_size : smallest class (objects) held out by default.
    small_classes : "merge", "skip" or "error": what to do, per split, with inlier classes of
        fewer than ``min_label_rows`` training rows (:mod:`serendip.evaluate.small_classes`).
    min_label_rows : training rows an inlier class needs to keep its own label.
    artefact_class : label of bogus objects (must be among the labels): never held out or
        trained on, all of them in every test set, ``artefacts@<budget>`` metrics added.
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
    columns = list(X.columns) if isinstance(X, pd.DataFrame) else None
    state_imputation(Xv, columns)
    branch_of = {}
    for branch, subs in (hierarchy or {}).items():
        for s in subs:
            branch_of[str(s)] = str(branch)
    classes = np.unique(y)
    branch = np.array([branch_of.get(c, "other" if hierarchy else "all") for c in classes])
    branch_map = dict(zip(classes, branch, strict=True))
    n_obj = pd.Series(g).groupby(y).nunique()
    if artefact_class is not None:
        artefact_class = str(artefact_class)
        if artefact_class not in classes:
            raise InputError(None, f"artefact class {artefact_class!r} is not among the labels "
                             f"{list(classes)[:20]}")  # fmt: skip
        if held_out is not None and artefact_class in held_out:
            raise InputError(None, f"the artefact class {artefact_class!r} cannot be held out "
                             "(it is scored as junk in every test set)")  # fmt: skip
    is_art = y == artefact_class if artefact_class is not None else np.zeros(y.size, bool)
    real = classes != artefact_class  # the classes that are not the artefacts
    if held_out is None:
        held_out = [
            c
            for c in classes
            if c != artefact_class
            and n_obj[c] >= min_class_size
            and (train_mode == "all" or (branch[real] == branch_map[c]).sum() > 1)
        ]
    if not len(held_out):
        sizes = ", ".join(f"{c}: {int(n_obj[c])}" for c in classes[:20])
        raise InputError(
            None,
            f"no class can be held out: each needs >= {min_class_size} objects"
            + ("" if train_mode == "all" else " and another class in its branch")
            + f" (objects per class: {sizes})",
        )
    unknown = sorted(set(held_out) - set(classes))
    if unknown:
        raise InputError(None, f"held-out class(es) {unknown} not among the labels {list(classes)}")
    factories = {name: _resolve(spec) for name, spec in detectors.items()}
    rows, failures, status = [], [], []
    merges: dict[str, set] = {}
    total = len(seeds) * len(held_out) * len(factories)
    progress = None
    if show_progress:
        from serendip.progress import progress_bar

        progress = progress_bar(eta=True)
        progress.start()
        task = progress.add_task("leave-one-subclass-out", total=total)
    try:
        for seed in seeds:
            tr_all, te_all = grouped_stratified_split(y, g, test_size=test_size, seed=seed)
            for s in held_out:
                pool = classes if train_mode == "all" else classes[branch == branch_map[s]]
                in_pool = np.isin(y, pool) & ~is_art
                tr = tr_all[in_pool[tr_all] & (y[tr_all] != s)]
                te = np.sort(np.concatenate([te_all[in_pool[te_all]], tr_all[y[tr_all] == s],
                                             np.flatnonzero(is_art)]))  # fmt: skip
                # the two guarantees of the protocol, checked on every run
                if np.any(y[tr] == s):
                    raise RuntimeError(f"held-out class {s!r} leaked into training")
                if np.intersect1d(g[tr], g[te]).size:
                    raise RuntimeError("an object is in both the training and the test set")
                Xtr, Xte = _prepare(Xv[tr], Xv[te], scale)
                is_anom = y[te] == s
                small = small_inlier_classes(y[tr], min_label_rows) if pass_labels else []
                y_fit, merged = y[tr], ""
                if small and small_classes == "merge":
                    y_fit, merged = merge_small_classes(y[tr], small)
                    merges.setdefault(merged, set()).add(seed)
                for name, (factory, reseed) in factories.items():
                    det = factory()
                    _set_seed(det, seed) if reseed else None
                    state = {"seed": seed, "held_out_class": s, "detector": name,
                             "status": "ok", "reason": "", "merged": merged}  # fmt: skip
                    if small and small_classes == "skip" and needs_labels(det):
                        state.update(
                            status="skipped",
                            reason=f"inlier class(es) {', '.join(small)} have fewer than "
                            f"{min_label_rows} training rows (small_classes = 'skip')",
                        )
                        status.append(state)
                        if progress is not None:
                            progress.advance(task)
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
                        if artefact_class is not None:
                            metrics.update(artefact_metrics(is_art[te], sc, budgets))
                        metrics["fit_s"], metrics["score_s"] = t1 - t0, t2 - t1
                    except Exception as exc:  # noqa: BLE001 - record the failure and go on
                        reason = f"{type(exc).__name__}: {exc}"
                        failures.append((f"{name} / held out {s} / seed {seed}", reason))
                        state.update(status="failed", reason=reason)
                        metrics = {}
                    status.append(state)
                    for metric, value in metrics.items():
                        rows.append(
                            {
                                "seed": seed,
                                "held_out_class": s,
                                "branch": branch_map[s],
                                "detector": name,
                                "metric": metric,
                                "value": value,
                                "n_train": len(tr),
                                "n_test": len(te),
                                "n_anomalies": int(is_anom.sum()),
                            }
                        )
                    if progress is not None:
                        progress.advance(task)
    finally:
        if progress is not None:
            progress.stop()
    runs = pd.DataFrame(
        rows,
        columns=[
            "seed",
            "held_out_class",
            "branch",
            "detector",
            "metric",
            "value",
            "n_train",
            "n_test",
            "n_anomalies",
        ],
    )
    summary = summarise(runs)
    _state_small_classes(merges, status, len(seeds) * len(held_out))
    settings = {
        "seeds": list(seeds),
        "test_size": test_size,
        "budgets": list(budgets),
        "scale": scale,
        "train_mode": train_mode,
        "small_classes": small_classes,
        "min_label_rows": min_label_rows,
        "artefact_class": artefact_class,
    }
    return EvaluationResult(
        runs=runs,
        summary=summary,
        failures=failures,
        settings=settings,
        status=pd.DataFrame(status, columns=STATUS_COLUMNS),
    )


def _state_small_classes(merges: dict[str, set], status: list[dict], n_splits: int) -> None:
    """Notices for merged small inlier classes and for runs skipped because of them."""
    from serendip.notices import notice

    for text, seeds in merges.items():
        notice(
            "evaluate", "merged_small_classes",
            f"inlier class(es) {text} for the label-using detectors (seeds "
            f"{sorted(seeds)}); see status.csv, column 'merged'",
            count=len(seeds), total=n_splits,
        )  # fmt: skip
    skipped = [r for r in status if r["status"] == "skipped"]
    if skipped:
        names = ", ".join(dict.fromkeys(r["detector"] for r in skipped))
        notice(
            "evaluate", "skipped_small_classes",
            f"{len(skipped)} run(s) of {names} skipped: {skipped[0]['reason']}",
            count=len(skipped), total=len(status), severity="warning",
        )  # fmt: skip


def _set_seed(det: Any, seed: int) -> None:
    """Give a detector (or the PyOD/scikit-learn model it wraps) ``random_state=seed`` when it has one."""
    for target in (det, getattr(det, "model", None)):
        if target is not None and hasattr(target, "random_state"):
            try:
                target.set_params(random_state=seed) if hasattr(target, "set_params") else setattr(
                    target, "random_state", seed
                )
            except Exception:  # noqa: BLE001 - not every estimator supports it
                target.random_state = seed


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample standard deviation (ddof=1; 0 for a single run) over seeds."""
    if runs.empty:
        return pd.DataFrame(
            columns=["held_out_class", "detector", "metric", "mean", "std", "n_runs"]
        )
    grp = runs.groupby(["held_out_class", "detector", "metric"], sort=False)["value"]
    out = grp.agg(
        mean="mean", std=lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0, n_runs="count"
    ).reset_index()
    return out
