"""Exceptions that name the offending file and the problem.

Every reader in serendip raises :class:`InputError` for bad input, so a user sees
``path/to/file.fits: no TIME column in extension EVENTS`` rather than a traceback.
Batch jobs catch :class:`InputError`, record ``(file, reason)`` and go on.
"""

from __future__ import annotations

from pathlib import Path


class SerendipError(Exception):
    """Base class of every error serendip raises on purpose."""


class InputError(SerendipError, ValueError):
    """Bad input: a file or table that cannot be used, with the reason.

    Attributes
    ----------
    path : str or None
        The file (or table name) that failed.
    problem : str
        What is wrong with it, in words an astronomer understands.
    """

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class ModelFileError(InputError):
    """A saved model that is malformed, tampered with or of the wrong kind."""


class ConfigError(InputError):
    """A configuration file or setting that cannot be used."""
