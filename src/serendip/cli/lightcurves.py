"""``serendip lightcurves TABLE --out FEATURES.parquet``: light-curve features of every object."""

from __future__ import annotations

from pathlib import Path

import typer

from serendip.cli._common import clear_errors, console, report_notices


def lightcurves_cmd(
    table: Path = typer.Argument(
        ...,
        help="Light-curve table in the survey's own columns (CRTS, ZTF forced photometry, "
        "ALeRCE detections, or id,time,mag|flux,err[,band]); CSV, CSV.gz, Parquet or FITS.",
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Feature table to write (Parquet), one row per object."
    ),
    min_points: int = typer.Option(
        5, "--min-points", help="Fewer points in a band leave that band's features missing."
    ),
    n_jobs: int = typer.Option(-1, "--jobs", "-j", help="Threads for the extractor (-1 = all)."),
) -> None:
    """Light-curve features per object and band from a survey table, with the exclusions and their reasons."""
    from serendip.represent.lc_features import lightcurve_feature_table

    with clear_errors(), report_notices() as log:
        res = lightcurve_feature_table(table, out, min_points=min_points, n_jobs=n_jobs)
        log.write(Path(out).parent)
    n, excluded = len(res.features), int(res.objects["excluded"].sum())
    console.print(
        f"{n:,} objects x {res.features.shape[1]} features -> {out} "
        f"({excluded:,} excluded, {len(res.missing)} feature column(s) with missing values; "
        f"per-object reasons in {Path(out).name.split('.')[0]}_objects.parquet, warnings in "
        f"{Path(out).parent / 'warnings.parquet'})"
    )
    console.print(
        f"{res.features_per_second:,.0f} features/s ({res.objects_per_second:,.0f} objects/s, "
        f"{res.seconds:.2f} s)"
    )


def register(app: typer.Typer) -> None:
    app.command("lightcurves")(lightcurves_cmd)
