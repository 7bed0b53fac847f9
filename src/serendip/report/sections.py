"""Report sections read from optional run files (the source table).

Each function returns a list of HTML fragments ([] when the run has no such file), so
:func:`serendip.report.write_report` shows whatever the run computed.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from serendip.layout import RunLayout

#: columns of the source table shown in the report
SOURCE_TABLE_COLUMNS = (
    "source_rank", "source_id", "n_detections", "best_obsreg_id", "score", "best_rate",
    "quiescent_rate", "rate_ratio", "epochs_mjd", "glat", "gaia_g", "gaia_parallax",
    "simbad_type", "ned_type", "likely_stellar_flare", "known_type",
)  # fmt: skip


def _table(df: pd.DataFrame, float_fmt: str = "{:.4g}") -> str:
    from serendip.report.html import _table as table

    return table(df, float_fmt)


def sources_section(run_dir: str | Path, n_rows: int = 50) -> list[str]:
    """The top of ``candidates_by_source.parquet``: one row per source."""
    path = RunLayout(run_dir).candidates_by_source
    if not path.is_file():
        return []
    from serendip.io.tables import read_table

    t = read_table(path)
    n_multi = int((t["n_detections"] > 1).sum()) if len(t) else 0
    n_det = int(t["n_detections"].sum()) if len(t) else 0
    rule = html.escape(str(t["grouped_by"].iloc[0])) if len(t) else ""
    stellar = int(t["likely_stellar_flare"].sum()) if "likely_stellar_flare" in t else 0
    ctx = html.escape(str(t["context_from"].iloc[0])) if "context_from" in t and len(t) else ""
    return [
        "<h2>Candidates by source</h2>",
        f"<p>{n_det:,} detections are {len(t):,} sources ({n_multi:,} seen more than once; "
        f"grouped by {rule}). Each source is ranked by its best detection; the quiescent "
        "level is the count rate over its other detections. Archival context: "
        f"{ctx or 'none given'}; {stellar} likely stellar flare(s) (a flare candidate at a Gaia "
        "star with a significant parallax or bright G).</p>",
        _table(t[[c for c in SOURCE_TABLE_COLUMNS if c in t.columns]].head(n_rows)),
    ]
