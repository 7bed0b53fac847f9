"""``serendip classify CONFIG.toml --out DIR [--cv K]``: probabilistic classes for CSC sources."""

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
        cv: int = typer.Option(
            0,
            "--cv",
            min=0,
            help="K >= 2: K-fold cross-validation grouped by source (stratified, seeded) of the "
            "config's classifier, a plain gradient-boosting baseline and UMLCAXS on the same folds.",
        ),
        seed: int = typer.Option(0, "--seed", help="Seed of the --cv folds."),
        audit: int = typer.Option(
            0,
            "--audit",
            min=0,
            help="With --cv: print the N labelled rows most likely mislabelled (lowest "
            "out-of-fold probability of their own label; all of them: cv_label_audit.csv).",
        ),
    ) -> None:
        """Classify a table of CSC properties (shipped model, or train on labels), or with --cv
        measure it honestly (out-of-fold figures only)."""
        if cv == 1:
            raise typer.BadParameter("--cv needs K >= 2 folds")
        if audit and not cv:
            raise typer.BadParameter("--audit needs --cv K (out-of-fold probabilities)")
        with clear_errors(), report_notices() as notices:
            from serendip.classify.config import load_config

            load_config(config)  # every configuration error before the heavy imports
            if cv:
                from serendip.classify.evaluation import (
                    format_audit,
                    format_cv_table,
                    run_classify_cv,
                )

                with console.status("cross-validating") as status:
                    summary = run_classify_cv(
                        config, out, n_splits=cv, seed=seed, progress=status.update
                    )
            else:
                from serendip.classify.pipeline import run_classify

                with console.status("classifying"):
                    summary = run_classify(config, out)
        notices.write(out)
        if cv:
            console.print(format_cv_table(summary), markup=False, highlight=False, soft_wrap=True)
            if audit:
                console.print(
                    format_audit(summary, audit), markup=False, highlight=False, soft_wrap=True
                )
            console.print(f"[green]done[/]: cross-validated figures and model.safetensors -> {out}")
            return
        console.print(
            f"[green]done[/]: {summary['n_detections']} detections, {summary['n_sources']} sources "
            f"({summary['sources_unique']} unique, {summary['sources_ambiguous']} ambiguous) -> {out}"
        )
