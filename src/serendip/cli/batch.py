"""``serendip batch`` and ``serendip batch-classify``: survey-scale chunked runs, local or on Dask.

Examples::

    serendip batch tiles/ --out run/ --chunk-size 4                  # LocalCluster, all cores
    serendip batch obs/*.fits --out run/ --scheduler none            # in this process
    serendip batch tiles/ --out run/ --scheduler tcp://head:8786     # an existing Dask cluster
    serendip batch-classify csc_big.parquet --out classes.parquet --chunk-rows 200000

Both resume in their output folder after an interruption (finished chunks are reused).
"""

from __future__ import annotations

from pathlib import Path

import typer

from serendip.cli._common import clear_errors, console

SCHEDULER_HELP = (
    "Where chunks run: 'local' (a Dask LocalCluster, one worker process per core), "
    "'local:N' (N workers), 'none' (in this process) or a scheduler address tcp://HOST:PORT."
)


def batch_command(
    inputs: list[Path] = typer.Argument(
        ..., help="Event files (FITS), event tables (.parquet/.csv, e.g. survey tiles) or folders."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (resumable)."),
    scheduler: str = typer.Option("local", "--scheduler", help=SCHEDULER_HELP),
    chunk_size: int = typer.Option(16, "--chunk-size", help="Input files per chunk."),
    band: tuple[float, float] = typer.Option(
        None, "--band", help="Energy band LOW HIGH in eV, inclusive (default: each mission's band)."
    ),
    all_energies: bool = typer.Option(False, "--all-energies", help="No band cut."),
    region: str = typer.Option(
        None, "--region", help="Region (text or file), 'beside' or a manifest (path, region)."
    ),
    sources: str = typer.Option(
        None, "--sources", help="Source list for every file, 'beside' or a manifest (path, sources)."
    ),
    exposure: str = typer.Option(
        None, "--exposure", help="Relative exposure curve(s) for survey-mode data (an eROSITA srctool "
        "light curve or a table obsreg_id, start, stop, fracexp), or 'constant'."
    ),
    n_estimators: int = typer.Option(200, "--n-estimators", help="Isolation-forest trees."),
    n_fit: int = typer.Option(50_000, "--n-fit", help="Files in the seeded fit sample."),
    seed: int = typer.Option(0, "--seed", help="Seed of the fit sample and the forest."),
    top: int = typer.Option(100, "--top", help="Rows of candidates.parquet."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Ingest, represent, featurise and anomaly-score many event files in checkpointed chunks.

    Writes OUT/scores.parquet (obsreg_id, score, rank, anomaly), OUT/candidates.parquet (top
    files with their features), OUT/features.parquet, OUT/failures.csv and OUT/summary.json.
    Rerunning the same command after an interruption reuses every finished chunk.
    """
    from serendip.scale import run_batch

    with clear_errors():
        res = run_batch(
            inputs,
            out,
            scheduler=scheduler,
            chunk_size=chunk_size,
            band=None if all_energies else (band or "auto"),
            region=region,
            sources=sources,
            exposure=exposure or None,
            n_estimators=n_estimators,
            n_fit=n_fit,
            seed=seed,
            n_top=top,
            progress=not quiet,
            log=lambda msg: console.print(msg, highlight=False),
        )
    s = res.summary
    console.print(
        f"[green]done[/]: {s['n_files']:,} files, {s['n_events']:,} events in {s['total_s']:.1f} s; "
        f"{s['n_failures']} failure(s) -> {out}"
    )


def batch_classify_command(
    table: Path = typer.Argument(..., help="CSC property table (Parquet or CSV)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output table (.parquet)."),
    model: str = typer.Option(
        "csc_xray_grouped", "--model", "-m", help="Shipped classifier name or a model file."
    ),
    chunk_rows: int = typer.Option(100_000, "--chunk-rows", help="Rows per chunk."),
    scheduler: str = typer.Option("local", "--scheduler", help=SCHEDULER_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Class probabilities for every row of a big CSC table, in row chunks (resumable), and the
    source-level (master) class of every source (<out stem>_sources.parquet)."""
    from serendip.scale import classify_table

    with clear_errors():
        path, info = classify_table(
            table,
            out,
            model=model,
            chunk_rows=chunk_rows,
            scheduler=scheduler,
            progress=not quiet,
        )
    console.print(
        f"[green]done[/]: {info['rows']:,} rows in {info['chunks']} chunk(s) "
        f"({info['reused']} reused) -> {path}; {info['sources']:,} sources -> {info['sources_path']}"
    )


def register(app: typer.Typer) -> None:
    app.command("batch")(batch_command)
    app.command("batch-classify")(batch_classify_command)
