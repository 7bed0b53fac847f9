"""Helpers shared by CLI verbs: clear error exits and progress bars."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from serendip.errors import SerendipError
from serendip.progress import progress_bar

if TYPE_CHECKING:
    from serendip.notices import NoticeLog

console = Console(stderr=True)

#: --scheduler help of the single-stage verbs (ingest, represent, detect)
SCHEDULER_HELP = (
    "Where chunks run: 'auto' (default: a Dask LocalCluster with one worker process per core "
    "when the input makes more than 2 chunks, else in this process), 'local', "
    "'local:N' (N workers), 'none' (the plain in-process run) or a scheduler address "
    "tcp://HOST:PORT (workers must see the same paths). Chunked runs resume from their chunk folder."
)


@contextlib.contextmanager
def clear_errors() -> Iterator[None]:
    """Turn a :class:`SerendipError` into a one-line message and exit code 2 (no traceback)."""
    try:
        yield
    except SerendipError as exc:
        # one line whatever the terminal width; "[input]" is text, not markup
        console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(code=2) from None


def progress() -> Progress:
    """A rich progress bar for long work (writes to stderr)."""
    return progress_bar(eta=True)


@contextlib.contextmanager
def report_notices() -> Iterator[NoticeLog]:
    """Collect the counted notices (:mod:`serendip.notices`) of a verb and print their summary
    (yields the :class:`~serendip.notices.NoticeLog`, to write it beside the outputs)."""
    from serendip.notices import NoticeLog

    with NoticeLog() as log:
        yield log
    if len(log):
        console.print(escape(log.summary()), highlight=False)


def config_help_command(describe: Callable[[], str]) -> type:
    """A typer command class whose ``config`` argument's help is ``describe()``, built only
    when the help is shown (start-up imports no configuration model) and escaped for rich
    markup (so "[input]" is shown, not swallowed as a style tag)."""
    from typer.core import TyperCommand

    class ConfigHelpCommand(TyperCommand):
        def format_help(self, ctx, formatter):  # noqa: ANN001 - click's signature
            text = describe()
            for param in self.params:
                if param.name == "config":
                    param.help = escape(text) if self.rich_markup_mode == "rich" else text
            return super().format_help(ctx, formatter)

    return ConfigHelpCommand
