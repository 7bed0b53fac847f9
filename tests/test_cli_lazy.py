"""The command line: fast top-level help from one table, verbs' help from the registries."""

from __future__ import annotations

import subprocess
import sys

import click
import typer.main
from typer.testing import CliRunner

from serendip.cli import COMMANDS, app, help_text


def test_command_table_matches_the_verbs():
    group = typer.main.get_command(app)
    ctx = click.Context(group)
    names = group.list_commands(ctx)
    assert sorted(names) == sorted(COMMANDS)
    for name in names:
        cmd = group.get_command(ctx, name)
        module, summary = COMMANDS[name]
        assert cmd.callback.__module__ == f"serendip.cli.{module}", name
        # a verb's docstring changed: copy its first line into serendip.cli.COMMANDS
        assert cmd.get_short_help_str(limit=1000) == summary, name
    assert all(name in help_text() for name in COMMANDS)


def test_top_level_help_imports_no_verb_and_no_typer():
    code = (
        "import sys; sys.argv = ['serendip', '--help']; from serendip.cli import main; main(); "
        "print(sorted(m for m in sys.modules if m.startswith('serendip.cli.') or m == 'typer'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Commands" in out.stdout and out.stdout.strip().endswith("[]")


def test_verb_help_lists_registry_names():
    from serendip.detect.registry import DETECTORS
    from serendip.features.registry import FEATURE_CASES

    runner = CliRunner()
    res = runner.invoke(app, ["train-detector", "--help"], env={"COLUMNS": "400"})
    assert res.exit_code == 0 and all(name in res.output for name in DETECTORS)
    res = runner.invoke(app, ["demo", "--help"], env={"COLUMNS": "400"})
    assert res.exit_code == 0 and all(name in res.output for name in FEATURE_CASES)
