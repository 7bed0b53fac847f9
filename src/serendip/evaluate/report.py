"""Evaluation tables (CSV, Markdown, LaTeX) and the summary plot.

``results.csv`` has exactly the columns held_out_class, detector, metric, mean, std.
For each metric a wide table (held-out class x detector, "mean ± std", best mean in bold)
is written as ``table_<metric>.csv/.md/.tex``; the AUPR table carries the random baseline
(prevalence) as its own column. ``results.md`` / ``results.tex`` hold all tables together and
``results.png`` plots AUROC and AUPR (with the baseline) per held-out class and detector.

With an artefact class, ``artefacts.csv`` / ``artefacts.md`` hold one row per detector: the share
of each budget's top list that is artefacts (``artefacts@1%``, ...: mean over held-out classes
and seeds, lower is better) beside its mean AUROC (:func:`artefact_summary`).

``status.csv`` has one row per (seed, held-out class, detector) run: ok, failed or skipped, the
reason and any merge of small inlier classes; ``failures.csv`` the failed runs. In the tables a
detector that failed or was skipped on every seed of a class shows "failed" / "skipped" (it
shows "(k failed)" after its numbers when only some seeds failed), and ``results.md`` ends with
a section naming every failed or skipped detector with its reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

METRIC_ORDER = ("auroc", "aupr", "recall@1%", "recall@2%", "recall@5%", "recall@15%")


def metric_slug(metric: str) -> str:
    """File-name-safe form of a metric name (``@`` -> ``_at_``, ``%`` -> ``pct``)."""
    return metric.replace("@", "_at_").replace("%", "pct")


def _bad_counts(status: pd.DataFrame | None) -> dict[tuple[str, str], tuple[str, int, int]]:
    """(held-out class, detector) -> (worst status, runs not ok, runs) from a status table."""
    if status is None or status.empty:
        return {}
    out = {}
    for (cls, det), grp in status.groupby(["held_out_class", "detector"], sort=False):
        bad = grp[grp["status"] != "ok"]
        if len(bad):
            worst = "failed" if (bad["status"] == "failed").any() else "skipped"
            out[(str(cls), str(det))] = (worst, len(bad), len(grp))
    return out


def wide_table(
    summary: pd.DataFrame,
    metric: str,
    digits: int = 3,
    bold: str | None = "md",
    status: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Held-out class x detector strings "mean ± std"; the best mean per row in bold (md or tex).

    With ``status`` (:attr:`EvaluationResult.status`), detectors that failed or were skipped
    appear too: "failed" / "skipped" where no seed gave a result, "(k failed)" after the
    numbers where some did not.
    """
    sub = summary[summary["metric"] == metric]
    mean = sub.pivot(index="held_out_class", columns="detector", values="mean")
    std = sub.pivot(index="held_out_class", columns="detector", values="std").reindex_like(mean)
    detectors = list(dict.fromkeys(sub["detector"]))
    bad = _bad_counts(status)
    if bad:
        classes = list(dict.fromkeys(list(mean.index) + [c for c, _ in bad]))
        detectors = list(dict.fromkeys(list(status["detector"].astype(str))))
        mean = mean.reindex(index=classes, columns=detectors)
        std = std.reindex(index=classes, columns=detectors)
    mean, std = mean[detectors], std[detectors]
    out = pd.DataFrame(index=mean.index, columns=detectors, dtype=object)
    has = mean.notna().any(axis=1)  # a class whose every detector failed has no best
    best = pd.Series(index=mean.index, dtype=object)
    if has.any():  # the share of artefacts in a top list is best when lowest
        pick = "idxmin" if metric.startswith("artefacts@") else "idxmax"
        best[has] = getattr(mean[has].astype(float), pick)(axis=1, skipna=True)
    for cls in mean.index:
        for det in detectors:
            m, s = mean.at[cls, det], std.at[cls, det]
            text = "—" if not np.isfinite(m) else f"{m:.{digits}f} ± {s:.{digits}f}"
            if bold and np.isfinite(m) and best.get(cls) == det:
                text = f"**{text}**" if bold == "md" else f"\\textbf{{{text}}}"
            if (str(cls), str(det)) in bad:
                worst, k, n = bad[(str(cls), str(det))]
                text = worst if not np.isfinite(m) else f"{text} ({k} of {n} {worst})"
            out.at[cls, det] = text
    if metric == "aupr":
        base = (
            summary[summary["metric"] == "aupr_baseline"].groupby("held_out_class")["mean"].mean()
        )
        out["random (prevalence)"] = [f"{base.get(c, np.nan):.{digits}f}" for c in out.index]
    out.index.name = "held-out class"
    return out


