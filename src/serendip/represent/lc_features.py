"""Per-band light-curve features with the ``light-curve`` package, one row per object.

:func:`lightcurve_features` splits a standard light-curve table (see
:mod:`serendip.io.lightcurves`) by band and runs one ``light_curve`` extractor over all
objects of a band at once (``Extractor.many``, multi-threaded in Rust, in chunks that move a
progress bar), so there is no Python loop over objects' computations. Features that cannot
be computed (too few points) are NaN. Column names are ``<band>_<feature>``; a cross-band
colour is added for every band pair: ``<b1>_<b2>_mean_mag_diff`` [mag] from the weighted
mean total fluxes, or for difference photometry ``<b1>_<b2>_peak_mag_diff`` from the
highest fluxes detected at S/N >= 5 (NaN when a band has none);
and ``<band>_days_since_nondet`` (days from the last non-detection to the first detection)
when the table holds upper limits.

Two feature sets (:data:`FEATURE_SETS`): ``basic`` (:func:`default_extractor`, 19
features) and ``full`` (:func:`full_extractor`: every light-curve statistic of the package,
two periodogram peaks, and for flux tables the Bazin and Villar transient fits; absolute
times such as the fits' reference times are left out). Difference photometry is a flux
table, so its features are computed in flux space.
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


def full_extractor(kind: str = "flux", n_periodogram_peaks: int = 2):
    """Every statistic of the ``light-curve`` package, periodogram peaks and, for flux
    (``kind="flux"``), the Bazin and Villar transient fits (least squares, ``lmsder``)."""
    import light_curve as lc

    features = [
        lc.Amplitude(), lc.AndersonDarlingNormal(), lc.BeyondNStd(1.0), lc.BeyondNStd(2.0),
        lc.Cusum(), lc.Eta(), lc.EtaE(), lc.ExcessVariance(), lc.InterPercentileRange(0.1),
        lc.InterPercentileRange(0.25), lc.Kurtosis(), lc.LinearFit(), lc.LinearTrend(),
        lc.MaximumSlope(), lc.Mean(), lc.Median(), lc.MedianAbsoluteDeviation(),
        lc.MedianBufferRangePercentage(0.1), lc.ObservationCount(), lc.OtsuSplit(),
        lc.PercentAmplitude(), lc.ReducedChi2(), lc.Skew(), lc.StandardDeviation(),
        lc.StetsonK(), lc.WeightedMean(), lc.Duration(), lc.MaximumTimeInterval(),
        lc.MinimumTimeInterval(), lc.TimeStandardDeviation(),
        lc.Periodogram(peaks=n_periodogram_peaks, max_freq_factor=10.0, fast=True),
    ]  # fmt: skip
    if kind == "flux":
        features += [lc.BazinFit("lmsder"), lc.VillarFit("lmsder")]
    return lc.Extractor(*features)


#: feature-set name -> (extractor factory taking the table kind, description)
FEATURE_SETS = {
    "basic": (lambda kind: default_extractor(), "19 statistics and one periodogram peak"),
    "full": (full_extractor, "every light-curve statistic, 2 periodogram peaks, Bazin and "
             "Villar fits (flux)"),
}  # fmt: skip

#: feature names left out of the table: absolute times, not properties of the curve
ABSOLUTE_TIME_FEATURES = ("bazin_fit_reference_time", "villar_fit_reference_time", "time_mean")

#: objects per call of ``Extractor.many`` (one step of the progress bar)
CHUNK = 2000


def lightcurve_features(
    table: pd.DataFrame,
    bands: list[str] | None = None,
    *,
    extractor=None,
    min_points: int = MIN_POINTS,
    n_jobs: int = -1,
    progress: bool = False,
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
    progress : show a progress bar (objects per band).

    Returns
    -------
    DataFrame (n_objects, n_bands * n_features [+ colours]) float64; NaN where not computable.
    """
    from serendip.progress import progress_bar

    nondet = _days_since_nondetection(table)
    table = checked_order(table)
    value = "flux" if "flux" in table.columns else "mag"
    err = f"{value}_err"
    extractor = extractor or default_extractor()
    names = list(extractor.names)
    all_ids, _ = object_offsets(table)
    bands = sorted(table["band"].unique()) if bands is None else list(bands)
    blocks = []
    bar = progress_bar(progress, eta=True, transient=True)
    bar.start()
    task = bar.add_task("light-curve features", total=len(all_ids) * len(bands))
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
        for c0 in range(0, len(lcs), CHUNK):
            values[keep[c0 : c0 + CHUNK]] = _many(extractor, lcs[c0 : c0 + CHUNK], n_jobs, band)
            bar.advance(task, len(lcs[c0 : c0 + CHUNK]))
        bar.advance(task, len(all_ids) - len(lcs))
        block = pd.DataFrame(
            values, index=pd.Index(ids, name="object_id"), columns=[f"{band}_{n}" for n in names]
        )
        blocks.append(block)
    bar.stop()
    out = pd.concat(blocks, axis=1).reindex(pd.Index(all_ids, name="object_id"))
    drop = [c for c in out.columns if c.split("_", 1)[1] in ABSOLUTE_TIME_FEATURES]
    out = out.drop(columns=drop)
    if nondet is not None:
        out = out.join(nondet.reindex(columns=[f"{b}_days_since_nondet" for b in bands]))
    difference = "flux_type" in table.columns and (table["flux_type"] == "difference").all()
    out = out.copy()  # one block before the colour columns are added
    if value == "flux" and "weighted_mean" in names and not difference:
        for i, b1 in enumerate(bands):
            for b2 in bands[i + 1 :]:
                f1, f2 = out[f"{b1}_weighted_mean"], out[f"{b2}_weighted_mean"]
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[f"{b1}_{b2}_mean_mag_diff"] = -2.5 * np.log10(
                        f1.where(f1 > 0) / f2.where(f2 > 0)
                    )
    if difference and len(bands) > 1:  # a mean difference flux has no colour: use the peaks
        peak = _peak_flux(table, bands)
        for i, b1 in enumerate(bands):
            for b2 in bands[i + 1 :]:
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[f"{b1}_{b2}_peak_mag_diff"] = -2.5 * np.log10(
                        peak[b1] / peak[b2]
                    ).reindex(out.index)
    return out.astype(np.float64)


