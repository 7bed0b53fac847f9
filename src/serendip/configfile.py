"""Configuration files: TOML reading and typed, validated sections (pydantic v2).

Every configuration of serendip (``serendip run``, ``serendip evaluate``,
``serendip classify``) is a pydantic model with one :class:`Section` per TOML table.
:func:`validate_model` turns any validation failure into one :class:`ConfigError` line that
names the file, the key, the value and what is allowed, with a "did you mean" for misspelt
keys and names::

    run.toml: candidates.anomaly = 'iforrest': unknown value (did you mean 'iforest'?);
    allowed: iforest, ocsvm, knn, lof, ae, vae, deepsvdd

:func:`config_reference` renders every key of a model (type, default, bounds,
description) as Markdown, so the docs come from the same models as the defaults.

Adding a key is one line in the section's model, e.g.::

    region: str = Field("", description="DS9 region file of the sources [path]")

(TOML has no null: give every key a real default, ``""`` or ``[]`` for "none").
"""

from __future__ import annotations

import difflib
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic.fields import FieldInfo

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


class Section(BaseModel):
    """One table of a configuration file: unknown keys are errors, types are strict (an
    integer is accepted where a number is expected; numpy scalars count as Python ones)."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True)

    @model_validator(mode="before")
    @classmethod
    def _plain_scalars(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: _plain(v) for k, v in data.items()}
        return data


def _plain(value: Any) -> Any:
    """numpy scalars (and lists of them) as the Python values they stand for."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return value.item()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def did_you_mean(word: Any, choices: typing.Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` (case-insensitive), or ``""``."""
    lower: dict[str, str] = {}
    for c in map(str, choices):
        lower.setdefault(c.lower(), c)  # the first spelling of a name wins
    close = difflib.get_close_matches(str(word).lower(), list(lower), n=1, cutoff=0.6)
    return f" (did you mean {lower[close[0]]!r}?)" if close else ""


# ------------------------------------------------------------------- describing fields
def _literal_values(annotation: Any) -> list[Any] | None:
    """The allowed values of a ``Literal`` (possibly inside a union with other types)."""
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            vals = _literal_values(arg)
            if vals is not None:
                return vals
    return None


def _item_type(annotation: Any) -> Any:
    """The item type of ``list[X]`` (possibly inside ``Optional``), else ``annotation``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if typing.get_origin(arg) in (list, tuple):
                return _item_type(arg)
    if typing.get_origin(annotation) in (list, tuple) and typing.get_args(annotation):
        return typing.get_args(annotation)[0]
    return annotation


def _value_type(annotation: Any) -> Any:
    """The value type of ``dict[str, X]`` (possibly inside ``Optional``), else None."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if typing.get_origin(arg) is dict:
                return _value_type(arg)
    if typing.get_origin(annotation) is dict and len(typing.get_args(annotation)) == 2:
        return typing.get_args(annotation)[1]
    return None


def type_label(annotation: Any) -> str:
    """A field's type in words ("an integer", "a list of numbers", "'auto' or a number")."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return type_label(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(v) for v in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        parts = []
        for arg in typing.get_args(annotation):
            if arg is type(None):
                continue
            if typing.get_origin(arg) is typing.Literal:
                parts.append(" or ".join(repr(v) for v in typing.get_args(arg)))
            else:
                parts.append(type_label(arg))
        return " or ".join(parts)
    if origin in (list, tuple):
        args = typing.get_args(annotation)
        inner = type_label(args[0]) if args else "values"
        return "a list of " + _plural(inner)
    if origin is dict:
        args = typing.get_args(annotation)
        inner = type_label(args[1]) if len(args) == 2 and args[1] is not Any else ""
        return "a table" + (f" of {_plural(inner)}" if inner and inner != "a table" else "")
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "a table"
    return {
        bool: "true/false",
        int: "an integer",
        float: "a number",
        str: "a string",
        dict: "a table",
    }.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _plural(label: str) -> str:
    for a in ("an ", "a "):
        if label.startswith(a):
            word = label[len(a) :]
            return word + ("s" if not word.endswith("s") else "")
    return label


def bounds_label(field: FieldInfo) -> str:
    """The numeric bounds of a field in words (``"> 0"``, ``"within [0, 1]"``), or ``""``."""
    lo = hi = None
    lo_open = hi_open = False
    metadata = list(field.metadata)
    for arg in typing.get_args(field.annotation):  # Annotated[float, Field(gt=0)] | "auto"
        for m in getattr(arg, "__metadata__", ()):
            metadata += getattr(m, "metadata", [m])
    for m in metadata:
        if getattr(m, "gt", None) is not None:
            lo, lo_open = m.gt, True
        if getattr(m, "ge", None) is not None:
            lo, lo_open = m.ge, False
        if getattr(m, "lt", None) is not None:
            hi, hi_open = m.lt, True
        if getattr(m, "le", None) is not None:
            hi, hi_open = m.le, False
    if lo is None and hi is None:
        return ""
    if hi is None:
        return f"{'>' if lo_open else '>='} {lo:g}"
    if lo is None:
        return f"{'<' if hi_open else '<='} {hi:g}"
    return f"within {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"


def _field_at(model: type[BaseModel], loc: tuple) -> tuple[type[BaseModel], FieldInfo | None, int]:
    """Walk ``loc`` through nested section models (and ``dict[str, Section]`` tables):
    (the model reached, the non-section field ``loc`` names in it or None, how many items
    of ``loc`` were used)."""
    current, used, i = model, 0, 0
    while i < len(loc):
        fields = {f.alias or n: f for n, f in current.model_fields.items()}
        part = loc[i]
        if not isinstance(part, str) or part not in fields:
            break
        f = fields[part]
        sub = _section_type(f.annotation)
        if sub is not None:
            current, used, i = sub, i + 1, i + 1
            continue
        table = _table_of_sections(f.annotation)
        if table is not None and i + 1 < len(loc):
            current, used, i = table, i + 2, i + 2
            continue
        return current, f, i + 1
    return current, None, used


def _table_of_sections(annotation: Any) -> type[BaseModel] | None:
    """``Model`` of a field typed ``dict[str, Model]`` (possibly ``| None``), else None."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        subs = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _table_of_sections(subs[0]) if len(subs) == 1 else None
    if typing.get_origin(annotation) is dict:
        return _section_type(typing.get_args(annotation)[1])
    return None


