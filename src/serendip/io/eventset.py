"""``EventSet``: many event files held as one flat, grouped array set.

Every vectorised stage (representations, features, simulation output) works on this
layout instead of looping over files:

* ``obsreg_id`` (n_files,) str - one id per file, in file order;
* ``offsets`` (n_files + 1,) int64 - events of file ``i`` are ``offsets[i]:offsets[i+1]``;
* ``time`` (n_events,) float64 - seconds (mission time), sorted within each file;
* ``energy`` (n_events,) float32 - eV.

On disk the same data is the long event table (Parquet) with columns
``obsreg_id``, ``time`` [s], ``energy`` [eV]: the layout of the reference pipeline's
``eventfiles_table.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import InputError

EVENT_COLUMNS = ("obsreg_id", "time", "energy")


@dataclass
class EventSet:
    """Events of many files, grouped by file and sorted by time within each file."""

    obsreg_id: np.ndarray
    offsets: np.ndarray
    time: np.ndarray
    energy: np.ndarray

    def __post_init__(self) -> None:
        self.obsreg_id = np.asarray(self.obsreg_id, dtype=object)
        self.offsets = np.asarray(self.offsets, dtype=np.int64)
        self.time = np.asarray(self.time, dtype=np.float64)
        self.energy = np.asarray(self.energy, dtype=np.float32)
        n = len(self.obsreg_id)
        if self.offsets.shape != (n + 1,):
            raise ValueError(f"offsets must have n_files + 1 = {n + 1} entries")
        if (
            self.offsets[0] != 0
            or self.offsets[-1] != len(self.time)
            or np.any(np.diff(self.offsets) < 0)
        ):
            raise ValueError("offsets must start at 0, end at n_events and not decrease")
        if len(self.energy) != len(self.time):
            raise ValueError("time and energy must have the same length")

    # ------------------------------------------------------------------ sizes
    @property
    def n_files(self) -> int:
        """Number of files (sources) in the set."""
        return len(self.obsreg_id)

    @property
    def n_events(self) -> int:
        """Number of events over all files."""
        return len(self.time)

    @property
    def counts(self) -> np.ndarray:
        """Events per file, (n_files,) int64."""
        return np.diff(self.offsets)

    @property
    def file_index(self) -> np.ndarray:
        """File number of every event, (n_events,) int64."""
        return np.repeat(np.arange(self.n_files, dtype=np.int64), self.counts)

    def __len__(self) -> int:
        return self.n_files

    # ---------------------------------------------------------- construction
    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        order: Sequence[str] | None = None,
        source: str | Path | None = None,
    ) -> EventSet:
        """Build from a long table with columns ``obsreg_id``, ``time`` [s], ``energy`` [eV].

        Files appear in ``order`` if given (ids in ``order`` with no events become
        empty files), else in order of first appearance. Events are sorted by time
        within each file (stable, so ties keep their input order). Rows with
        non-finite time or infinite energy raise :class:`InputError` naming ``source``; a NaN
        energy means "no energy" (an instrument without energy resolution, Chandra HRC).
        """
        missing = [c for c in EVENT_COLUMNS if c not in df.columns]
        if missing:
            raise InputError(
                source, f"event table lacks column(s) {missing}; found {list(df.columns)}"
            )
        id_col = df["obsreg_id"]
        if isinstance(id_col.dtype, pd.CategoricalDtype):
            # categorical ids (as written by EventSet.write): use the small category table,
            # never one Python string per event
            cat_codes = id_col.cat.codes.to_numpy()
            if (cat_codes < 0).any():
                raise InputError(source, "event table has rows with a missing obsreg_id")
            categories = np.asarray(id_col.cat.categories.astype(str), dtype=object)
            ids = None
        else:
            ids = id_col.astype(str).to_numpy()
        time = df["time"].to_numpy(dtype=np.float64)
        energy = df["energy"].to_numpy(dtype=np.float32)
        # NaN energy = no energy (instruments without energy resolution, e.g. Chandra HRC)
        bad = ~(np.isfinite(time) & (np.isfinite(energy) | np.isnan(energy)))
        if bad.any():
            first = ids[bad][0] if ids is not None else categories[cat_codes[bad][0]]
            raise InputError(
                source,
                f"{int(bad.sum())} event(s) with NaN/inf time or infinite energy, e.g. obsreg_id "
                f"{first!r}",
            )
        if ids is None:
            # map category codes to file codes (first appearance order, or the given order)
            if order is None:
                cat_first, uniq_pos = np.unique(cat_codes, return_index=True)
                appear = cat_first[np.argsort(uniq_pos)]
                uniques = categories[appear]
            else:
                uniques = np.asarray([str(o) for o in order], dtype=object)
            if len(set(uniques)) != len(uniques):
                raise InputError(source, "order has repeated obsreg_id values")
            cat_to_file = pd.Index(uniques).get_indexer(categories)
            codes = cat_to_file[cat_codes]
            if (codes < 0).any():
                raise InputError(
                    source,
                    f"obsreg_id {categories[cat_codes[codes < 0][0]]!r} is not in the given order",
                )
        elif order is None:
            codes, uniques = pd.factorize(ids, sort=False)
        else:
            uniques = np.asarray([str(o) for o in order], dtype=object)
            if len(set(uniques)) != len(uniques):
                raise InputError(source, "order has repeated obsreg_id values")
            lookup = pd.Index(uniques)
            codes = lookup.get_indexer(ids)
            if (codes < 0).any():
                raise InputError(
                    source, f"obsreg_id {ids[codes < 0][0]!r} is not in the given order"
                )
        codes = codes.astype(np.int64)
        if not _is_grouped_sorted(codes, time):
            perm = np.lexsort((time, codes))
            codes, time, energy = codes[perm], time[perm], energy[perm]
        counts = np.bincount(codes, minlength=len(uniques))
        offsets = np.zeros(len(uniques) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return cls(np.asarray(uniques, dtype=object), offsets, time, energy)

    @classmethod
    def from_arrays(cls, per_file: dict[str, tuple[np.ndarray, np.ndarray]]) -> EventSet:
        """Build from ``{obsreg_id: (time, energy)}`` (small inputs, tests)."""
        ids = list(per_file)
        times = [np.asarray(per_file[k][0], dtype=np.float64) for k in ids]
        energies = [np.asarray(per_file[k][1], dtype=np.float32) for k in ids]
        df = pd.DataFrame(
            {
                "obsreg_id": np.repeat(np.asarray(ids, dtype=object), [len(t) for t in times]),
                "time": np.concatenate(times) if times else np.zeros(0),
                "energy": np.concatenate(energies) if energies else np.zeros(0, np.float32),
            }
        )
        return cls.from_frame(df, order=ids)

    def to_frame(self) -> pd.DataFrame:
        """The long event table (obsreg_id [categorical str], time [s], energy [eV])."""
        ids = pd.Categorical.from_codes(
            np.repeat(np.arange(self.n_files), self.counts),
            categories=pd.Index(self.obsreg_id.astype(str)),
        )
        return pd.DataFrame(
            {
                "obsreg_id": ids,
                "time": self.time,
                "energy": self.energy,
            }
        )

    # --------------------------------------------------------------- access
    def events_of(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(time, energy) of file ``i`` (views, no copy)."""
        a, b = self.offsets[i], self.offsets[i + 1]
        return self.time[a:b], self.energy[a:b]

    def select(self, index: np.ndarray | Sequence[int]) -> EventSet:
        """A new EventSet with the files at ``index`` (in that order)."""
        index = np.asarray(index, dtype=np.int64)
        counts = self.counts[index]
        starts = self.offsets[index]
        offsets = np.zeros(len(index) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        # event positions: start of each file plus a running index within it
        within = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1], counts)
        pos = np.repeat(starts, counts) + within
        return EventSet(self.obsreg_id[index], offsets, self.time[pos], self.energy[pos])

    def chunks(self, max_files: int) -> list[tuple[int, int]]:
        """File ranges ``[(start, stop), ...]`` of at most ``max_files`` files each."""
        return [(s, min(s + max_files, self.n_files)) for s in range(0, self.n_files, max_files)]

    def slice_files(self, start: int, stop: int) -> EventSet:
        """Files ``start:stop`` as a new EventSet sharing no state with this one."""
        a, b = self.offsets[start], self.offsets[stop]
        return EventSet(
            self.obsreg_id[start:stop],
            self.offsets[start : stop + 1] - a,
            self.time[a:b],
            self.energy[a:b],
        )

    # ------------------------------------------------------------------ disk
    @classmethod
    def read(cls, path: str | Path, order: Sequence[str] | None = None) -> EventSet:
        """Read an event table (Parquet or the reference's CSV layout) from disk."""
        from serendip.io.tables import read_table

        return cls.from_frame(
            read_table(path, columns=list(EVENT_COLUMNS)), order=order, source=path
        )

    def write(self, path: str | Path) -> Path:
        """Write the long event table to ``path`` (Parquet recommended)."""
        from serendip.io.tables import write_table

        return write_table(self.to_frame(), path)


def _is_grouped_sorted(codes: np.ndarray, time: np.ndarray) -> bool:
    """True when events are grouped by ascending file code and time-sorted within files."""
    if len(codes) < 2:
        return True
    dc = np.diff(codes)
    if (dc < 0).any():
        return False
    same = dc == 0
    return bool(np.all(np.diff(time)[same] >= 0))
