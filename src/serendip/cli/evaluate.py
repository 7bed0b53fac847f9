"""``serendip evaluate CONFIG.toml --out DIR``: leave-one-subclass-out on any labelled table."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def evaluate(
        config: Path = typer.Argument(
            ..., help="TOML configuration (see serendip.evaluate.config)."
        ),
        out: Path = typer.Option(
            ..., "--out", "-o", help="Folder for results.csv, tables and the plot."
        ),
        no_plot: bool = typer.Option(False, "--no-plot", help="Skip the plot."),
    ) -> None:
        """Hold out each subclass in turn as the anomaly and score every configured detector.

        Writes OUT/results.csv (held_out_class, detector, metric, mean, std), runs.csv, per-metric
        tables as CSV, Markdown and LaTeX, and results.png.
        """
        from serendip.cli._common import clear_errors, console

        with clear_errors():
            from serendip.evaluate.config import feature_matrix, load_config
            from serendip.evaluate.protocol import leave_one_subclass_out
            from serendip.io.tables import read_table

            cfg = load_config(config)
            X, labels, groups = feature_matrix(cfg, read_table(cfg.table))
            console.print(
                f"{len(labels)} rows, {X.shape[1]} features, {len(set(labels))} classes, {len(cfg.detectors)} detector(s)"
            )
            result = leave_one_subclass_out(
                X, labels, cfg.detectors, groups=groups, hierarchy=cfg.hierarchy, **cfg.protocol
            )
            paths = result.write(out, plot=not no_plot)
            for run, reason in result.failures:
                console.print(f"[yellow]failed:[/] {run}: {reason}")
            console.print(f"wrote {len(paths)} files to {out} (results.csv, tables, plot)")
