"""Out-of-domain score for light-curve models: do a user's curves look like the training curves?

A classifier trained on one survey or simulator can put curves from another in confident,
wrong classes and rank real anomalies as normal without any sign of trouble. The domain check
compares each curve with the training curves on two things the model depends on:

* **how the curve was observed** (:func:`sequence_descriptors`): number of points, time span,
  median gap between points, number of bands, median scaled error, median and spread of the
  scaled flux - cadence, baseline and noise differ between surveys and simulators;
* **where the classifier puts it**: its latent vector.

Each column gets the central range of the training curves, ``[lo, hi]`` = its 0.5 and 99.5
percentiles; a value outside it counts by how far, in units of the range width, beyond a margin
of 0.1 width (0 inside). The
domain score of a curve is the root mean square of those excesses over all columns
(descriptors and latent), and ``threshold`` is the ``quantile`` (default 0.99) of the training
curves' own scores. A curve above the threshold is *out of domain*: its anomaly score and class
are not to be trusted; :func:`warn_out_of_domain` counts them in a notice
(``detect/out_of_domain``). Statistics are stored with the model (a few hundred floats), without pickle.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

#: names of the columns of :func:`sequence_descriptors`
DESCRIPTORS = (
    "log10_n_points",
    "log10_span_days",
    "log10_median_gap_days",
    "n_bands",
    "median_scaled_error",
    "median_scaled_flux",
    "std_scaled_flux",
)


def sequence_descriptors(seqs) -> np.ndarray:
    """How each curve was observed, (N, 7) float64 in the order of :data:`DESCRIPTORS`.

    ``seqs`` is a :class:`serendip.represent.lc_sequences.LightCurveSequences`; times are its
    unscaled ``time`` [days]; error and flux are the asinh-scaled columns of ``X``.
    """
    X, mask, t = seqs.X, seqs.mask, seqs.time
    n = mask.sum(axis=1).astype(np.float64)
    tm = np.where(mask, t, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: curves of one point
        span = np.nanmax(tm, axis=1) - np.nanmin(tm, axis=1)
        gaps = np.diff(tm, axis=1)
        gap = np.nanmedian(np.where(gaps > 0, gaps, np.nan), axis=1)
        wl = np.where(mask, X[:, :, 0], np.nan)
        srt = np.sort(wl, axis=1)
        n_bands = (np.diff(srt, axis=1) > 1e-6).sum(axis=1) + (n > 0)
        err = np.nanmedian(np.where(mask, X[:, :, 3], np.nan), axis=1)
        flux = np.where(mask, X[:, :, 2], np.nan)
        med = np.nanmedian(flux, axis=1)
        std = np.nanstd(flux, axis=1)
    out = np.column_stack([
        np.log10(np.maximum(n, 1)), np.log10(np.nan_to_num(span, nan=0.0) + 1.0),
        np.log10(np.nan_to_num(gap, nan=0.0) + 1e-3), n_bands, err, med, std,
    ])  # fmt: skip
    return np.nan_to_num(out, nan=0.0)


class DomainCheck:
    """Central training range of (descriptors, latent) per column; RMS excess beyond it.

    Parameters
    ----------
    quantile : training quantile of the score used as the out-of-domain threshold.
    """

    def __init__(self, quantile: float = 0.99):
        self.quantile = quantile

    @staticmethod
    def _columns(descriptors: np.ndarray, latent: np.ndarray | None) -> np.ndarray:
        d = np.asarray(descriptors, dtype=np.float64)
        return d if latent is None else np.column_stack([d, np.asarray(latent, np.float64)])

    def fit(self, descriptors: np.ndarray, latent: np.ndarray | None = None) -> DomainCheck:
        """Fit on the training curves' descriptors (N, 7) and latents (N, L); returns self."""
        V = self._columns(descriptors, latent)
        self.lo_, self.hi_ = np.quantile(V, [0.005, 0.995], axis=0)
        self.threshold_ = float(np.quantile(self._score(V), self.quantile))
        return self

    def _score(self, V: np.ndarray) -> np.ndarray:
        lo, hi = self.lo_, self.hi_
        width = np.maximum(hi - lo, np.maximum(0.1 * np.abs(hi + lo) / 2, 0.05))
        # a margin of 10% of the width: small training sets give ranges that are a bit narrow
        excess = np.maximum(np.maximum(V - hi, lo - V) / width - 0.1, 0.0)
        return np.sqrt(np.mean(np.minimum(excess, 1e3) ** 2, axis=1))

    def score(self, descriptors: np.ndarray, latent: np.ndarray | None = None) -> np.ndarray:
        """Domain score per curve (N,): RMS excess beyond the training range; > ``threshold_`` = out."""
        return self._score(self._columns(descriptors, latent))

    def state(self, prefix: str = "domain") -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """(arrays, JSON settings) for a model file."""
        arrays = {f"{prefix}.lo": self.lo_.astype(np.float64),
                  f"{prefix}.hi": self.hi_.astype(np.float64)}  # fmt: skip
        return arrays, {"quantile": self.quantile, "threshold": self.threshold_,
                        "descriptors": list(DESCRIPTORS)}  # fmt: skip

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], settings: dict[str, Any],
                   prefix: str = "domain") -> DomainCheck:  # fmt: skip
        """Rebuild from :meth:`state` output."""
        obj = cls(quantile=float(settings["quantile"]))
        obj.lo_ = np.asarray(arrays[f"{prefix}.lo"], dtype=np.float64)
        obj.hi_ = np.asarray(arrays[f"{prefix}.hi"], dtype=np.float64)
        obj.threshold_ = float(settings["threshold"])
        if obj.lo_.shape != obj.hi_.shape:
            raise ValueError("domain ranges lo and hi differ in shape")
        return obj


def warn_out_of_domain(flags: np.ndarray, source: str = "") -> int:
    """Count the out-of-domain curves in a notice (``detect/out_of_domain``); returns the count."""
    flags = np.asarray(flags, dtype=bool)
    k = int(flags.sum())
    if k:
        from serendip.notices import notice

        notice(
            "detect", "out_of_domain",
            f"{k:,} of {flags.size:,} light curves do not look like the model's training curves "
            "(cadence, baseline, noise or latent position outside the training range); "
            "their anomaly scores and classes are not reliable (column out_of_domain)",
            source=source, count=k, total=int(flags.size),
        )  # fmt: skip
    return k
