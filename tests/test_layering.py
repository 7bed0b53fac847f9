"""The one-way layering of pyproject.toml's import-linter contracts holds (CI runs this)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    exe = Path(sys.executable).with_name("lint-imports")
    found = str(exe) if exe.exists() else shutil.which("lint-imports")
    if found is None:
        pytest.fail("lint-imports not installed: pip install -e '.[test]' (import-linter)")
    return found


def test_import_contracts_are_kept():
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    res = subprocess.run(
        [_lint_imports(), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "0 broken" in res.stdout


def test_contracts_cover_every_package():
    """A new top-level package must be placed in a layer (the contract is exhaustive)."""
    text = (ROOT / "pyproject.toml").read_text()
    assert "exhaustive = true" in text and 'forbidden_modules = ["serendip.cli"]' in text
