"""Learned and fixed features of event files: PCA, autoencoders, DeepSets, named cases.

* :class:`PCAFeatures` - PCA on flattened maps / cubes (reference cases 2D-PCA, 3D-PCA);
* :class:`ConvAutoencoder` - the reference convolutional autoencoder on normalised E-t maps;
* :class:`DenseAutoencoder` - fully connected autoencoder on normalised E-t-dt cubes;
* :class:`DeepSetsEncoder` - permutation-invariant encoder of raw (time, energy) events;
* :func:`extract_features` / :data:`CASES` - one setting picks a case ("2D-PCA", "3D-PCA",
  "2D-AE", "3D-AE", "deepsets", "events", "serendip");
* :func:`load_default_encoder` - the encoders shipped in ``serendip/models``, trained on the
  simulated population by ``python -m serendip.features.train_defaults``;
* ``python -m serendip.features.compare_cases`` - recall of simulated transients under an
  isolation forest for every case (a quick check of the features alone).

All models are PyTorch (CPU) or numpy, seeded, and saved without pickle.
"""

from serendip.features.conv_ae import ConvAutoencoder
from serendip.features.deepsets import DeepSetsEncoder
from serendip.features.dense_ae import DenseAutoencoder
from serendip.features.event_block import EVENT_BLOCK, event_block
from serendip.features.pca import PCAFeatures
from serendip.features.registry import (
    CASES,
    DEFAULT_ENCODERS,
    FeatureCase,
    FeatureResult,
    default_encoder_path,
    extract_features,
    load_default_encoder,
)

__all__ = [
    "CASES",
    "DEFAULT_ENCODERS",
    "EVENT_BLOCK",
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
