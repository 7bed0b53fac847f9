"""``serendip fetch-events TABLE --cache DIR``: per-detection CSC event files and light curves."""

from __future__ import annotations

from pathlib import Path

import typer

from serendip.cli._common import clear_errors, console


def register(app: typer.Typer) -> None:
    @app.command("fetch-events")
    def fetch_events(
        table: Path = typer.Argument(
            ..., help="Detections table (obsid, region_id[, obi]); Parquet, CSV, FITS or VOTable."
        ),
        cache: Path = typer.Option(
            ..., "--cache", "-c", help="Local product cache (resumable; manifest.parquet inside)."
        ),
        filetype: list[str] = typer.Option(
            ["regevt"],
            "--filetype",
            "-t",
            help="Product type(s): regevt (events), lc (light curve).",
        ),
        url_template: str = typer.Option(
            None,
            "--url-template",
            help="Product URL with {obsid} {obi} {region_id} {filetype}; default: CSC 2.1 service.",
        ),
        batch_size: int = typer.Option(
            50, help="Detections per batch (manifest saved after each)."
        ),
        workers: int = typer.Option(4, help="Parallel downloads."),
        retries: int = typer.Option(3, help="Retries per file on server errors and timeouts."),
        timeout_s: float = typer.Option(60.0, "--timeout", help="Seconds to wait for each answer."),
        events_out: Path = typer.Option(
            None,
            "--events-out",
            help="Also write the long event table (obsreg_id, time, energy) here for `serendip ingest`.",
        ),
    ) -> None:
        """Download per-detection products into a resumable cache."""
        from serendip.io.fetch import CSC_PRODUCT_URL, cached_events, fetch_products
        from serendip.io.tables import read_table, write_table

        with clear_errors():
            det = read_table(table)
            man = fetch_products(
                det,
                cache,
                filetypes=tuple(filetype),
                url_template=url_template or CSC_PRODUCT_URL,
                batch_size=batch_size,
                workers=workers,
                retries=retries,
                timeout_s=timeout_s,
                source=str(table),
            )
            counts = man["status"].value_counts().to_dict()
            console.print(f"products: {counts} (manifest: {cache / 'manifest.parquet'})")
            for r in man[man["status"] == "failed"].head(20).itertuples():
                console.print(f"[yellow]failed[/] {r.obsreg_id} {r.filetype}: {r.reason}")
            if events_out is not None:
                events, failures = cached_events(cache)
                write_table(events, events_out)
                console.print(
                    f"event table: {len(events)} events of {events['obsreg_id'].nunique()} detections -> {events_out}"
                )
                for f, why in failures[:20]:
                    console.print(f"[yellow]skipped[/] {f}: {why}")
