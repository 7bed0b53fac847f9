"""``serendip classify CONFIG.toml --out DIR``: probabilistic classes for CSC sources."""

from __future__ import annotations

from pathlib import Path

import typer

from serendip.cli._common import clear_errors, console


def register(app: typer.Typer) -> None:
    @app.command("classify")
    def classify(
        config: Path = typer.Argument(
            ...,
            help="TOML config: [input], [model], [labels], [output] (see serendip.classify.pipeline).",
        ),
        out: Path = typer.Option(
            ...,
            "--out",
            "-o",
            help="Output folder: detections/sources tables (Parquet, FITS, CSV, VOTable) and plots.",
        ),
    ) -> None:
        """Classify a table of CSC properties (shipped model, or train UMLCAXS / boosted on labels)."""
        from serendip.classify.pipeline import run_classify

        with clear_errors():
            with console.status("classifying"):
                summary = run_classify(config, out)
        console.print(
            f"[green]done[/]: {summary['n_detections']} detections, {summary['n_sources']} sources "
            f"({summary['sources_unique']} unique, {summary['sources_ambiguous']} ambiguous) -> {out}"
        )
