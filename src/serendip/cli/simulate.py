"""``serendip simulate``: write a labelled synthetic population (events, files, truth)."""

from __future__ import annotations

from pathlib import Path

import typer

from serendip.cli._common import clear_errors, console, progress


def _parse_fractions(items: list[str] | None) -> dict[str, float] | None:
    if not items:
        return None
    out: dict[str, float] = {}
    for item in items:
        label, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[label.strip()] = float(value)
        except ValueError:
            raise typer.BadParameter(f"expected LABEL=FRACTION, got {item!r}") from None
    return out


def simulate(
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (created if needed)."),
    n_sources: int = typer.Option(
        5000, "--n-sources", "-n", min=1, help="Number of sources (event files)."
    ),
    seed: int = typer.Option(0, "--seed", "-s", help="Random seed; same seed, same output."),
    fits_files: bool = typer.Option(
        False,
        "--fits",
        help="Also write one Chandra-like FITS event file per source into OUT/fits/.",
    ),
    plot: bool = typer.Option(
        False, "--plot", help="Also write OUT/overview.png (light curves and spectra per class)."
    ),
    fraction: list[str] = typer.Option(
        None,
        "--fraction",
        "-f",
        help="Class fraction LABEL=VALUE (repeatable; when given, unnamed classes get 0). "
        "Labels: steady, agn, periodic, eclipse, dip, stellar_flare, flare, fxt.",
    ),
) -> None:
    """Simulate X-ray sources as photon event lists: OUT/events.parquet, files.parquet, sources.parquet (truth)."""
    from serendip.simulate import simulate_population, write_fits_events
    from serendip.simulate.population import normalise_fractions

    with clear_errors():
        fractions = _parse_fractions(fraction)
        try:
            normalise_fractions(fractions)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--fraction") from None
        try:
            with progress() as bar:
                task = bar.add_task("simulating sources", total=n_sources)
                pop = simulate_population(
                    n_sources,
                    seed=seed,
                    class_fractions=fractions,
                    progress=lambda done: bar.update(task, completed=done),
                )
                wtask = bar.add_task("writing tables", total=3)
                paths = pop.write(out)
                bar.update(wtask, completed=3)
                if plot:
                    from serendip.simulate.plots import plot_overview

                    paths["overview"] = plot_overview(pop, out / "overview.png")
                if fits_files:
                    ftask = bar.add_task("writing FITS files", total=n_sources)
                    write_fits_events(
                        pop, out / "fits", progress=lambda done: bar.update(ftask, completed=done)
                    )
        except (ValueError, TypeError) as exc:
            raise typer.BadParameter(str(exc)) from None
        counts = pop.sources["label"].value_counts()
        console.print(
            f"[green]wrote[/] {pop.events.n_files} sources, {pop.events.n_events} events to {out}"
            + (f" (+ {n_sources} FITS files in {out / 'fits'})" if fits_files else "")
        )
        console.print(", ".join(f"{k}: {v}" for k, v in counts.items()))
        for p in paths.values():
            console.print(f"  {p}")


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
