"""Feature sets for catalogue classification, built from CSC property tables.

Two feature sets:

* ``UMLCAXS_FEATURES``: the 12 detection-level features of Pérez-Díaz et al. (2024):
  hardness ratios ``hard_hm``, ``hard_hs``, ``hard_ms`` (dimensionless, [-1, 1]),
  ``powlaw_gamma`` (photon index), ``bb_kt`` [keV], ``var_prob_b/h/s`` ([0, 1]),
  ``var_ratio_b/h/s`` = var_sigma / var_mean and ``var_newq_b`` =
  (var_max_b + var_min_b) / 2 / var_mean_b (dimensionless). :func:`add_umlcaxs_columns`
  derives the ratios from the raw CSC ``var_*`` columns.
* ``XRAY_FEATURES``: serendip's X-ray-only set for source-level tables: flux hardness
  ratios from the soft/medium/hard aperture fluxes, log10 fluxes [erg cm^-2 s^-1],
  log10 detection significance, intra- and inter-observation variability
  probabilities and the power-law photon index. :func:`xray_features` builds it from
  any of the spellings in ``XRAY_ALIASES`` (CSC 2.x master_source / observation_source,
  MUWCLASS 2022 and 2023 training tables).

Every builder is vectorised over the whole table and returns float64 columns with NaN
where a value is missing (the models handle or impute NaN explicitly).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.errors import InputError

UMLCAXS_FEATURES = [
    "hard_hm",
    "hard_hs",
    "hard_ms",
    "powlaw_gamma",
    "bb_kt",
    "var_prob_b",
    "var_ratio_b",
    "var_prob_h",
    "var_ratio_h",
    "var_prob_s",
    "var_ratio_s",
    "var_newq_b",
]
UMLCAXS_LOG = ["bb_kt", "var_ratio_h", "var_ratio_b", "var_ratio_s", "var_newq_b"]
"""Columns that UMLCAXS log-transforms (with a floor of min non-zero / 10) then min-max scales."""
UMLCAXS_MINMAX = ["powlaw_gamma"]
"""Columns that UMLCAXS only min-max scales (the rest are used as they are)."""

XRAY_FEATURES = [
    "hr_hm",
    "hr_hs",
    "hr_ms",
    "log_flux_s",
    "log_flux_m",
    "log_flux_h",
    "log_flux_b",
    "log_significance",
    "var_intra_prob",
    "var_inter_prob",
    "powlaw_gamma",
]
XRAY_POS_FEATURES = XRAY_FEATURES + ["abs_gal_b"]
"""X-ray features plus |Galactic latitude| [deg] of the X-ray position (NaN without ra/dec)."""
XRAY_UMLCAXS_SUBSET = [
    "hr_hm",
    "hr_hs",
    "hr_ms",
    "powlaw_gamma",
    "var_intra_prob",
    "var_inter_prob",
]
"""The UMLCAXS features that a source-level X-ray table (MUWCLASS) provides: hardness
ratios, photon index and variability probabilities (no bb_kt or var_ratio columns there)."""

XRAY_ALIASES: dict[str, tuple[str, ...]] = {
    "flux_s": ("flux_aper_s", "Fcsc_s", "Fs"),
    "flux_m": ("flux_aper_m", "Fcsc_m", "Fm"),
    "flux_h": ("flux_aper_h", "Fcsc_h", "Fh"),
    "flux_b": ("flux_aper_b", "Fcsc_b", "Fb"),
    "significance": ("significance", "flux_significance_b", "CSCv2_S/N"),
    "var_intra_prob": ("var_intra_prob_b", "var_intra_prob", "P_intra", "var_prob_b"),
    "var_inter_prob": ("var_inter_prob_b", "var_inter_prob", "P_inter"),
    "powlaw_gamma": ("powlaw_gamma", "powlaw_gamma_mean"),
}
_REQUIRED_XRAY = ("flux_s", "flux_m", "flux_h")


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    return np.array(pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64), copy=True)


def add_umlcaxs_columns(df: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """Return a copy of ``df`` with ``var_ratio_b/h/s`` and ``var_newq_b`` derived.

    Existing derived columns are kept; otherwise they are computed from
    ``var_sigma_x``, ``var_mean_x`` (and ``var_min_b``, ``var_max_b``). Raises
    :class:`InputError` naming ``source`` if neither is present.
    """
    out = df.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        for band in "bhs":
            name = f"var_ratio_{band}"
            if name not in out.columns:
                need = [f"var_sigma_{band}", f"var_mean_{band}"]
                if not all(c in out.columns for c in need):
                    raise InputError(source, f"cannot form {name}: need {need} or {name}")
                out[name] = _num(out, need[0]) / _num(out, need[1])
        if "var_newq_b" not in out.columns:
            need = ["var_max_b", "var_min_b", "var_mean_b"]
            if not all(c in out.columns for c in need):
                raise InputError(source, f"cannot form var_newq_b: need {need} or var_newq_b")
            out["var_newq_b"] = (
                (_num(out, "var_max_b") + _num(out, "var_min_b")) / 2.0 / _num(out, "var_mean_b")
            )
    for c in ("var_ratio_b", "var_ratio_h", "var_ratio_s", "var_newq_b"):
        v = np.array(out[c].to_numpy(dtype=np.float64), copy=True)
        v[~np.isfinite(v)] = np.nan
        out[c] = v
    return out


def umlcaxs_features(df: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """The 12 UMLCAXS features (float64, NaN when missing), shape (n, 12)."""
    full = add_umlcaxs_columns(df, source)
    missing = [c for c in UMLCAXS_FEATURES if c not in full.columns]
    if missing:
        raise InputError(source, f"missing UMLCAXS feature column(s) {missing}")
    return pd.DataFrame({c: _num(full, c) for c in UMLCAXS_FEATURES}, index=df.index)


def _resolve(df: pd.DataFrame, key: str) -> str | None:
    for alias in XRAY_ALIASES[key]:
        if alias in df.columns:
            return alias
    return None


def hardness(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """(hi - lo) / (hi + lo), NaN where the sum is not positive; same shape as inputs."""
    with np.errstate(divide="ignore", invalid="ignore"):
        s = hi + lo
        hr = (hi - lo) / s
    hr[~(s > 0)] = np.nan
    return np.clip(hr, -1.0, 1.0)


def abs_galactic_latitude(df: pd.DataFrame) -> np.ndarray:
    """|b| [deg] from ``ra``, ``dec`` [deg, ICRS] (NaN where missing or without those columns)."""
    if "ra" not in df.columns or "dec" not in df.columns:
        return np.full(len(df), np.nan)
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    ra, dec = _num(df, "ra"), _num(df, "dec")
    ok = np.isfinite(ra) & np.isfinite(dec) & (np.abs(dec) <= 90)
    out = np.full(len(df), np.nan)
    if ok.any():
        out[ok] = np.abs(SkyCoord(ra[ok] * u.deg, dec[ok] * u.deg).galactic.b.deg)
    return out


def xray_features(df: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """serendip's X-ray feature set (``XRAY_POS_FEATURES``: ``XRAY_FEATURES`` + ``abs_gal_b``), float64.

    Fluxes are aperture energy fluxes [erg cm^-2 s^-1] in the CSC soft (0.5-1.2 keV),
    medium (1.2-2 keV) and hard (2-7 keV) bands; the broad flux is taken from the table
    or, when absent, is the sum of the three. Negative or zero fluxes give NaN logs.
    """
    cols = {k: _resolve(df, k) for k in XRAY_ALIASES}
    missing = [XRAY_ALIASES[k][0] for k in _REQUIRED_XRAY if cols[k] is None]
    if missing:
        raise InputError(
            source,
            f"missing X-ray flux column(s) {missing} (or an alias: {[XRAY_ALIASES[k] for k in _REQUIRED_XRAY]})",
        )
    fs, fm, fh = (_num(df, cols[k]) for k in _REQUIRED_XRAY)
    fb = _num(df, cols["flux_b"]) if cols["flux_b"] else fs + fm + fh
    out = {
        "hr_hm": hardness(fh, fm),
        "hr_hs": hardness(fh, fs),
        "hr_ms": hardness(fm, fs),
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, f in (("s", fs), ("m", fm), ("h", fh), ("b", fb)):
            v = np.log10(f)
            v[~np.isfinite(v)] = np.nan
            out[f"log_flux_{name}"] = v
        sig = _num(df, cols["significance"]) if cols["significance"] else np.full(len(df), np.nan)
        ls = np.log10(sig)
        ls[~np.isfinite(ls)] = np.nan
        out["log_significance"] = ls
    for k in ("var_intra_prob", "var_inter_prob", "powlaw_gamma"):
        out[k] = _num(df, cols[k]) if cols[k] else np.full(len(df), np.nan)
    out["abs_gal_b"] = abs_galactic_latitude(df)
    return pd.DataFrame(out, index=df.index)[XRAY_POS_FEATURES]


def build_features(df: pd.DataFrame, feature_set: str, source: str | None = None) -> pd.DataFrame:
    """Dispatch: ``feature_set`` is "umlcaxs" (12 detection-level features) or "xray"."""
    if feature_set == "umlcaxs":
        return umlcaxs_features(df, source)
    if feature_set == "xray":
        return xray_features(df, source)
    raise InputError(source, f"unknown feature set {feature_set!r}; use 'umlcaxs' or 'xray'")
