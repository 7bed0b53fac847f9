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

* ``XRAY_DEFAULT``: the set serendip's trained classifier uses by default (``XRAY_FEATURES``
  + ``abs_gal_b``, |Galactic latitude| [deg] of the X-ray position, + per-band flux
  signal-to-noise ``snr_s/m/h`` = F / sigma_F and the photon-index error
  ``powlaw_gamma_err``); every column comes from the X-ray catalogue.
* ``MW_FEATURES``: multi-wavelength features from the Gaia, 2MASS and WISE counterpart
  columns (:func:`mw_features`); a source without a counterpart has NaN there (missing,
  never dropped). ``MW_LABEL_DEFINING`` names the ones that defined class labels in the
  literature (infrared excess for YSOs, parallax and proper motion for stars), for the
  circularity ablation.

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
XRAY_DEFAULT = XRAY_POS_FEATURES + ["snr_s", "snr_m", "snr_h", "powlaw_gamma_err"]
"""Default X-ray feature set of the trained classifier (``kind = "boost"``)."""
XRAY_ALL = XRAY_DEFAULT
"""Every column :func:`xray_features` returns."""
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
    "flux_err_s": ("e_Fcsc_s", "flux_aper_err_s", "e_Fs"),
    "flux_err_m": ("e_Fcsc_m", "flux_aper_err_m", "e_Fm"),
    "flux_err_h": ("e_Fcsc_h", "flux_aper_err_h", "e_Fh"),
    "powlaw_gamma_err": ("e_powlaw_gamma_mean", "e_powlaw_gamma", "powlaw_gamma_err"),
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
    with np.errstate(divide="ignore", invalid="ignore"):
        for b, f in (("s", fs), ("m", fm), ("h", fh)):
            err = _flux_error(df, cols[f"flux_err_{b}"], b)
            v = f / err
            v[~np.isfinite(v) | ~(err > 0)] = np.nan
            out[f"snr_{b}"] = v
    pe = cols["powlaw_gamma_err"]
    out["powlaw_gamma_err"] = _num(df, pe) if pe else np.full(len(df), np.nan)
    return pd.DataFrame(out, index=df.index)[XRAY_ALL]


def _flux_error(df: pd.DataFrame, col: str | None, band: str) -> np.ndarray:
    """1-sigma flux error of ``band``: the error column, or half the CSC confidence interval
    (``flux_aper_hilim_x - flux_aper_lolim_x``) / 2; NaN when neither is there."""
    if col:
        return _num(df, col)
    lo, hi = f"flux_aper_lolim_{band}", f"flux_aper_hilim_{band}"
    if lo in df.columns and hi in df.columns:
        return (_num(df, hi) - _num(df, lo)) / 2.0
    return np.full(len(df), np.nan)


MW_ALIASES: dict[str, tuple[str, ...]] = {
    "G": ("Gmag", "phot_g_mean_mag"),
    "BP": ("BPmag", "phot_bp_mean_mag"),
    "RP": ("RPmag", "phot_rp_mean_mag"),
    "plx_snr": ("RPlx", "parallax_over_error"),
    "pm": ("PM", "pm"),
    "ruwe": ("ruwe",),
    "rgeo": ("rgeo", "r_med_geo"),
    "J": ("Jmag", "j_m"),
    "H": ("Hmag", "h_m"),
    "K": ("Kmag", "k_m", "Ksmag"),
    "W1": ("W1mag", "w1mpro"),
    "W2": ("W2mag", "w2mpro"),
    "W3": ("W3mag", "w3mpro"),
    "p_match": ("p_any", "match_prob"),
}
"""Counterpart columns (MUWCLASS spelling first; Gaia DR3 / 2MASS / AllWISE archive names)."""
MW_FEATURES = [
    "gmag",
    "bp_rp",
    "g_rp",
    "plx_snr",
    "log_pm",
    "ruwe",
    "log_rgeo",
    "log_lx_proxy",
    "j_h",
    "h_k",
    "k_w1",
    "g_k",
    "w1_w2",
    "w2_w3",
    "log_fx_fopt",
    "log_fx_fir",
    "p_match",
]
"""Multi-wavelength features: Gaia G, BP-RP, G-RP, parallax/error, log proper motion
[mas/yr], RUWE, log distance [pc], log(F_x d^2) (an X-ray luminosity proxy), 2MASS/WISE
colours [mag], log X-ray-to-optical (G) and X-ray-to-infrared (W1) flux ratios (up to a
constant: log F_x + m / 2.5) and the counterpart match probability."""
MW_LABEL_DEFINING = ["plx_snr", "log_pm", "log_rgeo", "log_lx_proxy", "h_k", "k_w1", "w1_w2", "w2_w3"]
"""Features that defined labels in the literature (parallax / proper motion for stars,
infrared excess for YSOs): dropped in the circularity ablation."""
XRAY_MW = XRAY_DEFAULT + MW_FEATURES


