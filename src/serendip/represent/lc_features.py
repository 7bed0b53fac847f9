"""Per-band light-curve features with the ``light-curve`` package, one row per object.

:func:`lightcurve_features` splits a standard light-curve table (see
:mod:`serendip.io.lightcurves`) by band and runs one ``light_curve`` extractor over all
objects of a band at once (``Extractor.many``, multi-threaded in Rust), so there is no
Python loop over objects' computations. Features that cannot be computed (too few
points) are NaN. Column names are ``<band>_<feature>``; a cross-band colour
``<b1>_<b2>_mean_mag_diff`` [mag] is added for every band pair (flux tables only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.lightcurves import checked_order, object_offsets

#: minimum number of points in a band for its features to be computed
MIN_POINTS = 5


def default_extractor(n_periodogram_peaks: int = 1):
    """The feature set used by default: amplitude and shape statistics, trends, a periodogram peak."""
    import light_curve as lc

    features = [
        lc.Amplitude(),
        lc.BeyondNStd(1.0),
        lc.Cusum(),
        lc.Eta(),
        lc.EtaE(),
        lc.InterPercentileRange(0.1),
        lc.Kurtosis(),
        lc.LinearTrend(),
        lc.Mean(),
        lc.Median(),
        lc.MedianAbsoluteDeviation(),
        lc.PercentAmplitude(),
        lc.ReducedChi2(),
        lc.Skew(),
        lc.StandardDeviation(),
        lc.StetsonK(),
        lc.WeightedMean(),
        lc.Duration(),
        lc.Periodogram(peaks=n_periodogram_peaks, max_freq_factor=10.0, fast=True),
    ]
    return lc.Extractor(*features)


def lightcurve_features(
    table: pd.DataFrame,
    bands: list[str] | None = None,
    *,
    extractor=None,
    min_points: int = MIN_POINTS,
    n_jobs: int = -1,
) -> pd.DataFrame:
    """Feature table, one row per object (index ``object_id``), columns ``<band>_<feature>``.

    Parameters
    ----------
    table : standard long light-curve table (object_id, time, band, flux/flux_err or mag/mag_err),
        as :func:`serendip.io.lightcurves.standardize_lightcurves` returns it; rows in any
        order are sorted by object and time first; NaN values are an :class:`InputError`.
    bands : bands to use (default every band present, sorted).
    extractor : a ``light_curve.Extractor``; default :func:`default_extractor`.
    min_points : objects with fewer points in a band get NaN features for that band.
    n_jobs : threads for ``Extractor.many`` (-1 = all cores).

    Returns
    -------
    DataFrame (n_objects, n_bands * n_features [+ colours]) float64; NaN where not computable.
    """
    table = checked_order(table)
    value = "flux" if "flux" in table.columns else "mag"
    err = f"{value}_err"
    extractor = extractor or default_extractor()
    names = list(extractor.names)
    all_ids, _ = object_offsets(table)
    bands = sorted(table["band"].unique()) if bands is None else list(bands)
    blocks = []
    for band in bands:
        sub = table[table["band"].to_numpy() == band]
        ids, offsets = object_offsets(sub)
        counts = np.diff(offsets)
        t = sub["time"].to_numpy(dtype=np.float64)
        m = sub[value].to_numpy(dtype=np.float64)
        s = sub[err].to_numpy(dtype=np.float64)
        keep = np.flatnonzero(counts >= min_points)
        # splitting into views is O(n_objects) slicing only; the feature work runs in Rust threads
        lcs = [
            (
                t[offsets[k] : offsets[k + 1]],
                m[offsets[k] : offsets[k + 1]],
                s[offsets[k] : offsets[k + 1]],
            )
            for k in keep
        ]
        values = np.full((len(ids), len(names)), np.nan)
        if lcs:
            values[keep] = _many(extractor, lcs, n_jobs, band)
        block = pd.DataFrame(
            values, index=pd.Index(ids, name="object_id"), columns=[f"{band}_{n}" for n in names]
        )
        blocks.append(block)
    out = pd.concat(blocks, axis=1).reindex(pd.Index(all_ids, name="object_id"))
    if value == "flux" and "weighted_mean" in names:
        for i, b1 in enumerate(bands):
            for b2 in bands[i + 1 :]:
                f1, f2 = out[f"{b1}_weighted_mean"], out[f"{b2}_weighted_mean"]
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[f"{b1}_{b2}_mean_mag_diff"] = -2.5 * np.log10(
                        f1.where(f1 > 0) / f2.where(f2 > 0)
                    )
    return out.astype(np.float64)


def _many(extractor, lcs, n_jobs: int, band: str) -> np.ndarray:
    """``extractor.many`` over the light curves ``lcs``; a panic of the Rust code (which
    ``except Exception`` does not catch) becomes an :class:`InputError`."""
    try:
        return extractor.many(lcs, fill_value=np.nan, sorted=True, check=False, n_jobs=n_jobs)
    except BaseException as exc:  # pyo3's PanicException derives from BaseException
        if type(exc).__name__ != "PanicException":
            raise
        raise InputError(
            None, f"light-curve features of band {band!r} failed on this input: {exc}"
        ) from None


@dataclass
class LightcurveFeatureResult:
    """What :func:`lightcurve_feature_table` made.

    Attributes
    ----------
    features : DataFrame (n_objects, n_columns) float64, index ``object_id``; NaN where a curve
        is too short for a feature (never filled).
    objects : DataFrame, one row per object: ``n_points``, ``n_points_<band>``,
        ``n_missing_features``, ``excluded`` (bool: no feature computable) and ``reason``.
    missing : Series, column -> number of objects with no value (only columns with any).
    seconds : wall time of the feature extraction [s].
    """

    features: pd.DataFrame
    objects: pd.DataFrame
    missing: pd.Series
    seconds: float

    @property
    def features_per_second(self) -> float:
        """Feature values computed per second (objects x feature columns / seconds)."""
        return self.features.size / max(self.seconds, 1e-9)

    @property
    def objects_per_second(self) -> float:
        """Objects featurised per second."""
        return len(self.features) / max(self.seconds, 1e-9)


def lightcurve_feature_table(
    table: pd.DataFrame | str | Path,
    out: str | Path | None = None,
    *,
    bands: list[str] | None = None,
    min_points: int = MIN_POINTS,
    n_jobs: int = -1,
    extractor=None,
) -> LightcurveFeatureResult:
    """Features of every light curve in a survey table, with the exclusions and their reasons.

    Parameters
    ----------
    table : a light-curve file (read by :func:`serendip.io.lightcurves.read_lightcurves`, in
        the survey's own columns) or a DataFrame (checked by ``standardize_lightcurves``).
    out : when given, the feature table is written there (Parquet) and the per-object table
        beside it as ``<stem>_objects.parquet``.
    bands, min_points, n_jobs, extractor : as in :func:`lightcurve_features`.

    Returns
    -------
    LightcurveFeatureResult
        Missing feature values are counted per column (notice ``represent/feature_missing``)
        and objects with no computable feature are marked ``excluded`` with the reason
        (notice ``represent/object_excluded``); nothing is filled.
    """
    import time as _time

    from serendip.io.lightcurves import read_lightcurves, standardize_lightcurves
    from serendip.notices import notice

    source = str(table) if isinstance(table, str | Path) else "table"
    if isinstance(table, str | Path):
        lc_table = read_lightcurves(table)
    else:
        lc_table = standardize_lightcurves(table, source)
    t0 = _time.perf_counter()
    feats = lightcurve_features(
        lc_table, bands, extractor=extractor, min_points=min_points, n_jobs=n_jobs
    )
    seconds = _time.perf_counter() - t0
    counts = lc_table.groupby(["object_id", "band"]).size().unstack("band", fill_value=0)
    used = sorted(lc_table["band"].unique()) if bands is None else list(bands)
    counts = counts.reindex(index=feats.index, columns=used, fill_value=0)
    nan = feats.isna()
    excluded = nan.all(axis=1).to_numpy()
    per_band = counts.to_numpy()
    reason = np.where(
        excluded,
        np.where(
            per_band.max(axis=1) < min_points,
            f"fewer than {min_points} points in every band",
            "no feature computable",
        ),
        "",
    )
    objects = pd.DataFrame(
        {
            "n_points": per_band.sum(axis=1),
            **{f"n_points_{b}": per_band[:, i] for i, b in enumerate(used)},
            "n_missing_features": nan.sum(axis=1).to_numpy(),
            "excluded": excluded,
            "reason": reason,
        },
        index=feats.index,
    )
    missing = nan.sum()
    missing = missing[missing > 0]
    n = len(feats)
    for col, k in missing.items():
        notice("represent", "feature_missing", f"{col}: no value for {k:,} of {n:,} objects "
               f"(fewer than {min_points} points in the band, or not computable); left "
               "missing, not filled", source=col, count=int(k), total=n)  # fmt: skip
    if excluded.any():
        notice("represent", "object_excluded", f"{int(excluded.sum()):,} of {n:,} objects have "
               f"no computable feature (fewer than {min_points} points in every band)",
               source=source, count=int(excluded.sum()), total=n)  # fmt: skip
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        feats.to_parquet(out)
        objects.to_parquet(out.with_name(f"{out.name.split('.')[0]}_objects.parquet"))
    return LightcurveFeatureResult(feats, objects, missing, seconds)
