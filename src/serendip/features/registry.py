"""The feature cases and the shipped default encoders: the one place that defines them.

One setting (``features.case`` in a run configuration, ``case=`` in
:func:`serendip.features.extract_features`) picks how files become feature vectors:

===========  ===================================  ==========================================
case         input                                extractor
===========  ===================================  ==========================================
2D-PCA       E-t maps (24 x 16)                   PCA, 15 components, fitted on the data
3D-PCA       E-t-dt cubes (24 x 16 x 16)          PCA, 22 components, fitted on the data
2D-AE        E-t maps, squashed to (0, 1)         convolutional autoencoder, 12 latent
3D-AE        E-t-dt cubes, squashed to (0, 1)     fully connected autoencoder, 24 latent
deepsets     raw events (time, energy)            DeepSets encoder, 16 (standardised)
events       per-file event features              fixed transform (``event_block``), 16
serendip     raw events                           DeepSets 16 + event block 16 (32 columns)
===========  ===================================  ==========================================

The first four are the reference cases of Dillmann et al. (2024). Their maps and cubes are by
default made count-aware (``maps="deviance"``, :data:`MAP_MODES`: each cell's signed Poisson
deviance from a constant rate, in time bins adapted to the file's counts, see
:mod:`serendip.represent.deviance`); ``maps="reference"`` gives the reference's raw counts
(PCA) or per-file min-max normalised maps (autoencoders), whose anomaly scores rank faint
noisy or bright files rather than transients (BENCHMARKS.md, issue 16). This module imports nothing
heavy (no PyTorch, no pandas), so configuration validation and CLI help read it instantly;
an encoder class is imported only when :meth:`EncoderEntry.load_class` is called.

To add a feature case, append a :class:`FeatureCase` to :data:`FEATURE_CASES` (and, for a new
extractor, a branch in :func:`serendip.features.extract.extract_features`); see CONTRIBUTING.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from serendip.errors import InputError, ModelFileError
from serendip.registry import Registry, import_object

#: How the map and cube cases make their input count-aware (``features.maps`` in a run
#: configuration, ``maps=`` in :func:`serendip.features.extract_features`).
MAP_MODES = {
    "deviance": "signed Poisson deviance from a constant rate, time bins adapted to each "
    "file's counts (serendip.represent.deviance); the default",
    "reference": "the reference's input: raw counts (PCA cases) or per-file min-max "
    "normalised counts (autoencoder cases)",
}

#: representation name -> what the extractor reads
REPRESENTATIONS = {
    "et": "E-t maps (n, 24, 16)",
    "etdt": "E-t-dt cubes (n, 24, 16, 16)",
    "events": "raw events (time [s], energy [eV]) and per-file event features",
}


@dataclass(frozen=True)
class FeatureCase:
    """How one named case turns files into features.

    Attributes
    ----------
    name : the case's name ("2D-PCA", ...).
    representation : "et", "etdt" or "events" (see :data:`REPRESENTATIONS`).
    normalize : whether maps / cubes are normalised before the extractor.
    extractor : "pca", "conv_ae", "dense_ae", "deepsets", "events" or "serendip".
    n_components : PCA components or latent size (None for the fixed event block).
    default_model : name in :data:`DEFAULT_ENCODERS` of the shipped model, or None.
    description : one line for help texts and docs.
    deviance_model : the shipped model for ``maps="deviance"`` input (see
        :data:`MAP_MODES`), or None (PCA cases fit on the data; event cases have no maps).
    detectors : the anomaly detectors (names in :data:`serendip.detect.DETECTORS`) and
        scores of the representation (``map_deviance``: mean squared count-aware deviance of
        the map, its distance from a constant source) whose calibrated ranks are averaged
        into the case's anomaly score when the run's ``candidates.anomaly`` is "auto" (the
        default). Chosen per case as the best mean recall of the simulated transients on
        validation seeds 100-102 only (never the test seeds), among iforest, mahalanobis,
        knn, map_deviance and their rank means:
        ``python benchmarks/bench_anomaly_only.py --validate`` (BENCHMARKS.md). For 2D-AE
        the autoencoder's latents added nothing on validation data, so its rule is the map
        score alone.
    """

    name: str
    representation: str
    normalize: bool
    extractor: str
    n_components: int | None
    default_model: str | None
    description: str
    deviance_model: str | None = None
    detectors: tuple[str, ...] = ("iforest",)

    def columns(self, n_components: int | None = None) -> list[str]:
        """Names of the feature columns this case produces (``n_components`` overrides the
        PCA size), in the order of :attr:`serendip.features.FeatureResult.columns`."""
        k = int(n_components or self.n_components or 0)
        if self.extractor == "pca":
            return [f"pca_{i:02d}" for i in range(k)]
        if self.extractor in ("conv_ae", "dense_ae"):
            return [f"ae_{i:02d}" for i in range(k)]
        cols = []
        if self.extractor in ("deepsets", "serendip"):
            cols += [f"ds_{i:02d}" for i in range(16 if self.extractor == "serendip" else k)]
        if self.extractor in ("events", "serendip"):
            from serendip.features.event_block import EVENT_BLOCK

            cols += list(EVENT_BLOCK)
        return cols

    @property
    def n_columns(self) -> int:
        """Number of feature columns (default settings)."""
        return len(self.columns())


#: Every feature case, by name (case-insensitive look-up; unknown names list the choices).
FEATURE_CASES: Registry[FeatureCase] = Registry(
    "feature case",
    [
        FeatureCase(
            "2D-PCA", "et", False, "pca", 15, "et_pca", "E-t maps, PCA 15 components",
            detectors=("mahalanobis", "map_deviance"),
        ),
        FeatureCase(
            "3D-PCA", "etdt", False, "pca", 22, "etdt_pca", "E-t-dt cubes, PCA 22 components",
            detectors=("mahalanobis", "map_deviance"),
        ),
        FeatureCase(
            "2D-AE", "et", True, "conv_ae", 12, "et_conv_ae",
            "E-t maps, convolutional autoencoder 12", "et_conv_ae_dev", ("map_deviance",),
        ),
        FeatureCase(
            "3D-AE", "etdt", True, "dense_ae", 24, "etdt_dense_ae",
            "E-t-dt cubes, dense autoencoder 24", "etdt_dense_ae_dev",
            ("iforest", "mahalanobis", "knn", "map_deviance"),
        ),
        FeatureCase(
            "deepsets", "events", False, "deepsets", 16, "deepsets",
            "raw events, DeepSets encoder 16", detectors=("knn",),
        ),
        FeatureCase(
            "events", "events", False, "events", None, None,
            "per-file event features, fixed transform (16 columns)",
        ),
        FeatureCase(
            "serendip", "events", False, "serendip", None, "deepsets",
            "DeepSets 16 + event features 16 (32 columns)", detectors=("iforest", "knn"),
        ),
    ],
)  # fmt: skip

#: the same registry under its older name
CASES = FEATURE_CASES


@dataclass(frozen=True)
class EncoderEntry:
    """A default encoder shipped in ``serendip/models``.

    Attributes
    ----------
    name : registry name ("et_conv_ae", ...).
    class_path : ``"module:Class"`` of the estimator (imported on :meth:`load_class`).
    filename : file in ``serendip/models``.
    description : one line.
    """

    name: str
    class_path: str
    filename: str
    description: str = ""

    def load_class(self) -> type:
        """The estimator class (imports it, and PyTorch for the neural encoders)."""
        return import_object(self.class_path)


#: Shipped default encoders, by name.
DEFAULT_ENCODERS: Registry[EncoderEntry] = Registry(
    "default encoder",
    [
        EncoderEntry("et_conv_ae", "serendip.features.conv_ae:ConvAutoencoder",
                     "et_conv_ae.safetensors", "2D-AE encoder, reference (min-max) maps"),
        EncoderEntry("etdt_dense_ae", "serendip.features.dense_ae:DenseAutoencoder",
                     "etdt_dense_ae.safetensors", "3D-AE encoder, reference (min-max) cubes"),
        EncoderEntry("et_conv_ae_dev", "serendip.features.conv_ae:ConvAutoencoder",
                     "et_conv_ae_dev.safetensors", "2D-AE encoder, deviance maps (squashed)"),
        EncoderEntry("etdt_dense_ae_dev", "serendip.features.dense_ae:DenseAutoencoder",
                     "etdt_dense_ae_dev.safetensors", "3D-AE encoder, deviance cubes (squashed)"),
        EncoderEntry("deepsets", "serendip.features.deepsets:DeepSetsEncoder",
                     "deepsets.safetensors", "DeepSets encoder of raw events"),
        EncoderEntry("et_pca", "serendip.features.pca:PCAFeatures",
                     "et_pca15.safetensors", "2D-PCA, 15 components"),
        EncoderEntry("etdt_pca", "serendip.features.pca:PCAFeatures",
                     "etdt_pca22.safetensors", "3D-PCA, 22 components"),
    ],
)  # fmt: skip


def default_encoder_path(name: str) -> Path:
    """Path of the shipped default encoder ``name`` (see :data:`DEFAULT_ENCODERS`)."""
    from serendip.paths import models_dir

    return models_dir() / DEFAULT_ENCODERS[name].filename


def load_default_encoder(name: str):
    """Load a default encoder shipped with serendip, e.g. ``load_default_encoder("et_conv_ae")``.

    Raises :class:`ModelFileError` when the file is missing (regenerate the defaults with
    ``python -m serendip.features.train_defaults``) or damaged, and :class:`InputError` for
    an unknown name.
    """
    if name not in DEFAULT_ENCODERS:
        raise InputError(
            None, f"unknown default encoder {name!r}; known: {sorted(DEFAULT_ENCODERS)}"
        )
    path = default_encoder_path(name)
    if not path.is_file():
        raise ModelFileError(
            path, "default encoder not found; run `python -m serendip.features.train_defaults`"
        )
    return DEFAULT_ENCODERS[name].load_class().load(path)
