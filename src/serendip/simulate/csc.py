"""Toy Chandra-Source-Catalog-like properties for three source classes.

Not a physical model: each class has a centre in (hardness, photon index, variability) and
the CSC property columns that :mod:`serendip.classify` reads are drawn around it. Enough for
tests and demonstrations of the classification and catalogue views without the real CSC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: class -> (hardness ratio centre, power-law photon index, variability in [0, 1])
TOY_CLASS_CENTRES = {"AGN": (0.3, 1.7, 0.05), "XRB": (0.0, 1.0, 0.5), "YSO": (-0.5, 3.0, 0.9)}


def toy_csc_properties(labels: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """CSC property columns (hardness ratios, spectral fits, variability, aperture fluxes
    [erg cm^-2 s^-1], significance) for detections of the classes ``labels`` ((n,) str, keys of
    :data:`TOY_CLASS_CENTRES`). Returns an (n, 20) frame; identifiers and positions are the
    caller's."""
    labels = np.asarray(labels)
    n = len(labels)
    h, g, v = (np.array([TOY_CLASS_CENTRES[k][j] for k in labels]) for j in range(3))
    df = pd.DataFrame(index=range(n))
    df["hard_hm"] = np.clip(h + 0.12 * rng.normal(size=n), -1, 1)
    df["hard_hs"] = np.clip(h + 0.1 + 0.12 * rng.normal(size=n), -1, 1)
    df["hard_ms"] = np.clip(h - 0.1 + 0.12 * rng.normal(size=n), -1, 1)
    df["powlaw_gamma"] = g + 0.3 * rng.normal(size=n)
    df["bb_kt"] = np.exp(rng.normal(np.log(0.3 + g / 3), 0.3))
    for band in "bhs":
        df[f"var_prob_{band}"] = np.clip(v + 0.1 * rng.normal(size=n), 0, 1)
        df[f"var_mean_{band}"] = np.exp(rng.normal(-3, 0.5, n))
        df[f"var_sigma_{band}"] = df[f"var_mean_{band}"] * np.exp(rng.normal(np.log(0.05 + v), 0.3))
    df["var_min_b"] = df["var_mean_b"] * (1 - 0.5 * v)
    df["var_max_b"] = df["var_mean_b"] * (1 + 2.0 * v)
    df["flux_aper_s"] = 1e-14 * (1 - h) * np.exp(rng.normal(0, 0.2, n))
    df["flux_aper_m"] = 1e-14 * np.exp(rng.normal(0, 0.2, n))
    df["flux_aper_h"] = 1e-14 * (1 + h) * np.exp(rng.normal(0, 0.2, n))
    df["significance"] = np.exp(rng.normal(2, 0.5, n))
    df["var_intra_prob_b"] = df["var_prob_b"]
    return df
