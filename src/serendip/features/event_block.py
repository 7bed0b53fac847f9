"""A fixed (not fitted) numeric block from ``serendip.represent.event_features``.

The per-file event features have very different units and ranges (counts, seconds, p-values,
ratios); distance-based steps (t-SNE, kNN, isolation forest) need them on comparable scales.
This block applies one documented transform per column, chosen from what the statistic means
rather than fitted to the data at hand, so new files land in the same feature space as the
training files without any refit. Every output is clipped to [-5, 5]; a statistic that is
undefined for a file (NaN, e.g. too few events) becomes 0, the value of "no evidence".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.errors import InputError


def _log10(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.where(x > 0, x, np.nan))


#: output column -> (input column, transform, description)
EVENT_BLOCK: dict[str, tuple[str, object, str]] = {
    "ev_log_counts": ("n_events", lambda x: _log10(x) - 2.0, "log10(counts) - 2"),
    "ev_log_rate": ("rate", lambda x: _log10(x) + 2.0, "log10(rate [ct/s]) + 2"),
    "ev_log_duration": (
        "duration",
        lambda x: (_log10(x) - 4.0) * 2.0,
        "2 (log10(duration [s]) - 4)",
    ),
    "ev_hard_hs": ("hard_hs", lambda x: x * 2.0, "2 (H-S)/(H+S)"),
    "ev_hard_ms": ("hard_ms", lambda x: x * 2.0, "2 (M-S)/(M+S)"),
    "ev_log_e_median": (
        "energy_median",
        lambda x: (_log10(x) - 3.2) / 0.15,
        "(log10 median E [eV] - 3.2)/0.15",
    ),
    "ev_ks_logp": (
        "ks_pvalue",
        lambda x: -_log10(np.maximum(x, 1e-15)) / 3.0,
        "-log10(KS p-value)/3",
    ),
    "ev_bb_log_ratio": ("bb_rate_ratio", lambda x: _log10(x), "log10(max/min Bayesian-block rate)"),
    "ev_bb_change_points": (
        "bb_n_change_points",
        lambda x: np.sqrt(np.maximum(x, 0.0)),
        "sqrt(change points)",
    ),
    "ev_adaptive_log_peak": (
        "adaptive_max_median_rate",
        lambda x: _log10(x) * 2.0,
        "2 log10(max/median adaptive-bin rate)",
    ),
    "ev_frac_brightest10": (
        "frac_brightest10",
        lambda x: (x - 0.1) / 0.1,
        "(fraction in brightest 10% - 0.1)/0.1",
    ),
    "ev_time_skewness": ("time_skewness", lambda x: x, "skewness of arrival times"),
    "ev_hr_change": ("hr_change", lambda x: x * 2.0, "2 x change of (H-S)/(H+S) between halves"),
    "ev_excess_variance": (
        "excess_variance",
        lambda x: np.sign(x) * np.log10(1.0 + np.abs(x)) * 2.0,
        "2 sign(v) log10(1+|v|), v = normalised excess variance",
    ),
    "ev_burst_sig": (
        "burst_sig",
        lambda x: np.log10(1.0 + np.maximum(x, 0.0)) * 2.0,
        "2 log10(1 + burst significance [dex])",
    ),
    "ev_gap_sig": (
        "gap_sig",
        lambda x: np.log10(1.0 + np.maximum(x, 0.0)) * 2.0,
        "2 log10(1 + longest-gap significance [dex])",
    ),
}


def event_block(table: pd.DataFrame, source: str | None = None) -> tuple[np.ndarray, list[str]]:
    """Transform an ``event_features`` table into (n_files, 16) float32 and its column names.

    Raises :class:`InputError` naming ``source`` when a needed column is missing.
    """
    missing = sorted({src for src, _, _ in EVENT_BLOCK.values()} - set(table.columns))
    if missing:
        raise InputError(
            source or "event features", f"missing column(s) {missing} needed by the event block"
        )
    cols = []
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for src, fn, _ in EVENT_BLOCK.values():
            v = np.asarray(fn(table[src].to_numpy(dtype=np.float64)), dtype=np.float64)
            cols.append(np.clip(np.nan_to_num(v, nan=0.0, posinf=5.0, neginf=-5.0), -5.0, 5.0))
    return np.stack(cols, axis=1).astype(np.float32), list(EVENT_BLOCK)
