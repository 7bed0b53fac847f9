"""Durable user labels: an append-only SQLite log of label events.

Every call to :meth:`LabelStore.add` inserts one row ``(obsreg_id, label, note, time)``
and commits before returning, in WAL mode with ``synchronous=FULL``, so a label the user
saw "saved" survives a crash of the server or of the machine. Relabelling a source adds a
new row; :meth:`LabelStore.latest` returns the newest label per source and
:meth:`LabelStore.history` every event. One connection guarded by a lock serves all
threads (the web server answers requests from a thread pool).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pandas as pd

from serendip.errors import InputError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS label_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    obsreg_id TEXT NOT NULL,
    label TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS label_events_id ON label_events (obsreg_id, seq);
"""

_COLUMNS = ["obsreg_id", "label", "note", "time"]


class LabelStore:
    """Label events of one run in the SQLite file ``path`` (created with its folder).

    ``time`` is the Unix time [s] at which the label was given.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=FULL")
            self._con.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise InputError(self.path, f"cannot open the label database: {exc}") from exc

    # ------------------------------------------------------------------ write
    def add(self, obsreg_id: str, label: str, note: str = "", when: float | None = None) -> int:
        """Append one label event (committed durably before returning); returns its sequence number."""
        when = time.time() if when is None else float(when)
        with self._lock:
            cur = self._con.execute(
                "INSERT INTO label_events (obsreg_id, label, note, time) VALUES (?, ?, ?, ?)",
                (str(obsreg_id), str(label), str(note or ""), when),
            )
            return int(cur.lastrowid)

    # ------------------------------------------------------------------- read
    def _frame(self, sql: str) -> pd.DataFrame:
        with self._lock:
            rows = self._con.execute(sql).fetchall()
        return pd.DataFrame(rows, columns=_COLUMNS)

    def history(self) -> pd.DataFrame:
        """Every label event in the order given: DataFrame(obsreg_id, label, note, time [s])."""
        return self._frame("SELECT obsreg_id, label, note, time FROM label_events ORDER BY seq")

    def latest(self) -> pd.DataFrame:
        """The newest label of each labelled source, in the order the sources were first labelled."""
        return self._frame(
            """
            SELECT e.obsreg_id, e.label, e.note, e.time FROM label_events e
            JOIN (SELECT obsreg_id, MAX(seq) AS last, MIN(seq) AS first
                  FROM label_events GROUP BY obsreg_id) m
              ON e.seq = m.last
            ORDER BY m.first
            """
        )

    def n_labelled(self) -> int:
        """Number of distinct labelled sources."""
        with self._lock:
            return int(
                self._con.execute("SELECT COUNT(DISTINCT obsreg_id) FROM label_events").fetchone()[
                    0
                ]
            )

    def close(self) -> None:
        with self._lock:
            self._con.close()
