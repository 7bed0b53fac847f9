"""Counted warnings: every cut, drop, fill, fallback or skipped item, in one table.

serendip never changes or drops data silently. Code at any layer calls :func:`notice`
with what happened and the numbers; the call is logged at once (``logging`` logger
``serendip``) and collected by the innermost active :class:`NoticeLog` (opened with
``with NoticeLog() as log:``). The pipeline opens one log per run and writes it as the
run's warnings table (``warnings.parquet``, also ``warnings.csv``) and prints
:meth:`NoticeLog.summary` at the end.

Outside any ``NoticeLog`` a notice is still logged, and also kept in a process-wide
default log (:func:`default_log`), so a notebook user can look at what happened.

Columns of the warnings table
-----------------------------
stage : str
    Pipeline stage or function family (``ingest``, ``represent``, ``classify``, ...).
code : str
    A short stable identifier of the kind of event (``band_cut``, ``duplicate_events``,
    ``nan_rows``, ``known_unmatched``, ...): filter on it, do not parse ``message``.
source : str
    The file, table, object id or column concerned ("" when it concerns the whole run).
count : int
    How many items (events, rows, objects, columns) were affected; -1 when not countable.
total : int
    Out of how many (-1 when unknown); ``count / total`` is the affected fraction.
severity : str
    ``info`` (expected, stated for the record), ``warning`` (the user should look) or
    ``error`` (an item was skipped or rejected).
message : str
    One sentence in words an astronomer understands, with the numbers.
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["Notice", "NoticeLog", "notice", "default_log", "NOTICE_COLUMNS"]

LOG = logging.getLogger("serendip")

#: column order of the warnings table
NOTICE_COLUMNS = ("stage", "code", "source", "count", "total", "severity", "message")
_SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True)
class Notice:
    """One counted event: what was cut, dropped, filled or skipped, and how much."""

    stage: str
    code: str
    message: str
    source: str = ""
    count: int = -1
    total: int = -1
    severity: str = "warning"

    @property
    def fraction(self) -> float | None:
        """``count / total`` or None when either is unknown."""
        if self.count < 0 or self.total <= 0:
            return None
        return self.count / self.total


class NoticeLog:
    """Collects :class:`Notice` records; a context manager that makes itself current.

    Examples
    --------
    >>> from serendip.notices import NoticeLog, notice
    >>> with NoticeLog() as log:
    ...     _ = notice("ingest", "band_cut", "kept 10 of 100 events", source="a.fits",
    ...                count=90, total=100)
    >>> len(log), log.records[0].code
    (1, 'band_cut')
    """

    def __init__(self) -> None:
        self.records: list[Notice] = []
        self._token: contextvars.Token | None = None
        self._parent: NoticeLog | None = None

    # -- context management ------------------------------------------------
    def __enter__(self) -> NoticeLog:
        self._parent = _CURRENT.get()
        self._token = _CURRENT.set(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._token is not None:
            _CURRENT.reset(self._token)
            self._token = None

    # -- content -----------------------------------------------------------
    def __len__(self) -> int:
        return len(self.records)

    def add(self, record: Notice) -> Notice:
        """Append one record (no logging; :func:`notice` logs)."""
        self.records.append(record)
        return record

    def extend(self, records) -> None:
        """Append several records (for example those a worker process returned)."""
        self.records.extend(records)

    def to_frame(self):
        """The warnings table as a pandas DataFrame (columns :data:`NOTICE_COLUMNS`)."""
        import pandas as pd

        rows = [asdict(r) for r in self.records]
        df = pd.DataFrame(rows, columns=list(NOTICE_COLUMNS))
        return df.astype({"count": "int64", "total": "int64"}) if len(df) else df

    def write(self, run_dir: str | Path, name: str = "warnings") -> Path:
        """Write ``RUN_DIR/warnings.parquet`` and ``warnings.csv`` atomically; returns the
        Parquet path. An empty log writes an empty table with the columns.

        (Written with pandas directly, each through a temporary file renamed into place:
        this module sits below :mod:`serendip.io`, which reports its own notices here.)
        """
        import os

        import pandas as pd

        run_dir = Path(run_dir)
        df = self.to_frame()
        if not len(df):
            df = pd.DataFrame({c: pd.Series(dtype="int64" if c in ("count", "total") else str)
                               for c in NOTICE_COLUMNS})
        path = run_dir / f"{name}.parquet"
        for out in (path, run_dir / f"{name}.csv"):
            tmp = out.with_name(f".{out.name}.tmp")
            if out.suffix == ".parquet":
                df.to_parquet(tmp, index=False)
            else:
                df.to_csv(tmp, index=False)
            os.replace(tmp, out)
        return path

    def summary(self, max_lines: int = 20) -> str:
        """A few lines for the end of a run: counts per stage and code, then the warnings."""
        if not self.records:
            return "no warnings: nothing was cut, dropped, filled or skipped"
        from collections import Counter

        per = Counter((r.stage, r.code, r.severity) for r in self.records)
        lines = [f"{len(self.records)} notices:"]
        for (stage, code, sev), n in sorted(per.items()):
            lines.append(f"  {sev:7s} {stage}/{code}: {n}")
        worst = [r for r in self.records if r.severity != "info"][:max_lines]
        for r in worst:
            where = f"{r.source}: " if r.source else ""
            lines.append(f"  - {where}{r.message}")
        more = sum(r.severity != "info" for r in self.records) - len(worst)
        if more > 0:
            lines.append(f"  ... and {more} more (see warnings.csv)")
        return "\n".join(lines)


_DEFAULT = NoticeLog()
_CURRENT: contextvars.ContextVar[NoticeLog | None] = contextvars.ContextVar(
    "serendip_notice_log", default=None
)


def default_log() -> NoticeLog:
    """The process-wide log that collects notices made outside any ``with NoticeLog()``."""
    return _DEFAULT


def notice(
    stage: str,
    code: str,
    message: str,
    *,
    source: str | Path = "",
    count: int = -1,
    total: int = -1,
    severity: str = "warning",
) -> Notice:
    """Record and log one counted event.

    Parameters
    ----------
    stage, code : str
        Where it happened and a stable identifier of its kind (see the module docstring).
    message : str
        One sentence with the numbers, e.g. ``"band 0.5-7 keV kept 5,197 of 451,128 events"``.
    source : str or Path
        The file, table, object or column concerned.
    count, total : int
        Items affected, out of how many (-1 when unknown).
    severity : {"info", "warning", "error"}

    Returns
    -------
    Notice
        The record, also appended to the current :class:`NoticeLog` (or the default log).
    """
    if severity not in _SEVERITIES:
        raise ValueError(f"severity must be one of {_SEVERITIES}, got {severity!r}")
    rec = Notice(
        stage=str(stage),
        code=str(code),
        message=str(message),
        source=str(source),
        count=int(count),
        total=int(total),
        severity=severity,
    )
    log = _CURRENT.get()
    if log is None:  # (an empty NoticeLog is falsy: test for None)
        log = _DEFAULT
    log.add(rec)
    level = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}[severity]
    LOG.log(level, "%s%s/%s: %s", f"{rec.source}: " if rec.source else "", stage, code, message)
    return rec
