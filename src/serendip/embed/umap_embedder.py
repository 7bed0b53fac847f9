"""UMAP embedding (umap-learn), scikit-learn style, saved without pickle.

UMAP keeps a nearest-neighbour search index of the training files to place new ones.
Instead of pickling it, the saved model holds the (scaled) training features, the
embedding and the settings; on load the neighbour graph and search index are rebuilt
deterministically from the training features (same ``random_state``) with zero
optimisation epochs, and the stored embedding is put back, so ``transform`` after
loading gives the same coordinates as before saving.
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np

from serendip.embed._base import BaseEmbedder


class UMAPEmbedder(BaseEmbedder):
    """UMAP embedding of a feature matrix.

    Parameters
    ----------
    n_components : output dimensions.
    n_neighbors : size of the local neighbourhood (15).
    min_dist : minimum distance of points in the embedding (0.1).
    metric : distance in feature space.
    n_epochs : optimisation epochs (``None`` = umap's default: 200 for large, 500 for small data).
    init : ``"spectral"`` or ``"random"``.
    random_state : seed; with a seed umap runs single-threaded and is reproducible.
    standardize : scale every feature to zero mean and unit variance first.
    """

    kind: ClassVar[str] = "embed.UMAP"

    def __init__(
        self,
        n_components: int = 2,
        n_neighbors: int = 15,
        min_dist: float = 0.1,
        metric: str = "euclidean",
        n_epochs: int | None = None,
        init: str = "spectral",
        random_state: int | None = 505,
        standardize: bool = False,
    ):
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.metric = metric
        self.n_epochs = n_epochs
        self.init = init
        self.random_state = random_state
        self.standardize = standardize

    def _umap(self, **overrides):
        import umap

        n_neighbors = int(min(self.n_neighbors, self.train_features_.shape[0] - 1))
        if n_neighbors < self.n_neighbors and not overrides:  # counted, never silent
            from serendip.notices import notice

            notice(
                "embed",
                "n_neighbors_lowered",
                f"UMAP n_neighbors {self.n_neighbors} lowered to {n_neighbors} = n - 1 for "
                f"{self.train_features_.shape[0]} points",
            )
        params = {
            "n_components": self.n_components,
            "n_neighbors": n_neighbors,
            "min_dist": self.min_dist,
            "metric": self.metric,
            "n_epochs": self.n_epochs,
            "init": self.init,
            "random_state": self.random_state,
            "n_jobs": 1 if self.random_state is not None else -1,
        }
        params.update(overrides)
        return umap.UMAP(**params)

    def _fit_embed(self, Xs: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._model = self._umap().fit(Xs)
        return np.asarray(self._model.embedding_, dtype=np.float64)

    def _restore(self) -> None:
        # rebuild graph + search index with no optimisation, then restore the embedding
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = self._umap(init=self.embedding_.astype(np.float32), n_epochs=0).fit(
                self.train_features_
            )
        model.embedding_ = self.embedding_.astype(np.float32)
        model.n_epochs = self.n_epochs
        self._model = model

    def _transform(self, Xs: np.ndarray) -> np.ndarray:
        if not hasattr(self, "_model"):
            self._restore()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(self._model.transform(Xs), dtype=np.float64)
