"""The ``serendip`` command: a thin typer shell over the library.

Each verb lives in its own module in this package and exposes
``register(app: typer.Typer) -> None``. :data:`COMMANDS` lists every command with its module
and one-line help: ``serendip --help`` is printed from it without importing typer or any
verb, and ``serendip VERB ...`` imports only that verb's module, so the command starts fast.
``tests/test_cli_help.py`` checks the table against the verbs' own docstrings.
"""

from __future__ import annotations

import sys
from importlib import import_module

from serendip import __version__

SUMMARY = (
    "serendip: event files, catalogues and light curves in; ranked, explainable candidates out."
)

#: command -> (module of serendip.cli that registers it, one-line help = its docstring's first line)
COMMANDS: dict[str, tuple[str, str]] = {
    "batch": ("batch", "Ingest, represent, featurise and anomaly-score many event files in checkpointed chunks."),
    "batch-classify": ("batch", "Class probabilities for every row of a big CSC table, in row chunks (resumable), and the source-level (master) class of every source (<out stem>_sources.parquet)."),
    "classify": ("classify", "Classify a table of CSC properties (shipped model, or train on labels), or with --cv measure it honestly (out-of-fold figures only)."),
    "completeness": ("completeness", "Inject flares and fast transients into a run's own sources, re-score them with the run's settings and report the fraction recovered in the top k (completeness.parquet, completeness.png, the report)."),
    "demo": ("run", "The full discovery run on the built-in simulated population (truth in sources.parquet)."),
    "detect": ("detect", "Score every row of a table with a saved detector: score, rank and anomaly flag per row."),
    "evaluate": ("evaluate", "Hold out each subclass in turn as the anomaly and score every configured detector."),
    "explore": ("explore", "See, select, compare and label candidates in the browser (embedding, source view, analogs, keyboard review with active learning, catalogue, export)."),
    "fetch-events": ("fetch_events", "Download per-detection products into a resumable cache."),
    "ingest": ("ingest", "Read event files into one event table plus a per-file table; bad files are listed, not fatal."),
    "lightcurves": ("lightcurves", "Light-curve features per object and band from survey tables, with every excluded row and object counted by reason."),
    "represent": ("represent", "Compute E-t maps, E-t-dt cubes, dE-dt maps or per-file features of every file in DIR."),
    "run": ("run", "Ingest, represent, extract features, embed, cluster, rank candidates and write the report."),
    "simulate": ("simulate", "Simulate X-ray sources as photon event lists: OUT/events.parquet, files.parquet, sources.parquet (truth)."),
    "train-detector": ("detect", "Fit an anomaly detector on a feature table and save it (no pickle)."),
}  # fmt: skip


def build_app(modules: list[str] | None = None):
    """The typer application with the verbs of ``modules`` (default: every verb)."""
    import typer

    app = typer.Typer(
        name="serendip",
        help="Systematic serendipitous discovery in X-ray and time-domain astronomy.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,
    )

    def _version_callback(value: bool) -> None:
        if value:
            typer.echo(f"serendip {__version__}")
            raise typer.Exit()

    @app.callback()
    def _root(
        version: bool = typer.Option(
            False,
            "--version",
            help="Print the version and exit.",
            callback=_version_callback,
            is_eager=True,
        ),
    ) -> None:
        """serendip: event files, catalogues and light curves in; ranked, explainable candidates out."""

    wanted = modules if modules is not None else [m for m, _ in COMMANDS.values()]
    for module in dict.fromkeys(wanted):
        import_module(f"{__name__}.{module}").register(app)
    return app


def help_text(width: int = 100) -> str:
    """The top-level ``serendip --help`` text, from :data:`COMMANDS`."""
    import textwrap

    pad = max(map(len, COMMANDS)) + 2
    lines = [
        "Usage: serendip [OPTIONS] COMMAND [ARGS]...",
        "",
        f"  {SUMMARY}",
        "",
        "Options:",
        f"  {'--version':<{pad}}  Print the version and exit.",
        f"  {'--help':<{pad}}  Show this message and exit.",
        "",
        "Commands (serendip COMMAND --help for each):",
    ]
    for name in sorted(COMMANDS):
        wrapped = textwrap.wrap(COMMANDS[name][1], width - pad - 4) or [""]
        lines.append(f"  {name:<{pad}}  {wrapped[0]}")
        lines += [f"  {'':<{pad}}  {w}" for w in wrapped[1:]]
    return "\n".join(lines)


def __getattr__(name: str):
    if name == "app":  # the full application (tests, documentation tools)
        value = build_app()
        globals()["app"] = value
        return value
    raise AttributeError(f"module 'serendip.cli' has no attribute {name!r}")


def main() -> None:
    """Entry point of the ``serendip`` console script."""
    argv = sys.argv[1:]
    if not argv or argv[0] == "--help":
        print(help_text())
        return
    if argv[0] == "--version":
        print(f"serendip {__version__}")
        return
    verb = COMMANDS.get(argv[0])
    build_app([verb[0]] if verb else None)()
