"""``serendip represent DIR --kind et|etdt|dedt|features``: representations of an event table."""

from __future__ import annotations

from pathlib import Path

import typer

from serendip.cli._common import SCHEDULER_HELP, clear_errors, console

_BIN_NAMES = {
    "et": ("t_bins", "e_bins"),
    "etdt": ("t_bins", "e_bins", "dt_bins"),
    "dedt": ("dt_bins", "de_bins"),
}


def parse_bins(kind: str, bins: str | None) -> dict[str, int]:
    """``"24,16"`` -> ``{"t_bins": 24, "e_bins": 16}`` for ``kind`` (InputError if malformed)."""
    from serendip.errors import InputError

    if bins is None:
        return {}
    if kind not in _BIN_NAMES:
        raise InputError(None, f"--bins does not apply to kind {kind!r}")
    names = _BIN_NAMES[kind]
    try:
        values = [int(v) for v in bins.replace("x", ",").split(",") if v.strip()]
    except ValueError:
        raise InputError(
            None, f"--bins must be {len(names)} integers like '24,16', got {bins!r}"
        ) from None
    if len(values) != len(names) or min(values) < 1:
        raise InputError(
            None,
            f"--bins for {kind} needs {len(names)} positive integers ({', '.join(names)}), got {bins!r}",
        )
    return dict(zip(names, values, strict=True))


def _options(kind: str, bins, normalize: bool, time_mode: str, dt_mode: str) -> dict:
    """The keyword options of ``represent`` for ``kind`` (without ``progress``)."""
    options: dict = parse_bins(kind, bins)
    if kind == "et":
        options.update(normalize=normalize, time_mode=time_mode)
    elif kind == "etdt":
        options.update(normalize=normalize, dt_mode=dt_mode)
    elif kind == "dedt":
        options.update(normalize=normalize)
    return options


def represent_cmd(
    directory: Path = typer.Argument(
        ..., help="Folder with events.parquet (and files.parquet if present)."
    ),
    kind: str = typer.Option("et", "--kind", "-k", help="et | etdt | dedt | features"),
    normalize: bool = typer.Option(
        False,
        "--normalize/--no-normalize",
        help="Scale each map to [0, 1] (et, etdt) or to unit sum (dedt).",
    ),
    bins: str | None = typer.Option(
        None,
        "--bins",
        help="Bin counts: et 'T,E' (24,16); etdt 'T,E,DT' (24,16,16); dedt 'DT,DE' (24,16).",
    ),
    time_mode: str = typer.Option(
        "relative", "--time-mode", help="et only: relative (reference) or absolute."
    ),
    dt_mode: str = typer.Option(
        "linear", "--dt-mode", help="etdt only: linear (reference) or log."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Output file (default DIR/<kind>_<bins>_norm<bool>.npz or DIR/features.parquet).",
    ),
    scheduler: str = typer.Option("auto", "--scheduler", help=SCHEDULER_HELP),
    chunk_size: int = typer.Option(
        4096, "--chunk-size", help="Files per chunk when run in chunks (--scheduler)."
    ),
) -> None:
    """Compute E-t maps, E-t-dt cubes, dE-dt maps or per-file features of every file in DIR.

    With files.parquet in DIR, files are represented in chunks on Dask workers with
    --scheduler (by default when DIR holds more than 2 chunks of --chunk-size files); the
    output equals the in-process run's.
    """
    with clear_errors():
        from serendip.errors import InputError
        from serendip.io.eventset import EventSet
        from serendip.io.tables import read_table
        from serendip.layout import RunLayout
        from serendip.represent.container import (
            KINDS,
            default_filename,
            represent,
            save_representation,
        )

        if kind not in KINDS:
            raise InputError(None, f"--kind must be one of {list(KINDS)}, got {kind!r}")
        events_path = RunLayout(directory).events
        if not directory.is_dir():
            raise InputError(directory, "no such folder")
        files_path = RunLayout(directory).files
        if files_path.exists():
            import pyarrow.parquet as pq

            from serendip.scale.verbs import represent_chunked, resolve_scheduler

            n_files = int(pq.ParquetFile(files_path).metadata.num_rows)
            mode = resolve_scheduler(scheduler, -(-n_files // max(1, chunk_size)))
            if mode.lower() != "none":
                path, summary = represent_chunked(
                    directory,
                    out,
                    kind=kind,
                    options=_options(kind, bins, normalize, time_mode, dt_mode),
                    chunk_size=chunk_size,
                    scheduler=mode,
                )
                console.print(
                    f"wrote {kind} {tuple(summary['shape'])} of {summary['n_files']:,} files to "
                    f"{path} ({summary['chunks']} chunk(s) on {summary['n_workers']} worker(s): "
                    f"{summary['computed']} computed, {summary['reused']} reused)"
                )
                return
        elif scheduler.strip().lower() not in ("auto", "none"):
            raise InputError(files_path, "running in chunks (--scheduler) needs files.parquet")
        files = read_table(files_path) if files_path.exists() else None
        order = (
            list(files["obsreg_id"].astype(str))
            if files is not None and "obsreg_id" in files.columns
            else None
        )
        events = EventSet.read(events_path, order=order)
        console.print(
            f"read {events.n_events:,} events of {events.n_files:,} files from {events_path}"
        )
        options = _options(kind, bins, normalize, time_mode, dt_mode)
        if kind != "features":
            options["progress"] = True
        gti_path = RunLayout(directory).gtis  # written by `serendip ingest`
        gtis = read_table(gti_path) if kind == "features" and gti_path.is_file() else None
        rep = represent(
            events,
            kind,
            files=files if kind in ("et", "features") else None,
            gtis=gtis,
            **options,
        )
        path = out if out is not None else directory / default_filename(rep)
        save_representation(rep, path)
        console.print(f"wrote {kind} {getattr(rep.data, 'shape', '')} to {path}")


def register(app: typer.Typer) -> None:
    app.command("represent")(represent_cmd)
