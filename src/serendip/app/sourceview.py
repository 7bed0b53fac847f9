"""What the source view draws, from one source's events (pure functions, JSON-ready dicts).

Time axes cover the whole observation (``tstart`` to ``tstop`` of the file, not just first to
last event), measured in seconds from ``t0 = tstart``; :func:`time_zero` states that zero as
mission seconds, MJD and an ISO date. The light curve is served once as fine bins
(:data:`FINE_BINS` over the observation: total, soft and hard counts and the good time in
each bin) so the page rebins it by summing neighbouring bins without asking again.
Energies are in keV.
"""

from __future__ import annotations

import numpy as np

#: reference MJD of each mission's time column (files.parquet ``mjdref`` wins when present)
MISSION_MJDREF = {
    "CHANDRA": 50814.0,
    "XMM": 50814.0,
    "SWIFT": 51910.0,
    "NICER": 56658.000777592593,
    "NUSTAR": 55197.00076601852,
    "SRG": 51543.875,
    "EROSITA": 51543.875,
    "GLAST": 51910.00074287037,
    "FERMI": 51910.00074287037,
    "EP": 58849.0,
}
FINE_BINS = 256
SOFT_EV = (500.0, 2000.0)
HARD_EV = (2000.0, 7000.0)
SPECTRUM_BINS = 40
ET_T_BINS, ET_E_BINS = 48, 16
BAND_EV = (500.0, 7000.0)
IMAGE_BINS = 32


def _scale(timesys) -> str:
    """astropy scale of a TIMESYS value (TT when unknown or empty: the X-ray missions' own)."""
    from serendip.io.timesys import _SCALES

    return _SCALES.get(str(timesys or "").strip().upper(), "tt")


def time_zero(tstart: float, telescope: str | None, mjdref: float | None = None,
              timesys: str | None = None, origin: float = 0.0) -> dict:
    """The time zero of the plots: mission seconds, MJD (on ``timesys``, files.parquet's; TT
    by default) and ISO date (UTC), or just the seconds when the mission's reference is
    unknown. ``origin`` [s]: the file's time origin (GBM trigger), added back for the date."""
    ref = mjdref
    if ref is None or not np.isfinite(ref):
        ref = MISSION_MJDREF.get(str(telescope or "").upper())
    origin = float(origin) if origin is not None and np.isfinite(origin) else 0.0
    out = {"mission_s": float(tstart), "mjdref": ref, "mjd": None, "iso": None}
    if origin:
        out["origin_s"] = origin
    if ref is not None and np.isfinite(tstart):
        from astropy.time import Time

        t = Time(ref + (tstart + origin) / 86400.0, format="mjd", scale=_scale(timesys))
        out["mjd"] = float(t.mjd)
        out["iso"] = t.utc.isot[:19] + "Z"
    return out


def iso_dates(seconds, telescopes, mjdref=None, timesys=None, origin=None) -> list[str]:
    """ISO dates (UTC, to the second) of mission times ``seconds`` [s] of the missions
    ``telescopes`` (same length), "" where the mission's reference is unknown (vectorised).
    ``mjdref``, ``timesys``, ``origin``: files.parquet's columns when known (they win)."""
    sec = np.asarray(seconds, np.float64)
    ref = np.array([MISSION_MJDREF.get(str(t or "").upper(), np.nan) for t in telescopes])
    if mjdref is not None:
        given = np.asarray(mjdref, np.float64)
        ref = np.where(np.isfinite(given), given, ref)
    if origin is not None:
        sec = sec + np.nan_to_num(np.asarray(origin, np.float64))
    scales = np.array([_scale(v) for v in (timesys if timesys is not None else [""] * len(sec))])
    out = np.full(len(sec), "", dtype=object)
    ok = np.isfinite(ref) & np.isfinite(sec)
    if ok.any():
        from astropy.time import Time

        for sc in np.unique(scales[ok]):
            m = ok & (scales == sc)
            iso = Time(ref[m] + sec[m] / 86400.0, format="mjd", scale=sc).utc.isot
            out[m] = np.char.add(np.asarray(iso).astype("U19"), "Z")
    return out.tolist()


