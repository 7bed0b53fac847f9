"""Durable user labels: an append-only SQLite log of label events.

Every call to :meth:`LabelStore.add` inserts one row ``(obsreg_id, label, note, time)``
and commits before returning, in WAL mode with ``synchronous=FULL``, so a label the user
saw "saved" survives a crash of the server or of the machine. Relabelling a source adds a
new row; :meth:`LabelStore.latest` returns the newest label per source and
:meth:`LabelStore.history` every event. :meth:`LabelStore.unlabel` appends an event with
the empty label (the source counts as unlabelled again); :meth:`LabelStore.undo` marks the
newest event not yet undone as undone (kept in the log, ignored by :meth:`latest`). Notes
are saved on their own (:meth:`LabelStore.set_note`, table ``note_events``), with or without
a label; the newest note of a source wins. One connection guarded by a lock serves all
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
CREATE TABLE IF NOT EXISTS note_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    obsreg_id TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    time REAL NOT NULL
);
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
            cols = [r[1] for r in self._con.execute("PRAGMA table_info(label_events)")]
            if "undone" not in cols:  # databases of earlier versions
                self._con.execute(
                    "ALTER TABLE label_events ADD COLUMN undone INTEGER NOT NULL DEFAULT 0"
                )
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

    def unlabel(self, obsreg_id: str) -> int:
        """Append an event removing ``obsreg_id``'s label (it counts as unlabelled again)."""
        return self.add(obsreg_id, "", "")

    def undo(self) -> dict | None:
        """Mark the newest label event not yet undone as undone; returns it (None if none)."""
        with self._lock:
            row = self._con.execute(
                "SELECT seq, obsreg_id, label FROM label_events WHERE undone = 0 "
                "ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            self._con.execute("UPDATE label_events SET undone = 1 WHERE seq = ?", (row[0],))
        return {"seq": int(row[0]), "obsreg_id": row[1], "label": row[2]}

    def set_note(self, obsreg_id: str, note: str, when: float | None = None) -> int:
        """Save a note for ``obsreg_id`` on its own (no label needed); committed at once."""
        when = time.time() if when is None else float(when)
        with self._lock:
            cur = self._con.execute(
                "INSERT INTO note_events (obsreg_id, note, time) VALUES (?, ?, ?)",
                (str(obsreg_id), str(note or ""), when),
            )
            return int(cur.lastrowid)

    def notes(self) -> pd.DataFrame:
        """The newest non-empty note of each source: DataFrame(obsreg_id, note, time [s])."""
        with self._lock:
            rows = self._con.execute(
                """
                SELECT e.obsreg_id, e.note, e.time FROM note_events e
                JOIN (SELECT obsreg_id, MAX(seq) AS last FROM note_events GROUP BY obsreg_id) m
                  ON e.seq = m.last
                WHERE e.note != '' ORDER BY e.seq
                """
            ).fetchall()
        return pd.DataFrame(rows, columns=["obsreg_id", "note", "time"])

    # ------------------------------------------------------------------- read
    def _frame(self, sql: str) -> pd.DataFrame:
        with self._lock:
            rows = self._con.execute(sql).fetchall()
        return pd.DataFrame(rows, columns=_COLUMNS)

    def history(self) -> pd.DataFrame:
        """Every label event in the order given: DataFrame(obsreg_id, label, note, time [s])."""
        return self._frame("SELECT obsreg_id, label, note, time FROM label_events ORDER BY seq")

    def latest(self) -> pd.DataFrame:
        """The newest label of each labelled source, in the order the sources were first labelled.

        (Undone events are ignored; a source whose newest event is an unlabel is left out.)
        The ``note`` is the newest note saved on its own (:meth:`set_note`) when there is one,
        else the note given with the label."""
        df = self._frame(
            """
            SELECT e.obsreg_id, e.label, e.note, e.time FROM label_events e
            JOIN (SELECT obsreg_id, MAX(seq) AS last, MIN(seq) AS first
                  FROM label_events WHERE undone = 0 GROUP BY obsreg_id) m
              ON e.seq = m.last
            WHERE e.label != ''
            ORDER BY m.first
            """
        )
        notes = self.notes()
        if len(df) and len(notes):
            newer = notes.set_index("obsreg_id")["note"].reindex(df["obsreg_id"]).to_numpy()
            has = pd.notna(newer)
            df.loc[has, "note"] = newer[has]
        return df

    def n_labelled(self) -> int:
        """Number of labelled sources (newest event of each not an unlabel)."""
        return len(self.latest())

    def close(self) -> None:
        """Close the label database (further calls fail)."""
        with self._lock:
            self._con.close()