#: per-object summaries of the survey quality fields (:data:`serendip.io.lightcurves.QUALITY_FIELDS`)
QUALITY_SUMMARY = {"rb": "median", "drb": "median", "nbad": "max", "distnr": "median",
                   "sgscore": "median"}  # fmt: skip


def quality_features(table: pd.DataFrame) -> pd.DataFrame:
    """Per object (index ``object_id``), the survey quality fields the table has, summarised
    over its detections: ``q_rb_median``, ``q_drb_median``, ``q_nbad_max``,
    ``q_distnr_median``, ``q_sgscore_median`` (NaN where an object has no value); an empty
    frame when the table has none of the fields."""
    fields = [f for f in QUALITY_SUMMARY if f in table.columns]
    ids = pd.Index(pd.unique(table["object_id"]), name="object_id")
    if not fields:
        return pd.DataFrame(index=ids)
    det = table
    if "is_upper_limit" in table.columns:
        det = table[~table["is_upper_limit"].to_numpy(dtype=bool)]
    grp = det.groupby("object_id", sort=False)
    out = pd.DataFrame({f"q_{f}_{QUALITY_SUMMARY[f]}": grp[f].agg(QUALITY_SUMMARY[f])
                        for f in fields})  # fmt: skip
    return out.reindex(ids).astype(np.float64)


def _peak_flux(table: pd.DataFrame, bands: list[str]) -> pd.DataFrame:
    """Highest flux per object (rows) and band (columns) where it is detected at S/N >= 5,
    else NaN (difference photometry: the colour of a transient at its brightest)."""
    snr = table["flux"] / table["flux_err"]
    det = table[snr.to_numpy() >= 5.0]
    peak = det.groupby(["object_id", "band"])["flux"].max().unstack("band")
    return peak.reindex(columns=bands)


