"""The ``sources`` stage of the run: one row per source, with archival context.

Reads ``candidates.parquet`` and ``files.parquet``, groups the detections into sources
(:func:`serendip.catalog.sources.group_detections`, settings ``[sources]``), makes the
source table (:func:`serendip.catalog.sources.candidates_by_source`), adds the archival
context (:func:`serendip.catalog.context.archival_context`) and writes
``candidates_by_source.parquet``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from serendip.io.tables import read_table, write_table


def stage_sources(run) -> tuple[dict[str, Path], dict[str, Any]]:
    """Run the stage on ``run`` (the runner's state); returns (outputs, info)."""
    from serendip.catalog.candidates import read_candidates
    from serendip.catalog.context import archival_context
    from serendip.catalog.sources import candidates_by_source, group_detections

    sc = run.cfg["sources"]
    cands = read_candidates(run.layout.candidates)
    if run.layout.files.is_file() and not run.cfg["input"].get("lightcurves"):
        files = read_table(run.layout.files)
    else:  # light-curve runs: one object per item, positions from the catalogue if any
        files = cands[[c for c in ("obsreg_id", "ra", "dec") if c in cands.columns]]
    k, floor = float(sc["match_sigma"]), float(sc["match_floor_arcsec"])
    groups = group_detections(files, by=sc["group_by"], k=k, floor_arcsec=floor)
    table = candidates_by_source(cands, files, groups)
    tables = {name: sc[name] for name in ("gaia", "simbad", "ned") if sc[name]}
    table = archival_context(
        table,
        tables,
        cache_dir=sc["archive_cache"] or None,
        online=bool(sc["online"]),
        n_query=int(sc["n_query"]),
        k=k,
        floor_arcsec=floor,
        stellar_parallax_snr=float(sc["stellar_parallax_snr"]),
        stellar_g_max=float(sc["stellar_g_max"]),
        flare_min_dex=float(sc["flare_min_dex"]),
    )
    path = write_table(table, run.layout.candidates_by_source)
    info = {
        "n_detections": len(cands),
        "n_sources": len(table),
        "grouped_by": str(groups["grouped_by"].iloc[0]) if len(groups) else "",
        "n_multi": int((table["n_detections"] > 1).sum()) if len(table) else 0,
        "n_likely_stellar_flare": int(table["likely_stellar_flare"].sum()) if len(table) else 0,
    }
    return {"candidates_by_source": Path(path)}, info