def fine_lightcurve(
    t: np.ndarray, e: np.ndarray, t0: float, t1: float, gtis: np.ndarray | None = None
) -> dict:
    """Counts in :data:`FINE_BINS` equal bins over [t0, t1] (times in s from t0).

    Returns ``edges_s`` (FINE_BINS + 1,), ``counts``, ``soft``, ``hard`` (FINE_BINS,) and
    ``good_s`` (good time in each bin [s]: the bin width, or its overlap with ``gtis``, an
    (m, 2) array of [start, stop] in mission seconds), and ``gtis_s`` (GTIs from t0).
    """
    span = max(float(t1 - t0), 1e-6)
    edges = np.linspace(0.0, span, FINE_BINS + 1)
    rel = np.asarray(t, np.float64) - t0
    e = np.asarray(e, np.float64)
    counts = np.histogram(rel, edges)[0]
    soft = np.histogram(rel[(e >= SOFT_EV[0]) & (e < SOFT_EV[1])], edges)[0]
    hard = np.histogram(rel[(e >= HARD_EV[0]) & (e <= HARD_EV[1])], edges)[0]
    if gtis is not None and len(gtis):
        g = np.asarray(gtis, np.float64) - t0
        lo = np.maximum(edges[:-1, None], g[None, :, 0])
        hi = np.minimum(edges[1:, None], g[None, :, 1])
        good = np.clip(hi - lo, 0.0, None).sum(axis=1)  # (bins, m): bins x GTIs, both small
        gtis_s = g.tolist()
    else:
        good = np.diff(edges)
        gtis_s = []
    return {
        "edges_s": edges.tolist(),
        "counts": counts.astype(int).tolist(),
        "soft": soft.astype(int).tolist(),
        "hard": hard.astype(int).tolist(),
        "good_s": np.round(good, 6).tolist(),
        "gtis_s": gtis_s,
        "soft_kev": [SOFT_EV[0] / 1e3, SOFT_EV[1] / 1e3],
        "hard_kev": [HARD_EV[0] / 1e3, HARD_EV[1] / 1e3],
    }


def et_map(t: np.ndarray, e: np.ndarray, t0: float, t1: float) -> dict:
    """Counts (ET_E_BINS, ET_T_BINS) over the whole observation and 0.5-7 keV (log energy)."""
    span = max(float(t1 - t0), 1e-6)
    t_edges = np.linspace(0.0, span, ET_T_BINS + 1)
    e_edges = np.logspace(np.log10(BAND_EV[0]), np.log10(BAND_EV[1]), ET_E_BINS + 1)
    z = np.histogram2d(
        np.asarray(e, np.float64), np.asarray(t, np.float64) - t0, (e_edges, t_edges)
    )[0]
    return {
        "z": z.astype(int).tolist(),
        "energy_edges_kev": (e_edges / 1e3).tolist(),
        "time_edges_s": t_edges.tolist(),
    }


def spectrum(e: np.ndarray) -> dict:
    """Counts per keV in :data:`SPECTRUM_BINS` log-spaced bins over 0.5-7 keV, with
    Poisson errors (sqrt(max(n, 1)) / width); events outside the band are counted apart."""
    e = np.asarray(e, np.float64)
    edges = np.logspace(np.log10(BAND_EV[0]), np.log10(BAND_EV[1]), SPECTRUM_BINS + 1)
    n = np.histogram(e, edges)[0]
    width_kev = np.diff(edges) / 1e3
    return {
        "edges_kev": (edges / 1e3).tolist(),
        "counts": n.astype(int).tolist(),
        "per_kev": (n / width_kev).tolist(),
        "per_kev_err": (np.sqrt(np.maximum(n, 1)) / width_kev).tolist(),
        "n_outside_band": int(len(e) - n.sum()),
    }


def sky_image(x: np.ndarray, y: np.ndarray) -> dict | None:
    """Counts on an IMAGE_BINS x IMAGE_BINS grid around the events' median position [sky
    pixels]; None without events."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return None
    x, y = x[ok], y[ok]
    cx, cy = np.median(x), np.median(y)
    half = max(8.0, float(np.percentile(np.hypot(x - cx, y - cy), 95)) * 1.2)
    xe = np.linspace(cx - half, cx + half, IMAGE_BINS + 1)
    ye = np.linspace(cy - half, cy + half, IMAGE_BINS + 1)
    z = np.histogram2d(y, x, (ye, xe))[0]
    return {"z": z.astype(int).tolist(), "x_edges": xe.tolist(), "y_edges": ye.tolist()}


def fap_text(p: float) -> str:
    """A probability as short text ("3.2e-12", "0.041"; "-" when not finite)."""
    if p is None or not np.isfinite(p):
        return "-"
    return f"{float(p):.2g}"
