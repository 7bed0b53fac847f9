"""``serendip lightcurves TABLE... --out FEATURES.parquet``: light-curve features of every object."""

from __future__ import annotations

from pathlib import Path

import typer

from serendip.cli._common import clear_errors, console, report_notices


def lightcurves_cmd(
    tables: list[Path] = typer.Argument(
        ...,
        help="Light-curve table(s) in the survey's own columns (ZTF forced photometry, ALeRCE "
        "detections and non-detections, ATLAS, Rubin DiaSource, Kepler/TESS FITS, CRTS, or "
        "id,time,mag|flux,err[,band]); CSV, CSV.gz, Parquet, FITS or text. Several files are "
        "read each in its own columns and joined.",
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Feature table to write (Parquet), one row per object."
    ),
    features: str = typer.Option(
        "full", "--features", help="Feature set: full (every statistic, periodogram, Bazin/"
        "Villar fits for flux) or basic (19 statistics).",
    ),
    fmt: str = typer.Option(
        None, "--format", help="Survey format (default: recognised from the columns); see "
        "serendip.io.lc_formats.LC_FORMATS.",
    ),
    to_flux: bool = typer.Option(
        False, "--to-flux", help="Turn total magnitudes into microJansky (AB zero point 23.9)."
    ),
    min_points: int = typer.Option(
        5, "--min-points", help="Fewer points in a band leave that band's features missing."
    ),
    n_jobs: int = typer.Option(-1, "--jobs", "-j", help="Threads for the extractor (-1 = all)."),
    quality_filter: list[str] = typer.Option(
        [], "--quality-filter", "-q", help="Drop detections failing a cut on a survey quality "
        "field (rb, drb, nbad, distnr, sgscore), e.g. 'rb >= 0.55' or 'nbad == 0'; repeatable; "
        "each counted.",
    ),
    quality_features: bool = typer.Option(
        False, "--quality-features", help="Add the survey quality fields as features (median "
        "rb/drb/distnr/sgscore, largest nbad per object).",
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Light-curve features per object and band from survey tables, with every excluded row and object counted by reason."""
    from serendip.represent.lc_features import lightcurve_feature_table

    read = {"format": fmt, "to_flux": to_flux, "quality_filters": list(quality_filter)}
    with clear_errors(), report_notices() as log:
        res = lightcurve_feature_table(
            [str(t) for t in tables] if len(tables) > 1 else tables[0], out,
            min_points=min_points, n_jobs=n_jobs, feature_set=features, progress=progress,
            read_options=read, with_quality=quality_features,
        )  # fmt: skip
        log.write(Path(out).parent)
    stem = Path(out).name.split(".")[0]
    for line in exclusion_lines(log, res.objects, res.n_rows_read):
        console.print(line, highlight=False)
    console.print(
        f"{len(res.features):,} objects x {res.features.shape[1]} features -> {out} "
        f"({len(res.missing)} feature column(s) with missing values, left missing; per-object "
        f"reasons in {stem}_objects.parquet, warnings in {Path(out).parent / 'warnings.parquet'})",
        highlight=False,
    )
    console.print(
        f"{res.features_per_second:,.0f} features/s ({res.objects_per_second:,.0f} objects/s, "
        f"{res.seconds:.2f} s)"
    )


def exclusion_lines(log, objects, total: int) -> list[str]:
    """Rows and objects excluded per reason, from a verb's notices and per-object table."""
    lines = []
    drops: dict[str, int] = {}
    for r in log.records:
        if r.stage == "io" and r.code.startswith("drop_"):
            drops[r.code[5:]] = drops.get(r.code[5:], 0) + r.count
    kept_ul = sum(r.count for r in log.records if r.code == "upper_limits")
    rows = ", ".join(f"{k}: {v:,}" for k, v in drops.items()) or "none"
    lines.append(f"rows read: {total:,}; excluded per reason: {rows}; upper limits kept: {kept_ul:,}")
    excl = objects.loc[objects["excluded"], "reason"].value_counts()
    per = ", ".join(f"{k}: {v:,}" for k, v in excl.items()) or "none"
    lines.append(f"objects: {len(objects):,}; excluded per reason: {per}")
    return lines


def register(app: typer.Typer) -> None:
    app.command("lightcurves")(lightcurves_cmd)
