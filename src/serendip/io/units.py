"""Physical units of the run's table columns, in one place (FITS / VOTable / ECSV exports).

``COLUMN_UNITS`` maps a column name to its unit as a FITS-standard string (astropy parses
each). Columns not listed are dimensionless (scores, ranks, ratios, probabilities) or text.
:func:`with_units` attaches the units of a table's columns to ``df.attrs["units"]``, which
:func:`serendip.io.tables.write_table` writes as FITS ``TUNITn``, VOTable ``unit`` and ECSV
(``.csv``) header units; :func:`provenance` gives the serendip version and configuration
hash written into the same headers.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd

#: column -> unit (FITS standard strings); the feature columns follow
#: :mod:`serendip.represent.features`, the file columns :mod:`serendip.io.ingest`
COLUMN_UNITS: dict[str, str] = {
    # sky position and time
    "ra": "deg",
    "dec": "deg",
    "glon": "deg",
    "glat": "deg",
    "exposure": "s",
    "tstart": "s",
    "tstop": "s",
    "time": "s",
    "duration": "s",
    "burst_time": "s",
    "burst_width": "s",
    # counts and rates
    "n_events": "ct",
    "counts_soft": "ct",
    "counts_medium": "ct",
    "counts_hard": "ct",
    "rate": "ct / s",
    "bb_max_rate": "ct / s",
    "rate_err": "ct / s",
    # energies
    "energy": "eV",
    "energy_mean": "eV",
    "energy_median": "eV",
    "energy_q25": "eV",
    "energy_q75": "eV",
    # scan statistics (-log10 of a nominal, uncalibrated chance probability: no unit shown;
    # the calibrated false-alarm probabilities are in significance.parquet)
}
#: text describing each column's unit where the unit string alone says too little
UNIT_NOTES = {
    "tstart": "mission time (seconds since the mission's MJDREF)",
    "tstop": "mission time (seconds since the mission's MJDREF)",
    "burst_time": "mission time of the centre of the strongest burst window",
    "log_median_dt": "log10 of the median gap between events in seconds",
    "log_energy_std": "standard deviation of log10 of the photon energies",
    "burst_sig": "burst scan statistic: -log10 of the nominal constant-rate tail probability of "
    "the busiest window (not a calibrated probability; see significance.parquet)",
    "burst_significance": "the burst scan statistic burst_sig (not a calibrated probability)",
    "gap_sig": "gap scan statistic: -log10 of the nominal uniform-arrival tail probability of the "
    "longest gap (not a calibrated probability; see significance.parquet)",
}


def units_of(columns, extra: dict[str, str] | None = None) -> dict[str, str]:
    """``{column: unit}`` for the listed ``columns`` that have a unit (``extra`` overrides)."""
    table = {**COLUMN_UNITS, **(extra or {})}
    out = {}
    for c in columns:
        base = str(c)[5:] if str(c).startswith("feat_") else str(c)
        if base in table:
            out[str(c)] = table[base]
    return out


def config_hash(cfg: dict[str, Any] | None) -> str:
    """16-hex-digit SHA-256 of a configuration (keys sorted; "" for None)."""
    if cfg is None:
        return ""
    text = json.dumps(cfg, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def config_file_hash(path) -> str:
    """16-hex-digit SHA-256 of a run's ``config.toml`` ("" when absent): the configuration
    hash written into exports by the pipeline and by the explorer alike."""
    from pathlib import Path

    p = Path(path)
    return hashlib.sha256(p.read_bytes()).hexdigest()[:16] if p.is_file() else ""


def provenance(cfg: dict[str, Any] | None = None, config_sha: str | None = None) -> dict[str, str]:
    """Header keywords naming what made a table: ``SERENDIP`` (version), ``CFGHASH``."""
    from serendip import __version__

    return {"SERENDIP": __version__, "CFGHASH": config_sha or config_hash(cfg)}


def with_units(
    df: pd.DataFrame,
    extra: dict[str, str] | None = None,
    meta: dict[str, str] | None = None,
) -> pd.DataFrame:
    """``df`` with ``attrs["units"]`` set for its columns (and header keywords ``meta``)."""
    df.attrs["units"] = units_of(df.columns, extra)
    for k, v in (meta or {}).items():
        df.attrs[k] = v
    return df
