"""Write one benchmark's results into its own section of BENCHMARKS.md.

Each benchmark script owns a section delimited by ``<!-- BEGIN name -->`` and
``<!-- END name -->``; rerunning a script replaces only its own section.
"""

from __future__ import annotations

import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
HEADER = "# serendip benchmarks\n\nEvery section below was written by the script named in it, run on this project's 2-core machine.\n"


def machine_line() -> str:
    import os

    return (
        f"Python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPU(s), "
        f"{platform.machine()}, {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}"
    )


def write_section(name: str, title: str, body: str, command: str | None = None) -> None:
    """Replace (or append) the section ``name`` of BENCHMARKS.md."""
    command = command or "python " + " ".join(sys.argv)
    block = (
        f"<!-- BEGIN {name} -->\n## {title}\n\n"
        f"Command: `{command}`  \nMachine: {machine_line()}\n\n{body.rstrip()}\n<!-- END {name} -->\n"
    )
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else HEADER
    pattern = re.compile(
        rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->\n?", re.S
    )
    text = (
        pattern.sub(lambda _m: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block
    )
    BENCHMARKS_MD.write_text(text)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux ru_maxrss is KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
