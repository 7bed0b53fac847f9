"""The detectors: the one place that names them, for the CLI, configurations, evaluation and
model files.

Each :class:`DetectorEntry` holds the short name used in configurations and on the command
line, the class (as an import path, so this module imports neither PyTorch nor
scikit-learn), the ``kind`` written into saved model files, whether fitting needs known-class
labels, and the settings applied over the class's own defaults when the detector is built by
name. Private base classes (``_DeepDetector``, ``ScaledDetector``) are not detectors and are
never listed.

To add a detector: write the class (subclass :class:`serendip.detect.base.BaseDetector` or
``serendip.detect._common.ScaledDetector``), then append one :class:`DetectorEntry` to
:data:`DETECTORS` and one name to ``serendip.detect._WHERE``; see CONTRIBUTING.md.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from serendip.errors import InputError
from serendip.registry import Registry, import_object


@dataclass(frozen=True)
class DetectorEntry:
    """One anomaly detector.

    Attributes
    ----------
    name : short name ("iforest"), case-insensitive in look-ups.
    class_path : ``"module:Class"`` of the detector class (imported on :meth:`load_class`).
    kind : identifier written into the detector's model files ("detect.IForest").
    needs_labels : whether ``fit(X, y)`` needs known-class labels ``y``.
    torch : whether the detector needs PyTorch.
    description : one line for help texts and docs.
    defaults : settings applied over the class's defaults when built by name.
    """

    name: str
    class_path: str
    kind: str
    needs_labels: bool
    torch: bool
    description: str
    defaults: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    @property
    def class_name(self) -> str:
        """The class's name, e.g. "IForest"."""
        return self.class_path.rpartition(":")[2]

    def load_class(self) -> type:
        """The detector class (imports its module)."""
        return import_object(self.class_path)

    def params(self) -> dict[str, Any]:
        """Every constructor setting with its default (the entry's ``defaults`` applied)."""
        sig = inspect.signature(self.load_class().__init__)
        out = {
            k: p.default
            for k, p in sig.parameters.items()
            if k != "self" and p.default is not inspect.Parameter.empty
        }
        out.update(self.defaults)
        return out

    def make(self, **params: Any):
        """A new, unfitted detector with ``params`` over the entry's defaults."""
        klass = self.load_class()
        try:
            return klass(**{**self.defaults, **params})
        except TypeError as exc:
            raise InputError(None, f"bad settings for detector {self.name!r}: {exc}") from exc


def _entry(name, module, cls, kind, labels, torch, text) -> DetectorEntry:
    return DetectorEntry(name, f"serendip.detect.{module}:{cls}", kind, labels, torch, text)


#: Every detector, by short name.
DETECTORS: Registry[DetectorEntry] = Registry(
    "detector",
    [
        _entry("iforest", "isolation", "IForest", "detect.IForest", False, False,
               "isolation forest (Liu et al. 2008), pickle-free trees"),
        _entry("ocsvm", "ocsvm", "OCSVM", "detect.OCSVM", False, False,
               "one-class SVM, RBF kernel"),
        _entry("knn", "neighbours", "KNN", "detect.KNN", False, False,
               "distance to the k-th nearest training neighbour"),
        _entry("lof", "neighbours", "LOF", "detect.LOF", False, False,
               "local outlier factor"),
        _entry("mahalanobis", "gauss", "Mahalanobis", "detect.Mahalanobis", False, False,
               "Gaussian density: squared Mahalanobis distance from the mean"),
        _entry("ae", "autoencoder", "Autoencoder", "detect.Autoencoder", False, True,
               "autoencoder reconstruction error"),
        _entry("vae", "autoencoder", "VAE", "detect.VAE", False, True,
               "variational autoencoder, negative ELBO"),
        _entry("deepsvdd", "svdd", "DeepSVDD", "detect.DeepSVDD", False, True,
               "Deep SVDD: distance to a learned centre"),
        _entry("mcdsvdd", "svdd", "MultiClassDeepSVDD", "detect.MultiClassDeepSVDD", True, True,
               "multi-class Deep SVDD: one centre per known class"),
        _entry("mcif", "mcif", "MCIF", "detect.MCIF", True, False,
               "multi-class isolation forest: one forest per known class"),
        _entry("latent", "latent", "ClassifierLatentDetector", "detect.ClassifierLatent", True,
               True, "detector in the latent space of a class classifier"),
        _entry("router", "router", "HierarchicalRouter", "detect.HierarchicalRouter", True, True,
               "ALeRCE-style router: a classifier picks a per-branch detector"),
    ],
)  # fmt: skip


def make_detector(name: str, **params: Any):
    """A new detector from its short name (see :data:`DETECTORS`) and keyword settings.

    Raises :class:`serendip.registry.UnknownNameError` (an InputError) for an unknown name,
    listing the names, and :class:`InputError` for settings the class does not take.
    """
    return DETECTORS[str(name)].make(**params)


def needs_labels(name: str) -> bool:
    """True when the named detector must be fitted with known-class labels."""
    return DETECTORS[str(name)].needs_labels


def load_detector(path):
    """A detector saved with ``det.save(path)``, of any kind in :data:`DETECTORS` (no pickle).

    Raises :class:`serendip.errors.ModelFileError` naming the file when it is not a detector.
    """
    from serendip.detect.base import BaseDetector

    return BaseDetector.load(path)


def detector_class_by_kind(kind: str) -> type | None:
    """The detector class whose model files carry ``kind`` ("detect.IForest"), or None."""
    for entry in DETECTORS.values():
        if entry.kind == kind:
            return entry.load_class()
    return None
