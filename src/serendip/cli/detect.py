"""``serendip train-detector`` and ``serendip detect``: fit a detector on a feature table, score a table.

Examples::

    serendip train-detector features.parquet --detector iforest --features hr1,hr2,var_index --out m.safetensors
    serendip train-detector lc_features.parquet --detector mcif --features f1 --features f2 \\
        --label-column class --out mcif.safetensors
    serendip detect m.safetensors new_features.parquet --out scores.parquet

The model file stores the feature column names, so ``detect`` reads the same columns.
The scores table keeps an id column and holds ``score`` (higher = more anomalous),
``rank`` (1 = most anomalous), ``anomaly`` (score above the model's threshold) and,
for multi-class detectors, one ``score_<class>`` column per known class
(plus ``predicted_class`` / ``branch`` where the detector has one).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from serendip.cli._common import SCHEDULER_HELP, clear_errors, console, report_notices


def _split_columns(values: list[str]) -> list[str]:
    cols = [c.strip() for v in values for c in v.split(",") if c.strip()]
    if not cols:
        raise typer.BadParameter(
            "give at least one feature column (--features A,B or --features A --features B)"
        )
    return list(dict.fromkeys(cols))


def _parse_params(items: list[str]) -> dict:
    from serendip.errors import InputError

    params = {}
    for item in items:
        if "=" not in item:
            raise InputError(None, f"--param {item!r} is not KEY=VALUE")
        key, raw = item.split("=", 1)
        try:
            params[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            params[key.strip()] = raw
    return params


def _detector_help() -> str:
    from serendip.detect.registry import DETECTORS

    names = [
        e.name + (" (needs --label-column)" if e.needs_labels else "") for e in DETECTORS.values()
    ]
    return "Detector name: " + ", ".join(names) + "."


def train_detector(
    table: Path = typer.Argument(..., help="Feature table (Parquet, FITS, VOTable, CSV)."),
    detector: str = typer.Option(..., "--detector", "-d", help=_detector_help()),
    features: list[str] = typer.Option(
        ..., "--features", "-f", help="Feature columns (comma-separated and/or repeated)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Model file to write (.safetensors)."),
    label_column: str | None = typer.Option(
        None, "--label-column", "-l", help="Known-class labels (for the detectors that need them)."
    ),
    contamination: float = typer.Option(
        0.01, help="Training fraction above the threshold (0-0.5)."
    ),
    seed: int = typer.Option(0, help="Random seed."),
    param: list[str] = typer.Option(
        [], "--param", "-p", help="Detector setting KEY=VALUE (JSON value), repeatable."
    ),
    drop_missing: bool = typer.Option(
        False, help="Drop rows with missing features instead of failing."
    ),
) -> None:
    """Fit an anomaly detector on a feature table and save it (no pickle)."""
    with clear_errors(), report_notices():
        from serendip.detect.scoring import train_detector as fit

        console.print(f"fitting [bold]{detector}[/] on {table}")
        det = fit(
            table, detector, _split_columns(features), label_column=label_column,
            contamination=contamination, seed=seed, params=_parse_params(param),
            drop_missing=drop_missing, verbose=True,
        )  # fmt: skip
        det.save(out)
        console.print(
            f"saved {out} (threshold {det.threshold_:.6g}, contamination {det.contamination})"
        )


def detect(
    model: Path = typer.Argument(..., help="Model file written by train-detector."),
    table: Path = typer.Argument(..., help="Feature table to score."),
    out: Path = typer.Option(..., "--out", "-o", help="Scores table (.parquet, .csv, .fits, ...)."),
    id_column: str | None = typer.Option(
        None, "--id-column", help="Id column to keep (default: first of id, obj_id, ...)."
    ),
    drop_missing: bool = typer.Option(
        False, help="Drop rows with missing features instead of failing."
    ),
    plot: Path | None = typer.Option(
        None, "--plot", help="Also write a PNG of the score distribution with the threshold."
    ),
    scheduler: str = typer.Option(
        "auto", "--scheduler", help="Parquet/CSV tables only. " + SCHEDULER_HELP
    ),
    chunk_rows: int = typer.Option(
        1_000_000, "--chunk-rows", help="Rows per chunk when scored in chunks."
    ),
) -> None:
    """Score every row of a table with a saved detector: score, rank and anomaly flag per row.

    A Parquet or CSV table of more than 2 chunks of --chunk-rows rows (or any, with an
    explicit --scheduler other than none) is scored in row chunks on Dask workers, each
    loading the model from its path; the scores equal the in-process run's.
    """
    with clear_errors(), report_notices():
        from serendip.scale.verbs import detect_file

        res, threshold, summary = detect_file(
            model, table, out, id_column=id_column, drop_missing=drop_missing,
            scheduler=scheduler, chunk_rows=chunk_rows,
        )  # fmt: skip
        if plot is not None:
            from serendip.report.scores import plot_scores

            plot_scores(res["score"].to_numpy(), threshold, plot, title=f"detector on {table.name}")
        where = (
            f" ({summary['chunks']} chunk(s) on {summary['n_workers']} worker(s))"
            if summary["chunks"]
            else ""
        )
        console.print(
            f"scored {len(res)} rows -> {out}; {int(res['anomaly'].sum())} above threshold{where}"
        )


def register(app: typer.Typer) -> None:
    app.command("train-detector")(train_detector)
    app.command("detect")(detect)
