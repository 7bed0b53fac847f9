"""Exposure in time per source: live time x relative effective area as the expected-rate template.

A pointed observation's good-time intervals (GTIs) with the dead-time factor are its exposure
in time, and a constant source is uniform over them. Not so for survey-mode data: an eROSITA
survey source is seen for about 40 s every 4 h, vignetted within each pass, and the snapshots
of a Swift XRT observation put the source on different detector positions (vignetting, bad
columns). Tested against the GTIs alone, a constant source there is a train of bursts.

This module turns a relative exposure curve ``e(t)`` (fraction of the on-axis effective area
times live time, per time bin) into the per-source expected-rate template that the timing
statistics already use: weighted good-time intervals (``gtis.parquet`` column ``weight``,
:mod:`serendip.io.background`, :mod:`serendip.represent.livetime`). The weights multiply the
source's existing template (background light curve) and are normalised to a mean of 1 over
good time; bins with zero exposure leave the good time.

Curves come from archive products (:func:`read_exposure_curve`): an eROSITA ``srctool`` light
curve (``TIME``, ``TIMEDEL``, ``FRACEXP``), a CSC light curve (``TIME_MIN``, ``TIME_MAX``,
``EXPOSURE``, normalised to its maximum), or any table with ``start``, ``stop``, ``fracexp``
(and optionally ``obsreg_id``). Survey-mode input without one (:func:`survey_problem`) is
refused with a message naming what is missing; ``exposure="constant"`` accepts it with a
constant effective area, stated in a warning.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import InputError

#: ``exposure="constant"``: take survey-mode input with a constant relative effective area
CONSTANT = "constant"
#: columns of an exposure-curve table
CURVE_COLUMNS = ["obsreg_id", "start", "stop", "fracexp"]


def _first_band(a) -> np.ndarray:
    """A per-band vector column (srctool writes one value per band): its first band."""
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(len(a), -1)[:, 0] if a.ndim > 1 else a


def read_exposure_curve(path: str | Path) -> pd.DataFrame:
    """A relative exposure curve from a file: ``start``, ``stop`` [s], ``fracexp`` (>= 0), and
    ``obsreg_id`` ("" = every source of the file it is applied to).

    Accepted: an OGIP light curve with ``TIME`` (+ ``TIMEDEL`` column or keyword,
    ``TIMEPIXR``, default 0.5) and ``FRACEXP`` (eROSITA srctool; a vector column's first
    band); a CSC light curve (``TIME_MIN``, ``TIME_MAX``, ``EXPOSURE``, normalised to its
    largest bin); a table (Parquet/CSV/FITS) with ``start``, ``stop``, ``fracexp``. Times are
    the file's mission seconds (``TIMEZERO`` applied).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such exposure-curve file")
    name = path.name.lower()
    if name.endswith((".fits", ".fits.gz", ".fit", ".lc", ".lc.gz", ".fts")):
        from astropy.io import fits

        with fits.open(path) as hdul:
            tab = next((h for h in hdul[1:] if isinstance(h, fits.BinTableHDU)), None)
            if tab is None:
                raise InputError(path, "no table extension holding an exposure curve")
            cols = {c.upper(): c for c in tab.columns.names}
            d, h = tab.data, tab.header
            tz = float(h.get("TIMEZERO", 0.0) or 0.0)
            if "FRACEXP" in cols and "TIME" in cols:
                t = np.asarray(d[cols["TIME"]], dtype=np.float64) + tz
                dt = (np.asarray(d[cols["TIMEDEL"]], dtype=np.float64) if "TIMEDEL" in cols
                      else np.full(len(t), float(h.get("TIMEDEL", np.nan))))
                pix = float(h.get("TIMEPIXR", 0.5))
                start = t - pix * dt
                frac = _first_band(d[cols["FRACEXP"]])
                df = pd.DataFrame({"start": start, "stop": start + dt, "fracexp": frac})
            elif {"TIME_MIN", "TIME_MAX", "EXPOSURE"} <= set(cols):
                e = np.asarray(d[cols["EXPOSURE"]], dtype=np.float64)
                df = pd.DataFrame({"start": np.asarray(d[cols["TIME_MIN"]], np.float64) + tz,
                                   "stop": np.asarray(d[cols["TIME_MAX"]], np.float64) + tz,
                                   "fracexp": e / max(float(np.nanmax(e)), 1e-300)})
            else:
                df = pd.DataFrame({k.lower(): np.asarray(d[c]) for k, c in cols.items()})
    else:
        from serendip.io.tables import read_table

        df = read_table(path)
    return check_curve(df, str(path))


