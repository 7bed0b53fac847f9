"""Nuisance audit: does an anomaly score just track counts, exposure, epoch or instrument?

An anomaly score that ranks files by how bright they are, how long they were exposed, where
on the detector they sit, when or with which instrument they were taken finds the
observation, not the source. :func:`nuisance_audit` measures this for every score column of a
candidate table (the final ``score``, the combined ``anomaly_score`` and each detector's
``anomaly_<name>``) against every nuisance column present:

* the Spearman rank correlation of the score with the nuisance (numeric nuisances), and
* the share of each nuisance bin among the top ``top`` fraction of files (default 1 %)
  against its share among all files, and their ratio (the over-representation).
  Numeric nuisances are cut into quartiles, categorical ones (chip, instrument) by value.

A bin whose ratio exceeds :data:`OVER_FACTOR` (with at least :data:`MIN_TOP` of the top files
in it) is flagged; :func:`audit_summary` says so in words for the report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: nuisance name -> candidate / file columns that hold it (the first present is used)
NUISANCES: dict[str, tuple[str, ...]] = {
    "net counts": ("n_events", "net_counts", "src_cnts"),
    "exposure": ("exposure", "livetime"),
    "off-axis angle": ("off_axis", "theta", "offaxis"),
    "chip": ("ccd_id", "chip", "ccdid"),
    "observation year": ("obs_year", "tstart"),
    "mission": ("mission", "telescope"),
    "instrument": ("instrument",),
}
#: categorical nuisances (binned by value, no rank correlation)
CATEGORICAL = {"chip", "mission", "instrument"}
#: a bin holding more than this times its overall share of the top files is flagged
OVER_FACTOR = 3.0
#: ... when at least this many top files are in it
MIN_TOP = 3


def score_columns(cands: pd.DataFrame) -> list[str]:
    """The score columns audited: ``score``, ``anomaly_score``, each ``anomaly_<detector>``."""
    skip = {"anomaly_percentile"}
    cols = [c for c in ("score", "anomaly_score") if c in cands]
    cols += [
        c for c in cands.columns if c.startswith("anomaly_") and c not in skip and c not in cols
    ]
    return cols


def nuisance_columns(table: pd.DataFrame) -> dict[str, str]:
    """{nuisance name: column} for the nuisances present in ``table`` with > 1 distinct value."""
    out = {}
    for name, cols in NUISANCES.items():
        for c in cols:
            if c in table.columns and table[c].nunique(dropna=True) > 1:
                out[name] = c
                break
    return out


def _bins(values: pd.Series, categorical: bool) -> pd.Series:
    if categorical:
        v = values.astype(str)
        keep = v.value_counts().index[:8]
        return v.where(v.isin(keep), "other")
    x = pd.to_numeric(values, errors="coerce")
    q = pd.qcut(x.rank(method="first"), 4, labels=False)
    edges = x.groupby(q).agg(["min", "max"])
    label = {k: f"Q{int(k) + 1} [{r['min']:.4g}, {r['max']:.4g}]" for k, r in edges.iterrows()}
    return q.map(label).fillna("missing")


def nuisance_audit(
    cands: pd.DataFrame, files: pd.DataFrame | None = None, top: float = 0.01
) -> pd.DataFrame:
    """The audit table of a candidate table (rules in the module docstring).

    Parameters
    ----------
    cands : candidate table (:func:`serendip.catalog.build_candidates`), one row per file.
    files : per-file table (obsreg_id, telescope, instrument, ccd_id, ...) joined on
        ``obsreg_id`` for nuisance columns the candidates lack; optional.
    top : the top fraction whose make-up is compared with the whole.

    Returns
    -------
    DataFrame: ``score`` (score column), ``nuisance``, ``column``, ``bin`` ("" on the rank
    correlation row), ``spearman_rho`` (rank correlation row; NaN for categorical),
    ``n_all``, ``n_top``, ``share_all``, ``share_top``, ``ratio`` (share_top / share_all),
    ``flagged`` (ratio > :data:`OVER_FACTOR` with n_top >= :data:`MIN_TOP`).
    """
    table = cands.copy()
    if files is not None and "obsreg_id" in files:
        f = files.assign(obsreg_id=files["obsreg_id"].astype(str)).drop_duplicates("obsreg_id")
        extra = [c for c in f.columns if c not in table.columns]
        table = table.merge(f[["obsreg_id", *extra]], on="obsreg_id", how="left")
    if "tstart" in table and "obs_year" not in table:
        # mission seconds since 1998-01-01 (Chandra's MJDREF 50814); a year-scale epoch proxy
        table["obs_year"] = 1998.0 + pd.to_numeric(table["tstart"], errors="coerce") / 3.15576e7
    nuis = nuisance_columns(table)
    n = len(table)
    k = max(int(round(top * n)), 1)
    rows = []
    for sc in score_columns(table):
        s = pd.to_numeric(table[sc], errors="coerce")
        in_top = np.zeros(n, bool)
        in_top[np.argsort(-s.to_numpy(np.float64), kind="stable")[:k]] = True
        for name, col in nuis.items():
            cat = name in CATEGORICAL
            base = {"score": sc, "nuisance": name, "column": col}
            if not cat:
                x = pd.to_numeric(table[col], errors="coerce")
                rho = float(s.rank().corr(x.rank())) if n > 2 else np.nan
                rows.append({**base, "bin": "", "spearman_rho": rho, "n_all": n, "n_top": k})
            b = _bins(table[col], cat)
            all_counts = b.value_counts()
            top_counts = b[in_top].value_counts().reindex(all_counts.index, fill_value=0)
            for label, n_all in all_counts.items():
                n_t = int(top_counts[label])
                share_all, share_top = n_all / n, n_t / k
                rows.append(
                    {**base, "bin": str(label), "spearman_rho": np.nan, "n_all": int(n_all),
                     "n_top": n_t, "share_all": share_all, "share_top": share_top,
                     "ratio": share_top / share_all}
                )  # fmt: skip
    out = pd.DataFrame(
        rows,
        columns=["score", "nuisance", "column", "bin", "spearman_rho", "n_all", "n_top",
                 "share_all", "share_top", "ratio"],
    )  # fmt: skip
    out["flagged"] = (out["ratio"] > OVER_FACTOR) & (out["n_top"] >= MIN_TOP)
    out.attrs["TOP"] = top
    return out


def audit_summary(audit: pd.DataFrame, top: float | None = None) -> list[str]:
    """Sentences for the report: the strongest rank correlation per score column, and every
    flagged bin (or that none is over-represented beyond :data:`OVER_FACTOR`)."""
    if audit.empty:
        return ["No nuisance column (counts, exposure, off-axis angle, chip, epoch, mission) "
                "varies across these files: nothing to audit."]  # fmt: skip
    top = top if top is not None else audit.attrs.get("TOP", 0.01)
    out = []
    corr = audit[audit["bin"] == ""].dropna(subset=["spearman_rho"])
    for sc, g in corr.groupby("score", sort=False):
        r = g.loc[g["spearman_rho"].abs().idxmax()]
        out.append(
            f"{sc}: strongest rank correlation with {r['nuisance']} (rho = {r['spearman_rho']:+.2f})."
        )
    flagged = audit[audit["flagged"]]
    if flagged.empty:
        out.append(
            f"No nuisance bin is over-represented in the top {top:.0%} by more than "
            f"{OVER_FACTOR:g}x its overall share."
        )
    for r in flagged.itertuples():
        out.append(
            f"{r.score}: {r.nuisance} bin {r.bin} holds {r.share_top:.0%} of the top {top:.0%} "
            f"({r.n_top} files) against {r.share_all:.0%} overall ({r.ratio:.1f}x): the score "
            "partly tracks this nuisance."
        )
    return out
