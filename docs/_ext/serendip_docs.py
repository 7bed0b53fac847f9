"""Sphinx extension: write the reference pages that come from the code itself.

At ``builder-inited`` it writes Markdown files under ``docs/reference/_generated/``:

* ``cli.md``: every ``serendip`` verb with its usage, help and options, from the typer app;
* ``config.md``: every run-configuration key with its type, default and description, from
  the configuration models;
* ``missions.md``: the mission registry (bands, energy columns, gains, references);
* ``detectors.md`` and ``feature_cases.md``: the detector and feature-case registries;
* ``lightcurve_formats.md``: the light-curve column aliases, survey formats and time conventions;
* ``api_names.md``: every public name of ``serendip`` with its one-line summary.

The pages under ``docs/`` include these files, so the site cannot drift from the code.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "reference" / "_generated"


def _md_escape(text: Any) -> str:
    s = "" if text is None else str(text)
    return s.replace("|", "\\|").replace("\n", " ").strip()


def _first_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


# ------------------------------------------------------------------ CLI
def cli_markdown() -> str:
    """The CLI reference: one section per verb, from the typer application."""
    import click
    import typer

    cli = importlib.import_module("serendip.cli")
    app = getattr(cli, "app")
    if hasattr(cli, "_register_all_verbs"):
        cli._register_all_verbs()
    root = typer.main.get_command(app)
    lines = [
        "Generated from the command definitions (`serendip.cli`); every verb has `--help`.",
        "",
    ]
    ctx = click.Context(root, info_name="serendip")
    names = sorted(root.list_commands(ctx)) if hasattr(root, "list_commands") else []
    lines.append("| verb | what it does |")
    lines.append("|---|---|")
    for name in names:
        cmd = root.get_command(ctx, name)
        lines.append(f"| [`serendip {name}`](#serendip-{name}) | {_md_escape(cmd.get_short_help_str(120))} |")
    lines.append("")
    for name in names:
        cmd = root.get_command(ctx, name)
        sub = click.Context(cmd, info_name=name, parent=ctx)
        lines += [f"## serendip {name}", ""]
        usage = " ".join(cmd.collect_usage_pieces(sub))
        lines += ["```text", f"serendip {name} {usage}", "```", ""]
        help_text = (cmd.help or "").replace("\b\n", "\n").strip()
        if help_text:
            lines += [help_text, ""]
        rows = []
        for p in cmd.params:
            if getattr(p, "hidden", False):
                continue
            if getattr(p, "param_type_name", "") == "argument":
                decl = (p.name or "").upper()
                kind = "argument"
            else:
                decl = ", ".join(p.opts + list(p.secondary_opts))
                kind = "option"
            default = p.default if not callable(p.default) else "(computed)"
            if default in (None, (), []) or kind == "argument":
                default = ""
            rows.append(
                f"| `{_md_escape(decl)}` | {kind} | {_md_escape(_param_type(p))} "
                f"| {_md_escape(default)} | {_md_escape(getattr(p, 'help', '') or '')} |"
            )
        if rows:
            lines += ["| name | kind | type | default | help |", "|---|---|---|---|---|", *rows, ""]
    return "\n".join(lines)


def _param_type(p: Any) -> str:
    if getattr(p, "is_flag", False):
        return "flag"
    td = getattr(p, "type_descriptor", None)
    ann = getattr(td, "annotation", None)
    if ann is not None:
        return getattr(ann, "__name__", str(ann)).replace("typing.", "")
    t = getattr(p, "type", None)
    return getattr(t, "name", str(t) if t is not None else "")


# ------------------------------------------------------------------ configuration
def config_markdown() -> str:
    """The run configuration reference, from the configuration models."""
    cfg = importlib.import_module("serendip.pipeline.config")
    for name in ("config_reference_markdown", "config_reference", "reference_markdown"):
        fn = getattr(cfg, name, None)
        if callable(fn):
            text = fn()
            if isinstance(text, str) and text.strip():
                return text
    defaults = getattr(cfg, "DEFAULT_CONFIG")
    lines = ["Generated from `serendip.pipeline.config.DEFAULT_CONFIG`.", ""]
    for section, keys in defaults.items():
        lines += [f"## [{section}]", "", "| key | default | type |", "|---|---|---|"]
        for k, v in keys.items():
            lines.append(f"| `{k}` | `{_md_escape(v)!s}` | {type(v).__name__} |")
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------ registries
def _rows_from_entries(entries: list[Any], fields: list[str]) -> list[str]:
    rows = []
    for e in entries:
        vals = []
        for f in fields:
            v = getattr(e, f, None) if not isinstance(e, dict) else e.get(f)
            if isinstance(v, tuple | list):
                v = ", ".join(map(str, v)) if v else ""
            vals.append(_md_escape("" if v is None else v))
        rows.append("| " + " | ".join(vals) + " |")
    return rows


def missions_markdown() -> str:
    """The mission registry as a table (bands, energy columns, gains, references)."""
    m = importlib.import_module("serendip.io.missions")
    entries = list(getattr(m, "MISSIONS", ()))
    if not entries:
        return "No mission registry found."
    fields = [f.name for f in dataclasses.fields(entries[0])] if dataclasses.is_dataclass(
        entries[0]) else list(vars(entries[0]))
    keep = [f for f in fields if not f.startswith("_")]
    lines = [
        "Generated from `serendip.io.missions.MISSIONS`: the single table from which ingest "
        "takes each mission's defaults (a band given by the user always wins).",
        "",
        "| " + " | ".join(keep) + " |",
        "|" + "---|" * len(keep),
        *_rows_from_entries(entries, keep),
        "",
    ]
    return "\n".join(lines)


def detectors_markdown() -> str:
    """The detector registry: name, class, whether it needs labels, summary."""
    reg = importlib.import_module("serendip.detect.registry")
    table = getattr(reg, "DETECTORS")
    lines = ["Generated from `serendip.detect.registry.DETECTORS`. Every score: higher = more "
             "anomalous.", "", "| name | class | needs labels | what it is |", "|---|---|---|---|"]
    for name, entry in table.items():
        klass = entry
        for attr in ("cls", "klass", "load", "resolve"):
            if not inspect.isclass(klass) and hasattr(entry, attr):
                val = getattr(entry, attr)
                klass = val() if callable(val) and not inspect.isclass(val) and attr in (
                    "load", "resolve") else val
        needs = getattr(entry, "needs_labels", getattr(klass, "needs_labels", False))
        summary = getattr(entry, "description", "") or _first_line(klass)
        cname = getattr(klass, "__name__", str(klass))
        lines.append(f"| `{name}` | `{cname}` | {'yes' if needs else 'no'} | {_md_escape(summary)} |")
    return "\n".join(lines) + "\n"


def feature_cases_markdown() -> str:
    """The feature-case registry: name, representation, encoder, columns."""
    reg = importlib.import_module("serendip.features.registry")
    cases = getattr(reg, "FEATURE_CASES", None) or getattr(reg, "CASES")
    entries = list(cases.values())
    fields = [f.name for f in dataclasses.fields(entries[0])] if dataclasses.is_dataclass(
        entries[0]) else [k for k in vars(entries[0]) if not k.startswith("_")]
    fields = [f for f in fields if not f.startswith("_")]
    lines = ["Generated from the feature-case registry (`serendip.features.registry`).", "",
             "| " + " | ".join(fields) + " |", "|" + "---|" * len(fields),
             *_rows_from_entries(entries, fields), ""]
    return "\n".join(lines)


def api_names_markdown() -> str:
    """Every public name of ``serendip`` with its one-line summary and where it lives."""
    import serendip

    names = [n for n in getattr(serendip, "__all__", []) if not n.startswith("_")]
    lines = ["| name | defined in | summary |", "|---|---|---|"]
    for n in names:
        obj = getattr(serendip, n)
        mod = getattr(obj, "__module__", "") or ""
        lines.append(f"| `serendip.{n}` | `{mod}` | {_md_escape(_first_line(obj))} |")
    return "\n".join(lines) + "\n"


def benchmarks_markdown() -> str:
    """BENCHMARKS.md with its links to files of the repository made relative to the site page."""
    import re

    root = Path(__file__).resolve().parents[2]
    text = (root / "BENCHMARKS.md").read_text()

    assets = Path(__file__).resolve().parents[1] / "_generated_assets"

    def fix(m: re.Match) -> str:
        bang, label, target = m.group(1), m.group(2), m.group(3)
        if re.match(r"[a-z]+:", target) or target.startswith("#") or not (root / target).is_file():
            return m.group(0)
        # copy the file next to the sources: a leading "/" is the source folder for images
        # and downloads alike, wherever the including page sits
        assets.mkdir(exist_ok=True)
        name = target.replace("/", "__")
        import shutil

        shutil.copyfile(root / target, assets / name)
        if bang:
            return f"![{label}](/_generated_assets/{name})"
        return f"[{label}](path:/_generated_assets/{name})"

    return re.sub(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)", fix, text)


API_PACKAGES = (
    "serendip.io", "serendip.represent", "serendip.features", "serendip.embed", "serendip.cluster",
    "serendip.detect", "serendip.catalog", "serendip.classify", "serendip.evaluate",
    "serendip.report", "serendip.app", "serendip.simulate", "serendip.pipeline", "serendip.scale",
    "serendip.notices", "serendip.errors",
)


def api_pages(out: Path) -> list[Path]:
    """One page per stage package documenting each public name of its ``__all__`` once,
    under the module that defines it (a name re-exported by a later package links back)."""
    import serendip

    seen: dict[str, str] = {}
    written = []
    pages = []
    (out / "api").mkdir(parents=True, exist_ok=True)
    for pkg_name in API_PACKAGES:
        pkg = importlib.import_module(pkg_name)
        names = [n for n in getattr(pkg, "__all__", []) if not n.startswith("_")]
        if not names:
            names = [n for n in dir(pkg) if not n.startswith("_")
                     and getattr(getattr(pkg, n), "__module__", "").startswith(pkg_name)]
        lines = [f"# {pkg_name}", "", f"```{{eval-rst}}\n.. automodule:: {pkg_name}\n   :no-members:\n   :no-index:\n```", ""]
        for n in sorted(names, key=str.lower):
            try:
                obj = getattr(pkg, n)
            except Exception:  # a lazy name that cannot load here is a build error
                raise
            if inspect.ismodule(obj):
                continue
            if inspect.isclass(obj) or inspect.isfunction(obj):
                canonical = f"{obj.__module__}.{obj.__qualname__}"
                if canonical in seen:
                    lines += [f"`{pkg_name}.{n}`: the same object as `{canonical}`, documented "
                              f"under [{seen[canonical]}]({seen[canonical]}.md).", ""]
                    continue
                seen[canonical] = pkg_name
                kind = "autoclass" if inspect.isclass(obj) else "autofunction"
                opts = "\n   :members:" if kind == "autoclass" else ""
                lines += [f"```{{eval-rst}}\n.. {kind}:: {canonical}{opts}\n```", ""]
            else:
                lines += [f"`{pkg_name}.{n}`: {type(obj).__name__}. {_md_escape(_first_line(obj)) if not isinstance(obj, (dict, tuple, list, str, int, float)) else ''}", ""]
        path = out / "api" / f"{pkg_name}.md"
        text = "\n".join(lines)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
        pages.append(pkg_name)
    index = out / "api_toc.md"
    toc = "```{toctree}\n:maxdepth: 1\n\n" + "\n".join(f"/reference/_generated/api/{p}" for p in pages) + "\n```\n"
    if not index.exists() or index.read_text() != toc:
        index.write_text(toc)
    return written


def lightcurve_formats_markdown() -> str:
    """The light-curve column aliases, survey formats and time conventions, from
    :mod:`serendip.io.lightcurves` and :mod:`serendip.io.lc_formats`."""
    from serendip.io.lc_formats import formats_markdown, time_conventions_markdown
    from serendip.io.lightcurves import aliases_markdown

    return "\n".join([
        "### Column aliases", "", aliases_markdown(), "",
        "### Survey formats", "", formats_markdown(), "",
        "### Time conventions", "", time_conventions_markdown(), "",
    ])  # fmt: skip


GENERATORS = {
    "benchmarks.md": benchmarks_markdown,
    "lightcurve_formats.md": lightcurve_formats_markdown,
    "cli.md": cli_markdown,
    "config.md": config_markdown,
    "missions.md": missions_markdown,
    "detectors.md": detectors_markdown,
    "feature_cases.md": feature_cases_markdown,
    "api_names.md": api_names_markdown,
}


def write_generated(out: Path = OUT) -> list[Path]:
    """Write every generated page; returns their paths. Errors propagate (they break the build)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fn in GENERATORS.items():
        path = out / name
        text = fn()
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    written += api_pages(out)
    return written


