"""``serendip completeness RUN_DIR``: injection and recovery on a finished run."""

from __future__ import annotations

from pathlib import Path

import typer

from serendip.cli._common import clear_errors, console


def register(app: typer.Typer) -> None:
    @app.command("completeness")
    def completeness_cmd(
        run_dir: Path = typer.Argument(..., help="A finished run directory (serendip run / demo)."),
        n_per_cell: int = typer.Option(
            4, "--n-per-cell", "-n", min=1, help="Injections per case (kind x duration x counts)."
        ),
        top_fraction: float = typer.Option(
            0.02, "--top-fraction", help="Recovered = rank <= ceil(top_fraction x n_files)."
        ),
        seed: int = typer.Option(0, "--seed", help="Seed of the hosts and the transients."),
    ) -> None:
        """Inject flares and fast transients into a run's own sources, re-score them with the run's settings and report the fraction recovered in the top k (completeness.parquet, completeness.png, the report).

        Each case is a transient kind, a duration and an expected number of counts; the
        recovered fractions are given by the final score and by the anomaly score alone.
        """
        from serendip.pipeline.completeness import (
            completeness,
            completeness_summary,
            update_report,
        )

        with clear_errors():
            table = completeness(run_dir, n_per_cell=n_per_cell, top_fraction=top_fraction,
                                 seed=seed)
            report = update_report(run_dir)
        summary = completeness_summary(table)
        typer.echo(summary.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
        console.print(f"[bold green]done[/]: {len(table)} injections -> {run_dir}/completeness.parquet"
                      + (f", {report}" if report else ""))
