"""Anomaly detectors behind one interface: higher score means more anomalous.

Every detector subclasses :class:`BaseDetector` (scikit-learn conventions:
``fit`` / ``score_samples`` / ``predict`` / ``get_params``), sets ``threshold_`` from
``contamination`` and saves to one safetensors file without pickle (scaler, class
order and settings included). Short names for the CLI and configs: :data:`DETECTORS`.
"""

from serendip.detect.autoencoder import VAE, Autoencoder
from serendip.detect.base import BaseDetector
from serendip.detect.isolation import IForest
from serendip.detect.latent import ClassifierLatentDetector, MLPClassifierNet
from serendip.detect.mcif import MCIF
from serendip.detect.neighbours import KNN, LOF
from serendip.detect.ocsvm import OCSVM
from serendip.detect.registry import DETECTORS, make_detector, needs_labels
from serendip.detect.router import HierarchicalRouter
from serendip.detect.svdd import DeepSVDD, MultiClassDeepSVDD

__all__ = [
    "BaseDetector",
    "IForest",
    "OCSVM",
    "KNN",
    "LOF",
    "Autoencoder",
    "VAE",
    "DeepSVDD",
    "MultiClassDeepSVDD",
    "MCIF",
    "ClassifierLatentDetector",
    "MLPClassifierNet",
    "HierarchicalRouter",
    "DETECTORS",
    "make_detector",
    "needs_labels",
]
