"""A ZTF-like optical light-curve simulator with labelled classes (vectorised, seeded).

Every object is observed in g and r over a window of ``n_days`` nights with a
~3-night cadence per band, weather losses and (for some objects) a seasonal gap;
fluxes are in microJansky (AB zero point 23.9) with a noise floor set by a
limiting magnitude and a fractional calibration error. Transients explode inside
the window (forced photometry: points before explosion are noise around zero);
variables vary around a constant flux over the whole window.

Classes (:data:`CLASSES`): supernovae SNIa, SNIa-91bg, SNIax, SNII, SNIIn, SNIbc; SLSN,
TDE, kilonova (KN), PISN; RR Lyrae (RRL), Cepheid (CEP), eclipsing binary (EB),
Mira (LPV), AGN (damped random walk), CV (dwarf-nova outbursts). The classes named in
:data:`COMMON_CLASSES` (12) and :data:`ANOMALY_CLASSES` (4) give astromcad's setting.

All work is done on (n_objects, n_nights, 2) arrays per class - no per-object loop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.io.lightcurves import AB_ZEROPOINT_UJY

BANDS = ("g", "r")
#: extinction per unit E(B-V) for ZTF g, r (Schlafly & Finkbeiner 2011)
R_BAND = np.array([3.74, 2.61])

TRANSIENTS = ("SNIa", "SNIa-91bg", "SNIax", "SNII", "SNIIn", "SNIbc", "SLSN", "TDE", "KN", "PISN")
VARIABLES = ("RRL", "CEP", "EB", "LPV", "AGN", "CV")
CLASSES = TRANSIENTS + VARIABLES
COMMON_CLASSES = (
    "SNIa",
    "SNIa-91bg",
    "SNIax",
    "SNII",
    "SNIIn",
    "SNIbc",
    "RRL",
    "CEP",
    "EB",
    "LPV",
    "AGN",
    "CV",
)
ANOMALY_CLASSES = ("SLSN", "TDE", "KN", "PISN")
#: top level of the class hierarchy (for leave-one-subclass-out over branches)
HIERARCHY = {
    "transient": [
        "SNIa",
        "SNIa-91bg",
        "SNIax",
        "SNII",
        "SNIIn",
        "SNIbc",
        "SLSN",
        "TDE",
        "KN",
        "PISN",
    ],
    "periodic": ["RRL", "CEP", "EB", "LPV"],
    "stochastic": ["AGN", "CV"],
}

# transient templates: (peak abs mag, trise [d], tfall [d], g-r colour at peak [mag],
#                       g fades faster by factor, spread of peak mag)
_TRANSIENT = {
    "SNIa": (-19.3, (2.5, 4.5), (20.0, 35.0), 0.0, 1.35, 0.3),
    "SNIa-91bg": (-17.6, (2.0, 3.5), (11.0, 18.0), 0.45, 1.5, 0.3),
    "SNIax": (-17.3, (3.0, 5.0), (14.0, 25.0), 0.2, 1.4, 0.5),
    "SNIIn": (-18.6, (12.0, 30.0), (70.0, 160.0), 0.1, 1.1, 0.6),
    "SNIbc": (-17.6, (3.0, 6.0), (14.0, 24.0), 0.35, 1.4, 0.5),
    "SLSN": (-21.3, (20.0, 45.0), (50.0, 110.0), -0.25, 1.15, 0.5),
    "TDE": (-19.8, (12.0, 30.0), (35.0, 80.0), -0.45, 1.0, 0.5),
    "KN": (-16.0, (0.4, 1.0), (1.5, 3.0), 0.4, 2.5, 0.5),
    "PISN": (-20.8, (70.0, 110.0), (140.0, 260.0), 0.05, 1.05, 0.4),
}


def _lum_distance_mpc(z: np.ndarray) -> np.ndarray:
    """Luminosity distance [Mpc] in flat LCDM (H0=70, Om=0.3), by trapezoid integration."""
    zz = np.linspace(0.0, 1.0, 257)[None, :] * z[:, None]
    integrand = 1.0 / np.sqrt(0.3 * (1 + zz) ** 3 + 0.7)
    dc = (299792.458 / 70.0) * np.trapezoid(integrand, zz, axis=1)
    return (1 + z) * dc


def _abs_to_flux(abs_mag: np.ndarray, z: np.ndarray) -> np.ndarray:
    mu = 5 * np.log10(np.maximum(_lum_distance_mpc(z), 1e-6) * 1e6 / 10.0)
    return 10 ** (-0.4 * (abs_mag + mu - AB_ZEROPOINT_UJY))


def _redshift_for_peak(
    rng, abs_mag: np.ndarray, m_lo: float = 16.5, m_hi: float = 19.8
) -> np.ndarray:
    """Redshifts giving apparent peak magnitudes uniform in volume-ish within [m_lo, m_hi]."""
    zgrid = np.geomspace(1e-4, 3.0, 400)
    mu = 5 * np.log10(_lum_distance_mpc(zgrid) * 1e6 / 10.0)
    m_target = m_hi - (m_hi - m_lo) * rng.random(abs_mag.shape) ** 1.5
    return np.interp(m_target - abs_mag, mu, zgrid)


def _transient_flux(
    rng, cls: str, n: int, tt: np.ndarray, t_end: float
) -> tuple[np.ndarray, np.ndarray]:
    """(flux (n, T, 2) [uJy], redshift (n,)) for transient class ``cls`` at times ``tt`` (n, T, 2) [d]."""
    if cls == "SNII":
        return _snii_flux(rng, n, tt, t_end)
    m0, trise_r, tfall_r, col, gfast, spread = _TRANSIENT[cls]
    abs_mag = m0 + spread * rng.standard_normal(n)
    z = _redshift_for_peak(rng, abs_mag)
    t0 = rng.uniform(0.15, 0.6, n) * t_end
    trise = rng.uniform(*trise_r, n) * (1 + z)
    tfall = rng.uniform(*tfall_r, n) * (1 + z)
    out = np.empty(tt.shape)
    for b, (fall_mult, colour) in enumerate(((1.0 / gfast, col), (1.0, 0.0))):
        dt = tt[:, :, b] - t0[:, None]
        if cls == "TDE":
            # power-law decline t^-5/3 after a Gaussian rise, constant blue colour
            rise = np.exp(-0.5 * (np.minimum(dt, 0) / trise[:, None]) ** 2)
            fall = (1 + np.maximum(dt, 0) / tfall[:, None]) ** (-5.0 / 3.0)
            shape = rise * fall
        else:
            tf = tfall[:, None] * fall_mult
            x = np.clip(-dt / trise[:, None], -60, 60)
            y = np.clip(-dt / tf, -60, 60)
            shape = np.exp(y) / (1 + np.exp(x))
            xp = (
                np.log(np.maximum(tf / trise[:, None] - 1, 1e-3)) * trise[:, None]
            )  # time of maximum of the Bazin form
            peak_val = np.exp(np.clip(-xp / tf, -60, 60)) / (
                1 + np.exp(np.clip(-xp / trise[:, None], -60, 60))
            )
            shape /= peak_val
            if cls == "SNIa" and b == 1:  # secondary r-band maximum ~ 25 d after peak
                shape += 0.3 * np.exp(-0.5 * ((dt - 25 * (1 + z[:, None])) / 8.0) ** 2)
        peak = _abs_to_flux(abs_mag + colour * (b == 0), z)
        out[:, :, b] = peak[:, None] * shape * (dt > -5 * trise[:, None])
    return out, z


def _snii_flux(rng, n: int, tt: np.ndarray, t_end: float) -> tuple[np.ndarray, np.ndarray]:
    abs_mag = -17.0 + 0.6 * rng.standard_normal(n)
    z = _redshift_for_peak(rng, abs_mag)
    t0 = rng.uniform(0.1, 0.6, n) * t_end
    plateau = rng.uniform(70, 110, n) * (1 + z)
    out = np.empty(tt.shape)
    for b, (slope, colour) in enumerate(((0.012, 0.25), (0.004, 0.0))):
        dt = tt[:, :, b] - t0[:, None]
        rise = 1 / (1 + np.exp(np.clip(-dt / 2.0, -60, 60)))
        drop = 1 / (1 + np.exp(np.clip((dt - plateau[:, None]) / 4.0, -60, 60)))
        decline = 10 ** (-0.4 * slope * np.maximum(dt, 0))
        tail = (
            0.08 * np.exp(-np.maximum(dt - plateau[:, None], 0) / 110.0) * (dt > plateau[:, None])
        )
        shape = rise * (decline * drop + tail)
        out[:, :, b] = _abs_to_flux(abs_mag + colour * (b == 0), z)[:, None] * shape
    return out, z


def _phase_shape(phase: np.ndarray, cls: str, rng, n: int) -> np.ndarray:
    """Periodic profile in [0, 1] brightness units (1 = maximum light)."""
    if cls == "RRL":  # fast rise (10% of period), slow linear decline
        rise = 0.1 + 0.1 * rng.random(n)[:, None]
        return np.where(phase < rise, phase / rise, 1 - (phase - rise) / (1 - rise))
    if cls == "CEP":
        rise = 0.3 + 0.1 * rng.random(n)[:, None]
        s = np.where(phase < rise, phase / rise, 1 - (phase - rise) / (1 - rise))
        return 0.5 * (1 - np.cos(np.pi * s))
    if cls == "LPV":
        return 0.5 * (1 + np.cos(2 * np.pi * phase))
    raise ValueError(cls)


def _variable_flux(rng, cls: str, n: int, tt3: np.ndarray) -> np.ndarray:
    """Flux (n, T, 2) [uJy] of variable class ``cls`` at observation times ``tt3`` (n, T, 2) [d]
    (T nights, g and r; times are the night plus the exposure's offset in it)."""
    out = np.empty(tt3.shape)
    if cls in ("RRL", "CEP", "LPV"):
        period = {
            "RRL": np.exp(rng.uniform(np.log(0.3), np.log(0.8), n)),
            "CEP": np.exp(rng.uniform(np.log(3), np.log(40), n)),
            "LPV": rng.uniform(150, 450, n),
        }[cls]
        amp = {"RRL": (0.4, 1.1), "CEP": (0.3, 0.9), "LPV": (2.0, 5.0)}[cls]
        base = {"RRL": (15.5, 19.5), "CEP": (13.5, 18.0), "LPV": (13.0, 17.0)}[cls]
        amp_r = rng.uniform(*amp, n)
        mean_mag = rng.uniform(*base, n)
        phase0 = rng.random(n)[:, None]
        shape_rng_state = rng.integers(0, 2**31)
        colour = {"RRL": 0.25, "CEP": 0.5, "LPV": 1.5}[cls]
        for b, scale in enumerate((1.35, 1.0)):  # larger amplitude in g
            phase = ((tt3[:, :, b] / period[:, None]) + phase0) % 1.0
            prof = _phase_shape(phase, cls, np.random.default_rng(shape_rng_state), n)
            mag = mean_mag[:, None] + colour * (b == 0) - amp_r[:, None] * scale * (prof - 0.5)
            out[:, :, b] = 10 ** (-0.4 * (mag - AB_ZEROPOINT_UJY))
        return out
    if cls == "EB":
        period = np.exp(rng.uniform(np.log(0.3), np.log(8.0), n))
        depth1 = rng.uniform(0.2, 0.9, n)
        depth2 = depth1 * rng.uniform(0.05, 0.8, n)
        width = rng.uniform(0.03, 0.12, n)
        mean_mag = rng.uniform(14.5, 19.0, n)
        phase0 = rng.random(n)[:, None]
        for b in range(2):
            phase = ((tt3[:, :, b] / period[:, None]) + phase0) % 1.0
            d1 = np.minimum(phase, 1 - phase)
            d2 = np.abs(phase - 0.5)
            dip = depth1[:, None] * np.exp(-0.5 * (d1 / width[:, None]) ** 2) + depth2[
                :, None
            ] * np.exp(-0.5 * (d2 / width[:, None]) ** 2)
            mag = mean_mag[:, None] + 0.3 * (b == 0) + dip * (1.05 if b == 0 else 1.0)
            out[:, :, b] = 10 ** (-0.4 * (mag - AB_ZEROPOINT_UJY))
        return out
    if cls == "AGN":
        tau = np.exp(rng.uniform(np.log(40), np.log(400), n))
        sigma = rng.uniform(0.1, 0.35, n)
        mean_mag = rng.uniform(17.0, 19.8, n)
        n_t = tt3.shape[1]
        x = np.empty((n, n_t))
        x[:, 0] = sigma * rng.standard_normal(n)
        for k in range(n_t - 1):  # DRW recursion over nights (1 d apart), vectorised over objects
            a = np.exp(-1.0 / tau)
            x[:, k + 1] = a * x[:, k] + sigma * np.sqrt(1 - a**2) * rng.standard_normal(n)
        for b, scale in enumerate((1.3, 1.0)):  # bluer when brighter
            mag = mean_mag[:, None] + 0.25 * (b == 0) + scale * x
            out[:, :, b] = 10 ** (-0.4 * (mag - AB_ZEROPOINT_UJY))
        return out
    if cls == "CV":
        quiet = rng.uniform(18.5, 21.0, n)
        amp = rng.uniform(2.0, 4.5, n)
        recur = rng.uniform(15, 90, n)
        k_max = int(np.ceil(tt3.shape[1] / 15.0)) + 2
        starts = (
            np.cumsum(recur[:, None] * rng.uniform(0.6, 1.4, (n, k_max)), axis=1)
            - rng.uniform(0, 1, n)[:, None] * recur[:, None]
        )
        dur = rng.uniform(3, 12, (n, k_max))
        for b in range(2):
            dtk = tt3[:, :, b, None] - starts[:, None, :]
            burst = np.where(
                dtk < 0,
                np.exp(-0.5 * (dtk / 0.7) ** 2),
                np.exp(-np.maximum(dtk, 0) / dur[:, None, :]),
            ).max(axis=2)
            base = 10 ** (-0.4 * (quiet + 0.1 * (b == 0) - AB_ZEROPOINT_UJY))
            peak = 10 ** (-0.4 * (quiet - amp - 0.1 * (b == 0) - AB_ZEROPOINT_UJY))
            out[:, :, b] = base[:, None] + (peak - base)[:, None] * burst
        return out
    raise ValueError(cls)


def simulate_lightcurves(
    n_per_class: int | dict[str, int] = 100,
    classes: list[str] | tuple[str, ...] | None = None,
    *,
    seed: int = 0,
    n_days: int = 200,
    cadence_days: float = 3.0,
    limiting_mag: float = 20.5,
    season_gap_prob: float = 0.3,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate labelled ZTF-like g/r light curves.

    Parameters
    ----------
    n_per_class : objects per class, or ``{class: count}``.
    classes : class names from :data:`CLASSES` (default all, or the keys of ``n_per_class``).
    seed : random seed; the output is a deterministic function of all arguments.
    n_days : length of the observing window [days].
    cadence_days : mean interval between visits in one band [days].
    limiting_mag : 5-sigma limiting magnitude setting the flux noise floor [AB mag].
    season_gap_prob : fraction of objects whose window contains a 30-60 night gap.

    Returns
    -------
    lightcurves : standard long table (object_id, time [days], band, flux, flux_err [uJy]).
    labels : one row per object: object_id, label, redshift (0 for Galactic variables), mw_ebv [mag].
    """
    if isinstance(n_per_class, dict):
        counts = {str(k): int(v) for k, v in n_per_class.items()}
    else:
        counts = {c: int(n_per_class) for c in (classes or CLASSES)}
    unknown = sorted(set(counts) - set(CLASSES))
    if unknown:
        raise ValueError(f"unknown simulated class(es) {unknown}; choose from {list(CLASSES)}")
    rng = np.random.default_rng(seed)
    t = np.arange(n_days, dtype=np.float64)
    flux_parts, z_parts, label_parts, time_parts = [], [], [], []
    for cls, n in counts.items():
        if n <= 0:
            continue
        crng = np.random.default_rng([seed, CLASSES.index(cls)])
        # exposure times: the night, 0-0.1 d into it, r 0.15 d after g
        tt = (
            t[None, :, None]
            + crng.uniform(0, 0.1, (n, n_days, 1))
            + np.array([0.0, 0.15])[None, None, :]
        )
        time_parts.append(tt)
        if cls in TRANSIENTS:
            f, z = _transient_flux(crng, cls, n, tt, float(n_days))
        else:
            f, z = _variable_flux(crng, cls, n, tt), np.zeros(n)
        flux_parts.append(f)
        z_parts.append(z)
        label_parts.append(np.full(n, cls, dtype=object))
    flux = np.concatenate(flux_parts)
    times = np.concatenate(time_parts)
    z = np.concatenate(z_parts)
    labels = np.concatenate(label_parts)
    n_obj = flux.shape[0]
    ebv = rng.uniform(0.01, 0.25, n_obj)
    flux = flux * 10 ** (-0.4 * R_BAND[None, None, :] * ebv[:, None, None])
    # cadence: each band visited with probability 1/cadence per night, weather and season gaps
    visit = rng.random((n_obj, n_days, 2)) < 1.0 / cadence_days
    visit &= rng.random((n_obj, n_days))[:, :, None] > 0.15  # bad weather nights
    gap_start = rng.uniform(0, n_days, n_obj)
    gap_len = rng.uniform(30, 60, n_obj) * (rng.random(n_obj) < season_gap_prob)
    in_gap = (t[None, :] >= gap_start[:, None]) & (t[None, :] < (gap_start + gap_len)[:, None])
    visit &= ~in_gap[:, :, None]
    # guarantee a few visits per object so no light curve is empty
    visit[:, :: int(max(cadence_days * 5, 1)), :] |= ~in_gap[
        :, :: int(max(cadence_days * 5, 1)), None
    ]
    sigma0 = 10 ** (-0.4 * (limiting_mag - AB_ZEROPOINT_UJY)) / 5.0
    depth = rng.normal(0.0, 0.3, (n_obj, n_days, 1))  # night-to-night depth variations [mag]
    noise_floor = sigma0 * 10 ** (0.4 * depth)
    err = np.sqrt(noise_floor**2 + (0.02 * np.abs(flux)) ** 2 + sigma0 * 0.05 * np.abs(flux))
    obs = flux + err * rng.standard_normal(flux.shape)
    obj_idx, night, band = np.nonzero(visit)
    time = times[obj_idx, night, band]
    width = len(str(n_obj))
    ids = np.array([f"sim{seed}_{i:0{width}d}" for i in range(n_obj)], dtype=object)
    table = pd.DataFrame(
        {
            "object_id": ids[obj_idx],
            "time": time,
            "band": np.asarray(BANDS, dtype=object)[band],
            "flux": obs[obj_idx, night, band],
            "flux_err": err[obj_idx, night, band],
        }
    )
    table = table.sort_values(["object_id", "time"], kind="stable").reset_index(drop=True)
    table.attrs["kind"] = "flux"
    meta = pd.DataFrame(
        {"object_id": ids, "label": labels.astype(str), "redshift": z, "mw_ebv": ebv}
    )
    return table, meta


def simulate_anomaly_setting(
    n_common: int = 600, anomaly_fraction: float = 0.005, *, seed: int = 0, **kwargs
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """astromcad's setting: ``n_common`` objects of each of the 12 :data:`COMMON_CLASSES` and the
    :data:`ANOMALY_CLASSES` together making ``anomaly_fraction`` of all objects (split evenly)."""
    n_total_common = n_common * len(COMMON_CLASSES)
    n_anom = max(
        len(ANOMALY_CLASSES), int(round(anomaly_fraction * n_total_common / (1 - anomaly_fraction)))
    )
    counts = {c: n_common for c in COMMON_CLASSES}
    for i, c in enumerate(ANOMALY_CLASSES):
        counts[c] = n_anom // len(ANOMALY_CLASSES) + (i < n_anom % len(ANOMALY_CLASSES))
    return simulate_lightcurves(counts, seed=seed, **kwargs)
