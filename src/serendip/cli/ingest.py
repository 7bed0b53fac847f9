"""``serendip ingest``: event files and folders in; events.parquet, files.parquet, failures.csv out."""

from __future__ import annotations

from pathlib import Path

import typer

from serendip.cli._common import clear_errors, console


def ingest_command(
    inputs: list[Path] = typer.Argument(
        ..., help="Event files (FITS, .gz), event tables (.parquet/.csv) or folders."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Output folder for events.parquet, files.parquet, failures.csv."
    ),
    band: tuple[float, float] = typer.Option(
        (500.0, 7000.0), "--band", help="Energy band LOW HIGH in eV, inclusive."
    ),
    all_energies: bool = typer.Option(
        False, "--all-energies", help="Keep every energy (no band cut)."
    ),
    region: list[str] = typer.Option(
        None,
        "--region",
        help=(
            "Source region(s), repeatable: 'RA,DEC,R\"' (deg, deg, arcsec), 'sky:RA,DEC,R_ARCSEC', "
            "'phys:X,Y,R_PIX', a ds9 circle, or a ds9 .reg file of circles."
        ),
    ),
    gain: tuple[float, float] = typer.Option(
        (0.0, 0.0),
        "--gain",
        help="EV_PER_CHANNEL OFFSET_EV for files with only a PI/PHA channel column.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Read event files into one event table plus a per-file table; bad files are listed, not fatal.

    Writes OUT/events.parquet (obsreg_id, time in s, energy in eV), OUT/files.parquet and OUT/failures.csv (file, reason). Exit code 0 when at least one file was ingested, 2 when nothing could be ingested.
    """
    from rich.markup import escape

    from serendip.io.ingest import ingest, write_ingest
    from serendip.io.regions import regions_from_text

    with clear_errors():
        regions = regions_from_text(list(region)) if region else None
        result = ingest(
            inputs,
            band=None if all_energies else band,
            region=regions,
            progress=not quiet,
            gain=None if gain == (0.0, 0.0) else gain,
        )
        paths = write_ingest(result, out)
    n_ev = result.events.n_events
    console.print(
        f"[bold]{result.n_ok}[/] file(s)/region(s) ingested ({n_ev:,} events), "
        f"[bold {'red' if result.n_failed else 'green'}]{result.n_failed}[/] failed -> {paths['events'].parent}"
    )
    if result.n_failed:
        shown = result.failures.head(20)
        for file, reason in shown.itertuples(index=False, name=None):
            console.print(f"  [red]failed[/] {escape(file)}: {escape(reason)}", highlight=False)
        if result.n_failed > len(shown):
            console.print(f"  ... and {result.n_failed - len(shown)} more in {paths['failures']}")
    if result.n_ok == 0:
        console.print("[bold red]error:[/] nothing could be ingested")
        raise typer.Exit(code=2)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
