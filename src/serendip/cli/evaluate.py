"""``serendip evaluate CONFIG.toml --out DIR``: leave-one-subclass-out on any labelled table."""

from __future__ import annotations

from pathlib import Path

import typer

from serendip.cli._common import config_help_command


def _config_help() -> str:
    from serendip.configfile import config_help
    from serendip.detect.registry import DETECTORS
    from serendip.evaluate.config import SKLEARN_DETECTORS, EvaluateFile

    kinds = (
        f"detectors.<name>.kind: {', '.join(DETECTORS)} (or the class name), pyod.<Name>, "
        + ", ".join(f"sklearn.{n}" for n in SKLEARN_DETECTORS)
    )
    return config_help(EvaluateFile, "serendip.evaluate.config.config_reference()", kinds)


def register(app: typer.Typer) -> None:
    @app.command("evaluate", cls=config_help_command(_config_help))
    def evaluate(
        config: Path = typer.Argument(
            ..., help="TOML configuration (see serendip.evaluate.config)."
        ),
        out: Path = typer.Option(
            ..., "--out", "-o", help="Folder for results.csv, tables and the plot."
        ),
        no_plot: bool = typer.Option(False, "--no-plot", help="Skip the plot."),
        allow_failures: bool = typer.Option(
            False,
            "--allow-failures",
            help="Exit 0 even when a detector failed on some split (each failure is a row "
            "of OUT/failures.csv with its reason either way).",
        ),
    ) -> None:
        """Hold out each subclass in turn as the anomaly and score every configured detector.

        Writes OUT/results.csv (held_out_class, detector, metric, mean, std), runs.csv, per-metric
        tables as CSV, Markdown and LaTeX, results.png, and status.csv (every run: ok, failed or
        skipped, with its reason). With an artefact class among the labels (protocol.artefact_class,
        default "artefact"), OUT/artefacts.csv and the printout give each detector's share of
        artefacts in the top 1% (and the other budgets). A failed run makes the exit status 1 unless --allow-failures.
        """
        from rich.markup import escape

        from serendip.cli._common import clear_errors, console, report_notices

        with clear_errors(), report_notices() as notices:
            from serendip.evaluate.experiment import evaluate as run_evaluation

            result = run_evaluation(config, out, plot=not no_plot)
            s = result.summary
            console.print(
                f"{s['detector'].nunique() if len(s) else 0} detector(s) x "
                f"{s['held_out_class'].nunique() if len(s) else 0} held-out class(es), "
                f"{len(result.runs)} runs"
            )
            for row in result.problems().itertuples(index=False):
                console.print(
                    f"[yellow]{row.detector} {row.status}[/] on {row.n_runs} run(s) "
                    f"(held out: {row.held_out}): {escape(str(row.reason))}"
                )
            from serendip.evaluate.report import artefact_summary

            art = artefact_summary(s) if len(s) else None
            if art is not None:
                cols = list(art.columns)
                console.print(
                    f"artefacts (class {result.settings.get('artefact_class')!r}) in the top "
                    "list, share per detector (mean over held-out classes; lower is better):"
                )
                console.print("  " + "  ".join(f"{c:>14}" for c in ["detector", *cols]))
                for det, row in art.iterrows():
                    console.print("  " + "  ".join([f"{escape(str(det)):>14}",
                                                    *(f"{v:14.3f}" for v in row)]))  # fmt: skip
            merged = result.status.loc[result.status["merged"] != "", "merged"].unique()
            for text in merged:
                console.print(f"[cyan]note:[/] {escape(str(text))} (see {out / 'status.csv'})")
            console.print(f"wrote results to {out} (results.csv, tables, plot)")
        notices.write(out)
        if result.runs.empty:
            console.print(f"[bold red]error:[/] no detector produced a result; see {out}")
            raise typer.Exit(code=1)
        if result.failures and not allow_failures:
            console.print(
                f"[bold red]{len(result.failures)} detector run(s) failed[/] (see "
                f"{out / 'failures.csv'}); pass --allow-failures to accept partial results"
            )
            raise typer.Exit(code=1)
