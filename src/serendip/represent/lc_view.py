"""What a light-curve panel draws for one object: points per band with errors, upper limits,
and the curve folded on its period when it is periodic (JSON-ready dicts).

Used by the HTML report and the explorer (``/api/source``). The period is the highest
peak of a Lomb-Scargle periodogram (``light_curve.Periodogram``) of the band with the most
points; the object counts as periodic when that peak's signal-to-noise is at least
:data:`PERIODIC_SNR` and the period is shorter than a third of the time span.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: periodogram peak S/N from which an object is drawn folded too
PERIODIC_SNR = 8.0
#: fewest points in a band for a period search
MIN_POINTS_PERIOD = 20


def _list(a) -> list:
    a = np.asarray(a, dtype=np.float64)
    return [None if not np.isfinite(v) else float(f"{v:.6g}") for v in a]


def best_period(lc: pd.DataFrame) -> tuple[float | None, float]:
    """``(period [days] or None, peak S/N)`` of one object's standard light curve."""
    import light_curve as lcpkg

    value = "flux" if "flux" in lc.columns else "mag"
    det = lc[~lc["is_upper_limit"]] if "is_upper_limit" in lc.columns else lc
    if det.empty:
        return None, 0.0
    band = det["band"].value_counts().index[0]
    b = det[det["band"] == band].sort_values("time")
    b = b.drop_duplicates("time")
    if len(b) < MIN_POINTS_PERIOD:
        return None, 0.0
    t = b["time"].to_numpy(np.float64)
    y = b[value].to_numpy(np.float64)
    e = b[f"{value}_err"].to_numpy(np.float64)
    per = lcpkg.Periodogram(peaks=1, max_freq_factor=10.0, fast=True)
    try:
        period, snr = per(t, y, e)
    except Exception:  # noqa: BLE001 - a curve the periodogram cannot take has no period
        return None, 0.0
    span = t[-1] - t[0]
    ok = np.isfinite(period) and snr >= PERIODIC_SNR and 0 < period < span / 3
    return (float(period) if ok else None), float(snr)


def lightcurve_view(lc: pd.DataFrame, unit: str = "uJy") -> dict:
    """Per-band points of one object's standard light curve (see
    :mod:`serendip.io.lightcurves`), its upper limits and, when periodic, its phases.

    Returns ``{"value": "flux"|"mag", "unit", "flux_type", "period_days", "period_snr",
    "bands": {band: {"t", "y", "err", "phase", "ul_t", "ul_y"}}}``; times in MJD, ``phase``
    in [0, 1) (None when not periodic), upper limits as limiting flux [uJy] (or magnitude).
    """
    value = "flux" if "flux" in lc.columns else "mag"
    period, snr = best_period(lc)
    bands = {}
    ul = (
        lc["is_upper_limit"].to_numpy(dtype=bool)
        if "is_upper_limit" in lc.columns else np.zeros(len(lc), dtype=bool)
    )  # fmt: skip
    for band in sorted(set(lc["band"].astype(str))):
        m = lc["band"].astype(str).to_numpy() == band
        d, u = lc[m & ~ul], lc[m & ul]
        t = d["time"].to_numpy(np.float64)
        lim = np.zeros(0)
        if len(u):
            lim = u["limit_flux"] if value == "flux" else 23.9 - 2.5 * np.log10(u["limit_flux"])
        bands[band] = {
            "t": _list(t),
            "y": _list(d[value]),
            "err": _list(d[f"{value}_err"]),
            "phase": _list(((t - t.min()) / period) % 1.0) if period and len(t) else None,
            "ul_t": _list(u["time"]),
            "ul_y": _list(lim) if len(u) else [],
        }
    flux_type = str(lc["flux_type"].iloc[0]) if "flux_type" in lc.columns and len(lc) else ""
    return {"value": value, "unit": unit if value == "flux" else "mag", "flux_type": flux_type,
            "period_days": period, "period_snr": snr, "bands": bands}  # fmt: skip


def plot_lightcurve_png(view: dict, title: str = "") -> bytes:
    """PNG (bytes) of :func:`lightcurve_view`'s dict: one colour per band with error bars,
    upper limits as open triangles, and a folded panel when periodic."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folded = view["period_days"] is not None
    fig, axes = plt.subplots(1, 2 if folded else 1, figsize=(7.5 if folded else 4.2, 2.6))
    axes = np.atleast_1d(axes)
    for i, (band, b) in enumerate(view["bands"].items()):
        c = f"C{i}"
        y = np.array(b["y"], dtype=float)
        err = np.array(b["err"], dtype=float)
        axes[0].errorbar(b["t"], y, err, fmt="o", ms=2.5, lw=0.6, color=c, label=band)
        if b["ul_t"]:
            axes[0].plot(b["ul_t"], b["ul_y"], "v", mfc="none", ms=3, color=c, alpha=0.6)
        if folded and b["phase"] is not None:
            ph = np.array(b["phase"], dtype=float)
            axes[1].errorbar(np.r_[ph, ph + 1], np.r_[y, y], np.r_[err, err], fmt="o", ms=2,
                             lw=0.5, color=c)  # fmt: skip
    ylab = f"{view['flux_type']} flux [{view['unit']}]" if view["value"] == "flux" else "mag"
    axes[0].set_xlabel("MJD")
    axes[0].set_ylabel(ylab)
    axes[0].legend(fontsize=7, loc="best")
    if view["value"] == "mag":
        for ax in axes:
            ax.invert_yaxis()
    if folded:
        axes[1].set_xlabel(f"phase (P = {view['period_days']:.5g} d)")
    if title:
        axes[0].set_title(title, fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return buf.getvalue()
