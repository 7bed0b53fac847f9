"""One small registry type, used for every named concept (feature cases, detectors, ...).

A :class:`Registry` maps a name to a frozen entry (a dataclass with at least ``name`` and
``description``). It is a read-only :class:`~collections.abc.Mapping` once built, looks names
up case-insensitively, and on an unknown name raises :class:`UnknownNameError` listing the
known names with a "did you mean". Entries hold dotted import paths rather than classes, so
building a registry imports nothing heavy (PyTorch is imported when an entry is *used*), and
configuration validation, CLI help and docs can read it in milliseconds.

Example
-------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Colour:
...     name: str
...     description: str = ""
>>> COLOURS = Registry("colour", [Colour("red"), Colour("blue")])
>>> COLOURS["RED"].name
'red'
>>> COLOURS.names()
['red', 'blue']
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from importlib import import_module
from typing import Any, Generic, TypeVar

from serendip.errors import ConfigError

E = TypeVar("E")


class UnknownNameError(ConfigError, KeyError):
    """A name that is not in a registry; the message lists the known names.

    Attributes
    ----------
    concept : str
        What the registry holds ("detector", "feature case", ...).
    name : str
        The name asked for.
    choices : list of str
        The known names.
    """

    def __init__(self, concept: str, name: Any, choices: Iterable[str], source: Any = None):
        self.concept = concept
        self.name = name
        self.choices = list(choices)
        close = difflib.get_close_matches(str(name).lower(), [c.lower() for c in self.choices], 1)
        hint = ""
        if close:
            match = next(c for c in self.choices if c.lower() == close[0])
            hint = f" (did you mean {match!r}?)"
        super().__init__(
            source, f"unknown {concept} {name!r}{hint}; choose from {', '.join(self.choices)}"
        )

    def __str__(self) -> str:  # KeyError would quote the message
        return Exception.__str__(self)


class Registry(Mapping[str, E], Generic[E]):
    """Named entries of one concept, in registration order.

    Parameters
    ----------
    concept : str
        What an entry is, in words, used in error messages ("detector").
    entries : iterable of entries
        Objects with a ``name`` attribute (frozen dataclasses).
    """

    def __init__(self, concept: str, entries: Iterable[E] = ()):
        self.concept = concept
        self._entries: dict[str, E] = {}
        for entry in entries:
            self.register(entry)

    def register(self, entry: E, *, replace: bool = False) -> E:
        """Add ``entry`` under ``entry.name``; a second entry of the same name is an error
        unless ``replace``. Returns the entry."""
        name = str(entry.name)  # type: ignore[attr-defined]
        if not replace and name.lower() in self._lower():
            raise ValueError(f"{self.concept} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def _lower(self) -> dict[str, str]:
        return {k.lower(): k for k in self._entries}

    def __getitem__(self, name: str) -> E:
        if name in self._entries:
            return self._entries[name]
        key = self._lower().get(str(name).lower())
        if key is None:
            raise UnknownNameError(self.concept, name, self._entries)
        return self._entries[key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lower()

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        """The registered names, in registration order."""
        return list(self._entries)

    def canonical(self, name: str) -> str:
        """The registered spelling of ``name`` (case-insensitive); UnknownNameError otherwise."""
        return self[name].name  # type: ignore[attr-defined]

    def table(self, fields: Iterable[str] = ("name", "description")) -> str:
        """An RST simple table of the entries' ``fields`` (for docstrings and docs)."""
        fields = list(fields)
        rows = [[str(getattr(e, f)) for f in fields] for e in self._entries.values()]
        widths = [max([len(f), *(len(r[i]) for r in rows)]) for i, f in enumerate(fields)]
        rule = "  ".join("=" * w for w in widths)

        def line(cells: list[str]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

        return "\n".join([rule, line(fields), rule, *(line(r) for r in rows), rule])

    def __repr__(self) -> str:
        return f"Registry({self.concept!r}: {', '.join(self._entries)})"


def import_object(path: str) -> Any:
    """The object named by ``"package.module:attribute"`` (imported on call)."""
    module, _, attr = path.partition(":")
    return getattr(import_module(module), attr)
