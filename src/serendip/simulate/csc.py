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


def toy_csc_population(
    n_src: int,
    priors: dict[str, float],
    rng: np.random.Generator,
    max_detections: int = 1,
    source_scatter: float = 0.0,
) -> pd.DataFrame:
    """A toy CSC population whose measurements degrade with few counts and off-axis.

    Each source gets a class drawn from ``priors`` ({class of :data:`TOY_CLASS_CENTRES`:
    fraction}), 1..``max_detections`` detections, an off-axis angle ``theta`` [arcmin]
    (uniform in area out to 12 arcmin) and net counts ``src_cnts_aper_b`` (log-normal, median
    60, reduced off-axis by vignetting and the wider PSF). The properties of
    :func:`toy_csc_properties` then get extra measurement noise that grows as
    ``sqrt(50 / counts)``: hardness ratios, photon index, variability probabilities and the
    band fluxes, so faint and off-axis detections are harder to classify. ``source_scatter``
    (> 0) gives every source its own offset from its class centre (hardness ratios and
    variability x ``source_scatter``, photon index x 2 ``source_scatter``), shared by its
    detections: detections of one source then resemble each other more than other sources
    of the class, as in the real catalogue (what a per-detection split leaks). Returns one row per
    detection with ``name``, ``ra``, ``dec`` [deg], ``label``, ``theta``,
    ``src_cnts_aper_b`` and the property columns.
    """
    classes = list(priors)
    p = np.array([priors[c] for c in classes], dtype=np.float64)
    cls = np.asarray(classes)[rng.choice(len(classes), size=n_src, p=p / p.sum())]
    ndet = rng.integers(1, max_detections + 1, n_src)
    lab = np.repeat(cls, ndet)
    n = len(lab)
    theta = 12.0 * np.sqrt(rng.random(n))
    counts = np.exp(rng.normal(np.log(60.0), 1.0, n)) * (1 - 0.04 * theta) / (1 + (theta / 8) ** 2)
    counts = np.maximum(counts, 3.0)
    df = pd.DataFrame(
        {
            "name": np.repeat(np.char.add("2CXO J", np.arange(n_src).astype("U7")), ndet),
            "ra": np.repeat(rng.uniform(0, 360, n_src), ndet),
            "dec": np.repeat(np.degrees(np.arcsin(rng.uniform(-1, 1, n_src))), ndet),
            "label": lab,
            "theta": theta,
            "src_cnts_aper_b": counts,
        }
    )
    props = toy_csc_properties(lab, rng)
    k = np.sqrt(50.0 / counts)
    if source_scatter > 0:
        off = np.repeat(rng.normal(0.0, source_scatter, (n_src, 3)), ndet, axis=0)
        for c in ("hard_hm", "hard_hs", "hard_ms"):
            props[c] = props[c] + off[:, 0]
        props["powlaw_gamma"] = props["powlaw_gamma"] + 2 * off[:, 1]
        for b in "bhs":
            props[f"var_prob_{b}"] = props[f"var_prob_{b}"] + off[:, 2]
    for c in ("hard_hm", "hard_hs", "hard_ms"):
        props[c] = np.clip(props[c] + 0.25 * k * rng.normal(size=n), -1, 1)
    props["powlaw_gamma"] = props["powlaw_gamma"] + 0.6 * k * rng.normal(size=n)
    for b in "bhs":
        props[f"var_prob_{b}"] = np.clip(props[f"var_prob_{b}"] + 0.25 * k * rng.normal(size=n), 0, 1)
    props["var_intra_prob_b"] = props["var_prob_b"]
    for b in "smh":
        props[f"flux_aper_{b}"] = props[f"flux_aper_{b}"] * np.exp(0.4 * k * rng.normal(size=n))
    props["significance"] = np.sqrt(counts)
    # spectral-fit and variability-amplitude columns: noisier when faint (log scale), and
    # the per-source offset as above
    src_off = (
        np.repeat(rng.normal(0.0, source_scatter, (n_src, 2)), ndet, axis=0)
        if source_scatter > 0
        else np.zeros((n, 2))
    )
    props["bb_kt"] = props["bb_kt"] * np.exp(0.5 * k * rng.normal(size=n) + 2 * src_off[:, 0])
    for b in "bhs":
        props[f"var_sigma_{b}"] = props[f"var_sigma_{b}"] * np.exp(
            1.0 * k * rng.normal(size=n) + 4 * src_off[:, 1]
        )
    amp = np.exp(1.0 * k * rng.normal(size=n) + 4 * src_off[:, 1])
    props["var_max_b"] = props["var_mean_b"] + (props["var_max_b"] - props["var_mean_b"]) * amp
    return pd.concat([df, props], axis=1)
