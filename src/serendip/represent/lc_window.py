"""Periods checked against each light curve's window function (1-day, lunar and yearly aliases).

Ground-based surveys observe at night, in dark time and in seasons, so the sampling itself has
power at 1/day (and the sidereal day), 1/29.53 d and 1/year. A periodogram peak at such a
frequency, a harmonic of it, or anywhere the sampling alone has strong power is an alias until
shown otherwise.

:func:`spectral_window` gives the window power ``|sum_j exp(2 pi i f t_j)|^2 / N^2`` (1 at
f = 0; 1 at f = 1/day for strictly nightly sampling). :func:`alias_check` takes one period per
object and flags it when

* its frequency is within ``tol`` of ``n * f_alias`` (n = 1..``harmonics``) for a known alias
  (:data:`ALIAS_PERIODS`), with ``tol`` = max(1 / baseline, ``rel_tol`` * f); or
* the curve's own window power at that frequency is above ``window_power_max`` (the sampling
  alone makes a peak there).

Flagged periods are counted in a notice (``represent/period_alias``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

#: alias name -> period [days]
ALIAS_PERIODS = {
    "solar day": 1.0,
    "sidereal day": 0.99726957,
    "lunar month": 29.530589,
    "year": 365.25,
}


def spectral_window(t: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Window power at ``freqs`` [1/day] of sampling times ``t`` [days], (n_freqs,) in [0, 1]."""
    t = np.asarray(t, dtype=np.float64)
    f = np.atleast_1d(np.asarray(freqs, dtype=np.float64))
    if t.size == 0:
        return np.zeros(f.shape)
    phase = 2.0 * np.pi * np.outer(f, t - t.min())
    return (np.cos(phase).sum(1) ** 2 + np.sin(phase).sum(1) ** 2) / t.size**2


def alias_check(
    periods: Mapping[str, float] | pd.Series,
    table: pd.DataFrame,
    *,
    harmonics: int = 3,
    rel_tol: float = 0.002,
    window_power_max: float = 0.5,
    aliases: Mapping[str, float] = ALIAS_PERIODS,
) -> pd.DataFrame:
    """Check one period per object against the known aliases and the object's own window.

    Parameters
    ----------
    periods : object_id -> period [days] (e.g. a periodogram feature column).
    table : long light-curve table with ``object_id`` and ``time`` [days].
    harmonics : alias harmonics n * f_alias checked (n = 1..harmonics).
    rel_tol : relative frequency tolerance (the absolute one is 1 / baseline).
    window_power_max : window power at the period's frequency above which it is flagged.
    aliases : alias name -> period [days].

    Returns
    -------
    DataFrame indexed by object_id: period, window_power (at 1/period), nearest_alias
    (e.g. "solar day x2", "" when none matches), is_alias (bool).
    """
    p = pd.Series(periods, dtype=np.float64)
    p.index = p.index.astype(str)
    times = table.assign(object_id=table["object_id"].astype(str)).groupby("object_id")["time"]
    names = [f"{a} x{n}" if n > 1 else a for a in aliases for n in range(1, harmonics + 1)]
    f_alias = np.array([n / aliases[a] for a in aliases for n in range(1, harmonics + 1)])
    rows = []
    for oid, period in p.items():
        t = times.get_group(oid).to_numpy(np.float64) if oid in times.groups else np.array([])
        f = 1.0 / period if period > 0 and np.isfinite(period) else np.nan
        if not np.isfinite(f) or t.size < 2:
            rows.append((oid, period, np.nan, "", False))
            continue
        tol = max(1.0 / max(np.ptp(t), 1e-9), rel_tol * f)
        d = np.abs(f - f_alias)
        j = int(np.argmin(d))
        match = names[j] if d[j] <= tol else ""
        wp = float(spectral_window(t, [f])[0])
        rows.append((oid, period, wp, match, bool(match) or wp > window_power_max))
    out = pd.DataFrame(
        rows, columns=["object_id", "period", "window_power", "nearest_alias", "is_alias"]
    ).set_index("object_id")
    k = int(out["is_alias"].sum())
    if k:
        from serendip.notices import notice

        top = out.loc[out["nearest_alias"] != "", "nearest_alias"].value_counts().head(4)
        notice(
            "represent", "period_alias",
            f"{k:,} of {len(out):,} periods sit on an alias of the sampling (known aliases: "
            + (", ".join(f"{a} {c}" for a, c in top.items()) or "none")
            + f"; strong window power: {int((out['window_power'] > window_power_max).sum())})",
            count=k, total=len(out),
        )  # fmt: skip
    return out
