"""``RUN_DIR/report.html``: one self-contained page (PNG plots embedded as base64).

Sections: the run's settings; the embedding coloured by cluster, by known type and by
candidate score; the top candidates with their E-t maps and binned light curves with
hardness ratio; a gallery per cluster (E-t maps of its best-scoring members) with the
cluster summary table. The number of figures is bounded (3 + ``n_top`` +
``max_clusters``), so the report of a 10^5-file run is written in seconds.
"""

from __future__ import annotations

import base64
import html
import json
import time as _time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.atomic import atomic_path
from serendip.io.eventset import EventSet
from serendip.layout import RunLayout

_CSS = """
body{font-family:system-ui,Helvetica,Arial,sans-serif;margin:1.5em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:12px;margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}
th{background:#f3f3f3}img{max-width:100%}pre{background:#f7f7f7;padding:.6em;font-size:12px;overflow-x:auto}
.grid{display:flex;flex-wrap:wrap;gap:8px}.grid img{max-width:540px}.note{color:#666;font-size:12px}
"""

TABLE_COLUMNS = [
    "rank",
    "obsreg_id",
    "score",
    "reasons",
    "anomaly_percentile",
    "nearest_known",
    "nearest_known_distance",
    "cluster",
    "known_type",
]


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def _table(df: pd.DataFrame, float_fmt: str = "{:.4g}") -> str:
    return df.to_html(
        index=False, escape=True, border=0, float_format=lambda v: float_fmt.format(v), na_rep=""
    )


def _load_events_for(run_dir: Path, ids: list[str]) -> EventSet | None:
    """Events of just ``ids`` from ``RUN_DIR/events.parquet`` (predicate push-down), or None."""
    path = RunLayout(run_dir).events
    if not path.exists() or not ids:
        return None
    df = pd.read_parquet(
        path, columns=["obsreg_id", "time", "energy"], filters=[("obsreg_id", "in", ids)]
    )
    return EventSet.from_frame(df, order=ids, source=path)


