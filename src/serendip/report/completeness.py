"""Completeness curves (injection and recovery) in the report: summary, figure and section.

The run's ``completeness.parquet`` (one row per injected transient, written by
:func:`serendip.pipeline.completeness.completeness`) is summarised per case (kind, duration,
counts) into recovered fractions with binomial errors; the figure draws the fraction recovered
in the top k against the injected counts, one curve per kind and duration, by the final score
(solid) and by the anomaly score alone (dashed).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.layout import RunLayout
from serendip.report.plots import plt, png_bytes

__all__ = ["completeness_figure", "completeness_section", "png_bytes", "summarise"]


def summarise(table: pd.DataFrame, by=("kind", "duration", "counts")) -> pd.DataFrame:
    """Per group of ``by``: ``n`` injections, ``recovered`` and ``recovered_anomaly``
    (fractions in the top k) with binomial 1-sigma errors ``*_err``, median ``n_added``."""
    if not len(table):
        return pd.DataFrame(columns=[*by, "n", "recovered", "recovered_err", "recovered_anomaly",
                                     "recovered_anomaly_err", "n_added_median"])
    g = table.groupby(list(by), sort=True)
    out = g.agg(n=("recovered", "size"), recovered=("recovered", "mean"),
                recovered_anomaly=("recovered_anomaly", "mean"),
                n_added_median=("n_added", "median")).reset_index()
    for c in ("recovered", "recovered_anomaly"):
        p = out[c].to_numpy(np.float64)
        out[f"{c}_err"] = np.sqrt(np.maximum(p * (1 - p), 0.25 / out["n"]) / out["n"])
    return out[[*by, "n", "recovered", "recovered_err", "recovered_anomaly",
                "recovered_anomaly_err", "n_added_median"]]


def completeness_figure(summary: pd.DataFrame, *, case: str = "", top_k: int = 0, n: int = 0):
    """Fraction recovered in the top k against injected counts (log x), per kind and duration."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, ((kind, dur), d) in enumerate(summary.groupby(["kind", "duration"], sort=True)):
        c = colours[i % len(colours)]
        ax.errorbar(d["counts"], d["recovered"], yerr=d["recovered_err"], color=c, marker="o",
                    ms=3, capsize=2, label=f"{kind} {dur:g} s")
        ax.plot(d["counts"], d["recovered_anomaly"], color=c, ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("injected counts (expected, in band)")
    ax.set_ylabel(f"fraction in top {top_k}" if top_k else "fraction recovered")
    ax.set_title(f"completeness, case {case}: final score (solid), anomaly score alone (dashed)"
                 + (f"; {n} sources" if n else ""), fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    fig.subplots_adjust(left=0.11, right=0.98, bottom=0.14, top=0.9)
    return fig


def completeness_section(run_dir: str | Path) -> list[str]:
    """The completeness plot and table of ``run_dir`` ([] when not computed)."""
    from serendip.io.tables import read_table
    from serendip.report.html import _table

    lay = RunLayout(run_dir)
    if not lay.completeness.is_file():
        return []
    t = read_table(lay.completeness)
    if not len(t):
        return ["<h2>Completeness</h2><p class='note'>No injection found a host.</p>"]
    s = summarise(t)
    img = ""
    if lay.completeness_plot.is_file():
        data = base64.b64encode(lay.completeness_plot.read_bytes()).decode()
        img = f"<p><img alt='completeness curves' src='data:image/png;base64,{data}'></p>"
    k = int(t["top_k"].iloc[0])
    extra = [c for c in ("host_offaxis", "host_bkg_rate") if np.isfinite(t[c]).any()]
    words = (f"<p>{len(t)} flares and fast transients injected into the run's own sources (their "
             f"photons, good-time intervals and background), re-scored with the run's settings; "
             f"recovered = rank &le; {k} of {int(t['n_sources'].iloc[0]):,} by the final score, and "
             "by the anomaly score alone. Overall "
             f"{t['recovered'].mean():.2f} by the final score, {t['recovered_anomaly'].mean():.2f} "
             "by the anomaly score alone"
             + (f"; per-injection host {', '.join(extra)} in completeness.parquet" if extra else "")
             + ".</p>")
    parts = ["<h2>Completeness (injection and recovery)</h2>", words, img, _table(s, "{:.3g}")]
    for col, what in (("host_bkg_rate", "host background rate [ct/s]"),
                      ("host_offaxis", "host off-axis angle [arcmin]")):
        b = by_host_bins(t, col)
        if b is not None:
            parts += [f"<p>Recovered fraction by {html.escape(what)} (tertiles of the hosts), all "
                      "counts and durations together:</p>", _table(b, "{:.3g}")]
    return parts


def by_host_bins(table: pd.DataFrame, column: str, n_bins: int = 3) -> pd.DataFrame | None:
    """Recovered fractions per kind and per quantile bin of a host column (None when the
    column is missing or has too few distinct values)."""
    if column not in table or table[column].nunique(dropna=True) < n_bins:
        return None
    t = table[np.isfinite(table[column])]
    code, edges = pd.qcut(t[column], n_bins, labels=False, retbins=True, duplicates="drop")
    names = [f"{i + 1}: {edges[i]:.3g} to {edges[i + 1]:.3g}" for i in range(len(edges) - 1)]
    t = t.assign(**{f"{column}_bin": np.asarray(names, dtype=object)[code.to_numpy(int)]})
    return summarise(t, ("kind", f"{column}_bin"))
