"""Event tables in the reference pipeline's ``eventfiles_table.csv`` layout.

The layout is a long table with one row per event and columns ``obsreg_id`` (str),
``time`` [s] and ``energy`` [eV]; other columns are ignored. Parquet (``.parquet``,
``.pq``) and CSV/TSV (``.csv``, ``.csv.gz``, ``.tsv``) files are read.

:func:`read_event_table` validates and groups the whole table at once (no loop over
obsreg_ids): rows without an obsreg_id are dropped and reported; events with a NaN/inf
time are dropped and counted, and an obsreg_id is rejected only when they are more than
:data:`~serendip.io.eventfile.MAX_NAN_FRACTION` of its events; events with a NaN/inf energy
are dropped and counted; exact duplicate rows (obsreg_id, time, energy) are dropped and
counted; energies that look like keV (all below 100) are converted to eV with a warning; the
energy band is applied; an obsreg_id left with no event is reported. Each rejection becomes a
``(file, reason)`` failure row, each drop a :func:`serendip.notices.notice`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.eventfile import MAX_NAN_FRACTION
from serendip.io.eventset import EVENT_COLUMNS, EventSet
from serendip.io.tables import read_table
from serendip.notices import notice

#: File name endings read as event tables.
TABLE_SUFFIXES = (".parquet", ".pq", ".csv", ".csv.gz", ".tsv")


def is_event_table(path: str | Path) -> bool:
    """True when ``path``'s name ends like an event table (Parquet/CSV/TSV)."""
    return str(path).lower().endswith(TABLE_SUFFIXES)


@dataclass
class TableRead:
    """Result of :func:`read_event_table`.

    ``events`` (EventSet, files in first-appearance order), ``files`` (one row per
    obsreg_id, same columns as :attr:`serendip.io.ingest.IngestResult.files`) and
    ``failures`` (columns ``file``, ``reason``).
    """

    events: EventSet
    files: pd.DataFrame
    failures: pd.DataFrame