def missing_counterparts(F: pd.DataFrame) -> dict[str, int]:
    """Rows of a feature table without a Gaia, 2MASS or WISE counterpart: {catalogue: count}."""
    probe = {"Gaia": "gmag", "2MASS": "j_h", "WISE": "w1_w2"}
    return {k: int(F[c].isna().sum()) for k, c in probe.items() if c in F.columns}


def mw_features(df: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """Multi-wavelength features (``MW_FEATURES``), float64, NaN without a counterpart.

    Counterparts absent for a row stay NaN (the trees route missing values);
    :func:`missing_counterparts` counts them.
    """
    col = {k: next((a for a in al if a in df.columns), None) for k, al in MW_ALIASES.items()}
    if all(v is None for k, v in col.items() if k != "p_match"):
        raise InputError(
            source,
            "the xray+mw feature set needs Gaia / 2MASS / WISE counterpart columns "
            f"(e.g. {[MW_ALIASES[k][0] for k in ('G', 'J', 'W1')]})",
        )

    def g(k: str) -> np.ndarray:
        return _num(df, col[k]) if col[k] else np.full(len(df), np.nan)

    with np.errstate(divide="ignore", invalid="ignore"):
        fs, fm, fh = (
            _num(df, c) if c else np.full(len(df), np.nan)
            for c in (_resolve(df, "flux_s"), _resolve(df, "flux_m"), _resolve(df, "flux_h"))
        )
        log_fx = np.log10(fs + fm + fh)
        G, J, K, W1 = g("G"), g("J"), g("K"), g("W1")
        out = {
            "gmag": G,
            "bp_rp": g("BP") - g("RP"),
            "g_rp": G - g("RP"),
            "plx_snr": g("plx_snr"),
            "log_pm": np.log10(g("pm")),
            "ruwe": g("ruwe"),
            "log_rgeo": np.log10(g("rgeo")),
            "log_lx_proxy": log_fx + 2.0 * np.log10(g("rgeo")),
            "j_h": J - g("H"),
            "h_k": g("H") - K,
            "k_w1": K - W1,
            "g_k": G - K,
            "w1_w2": W1 - g("W2"),
            "w2_w3": g("W2") - g("W3"),
            "log_fx_fopt": log_fx + G / 2.5,
            "log_fx_fir": log_fx + W1 / 2.5,
            "p_match": g("p_match"),
        }
    for v in out.values():
        v[~np.isfinite(v)] = np.nan
    return pd.DataFrame(out, index=df.index)[MW_FEATURES]


FEATURE_SETS = {
    "xray": XRAY_DEFAULT,
    "xray+mw": XRAY_MW,
    "umlcaxs": UMLCAXS_FEATURES,
}
"""Feature set name -> the columns a trained classifier uses by default."""


def build_features(df: pd.DataFrame, feature_set: str, source: str | None = None) -> pd.DataFrame:
    """Every feature of ``feature_set`` ("umlcaxs", "xray" or "xray+mw") as a float64 table.

    ``FEATURE_SETS[feature_set]`` lists the default columns; "xray" returns ``XRAY_ALL``
    (a superset, so models trained on ``XRAY_FEATURES`` still find theirs).
    """
    if feature_set == "umlcaxs":
        return umlcaxs_features(df, source)
    if feature_set == "xray":
        return xray_features(df, source)
    if feature_set == "xray+mw":
        return pd.concat([xray_features(df, source), mw_features(df, source)], axis=1)
    raise InputError(
        source, f"unknown feature set {feature_set!r}; use one of {sorted(FEATURE_SETS)}"
    )