def write_report(
    run_dir: str | Path,
    candidates: pd.DataFrame | None = None,
    events: EventSet | None = None,
    settings: dict[str, Any] | None = None,
    cluster_table: pd.DataFrame | None = None,
    *,
    n_top: int = 12,
    n_table: int = 50,
    max_clusters: int = 12,
    n_per_cluster: int = 6,
    title: str = "serendip run report",
) -> Path:
    """Write ``RUN_DIR/report.html`` and return its path.

    Parameters
    ----------
    run_dir : the run directory (created if missing).
    candidates : the catalogue from :func:`serendip.catalog.build_candidates`; default
        ``RUN_DIR/candidates.parquet``. Its ``emb_x``/``emb_y``, ``cluster``,
        ``known_type`` and ``score`` columns drive the embedding plots.
    events : EventSet holding (at least) the files to show; default: just those files
        read from ``RUN_DIR/events.parquet``. Without events the map / light-curve
        sections say so and are skipped.
    settings : the run's settings (any JSON-serialisable dict), shown verbatim.
    cluster_table : per-cluster summary (:func:`serendip.cluster.cluster_summary`);
        computed from the catalogue when omitted.
    n_top : candidates shown with E-t map and light curve; ``n_table`` rows in the table.
    max_clusters, n_per_cluster : size of the per-cluster gallery (largest clusters).
    """
    from serendip.cluster.summary import cluster_summary
    from serendip.report import plots

    t0 = _time.perf_counter()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if candidates is None:
        from serendip.catalog.candidates import read_candidates

        candidates = read_candidates(RunLayout(run_dir).candidates)
    if "obsreg_id" not in candidates.columns or "score" not in candidates.columns:
        raise InputError(None, "candidate table needs obsreg_id and score columns")
    cand = (
        candidates.sort_values("rank", kind="stable")
        if "rank" in candidates.columns
        else candidates
    )
    cand = cand.reset_index(drop=True)
    n = len(cand)
    clusters = (
        cand["cluster"].to_numpy(dtype=np.int64)
        if "cluster" in cand.columns
        else np.zeros(n, np.int64)
    )
    known_type = (
        cand["known_type"].fillna("").astype(str).to_numpy()
        if "known_type" in cand.columns
        else np.full(n, "")
    )

    # which files need events: top candidates + cluster gallery members
    big = pd.Series(clusters[clusters > 0]).value_counts().head(max_clusters).index.to_numpy()
    gallery_rows = {
        c: np.flatnonzero(clusters == c)[:n_per_cluster] for c in big
    }  # cand sorted by rank
    top_rows = np.arange(min(n_top, n))
    need = (
        np.unique(np.concatenate([top_rows, *gallery_rows.values()]).astype(np.int64))
        if n
        else np.zeros(0, int)
    )
    need_ids = cand["obsreg_id"].astype(str).to_numpy()[need].tolist()
    if events is None:
        events = _load_events_for(run_dir, need_ids)
    ev_index = (
        pd.Index(np.asarray(events.obsreg_id).astype(str)) if events is not None else pd.Index([])
    )

    parts: list[str] = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<p>{n} files; {int((clusters > 0).sum())} in {len(np.unique(clusters[clusters > 0]))} clusters, "
        f"{int((clusters == 0).sum())} noise; {int((known_type != '').sum())} known transients. "
        f"Written {pd.Timestamp.now('UTC').strftime('%Y-%m-%d %H:%M UTC')}.</p>",
        "<h2>Settings</h2><pre>"
        + html.escape(
            json.dumps(settings or {}, indent=2, sort_keys=True, default=str), quote=False
        )
        + "</pre>",
    ]

    xy = plots.as_frame_xy(cand)
    parts.append("<h2>Embedding</h2>")
    if xy is not None:
        figs = [
            (
                plots.embedding_by_category(
                    xy, clusters, "Embedding: clusters (0 = noise)", noise_label=0
                ),
                "clusters",
            ),
            (plots.embedding_by_known(xy, known_type), "known types"),
            (plots.embedding_by_score(xy, cand["score"].to_numpy(), top_n=min(n_top, n)), "score"),
        ]
        parts.append(
            '<div class="grid">' + "".join(_img(plots.png_bytes(f), a) for f, a in figs) + "</div>"
        )
    else:
        parts.append(
            "<p class='note'>No embedding coordinates (emb_x, emb_y) in the catalogue.</p>"
        )

    parts.append(
        f"<h2>Top candidates</h2>{_table(cand[[c for c in TABLE_COLUMNS if c in cand.columns]].head(n_table))}"
    )
    parts.append(f"<h3>E-t maps and light curves of the top {len(top_rows)}</h3>")
    if events is None:
        parts.append(
            "<p class='note'>No events available (no RUN_DIR/events.parquet); maps skipped.</p>"
        )
    else:
        for r in top_rows:
            row = cand.iloc[r]
            j = ev_index.get_indexer([str(row["obsreg_id"])])[0]
            if j < 0:
                parts.append(
                    f"<p class='note'>{html.escape(str(row['obsreg_id']))}: events not found.</p>"
                )
                continue
            t, e = events.events_of(j)
            cap = f"#{int(row.get('rank', r + 1))} {row['obsreg_id']}  score {row['score']:.4f}  ({len(t)} events)"
            parts.append(
                f"<p><b>{html.escape(cap)}</b><br>{html.escape(str(row.get('reasons', '')))}</p>"
            )
            parts.append(
                _img(plots.png_bytes(plots.file_panel(t, e, cap)), f"candidate {row['obsreg_id']}")
            )

    parts.append("<h2>Clusters</h2>")
    if cluster_table is None:
        feats = cand.select_dtypes(include=[np.number]).drop(
            columns=[c for c in ("rank", "cluster", "emb_x", "emb_y") if c in cand.columns]
        )
        cluster_table = cluster_summary(clusters, known_type, feats)
    parts.append(_table(cluster_table.head(60)))
    if events is not None and len(gallery_rows):
        parts.append(
            f"<h3>Gallery: best-scoring members of the {len(gallery_rows)} largest clusters</h3>"
        )
        for c, rows in gallery_rows.items():
            items = []
            for r in rows:
                j = ev_index.get_indexer([str(cand["obsreg_id"].iloc[r])])[0]
                if j >= 0:
                    items.append(
                        (
                            int(j),
                            f"{cand['obsreg_id'].iloc[r]} #{int(cand['rank'].iloc[r]) if 'rank' in cand else r + 1}",
                        )
                    )
            if items:
                fig = plots.files_grid(
                    events, items, f"cluster {c} ({int((clusters == c).sum())} files)"
                )
                parts.append(_img(plots.png_bytes(fig), f"cluster {c}"))
    parts.append(
        f"<p class='note'>Report written in {_time.perf_counter() - t0:.1f} s.</p></body></html>"
    )

    path = RunLayout(run_dir).report
    with atomic_path(path) as tmp:
        Path(tmp).write_text("\n".join(parts), encoding="utf-8")
    return path
