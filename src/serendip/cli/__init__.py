"""The ``serendip`` command: a thin typer shell over the library.

Each verb lives in its own module in this package and exposes
``register(app: typer.Typer) -> None``; every such module is discovered here, so
adding a verb never means editing this file.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

from serendip import __version__

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


def _register_all() -> None:
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app)


_register_all()


def main() -> None:
    """Entry point of the ``serendip`` console script."""
    app()
