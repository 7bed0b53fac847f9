"""An approximate Chandra ACIS-I response: effective area, absorption, energy resolution.

Good enough to give simulated photons realistic *relative* spectral shapes (where the
counts fall between 0.5 and 7 keV, how absorption and temperature move them); not a
calibration product and never to be used for spectral fitting.

* **Effective area** :data:`ACIS_I_AREA_KEV` / :data:`ACIS_I_AREA_CM2` - on-axis ACIS-I
  (HRMA + front-illuminated CCDs, recent cycles including the optical-blocking-filter
  contaminant), hand-tabulated at ~30 energies from the shape of the on-axis ACIS-I
  effective-area curve in the CXC *Proposers' Observatory Guide* (chapter 6, "ACIS"):
  a contamination-suppressed soft end, a ~440 cm^2 maximum near 1.5-1.8 keV, the
  Si K (1.84 keV) and Ir M (2.1 keV) edges, and the fall to ~100 cm^2 at 7 keV. Linear
  interpolation in between; we estimate it is within ~20-30 % of the real curve.
* **Photoelectric absorption** :func:`absorption_cross_section` - Morrison & McCammon
  (1983, ApJ 270, 119) piecewise-quadratic fit per hydrogen atom, solar abundances:
  ``sigma(E) = (c0 + c1 E + c2 E^2) E^-3 * 1e-24 cm^2`` with E in keV.
* **Energy resolution** :func:`resolution_sigma_ev` - Gaussian with
  ``sigma^2 = 25^2 + 0.12 * 3.65 eV * E + (0.015 E)^2`` (read noise, Fano-limited charge
  statistics and a CTI-like broadening); FWHM ~100 eV at 1.5 keV and ~250 eV at 5.9 keV,
  typical of the front-illuminated ACIS-I CCDs.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

#: default band of the whole project, eV
E_MIN_EV = 500.0
E_MAX_EV = 7000.0

#: ACIS PI channel width (eV per channel)
PI_CHANNEL_EV = 14.6

#: tabulated approximate on-axis ACIS-I effective area: energy [keV] ...
ACIS_I_AREA_KEV = np.array(
    [0.20, 0.25, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90, 1.00, 1.20, 1.50, 1.80, 1.839, 1.841, 2.00,
     2.08, 2.12, 2.30, 2.60, 3.00, 3.50, 4.00, 4.50, 5.00, 5.50, 6.00, 6.50, 7.00, 7.50, 8.00, 9.00,
     10.0, 12.0]
)  # fmt: skip
#: ... and area [cm^2]
ACIS_I_AREA_CM2 = np.array(
    [0.5, 2.0, 5.0, 20.0, 45.0, 80.0, 130.0, 190.0, 250.0, 300.0, 370.0, 430.0, 440.0, 440.0, 390.0,
     385.0, 380.0, 330.0, 320.0, 330.0, 320.0, 300.0, 270.0, 250.0, 220.0, 190.0, 165.0, 135.0, 105.0,
     80.0, 55.0, 25.0, 10.0, 2.0]
)  # fmt: skip

# Morrison & McCammon (1983) Table 2: lower edge [keV], c0, c1, c2 (last row ends at 10 keV)
_MM83 = np.array(
    [
        [0.030, 17.3, 608.1, -2150.0],
        [0.100, 34.6, 267.9, -476.1],
        [0.284, 78.1, 18.8, 4.3],
        [0.400, 71.4, 66.8, -51.4],
        [0.532, 95.5, 145.8, -61.1],
        [0.707, 308.9, -380.6, 294.0],
        [0.867, 120.6, 169.3, -47.7],
        [1.303, 141.3, 146.8, -31.5],
        [1.840, 202.7, 104.7, -17.0],
        [2.471, 342.7, 18.7, 0.0],
        [3.210, 352.2, 18.7, 0.0],
        [4.038, 433.9, -2.4, 0.75],
        [7.111, 629.0, 30.9, 0.0],
        [8.331, 701.2, 25.2, 0.0],
    ]
)


def effective_area_cm2(energy_kev: np.ndarray) -> np.ndarray:
    """Approximate on-axis ACIS-I effective area [cm^2] at ``energy_kev`` (any shape)."""
    return np.interp(energy_kev, ACIS_I_AREA_KEV, ACIS_I_AREA_CM2, left=0.0, right=0.0)


def absorption_cross_section(energy_kev: np.ndarray) -> np.ndarray:
    """Photoelectric cross-section per H atom [cm^2] (Morrison & McCammon 1983), any shape.

    Valid 0.03-10 keV; above 10 keV the last segment is extrapolated.
    """
    e = np.asarray(energy_kev, dtype=np.float64)
    k = np.clip(np.searchsorted(_MM83[:, 0], e, side="right") - 1, 0, len(_MM83) - 1)
    c0, c1, c2 = _MM83[k, 1], _MM83[k, 2], _MM83[k, 3]
    return (c0 + c1 * e + c2 * e * e) / (e * e * e) * 1e-24


def resolution_sigma_ev(energy_ev: np.ndarray) -> np.ndarray:
    """Gaussian energy resolution sigma [eV] of front-illuminated ACIS at ``energy_ev`` [eV]."""
    e = np.asarray(energy_ev, dtype=np.float64)
    return np.sqrt(25.0**2 + 0.12 * 3.65 * e + (0.015 * e) ** 2)


def band_probability(
    energy_ev: np.ndarray, e_min: float = E_MIN_EV, e_max: float = E_MAX_EV
) -> np.ndarray:
    """Probability that a photon of true energy ``energy_ev`` is measured inside [e_min, e_max)."""
    e = np.asarray(energy_ev, dtype=np.float64)
    s = resolution_sigma_ev(e)
    return ndtr((e_max - e) / s) - ndtr((e_min - e) / s)


def _truncated_inverse_cdf(
    true_ev: np.ndarray, u: np.ndarray, e_min: float, e_max: float
) -> np.ndarray:
    """Gaussian-resolution draws truncated to [e_min, e_max] by inverse CDF (precise in the tails)."""
    e = np.asarray(true_ev, dtype=np.float64)
    s = resolution_sigma_ev(e)
    a = (e_min - e) / s
    b = (e_max - e) / s
    flip = a > 0  # sample in the lower tail of whichever side is nearer: mirror when a > 0
    lo = np.where(flip, -b, a)
    hi = np.where(flip, -a, b)
    plo, phi = ndtr(lo), ndtr(hi)
    z = ndtri(plo + u * (phi - plo))
    return e + s * np.where(flip, -z, z)


def measure_energy(
    true_ev: np.ndarray, rng: np.random.Generator, e_min: float = E_MIN_EV, e_max: float = E_MAX_EV
) -> np.ndarray:
    """Measured energies [eV] of photons of ``true_ev`` [eV], *conditioned on landing in the band*.

    Exact draws from the Gaussian resolution truncated to [e_min, e_max): rejection (redraw
    only the photons that fell outside, a few rounds), then inverse CDF for any left over.
    """
    e = np.asarray(true_ev, dtype=np.float64)
    s = resolution_sigma_ev(e)
    out = e + s * rng.standard_normal(len(e))
    bad = np.flatnonzero((out < e_min) | (out >= e_max))
    for _ in range(8):
        if not len(bad):
            break
        out[bad] = e[bad] + s[bad] * rng.standard_normal(len(bad))
        bad = bad[(out[bad] < e_min) | (out[bad] >= e_max)]
    if len(bad):
        out[bad] = _truncated_inverse_cdf(e[bad], rng.random(len(bad)), e_min, e_max)
    # guard the last ulp: measured energies are strictly inside the band
    return np.clip(out, e_min, np.nextafter(e_max, e_min))


def energy_to_pi(energy_ev: np.ndarray) -> np.ndarray:
    """ACIS PI channel (int32) of ``energy_ev``: channel i covers [(i-1), i) x 14.6 eV (CIAO convention)."""
    return (np.floor(np.asarray(energy_ev, dtype=np.float64) / PI_CHANNEL_EV) + 1).astype(np.int32)