def read_event_table(
    path: str | Path, band: tuple[float, float] | None = (500.0, 7000.0)
) -> TableRead:
    """Read an event table (obsreg_id, time [s], energy [eV]) and apply the energy band [eV].

    Raises :class:`InputError` when the table as a whole cannot be used (unreadable,
    missing columns, non-numeric time or energy, energies that look like keV, no rows,
    nothing left after the cuts).
    """
    from serendip.io.eventfile import _check_band

    path = Path(path)
    band = _check_band(band)
    df = read_table(path, columns=list(EVENT_COLUMNS))
    if len(df) == 0:
        raise InputError(path, "event table has no rows")
    failures: list[tuple[str, str]] = []

    ids_raw = df["obsreg_id"]
    no_id = ids_raw.isna().to_numpy() | (ids_raw.astype(str).str.strip() == "").to_numpy()
    try:
        time = pd.to_numeric(df["time"], errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(path, f"column 'time' is not numeric: {exc}") from exc
    try:
        energy = pd.to_numeric(df["energy"], errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(path, f"column 'energy' is not numeric: {exc}") from exc
    if no_id.any():
        failures.append((str(path), f"{int(no_id.sum())} row(s) without an obsreg_id were dropped"))
    ids = ids_raw.astype(str).str.strip().to_numpy(dtype=object)
    keep = ~no_id
    ids, time, energy = ids[keep], time[keep], energy[keep]

    finite_e = np.isfinite(energy)
    if finite_e.any() and np.nanmax(np.where(finite_e, energy, np.nan)) < 100.0:
        notice("ingest", "energy_unit_guessed", f"energies look like keV (largest "
               f"{np.nanmax(energy[finite_e]):.3g}) while the event-table layout is in eV: multiplied "
               "by 1000", source=path, count=int(finite_e.sum()), total=len(energy))
        energy = energy * 1e3

    codes, uniques = pd.factorize(ids, sort=False)
    n_ids = len(uniques)
    n_raw = np.bincount(codes, minlength=n_ids)
    dup = pd.DataFrame({"c": codes, "t": time, "e": energy}).duplicated().to_numpy()
    if dup.any():
        notice("ingest", "duplicate_events", f"{int(dup.sum()):,} of {len(dup):,} rows are exact "
               "duplicates of an earlier row (obsreg_id, time, energy) and were dropped",
               source=path, count=int(dup.sum()), total=len(dup))
    t_bad = ~np.isfinite(time)
    bad_time = np.bincount(codes, weights=t_bad, minlength=n_ids).astype(np.int64)
    bad_energy = np.bincount(codes, weights=~finite_e & ~dup, minlength=n_ids).astype(np.int64)
    in_band = finite_e if band is None else finite_e & (energy >= band[0]) & (energy <= band[1])
    in_band &= ~t_bad & ~dup
    kept = np.bincount(codes, weights=in_band, minlength=n_ids).astype(np.int64)

    reject_time = bad_time > MAX_NAN_FRACTION * n_raw
    for i in np.flatnonzero(reject_time):
        failures.append(
            (f"{path} [{uniques[i]}]", f"{bad_time[i]} of {n_raw[i]} events have NaN/inf time "
             f"(more than {MAX_NAN_FRACTION:.0%}: rejected)")
        )
    some = (bad_time > 0) & ~reject_time
    if some.any():
        notice("ingest", "nan_time", f"{int(bad_time[some].sum()):,} events with NaN/inf time dropped "
               f"from {int(some.sum())} obsreg_id(s) (e.g. {uniques[np.flatnonzero(some)[0]]})",
               source=path, count=int(bad_time[some].sum()), total=int(n_raw[some].sum()))
    empty = (kept == 0) & ~reject_time
    for i in np.flatnonzero(empty):
        where = "the band" if band is None else f"{band[0]:g}-{band[1]:g} eV"
        failures.append(
            (
                f"{path} [{uniques[i]}]",
                f"zero events after cuts ({n_raw[i]} read, {bad_energy[i]} without a valid energy, "
                f"{n_raw[i] - bad_energy[i]} outside {where})",
            )
        )
    good_id = ~(reject_time | empty)
    sel = in_band & good_id[codes]
    fail_df = pd.DataFrame(failures, columns=["file", "reason"])
    if not sel.any():
        raise InputError(path, "no usable events: " + "; ".join(r for _, r in failures[:3]))

    # new dense codes in first-appearance order of the surviving ids
    old_to_new = np.full(n_ids, -1, dtype=np.int64)
    old_to_new[good_id] = np.arange(int(good_id.sum()))
    c = old_to_new[codes[sel]]
    t, e = time[sel], energy[sel].astype(np.float32)
    order = np.lexsort((t, c))
    c, t, e = c[order], t[order], e[order]
    out_ids = np.asarray(uniques[good_id], dtype=object)
    counts = np.bincount(c, minlength=len(out_ids))
    offsets = np.zeros(len(out_ids) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    events = EventSet(out_ids, offsets, t, e)

    tstart = t[offsets[:-1]]
    tstop = t[offsets[1:] - 1]
    files = pd.DataFrame(
        {
            "obsreg_id": out_ids.astype(str),
            "telescope": "unknown",
            "instrument": "unknown",
            "obsid": [s.split("_", 1)[0] for s in out_ids.astype(str)],
            "exposure": tstop - tstart,
            "tstart": tstart,
            "tstop": tstop,
            "n_events": counts.astype(np.int64),
            "energy_source": "energy column [eV] (event table)",
            "path": str(path),
            "object": "",
            "exposure_source": "event time span (event table has no GTIs)",
            "n_raw": n_raw[good_id].astype(np.int64),
            "n_outside_gti": 0,
            "n_outside_band": (n_raw - bad_energy)[good_id].astype(np.int64) - counts,
            "n_outside_region": 0,
            "region": "",
        }
    )
    return TableRead(events, files, fail_df)
