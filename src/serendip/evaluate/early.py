"""Early- versus full-curve detection: AUROC as a function of days since first detection.

An alert stream asks for anomalies while the curve grows. :func:`early_curve_evaluation` cuts
every light curve at ``t_first + d`` for each ``d`` in ``days`` (:func:`truncate_lightcurves`;
``t_first`` is the object's first detection, i.e. its first row that is not an upper limit, and
non-detections before the cut are kept since they were known then), recomputes the light-curve
features of the partial curves, and runs the same leave-one-class-out protocol
(:func:`serendip.evaluate.leave_one_subclass_out`) on them, with the same objects, splits and
seeds at every cut; the last row, ``days = inf``, is the full curve. Detectors are trained and
tested on curves cut at the same age (the setting of a detector retrained for each age, as
astromcad's real-time scoring does with partial training curves).

A feature that a partial curve is too short for is NaN and median-filled by the protocol (the
count is its notice ``evaluate/imputed_missing``), with the number of missing features per
object added as a column (``missing_count``) so that a short curve stays visible; the points
left at each cut are in ``EarlyCurveResult.points``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from serendip.errors import InputError

#: default cuts [days since first detection]
DEFAULT_DAYS = (3.0, 10.0, 30.0, 100.0)


def truncate_lightcurves(table: pd.DataFrame, days: float) -> pd.DataFrame:
    """Rows of a standard light-curve table up to ``days`` after each object's first detection.

    ``days = inf`` returns the table unchanged. Upper limits (``is_upper_limit``) never start
    the clock but are kept when they come before the cut. Objects with no detection are dropped.
    """
    if not days >= 0:
        raise ValueError(f"days must be >= 0, not {days}")
    if np.isinf(days):
        return table
    ul = (
        table["is_upper_limit"].to_numpy(dtype=bool)
        if "is_upper_limit" in table.columns else np.zeros(len(table), dtype=bool)
    )  # fmt: skip
    t = table["time"].to_numpy(dtype=np.float64)
    first = (
        pd.Series(np.where(ul, np.inf, t)).groupby(table["object_id"].to_numpy()).transform("min")
    )
    out = table[(t <= first.to_numpy() + days) & np.isfinite(first.to_numpy())]
    out.attrs.update(table.attrs)
    return out


@dataclass
class EarlyCurveResult:
    """What :func:`early_curve_evaluation` measured.

    Attributes
    ----------
    summary : held-out class, detector, metric, mean, std, n_runs and ``days`` (inf = full).
    points : per cut (``days``): median and 10th percentile of the detections per object, and
        the share of objects with no computable feature.
    results : days -> the :class:`serendip.evaluate.EvaluationResult` of that cut.
    """

    summary: pd.DataFrame
    points: pd.DataFrame
    results: dict[float, Any] = field(default_factory=dict)

    def table(self, metric: str = "auroc", detector: str | None = None) -> pd.DataFrame:
        """Held-out class x days: mean ``metric`` (of ``detector``, or the best detector per cell)."""
        sub = self.summary[self.summary["metric"] == metric]
        if detector is not None:
            sub = sub[sub["detector"] == detector]
        best = sub.groupby(["held_out_class", "days"])["mean"].max().unstack("days")
        best.columns = [_day_label(d) for d in best.columns]
        return best

    def write(self, out_dir, plot: bool = True) -> dict[str, Path]:
        """``early_summary.csv``, ``early_points.csv`` and (``plot``) ``early_auroc.png``."""
        from serendip.io.tables import write_table

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "early_summary.csv": write_table(self.summary, out / "early_summary.csv"),
            "early_points.csv": write_table(self.points.reset_index(), out / "early_points.csv"),
        }
        if plot and not self.summary.empty:
            paths["early_auroc.png"] = plot_early(self.summary, out / "early_auroc.png")
        return paths


def _day_label(d: float) -> str:
    return "full" if np.isinf(d) else f"{d:g} d"


def early_curve_evaluation(
    table: pd.DataFrame,
    labels: pd.Series | Mapping[str, str],
    detectors: Mapping[str, Any],
    *,
    days: Sequence[float] = DEFAULT_DAYS,
    features: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    feature_set: str = "full",
    bands: list[str] | None = None,
    objects: Sequence[str] | None = None,
    missing_count: bool = True,
    **protocol,
) -> EarlyCurveResult:
    """AUROC (and every protocol metric) of partial curves, cut at ``days`` after first detection.

    Parameters
    ----------
    table : standard light-curve table (:func:`serendip.io.lightcurves.standardize_lightcurves`).
    labels : object id -> class.
    detectors : as in :func:`serendip.evaluate.leave_one_subclass_out`.
    days : cuts [days since first detection]; the full curve is always added as ``inf``.
    features : table -> feature table (index object_id); default the light-curve feature set
        ``feature_set`` (:func:`serendip.represent.lc_features.lightcurve_features`) over ``bands``.
    objects : the objects to use (default every labelled object in ``table``); the same objects,
        in the same order, at every cut, so the splits are the same.
    missing_count : add the column ``n_missing_features`` (features the partial curve is too
        short for), as :func:`serendip.represent.lc_features.impute_for_detectors` does, so a
        curve with few points is not made to look average by the median fill.
    protocol : keyword arguments of ``leave_one_subclass_out`` (seeds, held_out, train_mode, ...).
    """
    from serendip.evaluate.protocol import leave_one_subclass_out

    labels = pd.Series(labels).astype(str)
    labels.index = labels.index.astype(str)
    if features is None:
        from serendip.represent.lc_features import FEATURE_SETS, lightcurve_features

        if feature_set not in FEATURE_SETS:
            raise InputError(
                None, f"unknown feature set {feature_set!r}; known: {sorted(FEATURE_SETS)}"
            )
        extractor = FEATURE_SETS[feature_set][0](table.attrs.get("kind", "flux"))

        def features(t: pd.DataFrame) -> pd.DataFrame:
            return lightcurve_features(t, bands, extractor=extractor)

    ids = pd.Index(pd.unique(table["object_id"].astype(str)))
    ids = ids[ids.isin(labels.index)] if objects is None else pd.Index([str(o) for o in objects])
    if len(ids) == 0:
        raise InputError(None, "no light-curve object has a label")
    cuts = sorted({float(d) for d in days}) + [np.inf]
    summaries, points, results = [], [], {}
    for d in cuts:
        part = truncate_lightcurves(table, d)
        X = features(part)
        X.index = X.index.astype(str)
        X = X.reindex(ids)
        no_feature = float(X.isna().all(axis=1).mean())
        if missing_count:
            X = X.assign(n_missing_features=X.isna().sum(axis=1).astype(np.float64))
        ul = (
            part["is_upper_limit"].to_numpy(bool)
            if "is_upper_limit" in part
            else np.zeros(len(part), bool)
        )
        n_det = part.loc[~ul].groupby("object_id").size().reindex(ids, fill_value=0)
        points.append({"days": d, "median_points": float(n_det.median()),
                       "p10_points": float(n_det.quantile(0.1)),
                       "no_feature": no_feature})  # fmt: skip
        res = leave_one_subclass_out(X, labels.reindex(ids).to_numpy(), detectors,
                                     show_progress=False, **protocol)  # fmt: skip
        results[d] = res
        summaries.append(res.summary.assign(days=d))
    summary = pd.concat(summaries, ignore_index=True)
    return EarlyCurveResult(summary, pd.DataFrame(points).set_index("days"), results)


def plot_early(summary: pd.DataFrame, path, metric: str = "auroc", detectors=None) -> Path:
    """Mean ``metric`` against days since first detection, one panel per held-out class, one
    line per detector (the full curve drawn at the right edge)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sub = summary[summary["metric"] == metric]
    if detectors is not None:
        sub = sub[sub["detector"].isin(list(detectors))]
    classes = list(dict.fromkeys(sub["held_out_class"]))
    finite = sorted(d for d in sub["days"].unique() if np.isfinite(d))
    full_x = (max(finite) if finite else 1.0) * 3
    fig, axes = plt.subplots(1, len(classes), figsize=(3.2 * len(classes), 3.0), squeeze=False,
                             sharey=True)  # fmt: skip
    for ax, cls in zip(axes[0], classes, strict=True):
        for det, grp in sub[sub["held_out_class"] == cls].groupby("detector", sort=False):
            grp = grp.sort_values("days")
            x = np.where(np.isinf(grp["days"]), full_x, grp["days"])
            ax.errorbar(
                x, grp["mean"], yerr=grp["std"], marker="o", ms=3, lw=1, capsize=2, label=det
            )
        ax.axhline(0.5, color="grey", lw=0.5, ls=":")
        ax.set_xscale("log")
        ax.set_xticks([*finite, full_x], [*(f"{d:g}" for d in finite), "full"])
        ax.set_title(str(cls), fontsize=9)
        ax.set_xlabel("days since first detection")
    axes[0][0].set_ylabel(metric.upper())
    axes[0][-1].legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
