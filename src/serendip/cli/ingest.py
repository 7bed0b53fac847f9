"""``serendip ingest``: event files and folders in; events.parquet, files.parquet, failures.csv out."""

from __future__ import annotations

from pathlib import Path

import typer

from serendip.cli._common import SCHEDULER_HELP, clear_errors, console


def ingest_command(
    inputs: list[Path] = typer.Argument(
        ..., help="Event files (FITS, .gz), event tables (.parquet/.csv) or folders."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Output folder for events.parquet, files.parquet, failures.csv."
    ),
    band: tuple[float, float] = typer.Option(
        None, "--band", help="Energy band LOW HIGH in eV, inclusive (default: each mission's standard band)."
    ),
    all_energies: bool = typer.Option(
        False, "--all-energies", help="Keep every energy (no band cut)."
    ),
    region: list[str] = typer.Option(
        None,
        "--region",
        help=(
            "Source region(s), repeatable: 'RA,DEC,R\"' (deg, deg, arcsec), 'sky:RA,DEC,R_ARCSEC', "
            "'phys:X,Y,R_PIX', a DS9 region ('galactic;ellipse(...)'), a DS9/CRTF/FITS region file, "
            "'beside' (a region file named after each event file) or a manifest table (path, region)."
        ),
    ),
    sources: str = typer.Option(
        None,
        "--sources",
        help=(
            "Source list cutting each observation into one event list per source (OBSID_<id>): a "
            "wavdetect/celldetect FITS list, a CSC table, a CSV with ra/dec and radius_arcsec (or "
            "a_arcsec, b_arcsec, pa_deg), 'beside' or a manifest table (path, sources)."
        ),
    ),
    csc_band: str = typer.Option(
        "b", "--csc-band", help="CSC band whose 90%-ECF region is applied to CSC per-region products."
    ),
    gain: tuple[float, float] = typer.Option(
        (0.0, 0.0),
        "--gain",
        help="EV_PER_CHANNEL OFFSET_EV for files with only a PI/PHA channel column.",
    ),
    no_quality: bool = typer.Option(
        False, "--no-quality", help="Keep every event: skip each instrument's standard event screening "
        "(Chandra status/grades, XMM PATTERN/FLAG, Swift grades, eROSITA FLAG)."
    ),
    flare_screen: str = typer.Option(
        "auto", "--flare-screen", help="Mission flare screening (XMM SAS flare recipe or flare-GTI "
        "extension, eROSITA FLAREGTI): auto = per source with a source list or region, never "
        "cutting a source that flares itself then (a whole file is only reported); field = cut "
        "from every event; off = ignored."
    ),
    no_barycentre: bool = typer.Option(
        False, "--no-barycentre", help="Keep spacecraft times (no barycentric correction of files "
        "whose TIMEREF is not SOLARSYSTEM)."
    ),
    exposure: str = typer.Option(
        None, "--exposure", help="Relative exposure curve(s) for survey-mode data: an eROSITA srctool "
        "light curve (FRACEXP), a CSC light curve or a table start, stop, fracexp[, obsreg_id]; "
        "'constant' takes survey data with a constant effective area."
    ),
    no_dither_exposure: bool = typer.Option(
        False, "--no-dither-exposure", help="Do not derive the relative exposure of sources that "
        "Chandra's dither moves over a chip edge or bad column (PSF fraction on the chip vs time, "
        "from the events' chip positions)."
    ),
    scheduler: str = typer.Option("auto", "--scheduler", help=SCHEDULER_HELP),
    chunk_size: int = typer.Option(
        64, "--chunk-size", help="Input files per chunk when run in chunks (--scheduler)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Read event files into one event table plus a per-file table; bad files are listed, not fatal.

    Writes OUT/events.parquet (obsreg_id, time in s, energy in eV), OUT/files.parquet and OUT/failures.csv (file, reason). Exit code 0 when at least one file was ingested, 2 when nothing could be ingested.

    With more than 2 chunks of --chunk-size files (or an explicit --scheduler other than none) the files are ingested in chunks on Dask workers (resumable, chunk outputs in OUT/.chunks/); the outputs equal the in-process run's.
    """
    from rich.markup import escape

    from serendip.io.ingest import large_cuts
    from serendip.io.regions import regions_from_text
    from serendip.notices import NoticeLog
    from serendip.scale.verbs import ingest_files

    with clear_errors(), NoticeLog() as log:
        regions = (region[0] if len(region) == 1 and _plan_word(region[0]) else
                   regions_from_text(list(region))) if region else None
        paths, summary = ingest_files(
            inputs, out, band=None if all_energies else (band or "auto"), region=regions,
            sources=sources, csc_band=csc_band, gain=None if gain == (0.0, 0.0) else gain,
            chunk_size=chunk_size, scheduler=scheduler, progress=not quiet,
            quality=not no_quality, barycentre=not no_barycentre, exposure=exposure or None,
            dither_exposure=not no_dither_exposure,
            flare_screen=flare_screen,
        )  # fmt: skip
        log.write(out)
    if summary["chunks"]:
        console.print(
            f"{summary['chunks']} chunk(s) on {summary['n_workers']} worker(s): "
            f"{summary['computed']} computed, {summary['reused']} reused"
        )
    n_ok, n_ev, failures = summary["n_files"], summary["n_events"], summary["failures"]
    n_failed = len(failures)
    console.print(
        f"[bold]{n_ok}[/] file(s)/region(s) ingested ({n_ev:,} events), "
        f"[bold {'red' if n_failed else 'green'}]{n_failed}[/] failed -> {paths['events'].parent}"
    )
    if n_failed:
        shown = failures.head(20)
        for file, reason in shown.itertuples(index=False, name=None):
            console.print(f"  [red]failed[/] {escape(file)}: {escape(reason)}", highlight=False)
        if n_failed > len(shown):
            console.print(f"  ... and {n_failed - len(shown)} more in {paths['failures']}")
    console.print(escape(log.summary()), highlight=False)
    big = large_cuts(log)
    if len(big):
        console.print(f"{len(big)} cut(s) removed more than half of a file's events:")
        for src, code, k, n in big.itertuples(index=False, name=None):
            console.print(f"  {escape(src)}: {code} removed {k:,} of {n:,}", highlight=False)
    if n_ok == 0:
        console.print("[bold red]error:[/] nothing could be ingested")
        raise typer.Exit(code=2)


def _plan_word(value: str) -> bool:
    """'beside' or a manifest table: handed to ingest as is."""
    from serendip.io.region_plan import BESIDE, _is_manifest

    return value.strip().lower() == BESIDE or _is_manifest(value, "region")


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
