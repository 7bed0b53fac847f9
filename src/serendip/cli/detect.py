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

from serendip.cli._common import clear_errors, console
from serendip.cli.ingest import SCHEDULER_HELP

ID_CANDIDATES = ("id", "obj_id", "object_id", "objectid", "oid", "source_id", "name", "obsreg_id")


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


def feature_matrix(df, columns: list[str], source: str | Path, drop_missing: bool = False):
    """Numeric matrix (n, len(columns)) float64 and the kept row mask; bad input -> InputError."""
    import numpy as np
    import pandas as pd

    from serendip.errors import InputError
    from serendip.io.tables import require_columns

    require_columns(df, columns, source)
    bad = [
        c
        for c in columns
        if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))
    ]
    if bad:
        raise InputError(source, f"feature column(s) {bad} are not numeric")
    X = df[columns].to_numpy(dtype=np.float64)
    finite = np.isfinite(X).all(axis=1)
    if not finite.all():
        n_bad = int((~finite).sum())
        if not drop_missing:
            first = int(np.argmax(~finite))
            cols = [columns[j] for j in np.flatnonzero(~np.isfinite(X[first]))]
            raise InputError(
                source,
                f"{n_bad} row(s) have missing / non-finite features (first: row {first}, column(s) {cols}); "
                "impute them or pass --drop-missing",
            )
        console.print(f"[yellow]dropping {n_bad} row(s) with missing features[/]")
    return X[finite], finite


def _id_column(df, requested: str | None, source) -> str | None:
    from serendip.errors import InputError

    if requested:
        if requested not in df.columns:
            raise InputError(source, f"no id column {requested!r}; found {list(df.columns)[:30]}")
        return requested
    for name in ID_CANDIDATES:
        if name in df.columns:
            return name
    return None


