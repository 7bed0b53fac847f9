"""Detector names used by the CLI, configuration files and the evaluation harness."""

from __future__ import annotations

from typing import Any

from serendip.detect.autoencoder import VAE, Autoencoder
from serendip.detect.base import BaseDetector
from serendip.detect.isolation import IForest
from serendip.detect.latent import ClassifierLatentDetector
from serendip.detect.mcif import MCIF
from serendip.detect.neighbours import KNN, LOF
from serendip.detect.ocsvm import OCSVM
from serendip.detect.router import HierarchicalRouter
from serendip.detect.svdd import DeepSVDD, MultiClassDeepSVDD
from serendip.errors import InputError

#: short name -> detector class
DETECTORS: dict[str, type[BaseDetector]] = {
    "iforest": IForest,
    "ocsvm": OCSVM,
    "knn": KNN,
    "lof": LOF,
    "ae": Autoencoder,
    "vae": VAE,
    "deepsvdd": DeepSVDD,
    "mcdsvdd": MultiClassDeepSVDD,
    "mcif": MCIF,
    "latent": ClassifierLatentDetector,
    "router": HierarchicalRouter,
}


def make_detector(name: str, **params: Any) -> BaseDetector:
    """A new detector from its short name (see :data:`DETECTORS`) and keyword settings."""
    klass = DETECTORS.get(str(name).lower())
    if klass is None:
        raise InputError(None, f"unknown detector {name!r}; choose from {sorted(DETECTORS)}")
    try:
        return klass(**params)
    except TypeError as exc:
        raise InputError(None, f"bad settings for detector {name!r}: {exc}") from exc


def needs_labels(name: str) -> bool:
    """True when the named detector must be fitted with known-class labels."""
    klass = DETECTORS.get(str(name).lower())
    return bool(getattr(klass, "needs_labels", False))
