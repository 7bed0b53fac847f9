"""A discovery run as a Python object: :func:`run` runs (or resumes) one, :class:`Run` opens one.

Example
-------
::

    import serendip
    r = serendip.run({"input": {"n_sources": 2000, "seed": 1}}, out="runs/small")
    r.candidates.head()          # ranked candidates (a DataFrame, read on first access)
    r.embedding, r.clusters      # the 2-D embedding and cluster labels
    r = serendip.Run.open("runs/small")   # later, or on a run made by ``serendip run``

Every table is read from the run directory (:class:`serendip.layout.RunLayout`) the first
time it is used and kept; a table the run does not have raises :class:`InputError` naming
the missing file.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from serendip.errors import InputError
from serendip.layout import RUN_FILES, RunLayout

LOG = logging.getLogger("serendip")

#: attributes of :class:`Run` that are tables, and the run file each one reads
TABLES = {
    "candidates": "candidates",
    "candidates_by_source": "candidates_by_source",
    "significance": "significance",
    "features": "features",
    "event_features": "event_features",
    "embedding": "embedding",
    "clusters": "clusters",
    "cluster_summary": "cluster_summary",
    "files": "files",
    "known": "known",
    "sources": "sources",
    "warnings": "warnings",
    "failures": "failures",
}


class Run:
    """A finished (or partly finished) discovery run directory.

    Parameters
    ----------
    path : the run directory (``serendip run --out``).

    Attributes
    ----------
    path : Path of the run directory.
    layout : its :class:`~serendip.layout.RunLayout` (every file's path).
    candidates, candidates_by_source, features, event_features, embedding, clusters, cluster_summary, files,
    known, sources, warnings, failures : pandas.DataFrame, read on first access.
    events : :class:`serendip.io.EventSet` of every file's events (time [s], energy [eV]).
    config : dict, the resolved configuration the run used.
    stages : dict, each stage's key, wall time [s] and whether it was reused.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.layout = RunLayout(self.path)

    @classmethod
    def open(cls, path: str | Path) -> Run:
        """Open the run directory ``path``; InputError when it holds no run."""
        path = Path(path)
        if not path.is_dir():
            raise InputError(path, "no such run directory")
        lay = RunLayout(path)
        if not (lay.config.is_file() or lay.run_json.is_file()):
            raise InputError(path, "not a serendip run directory (no config.toml or run.json)")
        return cls(path)

    # ------------------------------------------------------------------ tables
    def _table(self, name: str):
        from serendip.io.tables import read_table

        p = self.layout.path(name)
        if not p.exists():
            raise InputError(p, f"this run has no {name} table ({RUN_FILES[name].description})")
        return read_table(p)

    def __getattr__(self, name: str):
        if name in TABLES:
            value = self._table(TABLES[name])
            self.__dict__[name] = value
            return value
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *TABLES})

    @cached_property
    def events(self):
        """Every file's events as an :class:`~serendip.io.EventSet` in ``files`` order."""
        from serendip.io.eventset import EventSet

        order = self.files["obsreg_id"].astype(str).tolist()
        return EventSet.read(self.layout.events, order=order)

    @cached_property
    def config(self) -> dict[str, Any]:
        """The resolved configuration (``config.toml``)."""
        from serendip.configfile import read_toml

        return read_toml(self.layout.config)

    @cached_property
    def stages(self) -> dict[str, Any]:
        """``run.json``: per stage its key, seconds, reused flag, outputs and info."""
        p = self.layout.run_json
        return json.loads(p.read_text()) if p.is_file() else {}

    @property
    def report_path(self) -> Path | None:
        """The HTML report, or None when the report stage has not run."""
        p = self.layout.report
        return p if p.is_file() else None

    def tables(self) -> list[str]:
        """Names of the table attributes whose file this run has."""
        return [t for t, f in TABLES.items() if self.layout.path(f).exists()]

    # ------------------------------------------------------------------ display
    def _summary(self) -> list[tuple[str, str]]:
        rows = []
        info = {k: v.get("info", {}) for k, v in self.stages.items()}
        inp = info.get("input", {})
        if "n_files" in inp:
            rows.append(("files", f"{inp['n_files']:,} ({inp.get('n_events', 0):,} events)"))
        case = self.config.get("features", {}).get("case") if self.layout.config.is_file() else None
        if case:
            rows.append(("feature case", str(case)))
        if "n_clusters" in info.get("cluster", {}):
            rows.append(("clusters", str(info["cluster"]["n_clusters"])))
            if "noise_fraction" in info["cluster"]:
                nf = info["cluster"]
                rows.append(("cluster noise", f"{nf['noise']:,} ({nf['noise_fraction']:.1%})"))
        if "n_candidates" in info.get("candidates", {}):
            rows.append(("candidates", f"{info['candidates']['n_candidates']:,}"))
        done = [s for s in self.stages]
        rows.append(("stages", ", ".join(done) if done else "none finished"))
        rows.append(("tables", ", ".join(self.tables())))
        return rows

    def __repr__(self) -> str:
        body = "; ".join(f"{k}: {v}" for k, v in self._summary())
        return f"Run({str(self.path)!r}) {body}"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in self._summary()
        )
        out = f"<b>serendip run</b> <code>{html.escape(str(self.path))}</code><table>{rows}</table>"
        if self.layout.candidates.exists():
            out += "<p>top candidates</p>" + self.candidates.head(10)._repr_html_()
        return out


def run(
    config: str | Path | Mapping[str, Any] | None = None,
    out: str | Path = "runs/run",
    *,
    progress: bool = False,
    stop_after: str | None = None,
    log: Callable[[str], None] | None = None,
) -> Run:
    """Run (or resume) the discovery pipeline and return the :class:`Run`.

    Parameters
    ----------
    config : a TOML file, a (partial) configuration dict merged over
        :data:`serendip.pipeline.config.DEFAULT_CONFIG`, or None for the defaults (the
        simulated demo). Checked in full before any stage runs.
    out : the run directory (created; an existing run there is resumed, reusing every stage
        whose settings and inputs did not change).
    progress : show progress bars.
    stop_after : stage name after which to stop (see
        :data:`serendip.pipeline.runner.STAGES`).
    log : called with one line per stage event; default the ``serendip`` logger.

    Returns
    -------
    :class:`Run` over ``out``; its tables are the run's outputs.
    """
    from serendip.pipeline.config import load_config

    if config is None or isinstance(config, Mapping):
        cfg = load_config(None, dict(config or {}))
    else:
        cfg = load_config(config)
    from serendip.pipeline.runner import run_pipeline  # numerical libraries: after the checks

    run_pipeline(cfg, out, progress=progress, stop_after=stop_after, log=log or LOG.info)
    return Run(out)
