"""Anomaly detectors behind one interface: higher score means more anomalous.

Every detector subclasses :class:`BaseDetector` (scikit-learn conventions:
``fit`` / ``score_samples`` / ``predict`` / ``get_params``), sets ``threshold_`` from
``contamination`` and saves to one safetensors file without pickle (scaler, class
order and settings included). Short names for the CLI and configs: :data:`DETECTORS`.
"""

from importlib import import_module

# Detectors are imported on first use (PEP 562), so that ``import serendip.detect.active`` or
# ``serendip.detect.strategies`` does not pull in PyTorch.
_WHERE = {
    "VAE": "autoencoder",
    "Autoencoder": "autoencoder",
    "BaseDetector": "base",
    "IForest": "isolation",
    "ClassifierLatentDetector": "latent",
    "MLPClassifierNet": "latent",
    "MCIF": "mcif",
    "KNN": "neighbours",
    "LOF": "neighbours",
    "OCSVM": "ocsvm",
    "DETECTORS": "registry",
    "DetectorEntry": "registry",
    "make_detector": "registry",
    "needs_labels": "registry",
    "HierarchicalRouter": "router",
    "DeepSVDD": "svdd",
    "MultiClassDeepSVDD": "svdd",
}


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(import_module(f"serendip.detect.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'serendip.detect' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_WHERE))


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
    "DetectorEntry",
    "make_detector",
    "needs_labels",
]