def _days_since_nondetection(table: pd.DataFrame) -> pd.DataFrame | None:
    """Days from the last upper limit before the first detection to that detection, per
    object (rows) and band (columns ``<band>_days_since_nondet``); None without limits."""
    if "is_upper_limit" not in table.columns or not table["is_upper_limit"].any():
        return None
    ul = table["is_upper_limit"].to_numpy(dtype=bool)
    key = ["object_id", "band"]
    first = table.loc[~ul].groupby(key)["time"].min().rename("first")
    lim = table.loc[ul, key + ["time"]].join(first, on=key)
    last = lim[lim["time"] < lim["first"]].groupby(key)["time"].max()
    days = (first - last).dropna().rename("days").reset_index()
    wide = days.pivot(index="object_id", columns="band", values="days")
    wide.columns = [f"{b}_days_since_nondet" for b in wide.columns]
    return wide


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
    n_rows_read : rows in the input table(s) before any drop (0 when not known).
    """

    features: pd.DataFrame
    objects: pd.DataFrame
    missing: pd.Series
    seconds: float
    n_rows_read: int = 0

    @property
    def features_per_second(self) -> float:
        """Feature values computed per second (objects x feature columns / seconds)."""
        return self.features.size / max(self.seconds, 1e-9)

    @property
    def objects_per_second(self) -> float:
        """Objects featurised per second."""
        return len(self.features) / max(self.seconds, 1e-9)


def lightcurve_feature_table(
    table: pd.DataFrame | str | Path | list,
    out: str | Path | None = None,
    *,
    bands: list[str] | None = None,
    min_points: int = MIN_POINTS,
    n_jobs: int = -1,
    extractor=None,
    feature_set: str = "full",
    progress: bool = False,
    read_options: dict | None = None,
    with_quality: bool = False,
) -> LightcurveFeatureResult:
    """Features of every light curve in a survey table, with the exclusions and their reasons.

    Parameters
    ----------
    table : light-curve file(s) (read by :func:`serendip.io.lightcurves.read_lightcurves`, in
        the survey's own columns), a raw DataFrame (checked by ``standardize_lightcurves``)
        or an already standard table (``attrs["kind"]`` set).
    out : when given, the feature table is written there (Parquet) and the per-object table
        beside it as ``<stem>_objects.parquet``.
    bands, min_points, n_jobs, extractor, progress : as in :func:`lightcurve_features`.
    feature_set : a name of :data:`FEATURE_SETS` (used when ``extractor`` is None).
    read_options : keyword arguments of ``read_lightcurves`` (format, to_flux,
        quality_filters, ...).
    with_quality : add the survey quality fields as features (:func:`quality_features`:
        median real-bogus scores, largest nbad, median distnr and sgscore per object).

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

    source = str(table) if isinstance(table, str | Path | list | tuple) else "table"
    if isinstance(table, str | Path | list | tuple):
        lc_table = read_lightcurves(table, **(read_options or {}))
    elif "kind" in table.attrs and "object_id" in table.columns:
        lc_table = table
    else:
        lc_table = standardize_lightcurves(table, source, **(read_options or {}))
    if extractor is None:
        if feature_set not in FEATURE_SETS:
            raise InputError(None, f"unknown feature set {feature_set!r}; known: "
                             f"{sorted(FEATURE_SETS)}")  # fmt: skip
        extractor = FEATURE_SETS[feature_set][0](lc_table.attrs.get("kind", "flux"))
    t0 = _time.perf_counter()
    feats = lightcurve_features(
        lc_table, bands, extractor=extractor, min_points=min_points, n_jobs=n_jobs,
        progress=progress,
    )  # fmt: skip
    if with_quality:
        q = quality_features(lc_table)
        if q.shape[1] == 0:
            from serendip.io.lightcurves import QUALITY_FIELDS

            raise InputError(source, "quality features asked for, but the table has none of the "
                             f"quality fields {dict(QUALITY_FIELDS)}")  # fmt: skip
        feats = feats.join(q.reindex(feats.index))
    seconds = _time.perf_counter() - t0
    ul = (
        lc_table["is_upper_limit"].to_numpy(dtype=bool)
        if "is_upper_limit" in lc_table.columns else np.zeros(len(lc_table), dtype=bool)
    )  # fmt: skip
    counts = lc_table.loc[~ul].groupby(["object_id", "band"]).size().unstack("band", fill_value=0)
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
            "n_upper_limits": pd.Series(ul, index=lc_table["object_id"].to_numpy())
            .groupby(level=0).sum().reindex(feats.index, fill_value=0).to_numpy(),
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
    n_read = int(lc_table.attrs.get("n_rows_read", len(lc_table)))
    return LightcurveFeatureResult(feats, objects, missing, seconds, n_read)


def impute_for_detectors(
    features: pd.DataFrame, source: str = "features"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Feature matrix a detector can take, with every fill stated.

    Columns with no value at all are dropped; the other missing values (curves too short
    for a feature) are filled with the column's median over the objects that have one, and
    a column ``n_missing_features`` (how many were filled for that object) is added so that
    a short curve stays visible to the detectors. Each filled column is a notice
    ``features/imputed_missing``.

    Returns
    -------
    (X, imputation): X (n_objects, n_columns) float64 without NaN, same index; imputation
    one row per input column: ``column``, ``n_missing``, ``fill_value`` (NaN for dropped
    columns) and ``action`` ("none", "median", "dropped: no value").
    """
    from serendip.notices import notice

    X = features.astype(np.float64).replace([np.inf, -np.inf], np.nan)
    nan = X.isna()
    n_missing = nan.sum()
    med = X.median()
    empty = n_missing == len(X)
    action = np.where(empty, "dropped: no value", np.where(n_missing > 0, "median", "none"))
    imputation = pd.DataFrame({"column": X.columns, "n_missing": n_missing.to_numpy(),
                               "fill_value": med.to_numpy(), "action": action})  # fmt: skip
    n = len(X)
    if empty.any():
        notice("features", "empty_columns_dropped", f"{int(empty.sum())} feature column(s) have "
               f"no value for any object and are not used (e.g. {list(X.columns[empty][:3])})",
               source=source, count=int(empty.sum()), total=X.shape[1])  # fmt: skip
    filled = n_missing[(n_missing > 0) & ~empty]
    if len(filled):
        notice("features", "imputed_missing", f"{int(filled.sum()):,} missing values in "
               f"{len(filled)} of {X.shape[1]} columns filled with the column median for the "
               "detectors (per column: imputation table); n_missing_features added",
               source=source, count=int(filled.sum()), total=n * X.shape[1])  # fmt: skip
    X = X.loc[:, ~empty].fillna(med[~empty])
    X["n_missing_features"] = nan.loc[:, ~empty].sum(axis=1).astype(np.float64)
    return X, imputation