def train_detector(
    table: Path = typer.Argument(..., help="Feature table (Parquet, FITS, VOTable, CSV)."),
    detector: str = typer.Option(
        ...,
        "--detector",
        "-d",
        help="Detector name: iforest, ocsvm, knn, lof, ae, vae, deepsvdd, mcdsvdd, mcif, latent, router.",
    ),
    features: list[str] = typer.Option(
        ..., "--features", "-f", help="Feature columns (comma-separated and/or repeated)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Model file to write (.safetensors)."),
    label_column: str | None = typer.Option(
        None,
        "--label-column",
        "-l",
        help="Known-class labels (needed by mcif, mcdsvdd, latent, router).",
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
    with clear_errors():
        import numpy as np

        from serendip.detect import make_detector, needs_labels
        from serendip.errors import InputError
        from serendip.io.tables import read_table

        cols = _split_columns(features)
        df = read_table(table)
        X, keep = feature_matrix(df, cols, table, drop_missing)
        y = None
        if label_column is not None:
            if label_column not in df.columns:
                raise InputError(
                    table, f"no label column {label_column!r}; found {list(df.columns)[:30]}"
                )
            labels = df[label_column][keep]
            if labels.isna().any():
                raise InputError(
                    table, f"{int(labels.isna().sum())} row(s) have no label in {label_column!r}"
                )
            y = np.asarray(labels.astype(str))
        elif needs_labels(detector):
            raise InputError(
                table, f"detector {detector!r} needs known-class labels: pass --label-column"
            )
        params = _parse_params(param)
        det = make_detector(detector, **params)
        extra = {"contamination": contamination, "random_state": seed, "verbose": True}
        det.set_params(
            **{k: v for k, v in extra.items() if k in det.get_params() and k not in params}
        )
        console.print(
            f"fitting [bold]{type(det).__name__}[/] on {X.shape[0]} rows x {X.shape[1]} features"
        )
        try:
            det.fit(X, y)
        except ValueError as exc:
            if isinstance(exc, InputError) and exc.path is None:
                raise InputError(table, exc.problem) from exc
            if isinstance(exc, InputError):
                raise
            raise InputError(table, f"cannot fit {detector}: {exc}") from exc
        det.feature_names_in_ = np.asarray(cols, dtype=object)
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
    with clear_errors():
        from serendip.io.tables import table_format

        if table.is_file() and table_format(table) in ("parquet", "csv"):
            from serendip.scale.classify import count_rows
            from serendip.scale.verbs import detect_chunked, resolve_scheduler

            if scheduler.strip().lower() == "auto":
                mode = resolve_scheduler("auto", -(-count_rows(table) // max(1, chunk_rows)))
            else:
                mode = resolve_scheduler(scheduler, 0)
            if mode.lower() != "none":
                res, threshold, summary = detect_chunked(
                    model,
                    table,
                    out,
                    id_column=id_column,
                    drop_missing=drop_missing,
                    chunk_rows=chunk_rows,
                    scheduler=mode,
                )
                if summary["dropped"]:
                    console.print(
                        f"[yellow]dropped {summary['dropped']} row(s) with missing features[/]"
                    )
                if plot is not None:
                    plot_scores(
                        res["score"].to_numpy(), threshold, plot, title=f"detector on {table.name}"
                    )
                console.print(
                    f"scored {len(res)} rows -> {out}; {int(res['anomaly'].sum())} above "
                    f"threshold ({summary['chunks']} chunk(s) on {summary['n_workers']} worker(s))"
                )
                return

        from serendip.detect.base import BaseDetector
        from serendip.errors import InputError
        from serendip.io.tables import read_table, write_table

        det = BaseDetector.load(model)
        names = getattr(det, "feature_names_in_", None)
        if names is None:
            raise InputError(
                model, "model stores no feature column names (it was not trained by train-detector)"
            )
        cols = [str(c) for c in names]
        df = read_table(table)
        idc = _id_column(df, id_column, table)
        res, _ = score_rows(det, df, cols, table, idc, drop_missing)
        add_rank(res, det.threshold_)
        scores = res["score"].to_numpy()
        write_table(res, out)
        if plot is not None:
            plot_scores(scores, det.threshold_, plot, title=f"{type(det).__name__} on {table.name}")
        console.print(
            f"scored {len(res)} rows -> {out}; {int(res['anomaly'].sum())} above threshold"
        )


def plot_scores(scores, threshold: float, path: Path, title: str = "") -> Path:
    """Histogram of anomaly scores (log counts) with the model threshold marked; PNG via Agg."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.hist(scores, bins=min(100, max(10, len(scores) // 20)), color="0.4", log=True)
    ax.axvline(threshold, color="C3", ls="--", label=f"threshold {threshold:.4g}")
    n_above = int(np.sum(np.asarray(scores) > threshold))
    ax.set_xlabel("anomaly score (higher = more anomalous)")
    ax.set_ylabel("rows")
    ax.set_title(f"{title}: {n_above} of {len(scores)} above threshold", fontsize=10)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def score_rows(det, df, columns, source, id_column, drop_missing, row_offset: int = 0):
    """Scores of the rows of ``df``: the id column (or ``row``, ``row_offset`` + row number),
    ``score``, per-class ``score_<class>`` (MCIF), ``predicted_class`` and ``branch`` where the
    detector has them. Returns ``(table, kept-row mask)``; bad input -> InputError on ``source``."""
    import numpy as np
    import pandas as pd

    from serendip.errors import InputError

    X, keep = feature_matrix(df, columns, source, drop_missing)
    try:
        scores = det.score_samples(X)
    except InputError as exc:
        raise InputError(source, exc.problem) from exc
    res = pd.DataFrame()
    if id_column is not None:
        res[id_column] = df[id_column].to_numpy()[keep]
    else:
        res["row"] = row_offset + np.flatnonzero(keep)
    res["score"] = scores
    matrix = _score_matrix(det, X)
    if matrix is not None:
        values, classes = matrix
        for k, c in enumerate(classes):
            res[f"score_{c}"] = values[:, k]
    if hasattr(det, "predict_class"):
        res["predicted_class"] = det.predict_class(X)
    if hasattr(det, "predict_branch"):
        res["branch"] = det.predict_branch(X)
    return res, keep


def add_rank(res, threshold: float):
    """Insert ``rank`` (1 = highest score) and ``anomaly`` (score > threshold) after ``score``."""
    import numpy as np

    scores = res["score"].to_numpy()
    order = np.argsort(-scores, kind="stable")
    rank = np.empty(len(scores), dtype=np.int64)
    rank[order] = np.arange(1, len(scores) + 1)
    pos = list(res.columns).index("score") + 1
    res.insert(pos, "rank", rank)
    res.insert(pos + 1, "anomaly", scores > threshold)
    return res


def _score_matrix(det, X):
    if not hasattr(det, "score_matrix") or getattr(det, "detector", "mcif") != "mcif":
        return None
    return det.score_matrix(X)


def register(app: typer.Typer) -> None:
    app.command("train-detector")(train_detector)
    app.command("detect")(detect)
