"""One progress bar for long work everywhere in serendip (rich, written to stderr)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def progress_bar(enabled: bool = True, *, eta: bool = False, transient: bool = False) -> Progress:
    """A rich progress bar: description, bar, done/total, elapsed (and remaining if ``eta``).

    ``enabled=False`` gives a disabled bar that can be used the same way and prints nothing.
    """
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]
    if eta:
        columns.append(TimeRemainingColumn())
    return Progress(
        *columns, console=Console(stderr=True), transient=transient, disable=not enabled
    )
