"""t-SNE embedding with openTSNE (FFT-accelerated interpolation, Linderman et al. 2019).

The reference pipeline (Dillmann et al. 2025) used scikit-learn's exact-gradient
Barnes-Hut t-SNE with perplexity 50, learning rate 100, 1000 iterations, early
exaggeration 1, random initialisation and seed 505 (:meth:`TSNEEmbedder.reference`).
openTSNE computes the same objective with FFT-accelerated gradients, which scale to
10^5 - 10^6 files, and can place *new* files into an existing embedding by optimising
only their positions against the fixed reference points.

New-file placement (``transform``) uses exact nearest neighbours of the new files among
the training files (scikit-learn), their perplexity-based affinities and openTSNE's
partial-embedding optimiser. It depends only on the training features and the
embedding, so a saved and reloaded embedder places new files exactly as the original.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np
import openTSNE
import scipy.sparse as sp
from openTSNE import TSNEEmbedding
from openTSNE.affinity import Affinities, joint_probabilities_nn

from serendip.embed._base import BaseEmbedder

#: the reference pipeline's t-SNE settings (scikit-learn conventions)
REFERENCE_TSNE: dict[str, Any] = {
    "perplexity": 50.0,
    "learning_rate": 100.0,
    "n_iter": 1000,
    "early_exaggeration": 1.0,
    "init": "random",
    "random_state": 505,
}


class TSNEEmbedder(BaseEmbedder):
    """openTSNE embedding of a feature matrix, scikit-learn style.

    Parameters
    ----------
    n_components : output dimensions (2 for plots).
    perplexity : effective number of neighbours (30, openTSNE's default; the reference
        used 50, which costs 5/3 more neighbour work at 10^5 files). Clipped to (n - 1) / 3.
    learning_rate : ``"auto"`` (openTSNE's n / exaggeration, recommended for large n) or a
        number in **scikit-learn's convention** (the reference's 100); it is divided by 4
        for openTSNE, whose gradient lacks scikit-learn's factor 4.
    n_iter : total iterations including the early-exaggeration phase (as in scikit-learn).
    early_exaggeration : exaggeration during the first ``early_exaggeration_iter``
        iterations (reference 1 = none; openTSNE's usual 12).
    early_exaggeration_iter : length of the early-exaggeration phase (250).
    init : ``"pca"``, ``"spectral"`` or ``"random"`` (reference).
    random_state : seed (reference 505).
    n_jobs : threads for the neighbour search and gradients.
    metric : distance in feature space (``"euclidean"``).
    standardize : scale every feature to zero mean and unit variance first. Off by
        default, as in the reference (PCA / autoencoder features keep their variances).
    transform_perplexity, transform_n_iter, transform_learning_rate : how new files are
        placed (openTSNE defaults: 5, 250, 0.1).
    verbose : show a rich progress bar while optimising.
    """

    kind: ClassVar[str] = "embed.TSNE"

    def __init__(
        self,
        n_components: int = 2,
        perplexity: float = 30.0,
        learning_rate: float | str = "auto",
        n_iter: int = 1000,
        early_exaggeration: float = 12.0,
        early_exaggeration_iter: int = 250,
        init: str = "pca",
        random_state: int | None = 505,
        n_jobs: int = 1,
        metric: str = "euclidean",
        standardize: bool = False,
        transform_perplexity: float = 5.0,
        transform_n_iter: int = 250,
        transform_learning_rate: float = 0.1,
        verbose: bool = False,
    ):
        self.n_components = n_components
        self.perplexity = perplexity
        self.learning_rate = learning_rate
        self.n_iter = n_iter
        self.early_exaggeration = early_exaggeration
        self.early_exaggeration_iter = early_exaggeration_iter
        self.init = init
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.metric = metric
        self.standardize = standardize
        self.transform_perplexity = transform_perplexity
        self.transform_n_iter = transform_n_iter
        self.transform_learning_rate = transform_learning_rate
        self.verbose = verbose

    @classmethod
    def reference(cls, **overrides: Any) -> TSNEEmbedder:
        """An embedder with the reference pipeline's settings (see ``REFERENCE_TSNE``)."""
        return cls(**{**REFERENCE_TSNE, **overrides})

    # ---------------------------------------------------------------- fitting
    def _fit_embed(self, Xs: np.ndarray) -> np.ndarray:
        n = Xs.shape[0]
        perplexity = float(min(self.perplexity, max((n - 1) / 3.0, 1.0)))
        if perplexity < self.perplexity:  # counted, never silent (a run refuses it up front)
            from serendip.notices import notice

            notice(
                "embed",
                "perplexity_lowered",
                f"t-SNE perplexity {self.perplexity:g} lowered to {perplexity:g} = (n - 1) / 3 "
                f"for {n} points",
            )
        ee_iter = int(min(self.early_exaggeration_iter, self.n_iter))
        lr = (
            self.learning_rate
            if isinstance(self.learning_rate, str)
            else float(self.learning_rate) / 4.0
        )
        progress = callback = None
        if self.verbose:
            from rich.progress import Progress

            progress = Progress(transient=True)
            callback = _ProgressCallback(
                progress, progress.add_task("t-SNE", total=self.n_iter), self.n_iter
            )
        tsne = openTSNE.TSNE(
            n_components=self.n_components,
            perplexity=perplexity,
            learning_rate=lr,
            early_exaggeration_iter=ee_iter,
            early_exaggeration=float(self.early_exaggeration),
            n_iter=int(self.n_iter) - ee_iter,
            initialization=self.init,
            metric=self.metric,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            neighbors="exact" if n < 1000 else "auto",
            callbacks=callback,
            callbacks_every_iters=_ProgressCallback.EVERY,
        )
        if progress is not None:
            progress.start()
        try:
            with _skip_pynndescent_probe(self.metric):
                emb = tsne.fit(Xs)
        finally:
            if progress is not None:
                progress.stop()
        self._build_reference()
        return np.asarray(emb)

    def _restore(self) -> None:
        self._build_reference()

    def _build_reference(self) -> None:
        from sklearn.neighbors import NearestNeighbors

        self._nn = NearestNeighbors(metric=self.metric).fit(self.train_features_)

    # -------------------------------------------------------------- placement
    def _transform(self, Xs: np.ndarray) -> np.ndarray:
        if not hasattr(self, "_nn"):
            self._build_reference()
        # openTSNE re-centres the reference on its bounding box when it builds the FFT
        # grid (in place, after the new points were initialised): centre it first and
        # shift the result back, so new points share the frame of ``embedding_``
        centre = (self.embedding_.max(axis=0) + self.embedding_.min(axis=0)) / 2.0
        reference = TSNEEmbedding(
            np.ascontiguousarray(self.embedding_ - centre),
            _ExactNewAffinities(self._nn, self.train_features_.shape[0]),
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            # FFT: the reference's interpolation grid is built once; openTSNE's "auto"
            # would pick Barnes-Hut for few new points and rebuild a quad tree over all
            # reference points at every iteration (60x slower for 100k references)
            negative_gradient_method="fft" if self.n_components <= 2 else "bh",
        )
        part = reference.transform(
            Xs,
            perplexity=float(self.transform_perplexity),
            initialization="median",
            k=min(25, self.train_features_.shape[0]),
            learning_rate=float(self.transform_learning_rate),
            n_iter=int(self.transform_n_iter),
        )
        return np.asarray(part) + centre


#: metrics for which openTSNE prefers Annoy over pynndescent on dense data
_ANNOY_METRICS = {"cosine", "euclidean", "manhattan", "hamming", "dot", "l1", "l2", "taxicab"}


@contextmanager
def _skip_pynndescent_probe(metric: str):
    """Keep openTSNE from importing pynndescent only to learn that it is installed.

    ``openTSNE.affinity.get_knn_index`` imports pynndescent (numba kernels: 0.4-1.9 s
    measured) at every fit, although for dense data and the metrics in
    :data:`_ANNOY_METRICS` it then uses Annoy (or exact search) whatever the answer. For
    those metrics the probe answers "not installed" unless pynndescent is already loaded;
    the neighbour method, and so the embedding, is the same.
    """
    from openTSNE import affinity

    probe = affinity.is_package_installed
    if metric not in _ANNOY_METRICS or not callable(probe):
        yield
        return

    def quiet_probe(name: str) -> bool:
        if name == "pynndescent" and name not in sys.modules:
            return False
        return probe(name)

    affinity.is_package_installed = quiet_probe
    try:
        yield
    finally:
        affinity.is_package_installed = probe


class _ExactNewAffinities(Affinities):
    """Affinities of new files to the training files from exact kNN (no index to store).

    Mirrors ``openTSNE.affinity.PerplexityBasedNN.to_new`` with scikit-learn's exact
    neighbour search, so placement is deterministic and identical after save/load.
    """

    def __init__(self, nn, n_samples: int):
        super().__init__(verbose=False)
        self._nn = nn
        self._n = n_samples
        # openTSNE only checks P's shape here; the training affinities are not needed
        self.P = sp.csr_matrix((n_samples, n_samples))

    @property
    def n_samples(self) -> int:
        return self._n

    def to_new(self, data, perplexity=5.0, return_distances=False, k_neighbors="auto"):
        k = max(int(3 * perplexity), 25) if k_neighbors == "auto" else int(k_neighbors)
        k = min(k, self.n_samples)
        distances, neighbors = self._nn.kneighbors(data, n_neighbors=k)
        eff = min(float(perplexity), max((k - 1) / 3.0, 1.0))
        P = joint_probabilities_nn(
            neighbors,
            distances,
            [eff],
            symmetrize=False,
            normalization="point-wise",
            n_reference_samples=self.n_samples,
            n_jobs=1,
        )
        return (P, neighbors, distances) if return_distances else P


# ------------------------------------------------------------------ progress
class _ProgressCallback:
    """openTSNE callback advancing a rich progress bar (never stops the optimisation)."""

    EVERY = 25

    def __init__(self, progress, task, n_iter: int):
        self.progress = progress
        self.task = task
        self.n_iter = n_iter
        self.done = 0

    def __call__(self, iteration: int, error: float, embedding) -> bool:
        self.done = min(self.done + self.EVERY, self.n_iter)
        self.progress.update(self.task, completed=self.done, description=f"t-SNE (KL {error:.3f})")
        return False