def check_curve(df: pd.DataFrame, source: str = "exposure curve") -> pd.DataFrame:
    """Validate an exposure-curve table (``start`` < ``stop``, finite ``fracexp`` >= 0)."""
    low = {str(c).lower(): c for c in df.columns}
    missing = [c for c in ("start", "stop", "fracexp") if c not in low]
    if missing:
        raise InputError(source, f"exposure curve lacks column(s) {', '.join(missing)} (has "
                         f"{', '.join(map(str, df.columns))}); give start, stop [s] and fracexp, "
                         "an eROSITA srctool light curve (TIME, TIMEDEL, FRACEXP) or a CSC light curve")
    out = pd.DataFrame({
        "obsreg_id": (df[low["obsreg_id"]].astype(str) if "obsreg_id" in low else ""),
        "start": pd.to_numeric(df[low["start"]], errors="coerce").to_numpy(np.float64),
        "stop": pd.to_numeric(df[low["stop"]], errors="coerce").to_numpy(np.float64),
        "fracexp": pd.to_numeric(df[low["fracexp"]], errors="coerce").to_numpy(np.float64),
    })
    bad = ~(np.isfinite(out["start"]) & np.isfinite(out["stop"]) & (out["stop"] > out["start"])
            & np.isfinite(out["fracexp"]) & (out["fracexp"] >= 0))
    if bad.all():
        raise InputError(source, "exposure curve has no valid bin (start < stop, fracexp >= 0)")
    return out[~bad].sort_values(["obsreg_id", "start"], kind="stable").reset_index(drop=True)


def as_curves(exposure) -> pd.DataFrame | str | None:
    """Normalise the ``exposure`` argument of ingest: None, ``"constant"``, or one table of
    curves (from a path, a DataFrame, or a mapping {obsreg_id: path or table})."""
    if exposure is None or (isinstance(exposure, str) and exposure.strip().lower() == CONSTANT):
        return None if exposure is None else CONSTANT
    if isinstance(exposure, pd.DataFrame):
        return check_curve(exposure)
    if isinstance(exposure, dict):
        parts = []
        for oid, v in exposure.items():
            c = as_curves(v)
            if not isinstance(c, pd.DataFrame):
                raise InputError(str(oid), "exposure mapping values must be curve files or tables")
            parts.append(c.assign(obsreg_id=str(oid)))
        return pd.concat(parts, ignore_index=True) if parts else None
    return read_exposure_curve(exposure)


def curve_for(curves: pd.DataFrame, obsreg_id: str, obsid_or_stem: str) -> pd.DataFrame | None:
    """The bins of ``curves`` for one source: its own id first, else its observation's
    (``obsreg_id`` equal to the OBS_ID or file stem), else the id-less rows."""
    for key in (obsreg_id, obsid_or_stem, ""):
        rows = curves[curves["obsreg_id"] == key]
        if len(rows):
            return rows
    return None