def _on_builder_inited(app) -> None:
    write_generated()


_PARAM_SECTIONS = ("parameters", "other parameters", "attributes", "keyword arguments")


def normalise_docstring_lines(lines: list[str]) -> None:
    """Rewrite serendip's ``name : description`` parameter lines into numpydoc's
    ``name`` + indented description, in place, before napoleon reads them.

    serendip's docstrings often put a short description where numpydoc expects a type
    (``contamination : training fraction above ``threshold_``.``); napoleon would render
    that text as a type and break its inline markup. A parameter line whose "type" has a
    space or backtick is split: the name stays, the text becomes the description. A bare
    ``a, b, c :`` line loses its empty type. Stars in shapes such as
    ``(n_files, *cube_shape)`` outside literals are escaped.
    """
    import re

    section = None
    base = None
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and set(nxt.strip()) == {"-"} and len(nxt.strip()) >= 3:
            section = line.strip().lower()
            base = len(line) - len(line.lstrip())
            out += [line, nxt]
            i += 2
            continue
        parts = line.split("``")  # outside literals only (even-numbered parts)
        is_name_line = section in _PARAM_SECTIONS and base is not None and (
            len(line) - len(line.lstrip()) == base)
        for k in range(0, len(parts), 2):
            p = re.sub(r"(\(\s*[\w\s-]+,\s*)\*(\w+)", r"\1\\*\2", parts[k])
            p = re.sub(r"(?<![\w`|])\|(\w[^|`]*?)\|(?![\w`])", r"\\|\1\\|", p)  # |c_j| is no substitution
            if not is_name_line:  # a trailing underscore (fitted_attr_) is no link target
                p = re.sub(r"(?<=[A-Za-z0-9])_(?=[\s,.;:)\]]|$)", r"\\_", p)
            parts[k] = p
        line = "``".join(parts)
        indent = len(line) - len(line.lstrip())
        m = re.match(r"^(\s*)([\w*][\w*, ]*?)\s:(?:\s(.*))?$", line)
        if section in _PARAM_SECTIONS and m and indent == base:
            pad, name, rest = m.group(1), m.group(2), (m.group(3) or "").strip()
            if not rest:
                out.append(f"{pad}{name}")
            elif " " in rest or "`" in rest:
                bits = rest.split("``")
                bits[::2] = [re.sub(r"(?<=[A-Za-z0-9])_(?=[\s,.;:)\]]|$)", r"\\_", b)
                             for b in bits[::2]]
                out += [f"{pad}{name}", f"{pad}    {'``'.join(bits)}"]
            else:
                out.append(line)
            i += 1
            continue
        if (section in _PARAM_SECTIONS and line.strip() and indent == base and not m
                and out and not out[-1].strip()):
            # a paragraph after the parameters: numpydoc has no way back, so it becomes Notes
            out += [" " * base + "Notes", " " * base + "-----"]
            section = "notes"
        out.append(line)
        i += 1
    lines[:] = out


def _process_docstring(app, what, name, obj, options, lines) -> None:
    normalise_docstring_lines(lines)


def _skip_member(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated metadata-routing setters (``set_*_request``)."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app) -> dict[str, Any]:
    app.connect("builder-inited", _on_builder_inited)
    app.connect("autodoc-skip-member", _skip_member)
    # before napoleon (priority 500) turns the numpydoc sections into reST
    app.connect("autodoc-process-docstring", _process_docstring, priority=400)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
