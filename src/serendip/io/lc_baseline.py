"""Baseline of forced photometry, one per object and calibration group.

Forced photometry on difference images measures the flux at a fixed position against a
reference image that may hold some of the object's light, or a calibration offset, so the
difference flux of a quiet epoch is not exactly 0. Each calibration group (ZTF: field, CCD,
quadrant and filter; ATLAS: filter and camera) has its own reference, hence its own offset.

:func:`fit_baseline` finds the peak of each object (the highest running median, over 5
epochs, of flux / error, across its groups), takes the epochs outside
``[t_peak - 100 d, t_peak + 365 d]`` (:data:`BASELINE_WINDOW_DAYS`; every epoch when no epoch
reaches a running S/N of :data:`PEAK_SNR`) as baseline epochs (only those before the
transient when there are at least 25 of them, or more than 10 and fewer than 25 after it;
else only those after it when there are 25; else both sides), drops those more than 5 sigma
from their group's median, and returns the inverse-variance weighted mean of the rest (the
baseline), the number of epochs it used and an error multiplier ``max(1, sqrt(chi2/dof))``.
This follows the recipe of the ZTF Bright Transient Survey forced-photometry pipeline
(Miller et al. 2024; fpbot), using the epochs on both sides of the transient.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: epochs in [t_peak + lo, t_peak + hi] days hold the transient and are not baseline
BASELINE_WINDOW_DAYS = (-100.0, 365.0)
#: running-median S/N an object needs for a peak (below it every epoch is baseline)
PEAK_SNR = 3.0
#: fewer baseline epochs in a group than this gives a warning
MIN_BASELINE_EPOCHS = 10
#: a side (before or after the transient) with this many epochs is used alone
SIDE_EPOCHS = 25
#: baseline epochs farther than this many sigma from their group's median are not used
CLIP_SIGMA = 5.0


def fit_baseline(
    object_id: np.ndarray,
    group: np.ndarray,
    time: np.ndarray,
    flux: np.ndarray,
    flux_err: np.ndarray,
) -> pd.DataFrame:
    """Baseline per (object, calibration group), broadcast to every row.

    Parameters
    ----------
    object_id, group : (n,) identifiers of each row's object and calibration group.
    time : (n,) [days]; flux, flux_err : (n,) difference flux and its error (one unit,
        e.g. microJansky; finite, errors > 0).

    Returns
    -------
    DataFrame (n rows, input order): ``baseline`` [flux unit], ``baseline_err_mult`` (>= 1),
    ``n_baseline`` (epochs used, 0 when none: baseline 0, multiplier 1), ``t_peak`` [days,
    NaN when the object has no peak].
    """
    n = len(time)
    df = pd.DataFrame(
        {
            "obj": np.asarray(object_id, dtype=object),
            "grp": np.asarray(group, dtype=object),
            "t": np.asarray(time, dtype=np.float64),
            "f": np.asarray(flux, dtype=np.float64),
            "e": np.asarray(flux_err, dtype=np.float64),
        }
    )
    df["row"] = np.arange(n)
    df = df.sort_values(["obj", "t"], kind="stable")
    snr = df["f"] / df["e"]
    run = snr.groupby(df["obj"], sort=False).transform(
        lambda s: s.rolling(5, center=True, min_periods=3).median()
    )
    peak_idx = run.groupby(df["obj"], sort=False).idxmax()
    peak_val = run.groupby(df["obj"], sort=False).max()
    t_peak = df.loc[peak_idx.dropna().to_numpy(), ["obj", "t"]].set_index("obj")["t"]
    t_peak = t_peak.where(peak_val.reindex(t_peak.index) >= PEAK_SNR)
    tp = t_peak.reindex(df["obj"].to_numpy()).to_numpy(dtype=np.float64)
    lo, hi = BASELINE_WINDOW_DAYS
    in_window = np.isfinite(tp) & (df["t"].to_numpy() >= tp + lo) & (df["t"].to_numpy() <= tp + hi)
    key = df["obj"].astype(str) + "\x00" + df["grp"].astype(str)
    t = df["t"].to_numpy()
    pre, post = np.isfinite(tp) & (t < tp + lo), np.isfinite(tp) & (t > tp + hi)
    n_pre = pd.Series(pre).groupby(key.to_numpy()).transform("sum").to_numpy()
    n_post = pd.Series(post).groupby(key.to_numpy()).transform("sum").to_numpy()
    # one side when it has enough epochs (the light of a slow transient may outlast the
    # window), as the BTS pipeline does; both sides otherwise
    use_pre = (n_pre >= SIDE_EPOCHS) | ((n_pre > MIN_BASELINE_EPOCHS) & (n_post < SIDE_EPOCHS))
    use_post = ~use_pre & (n_post >= SIDE_EPOCHS)
    is_base = np.where(use_pre, pre, np.where(use_post, post, ~in_window))
    base = df.loc[is_base]
    bkey = key[is_base]
    med = base["f"].groupby(bkey).transform("median")
    ok = ((base["f"] - med).abs() / base["e"]) <= CLIP_SIGMA
    base, bkey = base[ok], bkey[ok]
    w = 1.0 / base["e"] ** 2
    sw = w.groupby(bkey).sum()
    mean = (w * base["f"]).groupby(bkey).sum() / sw
    nb = bkey.groupby(bkey).size()
    resid2 = ((base["f"] - mean.reindex(bkey.to_numpy()).to_numpy()) / base["e"]) ** 2
    chi2 = resid2.groupby(bkey).sum() / (nb - 1).where(nb > 1)
    mult = np.sqrt(chi2).clip(lower=1.0).fillna(1.0)
    keys = key.to_numpy()
    out = pd.DataFrame(
        {
            "baseline": np.nan_to_num(mean.reindex(keys).to_numpy(dtype=np.float64), nan=0.0),
            "baseline_err_mult": np.nan_to_num(mult.reindex(keys).to_numpy(dtype=np.float64),
                                               nan=1.0),
            "n_baseline": np.nan_to_num(nb.reindex(keys).to_numpy(dtype=np.float64),
                                        nan=0.0).astype(np.int64),
            "t_peak": tp,
        },
        index=df["row"].to_numpy(),
    )
    return out.sort_index().reset_index(drop=True)
