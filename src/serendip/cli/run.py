"""``serendip run CONFIG.toml --out RUN_DIR`` and ``serendip demo --out RUN_DIR``."""

from __future__ import annotations

from pathlib import Path

import typer

from serendip.cli._common import clear_errors, config_help_command, console


def _run(config: Path | dict | None, out: Path, quiet: bool) -> None:
    from serendip.pipeline.run import run

    result = run(config, out, progress=not quiet, log=(lambda m: None) if quiet else console.print)
    total = sum(s["seconds"] for s in result.stages.values() if not s["reused"])
    console.print(f"[bold green]done[/] in {total:.1f} s -> {out}")
    for path in (result.layout.candidates, result.layout.report):
        if path.exists():
            console.print(f"  {path}")


def _case_help() -> str:
    from serendip.features.registry import FEATURE_CASES

    return "Feature case: " + ", ".join(FEATURE_CASES) + "."


def _config_help() -> str:
    from serendip.configfile import config_help
    from serendip.pipeline.config import RunConfig

    return config_help(RunConfig, "serendip.pipeline.config_reference()")


def register(app: typer.Typer) -> None:
    @app.command("run", cls=config_help_command(_config_help))
    def run_cmd(
        config: Path = typer.Argument(
            ..., help="TOML configuration (see docs; unknown keys are errors)."
        ),
        out: Path = typer.Option(
            ..., "--out", "-o", help="Run directory (created; reused to resume)."
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
    ) -> None:
        """Ingest, represent, extract features, embed, cluster, rank candidates and write the report.

        Finished stages whose inputs and settings did not change are reused, so running the
        same command again resumes an interrupted run.
        """
        with clear_errors():
            _run(config, out, quiet)

    @app.command("demo")
    def demo_cmd(
        out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Run directory."),
        n_sources: int = typer.Option(5000, "--n-sources", help="Simulated sources."),
        seed: int = typer.Option(0, "--seed", help="Simulation seed."),
        case: str = typer.Option("events", "--case", help=_case_help()),
        injections: int = typer.Option(
            3, "--injections", min=0,
            help="Completeness: injections per case (kind x duration x counts); 0 = none.",
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
    ) -> None:
        """The full discovery run on the built-in simulated population (truth in sources.parquet)."""
        overrides = {
            "input": {"simulate": True, "n_sources": n_sources, "seed": seed},
            "features": {"case": case},
            "completeness": {"n_per_cell": injections},
        }
        with clear_errors():
            _run(overrides, out, quiet)
