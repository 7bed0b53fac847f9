"""Source spectra folded through the ACIS-I response, and fast per-photon energy draws.

Every simulated spectrum is one *row*: the probability, over a fixed grid of true photon
energies (:data:`GRID_EDGES_KEV`, 256 log-spaced bins 0.25-9 keV), that a detected photon
measured inside the band has that true energy. A row is

    photon spectrum x effective area x exp(-N_H sigma(E)) x P(measured in band | E)

normalised to a cumulative distribution. Rows are built vectorised per spectral template
(loop over the three templates only) and photons are drawn for all rows at once with a
single ``np.searchsorted`` on the row-offset CDFs.

Templates (photon density in ph / keV, arbitrary normalisation):

* ``powerlaw``: ``E^-gamma``;
* ``blackbody``: ``E^2 / (exp(E/kT) - 1)``;
* ``thermal``: a thermal-plasma-like spectrum, bremsstrahlung continuum
  ``E^-1.4 exp(-E/kT)`` (Gaunt factor ~ (E/kT)^-0.4) plus Gaussian line blends with
  kT-dependent equivalent widths (O VII/VIII 0.62 keV, Fe L 0.95 keV, Si 1.9 keV,
  S 2.45 keV, Fe K 6.7 keV), a rough stand-in for a solar-abundance APEC model.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from serendip.simulate._kernels import sample_bins
from serendip.simulate.response import (
    E_MAX_EV,
    E_MIN_EV,
    absorption_cross_section,
    band_probability,
    effective_area_cm2,
    measure_energy,
)

#: spectral template names, in code order (``spectral_model`` column)
SPECTRAL_MODELS = ("powerlaw", "blackbody", "thermal")

#: true-energy grid [keV]: 257 edges, 256 bins
GRID_EDGES_KEV = np.geomspace(0.25, 9.0, 257)
GRID_LO_KEV = GRID_EDGES_KEV[:-1]
GRID_WIDTH_KEV = np.diff(GRID_EDGES_KEV)
GRID_CENTRE_KEV = np.sqrt(GRID_EDGES_KEV[:-1] * GRID_EDGES_KEV[1:])
N_GRID = len(GRID_CENTRE_KEV)

#: absorption cross-section per H atom on the grid [cm^2]
GRID_SIGMA_CM2 = absorption_cross_section(GRID_CENTRE_KEV)
_GRID_AREA = effective_area_cm2(GRID_CENTRE_KEV)

# thermal line blends: centre [keV], intrinsic sigma [keV], peak EW [keV], kT of peak [keV], width in ln kT
_LINES = np.array(
    [
        [0.62, 0.04, 0.30, 0.30, 0.5],
        [0.95, 0.10, 1.20, 0.80, 0.5],
        [1.90, 0.04, 0.12, 1.00, 0.6],
        [2.45, 0.04, 0.08, 1.50, 0.6],
        [6.70, 0.03, 0.60, 4.50, 0.6],
    ]
)


def _powerlaw(gamma: np.ndarray) -> np.ndarray:
    """Photons per bin, (n, N_GRID), for photon indices ``gamma`` (n,)."""
    return GRID_CENTRE_KEV[None, :] ** (-gamma[:, None]) * GRID_WIDTH_KEV[None, :]


def _blackbody(kt: np.ndarray) -> np.ndarray:
    """Photons per bin, (n, N_GRID), for blackbody temperatures ``kt`` [keV] (n,)."""
    x = np.minimum(GRID_CENTRE_KEV[None, :] / kt[:, None], 700.0)
    return GRID_CENTRE_KEV[None, :] ** 2 / np.expm1(x) * GRID_WIDTH_KEV[None, :]


def _thermal(kt: np.ndarray) -> np.ndarray:
    """Photons per bin, (n, N_GRID): bremsstrahlung-like continuum plus line blends."""
    e = GRID_CENTRE_KEV[None, :]
    kt2 = kt[:, None]
    cont = lambda en: en ** (-1.4) * np.exp(-np.minimum(en / kt2, 700.0))  # noqa: E731
    out = cont(e) * GRID_WIDTH_KEV[None, :]
    lo, hi = GRID_EDGES_KEV[:-1][None, :], GRID_EDGES_KEV[1:][None, :]
    for centre, sig, ew_peak, kt_peak, width in _LINES:
        ew = ew_peak * np.exp(-0.5 * ((np.log(kt2) - np.log(kt_peak)) / width) ** 2)
        frac = ndtr((hi - centre) / sig) - ndtr((lo - centre) / sig)  # (1, G) line profile per bin
        out = out + ew * cont(np.array(centre)) * frac
    return out


def spectral_rows(
    model: np.ndarray,
    gamma: np.ndarray,
    kt: np.ndarray,
    nh: np.ndarray,
    e_min: float = E_MIN_EV,
    e_max: float = E_MAX_EV,
) -> np.ndarray:
    """Detected in-band true-energy distributions, (n, N_GRID) float64 rows summing to 1.

    Parameters
    ----------
    model : (n,) int - index into :data:`SPECTRAL_MODELS`.
    gamma : (n,) float - photon index (power law; ignored otherwise).
    kt : (n,) float - temperature [keV] (blackbody, thermal; ignored for power law).
    nh : (n,) float - absorbing column [cm^-2].
    e_min, e_max : band of measured energies [eV].
    """
    model = np.asarray(model, dtype=np.int64)
    n = len(model)
    gamma = np.asarray(gamma, dtype=np.float64)
    kt = np.asarray(kt, dtype=np.float64)
    nh = np.asarray(nh, dtype=np.float64)
    out = np.empty((n, N_GRID), dtype=np.float64)
    for code, fn, par in ((0, _powerlaw, gamma), (1, _blackbody, kt), (2, _thermal, kt)):
        sel = np.flatnonzero(model == code)
        if len(sel):
            out[sel] = fn(par[sel])
    band = band_probability(GRID_CENTRE_KEV * 1000.0, e_min, e_max)
    out *= (_GRID_AREA * band)[None, :]
    out *= np.exp(-nh[:, None] * GRID_SIGMA_CM2[None, :])
    total = out.sum(axis=1, keepdims=True)
    if np.any(~(total > 0)):
        raise ValueError("a spectrum has no detectable photons in the band (check kT / N_H)")
    out /= total
    return out


def to_cdf(prob: np.ndarray) -> np.ndarray:
    """Row-wise cumulative distributions of ``prob`` (n, G), last column exactly 1."""
    cdf = np.cumsum(prob, axis=1)
    cdf /= cdf[:, -1:]
    cdf[:, -1] = 1.0
    return cdf


def sample_energies(
    cdf: np.ndarray,
    rows: np.ndarray,
    rng: np.random.Generator,
    e_min: float = E_MIN_EV,
    e_max: float = E_MAX_EV,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one photon per entry of ``rows`` from the spectra ``cdf`` (R, G).

    Returns ``(true_ev, measured_ev)``, both (n,) float64: the true energy (uniform inside
    the chosen grid bin) and the measured energy (Gaussian resolution truncated to the
    band, so every photon is in band). The bin search is one numba kernel over all photons.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return np.zeros(0), np.zeros(0)
    k = sample_bins(np.ascontiguousarray(cdf, dtype=np.float64), rows, rng.random(len(rows)))
    true_ev = (GRID_LO_KEV[k] + rng.random(len(rows)) * GRID_WIDTH_KEV[k]) * 1000.0
    return true_ev, measure_energy(true_ev, rng, e_min, e_max)


def transmission(prob: np.ndarray, nh_extra: np.ndarray) -> np.ndarray:
    """Fraction of a row's in-band photons that survive an extra column ``nh_extra`` [cm^-2].

    ``prob`` (n, G) rows from :func:`spectral_rows`; ``nh_extra`` (n,) or (n, m) -> (n,) or (n, m).
    """
    nh_extra = np.asarray(nh_extra, dtype=np.float64)
    if nh_extra.ndim == 1:
        return np.einsum("ng,ng->n", prob, np.exp(-nh_extra[:, None] * GRID_SIGMA_CM2[None, :]))
    att = np.exp(-nh_extra[:, :, None] * GRID_SIGMA_CM2[None, None, :])  # (n, m, G)
    return np.matmul(att, prob[:, :, None])[:, :, 0]
