"""Reading a TOML configuration file: every problem a :class:`ConfigError` naming the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from serendip.errors import ConfigError


def read_toml(path: str | Path, what: str = "configuration file") -> dict[str, Any]:
    """The parsed TOML of ``path``; :class:`ConfigError` when it is missing or not TOML."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(path, f"no such {what}")
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"not valid TOML: {exc}") from exc
