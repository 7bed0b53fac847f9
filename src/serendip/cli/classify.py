"""``serendip classify CONFIG.toml --out DIR``: probabilistic classes for CSC sources."""

from __future__ import annotations

from pathlib import Path

import typer

from serendip.cli._common import clear_errors, config_help_command, console, report_notices


def _config_help() -> str:
    from serendip.classify.config import ClassifyConfig
    from serendip.configfile import config_help

    return config_help(ClassifyConfig, "serendip.classify.config.config_reference()")


def register(app: typer.Typer) -> None:
    @app.command("classify", cls=config_help_command(_config_help))
    def classify(
        config: Path = typer.Argument(
            ...,
            help="TOML configuration (see serendip.classify.config).",
        ),
        out: Path = typer.Option(
            ...,
            "--out",
            "-o",
            help="Output folder: detections/sources tables (Parquet, FITS, CSV, VOTable) and plots.",
        ),
    ) -> None:
        """Classify a table of CSC properties (shipped model, or train UMLCAXS / boosted on labels)."""
        with clear_errors(), report_notices() as notices:
            from serendip.classify.config import load_config

            load_config(config)  # every configuration error before the heavy imports
            from serendip.classify.pipeline import run_classify

            with console.status("classifying"):
                summary = run_classify(config, out)
        notices.write(out)
        console.print(
            f"[green]done[/]: {summary['n_detections']} detections, {summary['n_sources']} sources "
            f"({summary['sources_unique']} unique, {summary['sources_ambiguous']} ambiguous) -> {out}"
        )