def _section_type(annotation: Any) -> type[BaseModel] | None:
    """The section model of a field typed ``Model`` or ``Model | None``, else None."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        subs = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _section_type(subs[0]) if len(subs) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


# ------------------------------------------------------------------- error messages
def _value(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(model: type[BaseModel], err: dict) -> str:
    """One line for one pydantic error, naming the key, the value and what is allowed."""
    loc = tuple(err["loc"])
    owner, field, used = _field_at(model, loc)
    key = ".".join(str(p) for p in loc[: max(used, 1)]) if loc else ""
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        name = str(loc[-1])
        parent = ".".join(str(p) for p in loc[:-1])
        known = [f.alias or n for n, f in owner.model_fields.items()]
        if not parent:
            return f"unknown section [{name}]{did_you_mean(name, known)}; known: {', '.join(known)}"
        return (
            f"unknown setting {parent}.{name}{did_you_mean(name, known)}; "
            f"known in [{parent}]: {', '.join(known)}"
        )
    if kind == "missing":
        parent, missing, _ = _field_at(model, loc[:-1])
        if missing is None:
            fields = {f.alias or n: f for n, f in parent.model_fields.items()}
            missing = fields.get(str(loc[-1]))
        what = f" ({missing.description})" if missing is not None and missing.description else ""
        return f"{'.'.join(str(p) for p in loc)} is required{what}"
    if field is None:  # a whole section (a model validator, or not a table)
        if kind in ("model_type", "model_attributes_type", "dict_type"):
            return f"{key} must be a table ([{key}]), got {type(value).__name__} {_value(value)}"
        msg = err["msg"].removeprefix("Value error, ")
        return msg
    annotation = field.annotation
    rest = loc[used:]
    if rest and isinstance(rest[0], str) and _value_type(annotation) is not None:
        key, annotation, rest = f"{key}.{rest[0]}", _value_type(annotation), rest[1:]
    if rest and isinstance(rest[0], int):  # an item of a list
        key = f"{key}[{rest[0]}]"
        annotation = _item_type(annotation)
    allowed = _literal_values(annotation)
    if allowed is not None and (
        kind == "literal_error" or rest and str(rest[-1]).startswith("literal[")
    ):
        if all(isinstance(a, str) for a in allowed) and isinstance(value, str):
            hint = did_you_mean(value, allowed)
            words = ", ".join(str(a) for a in allowed)
            if typing.get_origin(annotation) is not typing.Literal:  # e.g. a number or "auto"
                return f"{key} = {_value(value)}: must be {type_label(annotation)}{hint}"
            return f"{key} = {_value(value)}: unknown value{hint}; allowed: {words}"
    if kind.endswith("_type") or kind in ("literal_error", "int_from_float", "union_tag_invalid"):
        want = type_label(annotation)
        return f"wrong type for {key}: must be {want}, got {type(value).__name__} {_value(value)}"
    if kind in (
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "finite_number",
    ):
        allowed_range = bounds_label(field) or "a finite number"
        return f"{key} = {_value(value)} is out of range: must be {allowed_range}"
    if kind in ("too_short", "too_long"):
        n = err.get("ctx", {})
        return f"{key} = {_value(value)}: {err['msg'].split(' after validation')[0].lower()}" + (
            f" (min {n['min_length']})" if "min_length" in n and kind == "too_short" else ""
        )
    msg = err["msg"].removeprefix("Value error, ")
    return f"{key}: {msg}"


def _key(model: type[BaseModel], err: dict) -> str:
    """The dotted key an error is about (a union's members count as one key)."""
    loc = tuple(err["loc"])
    _, _, used = _field_at(model, loc)
    return ".".join(str(p) for p in (loc if err["type"] == "extra_forbidden" else loc[:used]))


def validate_model(model: type[BaseModel], data: Any, source: str | Path | None = None):
    """``model.model_validate(data)``; any problem is one :class:`ConfigError` line naming
    ``source``, the key and what is allowed (further problems are counted and named)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors, keys = [], []
        # misspelt keys first (a misspelt key also makes the real one "missing"); one
        # message per key (a union reports each of its members)
        ordered = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        for err in ordered:
            k = _key(model, err)
            if k not in keys:
                keys.append(k)
                errors.append(err)
        first = _message(model, errors[0])
        if len(errors) > 1:
            first += f" (and {len(errors) - 1} more: {', '.join(k or '(top)' for k in keys[1:])})"
        raise ConfigError(source, first) from None


# ------------------------------------------------------------------- reference
def _default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if field.default is None:
        return "not set"
    if field.default_factory is not None:
        value = field.default_factory()
    else:
        value = field.default
    if isinstance(value, BaseModel):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value)


def _default_cell(field: FieldInfo) -> str:
    text = _default_text(field)
    return text if text in ("required", "not set") else f"`{text}`"


def config_reference(model: type[BaseModel], title: str, intro: str = "") -> str:
    """Markdown reference of every section and key of ``model``: type, default, allowed
    values or bounds, and description (``Field(description=...)``); nested tables such as
    ``[input.tap]`` get their own section."""
    lines = [f"# {title}", ""]
    if intro:
        lines += [intro.strip(), ""]
    _reference_sections(model, "", lines)
    return "\n".join(lines)


def _reference_sections(model: type[BaseModel], prefix: str, lines: list[str]) -> None:
    for name, sfield in model.model_fields.items():
        name = prefix + (sfield.alias or name)
        section = _section_type(sfield.annotation)
        if section is None and _table_of_sections(sfield.annotation) is not None:
            section, name = _table_of_sections(sfield.annotation), f"{name}.<name>"
        if section is None:
            if not prefix:  # a top-level table of plain values, e.g. [hierarchy]
                kind = type_label(sfield.annotation).capitalize()
                lines += [f"## [{name}]", "", f"{kind}: {sfield.description or ''}".strip(), ""]
            continue
        lines += [f"## [{name}]", ""]
        doc = (sfield.description or (section.__doc__ or "")).strip()
        if doc:
            lines += [" ".join(doc.split()), ""]
        lines += ["| key | type | default | allowed | description |", "|---|---|---|---|---|"]
        for key, field in section.model_fields.items():
            key = field.alias or key
            allowed = _literal_values(_item_type(field.annotation))
            allowed_text = (
                ", ".join(f"`{a}`" for a in allowed) if allowed is not None else bounds_label(field)
            )
            desc = " ".join((field.description or "").split()).replace("|", "\\|")
            kind = type_label(field.annotation)
            if allowed is not None and "one of" in kind:
                item = type_label(type(allowed[0]))
                kind = item if kind.startswith("one of") else "a list of " + _plural(item)
            lines.append(f"| `{key}` | {kind} | {_default_cell(field)} | {allowed_text} | {desc} |")
        lines.append("")
        _reference_sections(section, name + ".", lines)


def config_help(model: type[BaseModel], reference: str, extra: str = "") -> str:
    """One paragraph for a verb's ``--help``: the TOML tables of ``model``, the allowed
    values of every choice (from the registries), and where the full reference is."""
    tables = []
    choices = []
    for name, sfield in model.model_fields.items():
        section = _section_type(sfield.annotation)
        if section is None and _table_of_sections(sfield.annotation) is not None:
            section, name = _table_of_sections(sfield.annotation), f"{name}.<name>"
        tables.append(f"[{name}]")
        for key, field in (section.model_fields if section else {}).items():
            allowed = _literal_values(_item_type(field.annotation))
            if allowed is not None and len(allowed) > 1:
                choices.append(f"{name}.{field.alias or key}: {', '.join(map(str, allowed))}")
    text = f"TOML configuration with the tables {', '.join(tables)}"
    if extra:
        choices.append(extra)
    if choices:
        text += "; choices: " + "; ".join(choices)
    return text + f". Every key, default and bound: {reference}."
