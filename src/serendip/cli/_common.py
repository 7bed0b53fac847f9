"""Helpers shared by CLI verbs: clear error exits and progress bars."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from serendip.errors import SerendipError
from serendip.progress import progress_bar

console = Console(stderr=True)


@contextlib.contextmanager
def clear_errors() -> Iterator[None]:
    """Turn a :class:`SerendipError` into a one-line message and exit code 2 (no traceback)."""
    try:
        yield
    except SerendipError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}")  # "[input]" is text, not markup
        raise typer.Exit(code=2) from None


def progress() -> Progress:
    """A rich progress bar for long work (writes to stderr)."""
    return progress_bar(eta=True)
