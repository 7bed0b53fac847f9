"""The report's significance section: empirical false-alarm probabilities, their calibration
plot (nominal against empirical, per score term), the false candidates expected per 1,000
sources and the trials the software knows of (:mod:`serendip.catalog.significance`)."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.layout import RunLayout

#: colours of the terms in the calibration plot
_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def read_significance(run_dir: str | Path) -> dict[str, pd.DataFrame] | None:
    """The significance stage's tables of ``run_dir`` (``table``, ``calibration``, ``rates``,
    ``trials``), or None when the run has none."""
    from serendip.io.tables import read_table

    lay = RunLayout(run_dir)
    if not lay.significance.is_file():
        return None
    out = {"table": read_table(lay.significance)}
    for key, name in (("calibration", "significance_calibration"),
                      ("rates", "significance_rates"), ("trials", "significance_trials")):
        p = lay.path(name)
        out[key] = read_table(p) if p.is_file() else pd.DataFrame()
    return out


def calibration_svg(cal: pd.DataFrame, width: int = 420, height: int = 360) -> str:
    """Inline SVG: empirical against nominal false-alarm probability per term (log-log, with
    the 68 % intervals and the diagonal of a calibrated term)."""
    lo_p = 1e-4
    m = {"l": 56, "r": 120, "t": 14, "b": 44}
    w, h = width - m["l"] - m["r"], height - m["t"] - m["b"]

    def x(v):
        return m["l"] + w * (np.log10(np.clip(v, lo_p, 1.0)) - np.log10(lo_p)) / -np.log10(lo_p)

    def y(v):
        return m["t"] + h * (1 - (np.log10(np.clip(v, lo_p, 1.0)) - np.log10(lo_p)) / -np.log10(lo_p))

    el = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
          "role='img' aria-label='calibration plot' font-family='sans-serif' font-size='11'>",
          f"<rect x='{m['l']}' y='{m['t']}' width='{w}' height='{h}' fill='none' stroke='#999'/>"]
    for e in range(-4, 1):
        v = 10.0**e
        el.append(f"<line x1='{x(v):.1f}' y1='{m['t'] + h}' x2='{x(v):.1f}' y2='{m['t'] + h + 4}' stroke='#666'/>"
                  f"<text x='{x(v):.1f}' y='{m['t'] + h + 16}' text-anchor='middle'>1e{e}</text>"
                  f"<line x1='{m['l'] - 4}' y1='{y(v):.1f}' x2='{m['l']}' y2='{y(v):.1f}' stroke='#666'/>"
                  f"<text x='{m['l'] - 6}' y='{y(v) + 4:.1f}' text-anchor='end'>1e{e}</text>")
    el.append(f"<line x1='{x(lo_p):.1f}' y1='{y(lo_p):.1f}' x2='{x(1):.1f}' y2='{y(1):.1f}' "
              "stroke='#888' stroke-dasharray='4 3'/>")
    el.append(f"<text x='{m['l'] + w / 2}' y='{height - 6}' text-anchor='middle'>nominal "
              "false-alarm probability</text>")
    el.append(f"<text transform='translate(14 {m['t'] + h / 2}) rotate(-90)' "
              "text-anchor='middle'>empirical (scrambled null)</text>")
    for j, (term, g) in enumerate(cal.groupby("term", sort=False)):
        c = _COLOURS[j % len(_COLOURS)]
        g = g[g["empirical"] > 0]
        if not len(g):
            continue
        pts = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(g["nominal"], g["empirical"], strict=True))
        el.append(f"<polyline points='{pts}' fill='none' stroke='{c}' stroke-width='1.6'/>")
        for a, lo, hi in zip(g["nominal"], g["lo"], g["hi"], strict=True):
            el.append(f"<line x1='{x(a):.1f}' y1='{y(max(lo, lo_p)):.1f}' x2='{x(a):.1f}' "
                      f"y2='{y(hi):.1f}' stroke='{c}'/>")
        el.append(f"<line x1='{m['l'] + w + 10}' y1='{m['t'] + 12 + 16 * j}' x2='{m['l'] + w + 28}' "
                  f"y2='{m['t'] + 12 + 16 * j}' stroke='{c}' stroke-width='2'/>"
                  f"<text x='{m['l'] + w + 32}' y='{m['t'] + 16 + 16 * j}'>{html.escape(term)}</text>")
    el.append("</svg>")
    return "".join(el)


def _fmt_p(p: np.ndarray, floor: np.ndarray | None = None) -> list[str]:
    out = []
    for i, v in enumerate(np.asarray(p, dtype=np.float64)):
        s = "" if not np.isfinite(v) else f"{v:.2g}"
        if floor is not None and bool(floor[i]) and s:
            s = "&le; " + s
        out.append(s)
    return out


def significance_section(run_dir: str | Path, cand: pd.DataFrame, n_rows: int = 24) -> list[str]:
    """HTML of the report's significance section (empty list when the run has none, with a
    sentence saying that no probability is shown)."""
    from serendip.report.html import _table

    sig = read_significance(run_dir)
    if sig is None:
        return ["<h2>Significance</h2><p>This run has no empirical calibration "
                "(<code>significance.n_scrambles = 0</code> or a light-curve run): no score "
                "term is shown as a probability.</p>"]
    t, rates, trials, cal = sig["table"], sig["rates"], sig["trials"], sig["calibration"]
    terms = [c[5:] for c in t.columns if c.startswith("stat_")]
    chosen = rates[rates["chosen"]] if "chosen" in rates else rates
    thr = float(chosen["threshold"].iloc[0]) if len(chosen) else float("nan")
    allr = chosen[chosen["term"] == "all terms"]
    n_scr = trials.loc[trials["what"] == "scrambles", "count"]
    n_scr = int(n_scr.iloc[0]) if len(n_scr) else 0
    a = allr.iloc[0] if len(allr) else None
    summary = (
        f"At the chosen threshold (false-alarm probability &le; {thr:g}, all terms) "
        f"{int(a['real_above'])} of {int(a['real_files']):,} sources are significant; the "
        f"scrambled null gives {a['false_per_1000']:.2g} false candidates per 1,000 sources "
        f"(68 %: {a['false_per_1000_lo']:.2g}-{a['false_per_1000_hi']:.2g}), i.e. "
        f"{a['expected_false']:.1f} expected among them."
        if a is not None else ""
    )
    floor = float(1.0 / (t["n_null"].min() + 1)) if len(t) else float("nan")
    top = cand[["rank", "obsreg_id"]].head(n_rows).merge(
        t, on="obsreg_id", how="left", sort=False)
    shown = pd.DataFrame({"rank": top["rank"], "obsreg_id": top["obsreg_id"]})
    shown["FAP (all terms)"] = _fmt_p(top["fap"], top.get("at_floor"))
    shown["sigma"] = top["sigma"].map(lambda v: f"{v:.2f}" if np.isfinite(v) else "")
    if "sigma_tail" in top:
        shown["sigma (tail extrapolation)"] = np.where(
            top["at_floor"].fillna(False).astype(bool),
            top["sigma_tail"].map(lambda v: f"{v:.1f}" if np.isfinite(v) else ""), "")
    shown["best term"] = top["best_term"]
    for term in terms:
        shown[f"FAP {term}"] = _fmt_p(top[f"fap_{term}"])
    rt = chosen[["term", "threshold", "false_per_1000", "false_per_1000_lo", "false_per_1000_hi",
                 "real_above", "expected_false", "trials_factor"]].rename(columns={
        "false_per_1000": "false per 1,000 sources", "false_per_1000_lo": "68 % low",
        "false_per_1000_hi": "68 % high", "real_above": "sources at or below",
        "expected_false": "expected false among them",
        "trials_factor": "empirical / nominal (tail)"})
    return [
        "<h2>Significance</h2>",
        "<p>Every probability in this report is an <b>empirical false-alarm probability</b>: "
        f"the same scoring run on {n_scr} time-scrambled copies of every source (each event's "
        "time redrawn from its source's exposure within its good-time intervals, energies "
        "kept), compared within counts bins: FAP = (k + 1) / (n + 1) with k of the n null "
        "sources at least as extreme, its 68 % Wilson interval, and the one-sided Gaussian "
        f"sigma. The scrambles reach down to FAP ~ {floor:.1g} (sigma "
        f"{-np.nan_to_num(_ndtri(floor)):.1f}); a source beyond that is shown as &le; the floor, "
        "with the term's nominal probability times its empirical trials factor as a tail "
        "extrapolation. The anomaly percentile and the scan statistics are ranks and "
        "statistics, not probabilities. Bayesian blocks use the prior p0 = "
        f"{_p0():g} per change point.</p>",
        f"<p>{summary}</p>" if summary else "",
        "<h3>Calibration: nominal against empirical false-alarm probability</h3>",
        "<p class='note'>Per score term, the fraction of scrambled (constant) sources whose "
        "nominal probability is at or below each level; on the dashed diagonal the nominal "
        "probability is right, above it it understates the false alarms (windows, widths and "
        "time-axis effects it does not count). The anomaly term has no nominal probability.</p>",
        calibration_svg(cal) if len(cal) else "",
        "<h3>False candidates per 1,000 sources at the chosen threshold</h3>",
        _table(rt, "{:.3g}") if len(rt) else "",
        "<h3>Trials the software knows of</h3>",
        _table(trials) if len(trials) else "",
        f"<h3>Empirical false-alarm probabilities of the top {len(shown)} candidates</h3>",
        _table(shown).replace("&amp;le;", "&le;"),
    ]


def _ndtri(p: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(p))


def _p0() -> float:
    from serendip.represent.bayesian_blocks import DEFAULT_P0

    return DEFAULT_P0