def to_markdown(df: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (index as the first column)."""
    cols = [df.index.name or ""] + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for idx, row in df.iterrows():
        lines.append("| " + " | ".join([str(idx)] + [str(v) for v in row.to_numpy()]) + " |")
    return "\n".join(lines) + "\n"


def to_latex(df: pd.DataFrame, caption: str = "") -> str:
    """A DataFrame as a LaTeX ``table`` (special characters escaped), with ``caption``."""
    def esc(s: str) -> str:
        return (
            str(s)
            .replace("_", r"\_")
            .replace("%", r"\%")
            .replace("±", r"$\pm$")
            .replace("&", r"\&")
        )

    cols = [df.index.name or ""] + [str(c) for c in df.columns]
    lines = [
        r"\begin{table}",
        r"\centering",
        r"\begin{tabular}{l" + "c" * len(df.columns) + "}",
        r"\hline",
    ]
    lines.append(" & ".join(esc(c) for c in cols) + r" \\ \hline")
    for idx, row in df.iterrows():
        lines.append(" & ".join([esc(idx)] + [esc(v) for v in row.to_numpy()]) + r" \\")
    lines += [r"\hline", r"\end{tabular}"]
    if caption:
        lines.append(r"\caption{" + esc(caption) + "}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def write_results(
    result, out_dir, formats: Sequence[str] = ("csv", "md", "tex"), plot: bool = True
) -> dict[str, Any]:
    """Write every table of ``result`` (an :class:`EvaluationResult`) into ``out_dir``; returns the paths."""
    from serendip.io.atomic import atomic_path
    from serendip.io.tables import write_table

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Any] = {}
    summary = result.summary
    paths["results.csv"] = write_table(
        summary[["held_out_class", "detector", "metric", "mean", "std"]], out / "results.csv"
    )
    paths["runs.csv"] = write_table(result.runs, out / "runs.csv")
    status = getattr(result, "status", None)
    if status is not None:
        paths["status.csv"] = write_table(status, out / "status.csv")
    if result.failures:
        paths["failures.csv"] = write_table(
            pd.DataFrame(result.failures, columns=["run", "reason"]), out / "failures.csv"
        )
    metrics = [m for m in METRIC_ORDER if m in set(summary["metric"])]
    metrics += [
        m
        for m in dict.fromkeys(summary["metric"])
        if m not in metrics and m not in ("aupr_baseline", "fit_s", "score_s")
    ]
    md_all, tex_all = [], []
    art = artefact_summary(summary)
    if art is not None:
        paths["artefacts.csv"] = write_table(art.reset_index(), out / "artefacts.csv")
        md = "### artefacts in the top list\n\n" + to_markdown(art.round(3))
        with atomic_path(out / "artefacts.md") as tmp:
            Path(tmp).write_text(md)
        paths["artefacts.md"] = out / "artefacts.md"
        md_all.append(md)
    for metric in metrics:
        slug = metric_slug(metric)
        if "csv" in formats:
            paths[f"table_{slug}.csv"] = write_table(
                wide_table(summary, metric, bold=None, status=status).reset_index(),
                out / f"table_{slug}.csv",
            )
        md = f"### {metric}\n\n" + to_markdown(
            wide_table(summary, metric, bold="md", status=status)
        )
        tex = to_latex(
            wide_table(summary, metric, bold="tex", status=status),
            caption=f"{metric}, mean ± std over seeds",
        )
        md_all.append(md)
        tex_all.append(tex)
        for fmt, text in (("md", md), ("tex", tex)):
            if fmt in formats:
                p = out / f"table_{slug}.{fmt}"
                with atomic_path(p) as tmp:
                    Path(tmp).write_text(text)
                paths[p.name] = p
    notes = problems_markdown(result)
    if notes:
        md_all.append(notes)
    for fmt, parts in (("md", md_all), ("tex", tex_all)):
        if fmt in formats:
            p = out / f"results.{fmt}"
            with atomic_path(p) as tmp:
                Path(tmp).write_text("\n".join(parts))
            paths[p.name] = p
    if plot and not summary.empty:
        paths["results.png"] = plot_results(summary, out / "results.png")
    return paths


def artefact_summary(summary: pd.DataFrame) -> pd.DataFrame | None:
    """Detector x (``artefacts@<budget>`` ..., ``auroc``): the share of each budget's top list
    that is artefacts and the AUROC, each the mean over held-out classes of the mean over seeds;
    None when the summary has no artefact metric."""
    arts = [m for m in dict.fromkeys(summary["metric"]) if str(m).startswith("artefacts@")]
    if not arts:
        return None
    sub = summary[summary["metric"].isin([*arts, "auroc"])]
    table = sub.groupby(["detector", "metric"], sort=False)["mean"].mean().unstack("metric")
    table = table.reindex(columns=[*arts, "auroc"])
    table.columns.name = None
    return table


def problems_markdown(result) -> str:
    """A Markdown section naming every failed or skipped detector (with its reason and runs) and
    every merge of small inlier classes; "" when there is none."""
    status = getattr(result, "status", None)
    if status is None or status.empty:
        return ""
    parts = []
    probs = result.problems()
    if len(probs):
        parts.append("### Failed or skipped runs\n\n" + to_markdown(probs.set_index("detector")))
    merged = status.loc[status["merged"].astype(str) != "", ["seed", "held_out_class", "merged"]]
    if len(merged):
        merged = merged.drop_duplicates()
        parts.append(
            "### Small inlier classes merged for the label-using detectors\n\n"
            + to_markdown(merged.set_index("seed"))
        )
    return "\n".join(parts)


def plot_results(summary: pd.DataFrame, path) -> Path:
    """AUROC (top) and AUPR with its random baseline (bottom) per held-out class and detector."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = list(dict.fromkeys(summary["held_out_class"]))
    detectors = list(dict.fromkeys(summary["detector"]))
    fig, axes = plt.subplots(
        2,
        1,
        figsize=(max(6, 0.9 * len(classes) * max(1, len(detectors) / 3) + 2), 6.5),
        sharex=True,
    )
    width = 0.8 / max(len(detectors), 1)
    x = np.arange(len(classes))
    for ax, metric in zip(axes, ("auroc", "aupr"), strict=True):
        sub = summary[summary["metric"] == metric]
        for j, det in enumerate(detectors):
            d = sub[sub["detector"] == det].set_index("held_out_class").reindex(classes)
            ax.bar(
                x + (j - (len(detectors) - 1) / 2) * width,
                d["mean"],
                width,
                yerr=d["std"],
                label=det,
                capsize=2,
            )
        if metric == "auroc":
            ax.axhline(0.5, color="k", ls=":", lw=1)
        else:
            base = (
                summary[summary["metric"] == "aupr_baseline"]
                .groupby("held_out_class")["mean"]
                .mean()
                .reindex(classes)
            )
            ax.scatter(x, base, marker="_", s=400, color="k", zorder=5, label="random (prevalence)")
        ax.set_ylabel(metric.upper())
        ax.set_ylim(0, 1.05)
    axes[0].legend(fontsize=7, ncol=min(len(detectors), 4), loc="lower left")
    axes[1].legend(
        fontsize=7, ncol=1, loc="upper right", handles=axes[1].get_legend_handles_labels()[0][-1:]
    )
    axes[1].set_xticks(x, classes, rotation=30, ha="right")
    axes[1].set_xlabel("held-out class (anomaly)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
