"""Learned and fixed features of event files: PCA, autoencoders, DeepSets, named cases.

* :class:`PCAFeatures` - PCA on flattened maps / cubes (reference cases 2D-PCA, 3D-PCA);
* :class:`ConvAutoencoder` - the reference convolutional autoencoder on normalised E-t maps;
* :class:`DenseAutoencoder` - fully connected autoencoder on normalised E-t-dt cubes;
* :class:`DeepSetsEncoder` - permutation-invariant encoder of raw (time, energy) events;
* :func:`extract_features` / :data:`FEATURE_CASES` - one setting picks a case ("2D-PCA", "3D-PCA",
  "2D-AE", "3D-AE", "deepsets", "events", "serendip");
* :func:`load_default_encoder` - the encoders shipped in ``serendip/models``, trained on the
  simulated population by ``python -m serendip.features.train_defaults``;
* ``python -m serendip.features.compare_cases`` - recall of simulated transients under an
  isolation forest for every case (a quick check of the features alone).

All models are PyTorch (CPU) or numpy, seeded, and saved without pickle.
"""

from serendip.lazy import lazy_exports

# Imported on first use (PEP 562): the registry is light; the encoders pull in PyTorch.
_WHERE = {
    "ConvAutoencoder": "conv_ae",
    "DeepSetsEncoder": "deepsets",
    "DenseAutoencoder": "dense_ae",
    "EVENT_BLOCK": "event_block",
    "event_block": "event_block",
    "PCAFeatures": "pca",
    "FEATURE_CASES": "registry",
    "CASES": "registry",
    "DEFAULT_ENCODERS": "registry",
    "FeatureCase": "registry",
    "default_encoder_path": "registry",
    "load_default_encoder": "registry",
    "FeatureResult": "extract",
    "extract_features": "extract",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())


__all__ = [
    "CASES",
    "DEFAULT_ENCODERS",
    "EVENT_BLOCK",
    "FEATURE_CASES",
    "ConvAutoencoder",
    "DeepSetsEncoder",
    "DenseAutoencoder",
    "FeatureCase",
    "FeatureResult",
    "PCAFeatures",
    "default_encoder_path",
    "event_block",
    "extract_features",
    "load_default_encoder",
]