def apply_curve(
    start: np.ndarray,
    stop: np.ndarray,
    weight: np.ndarray,
    c_start: np.ndarray,
    c_stop: np.ndarray,
    frac: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Weighted good-time intervals times a relative exposure curve.

    ``start``, ``stop``, ``weight`` (n,): the source's intervals [s] and template weights;
    ``c_start``, ``c_stop``, ``frac`` (m,): the curve's bins [s] and relative exposure.
    Intervals are split at the bin edges; a piece inside a bin gets ``weight x frac``; a piece
    outside every bin gets exposure 0 (the curve is the authority: a survey curve lists the
    passes). Pieces with zero exposure leave the good time.

    Returns ``(start, stop, weight, mean_exposure)``: weights normalised to a mean of 1 over
    the remaining good time; ``mean_exposure`` the mean relative exposure over the original
    good time (multiplies the exposure [s]).
    """
    order = np.argsort(c_start, kind="stable")
    c_start, c_stop, frac = c_start[order], c_stop[order], frac[order]
    cuts = np.unique(np.concatenate([start, stop, c_start, c_stop]))
    lo, hi = cuts[:-1], cuts[1:]
    mid = 0.5 * (lo + hi)
    k = np.searchsorted(stop, mid, side="left")
    inside = (k < len(start)) & (mid >= start[np.minimum(k, len(start) - 1)])
    lo, hi, mid, k = lo[inside], hi[inside], mid[inside], k[inside]
    w = weight[k]
    j = np.searchsorted(c_start, mid, side="right") - 1
    jc = np.clip(j, 0, len(c_start) - 1)
    in_bin = (j >= 0) & (mid < c_stop[jc])
    e = np.where(in_bin, frac[jc], 0.0)
    mean_e = float(np.sum(e * (hi - lo)) / max(float(np.sum(hi - lo)), 1e-300))
    w = w * e
    keep = w > 0
    lo, hi, w = lo[keep], hi[keep], w[keep]
    if not len(lo):
        return lo, hi, w, 0.0
    length = hi - lo
    w = w * float(length.sum()) / float(np.sum(w * length))
    return lo, hi, w, mean_e


def with_curve(
    time: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    weight: np.ndarray | None,
    curve: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """One source's events and template with its exposure curve (:func:`apply_curve`).

    ``time`` (n,) [s] sorted events; ``start``, ``stop`` its good-time intervals, ``weight``
    their template weights (None: 1); ``curve`` its bins (``start``, ``stop``, ``fracexp``).
    Returns ``(inside (n,) bool: events where the curve gives exposure, start, stop, weight,
    mean relative exposure)``."""
    w0 = np.ones(len(start)) if weight is None else np.asarray(weight, dtype=np.float64)
    s2, e2, w2, mean_e = apply_curve(np.asarray(start, np.float64), np.asarray(stop, np.float64), w0,
                                     curve["start"].to_numpy(np.float64),
                                     curve["stop"].to_numpy(np.float64),
                                     curve["fracexp"].to_numpy(np.float64))
    if not len(s2):
        return np.zeros(len(time), bool), s2, e2, w2, mean_e
    k = np.searchsorted(e2, time, side="left")
    inside = (k < len(s2)) & (time >= s2[np.minimum(k, len(s2) - 1)])
    return inside, s2, e2, w2, mean_e


def n_snapshots(start: np.ndarray, stop: np.ndarray, gap_s: float) -> int:
    """Number of groups of good time separated by gaps longer than ``gap_s`` [s]."""
    if not len(start):
        return 0
    return 1 + int(np.count_nonzero(start[1:] - stop[:-1] > gap_s))


def survey_problem(mission, mode: str, good_times) -> str:
    """What a survey-mode file lacks for exposure in time ("" when it is not survey-mode).

    eROSITA ``OBS_MODE`` SURVEY/SCAN/SLEW and Swift observations made of several snapshots
    (good time in groups separated by more than the registry's ``snapshot_gap_s``) need a
    relative exposure curve per source."""
    import re

    if mission.survey_mode and mode and re.fullmatch(mission.survey_mode, mode.strip(), flags=re.I):
        return (f"{mission.name} {mode.strip().lower()}-mode data: a source is seen in short, "
                "vignetted passes, so its exposure in time needs a relative exposure curve "
                "(eROSITA srctool light curve with FRACEXP, or a table start, stop, fracexp)")
    if mission.snapshot_gap_s and good_times is not None:
        n = n_snapshots(good_times[0], good_times[1], mission.snapshot_gap_s)
        if n > 1:
            return (f"{mission.name} observation of {n} snapshots (good time separated by more than "
                    f"{mission.snapshot_gap_s:g} s): each snapshot puts the source elsewhere on the "
                    "detector, so its exposure in time needs the relative exposure of each snapshot "
                    "(an exposure curve: table start, stop, fracexp, e.g. from per-snapshot exposure maps)")
    return ""
