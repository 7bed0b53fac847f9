"""Low-dimensional embeddings of per-file features (openTSNE t-SNE, UMAP).

Both embedders follow scikit-learn: ``fit_transform(X)`` embeds the training files,
``transform(X_new)`` places new files into the existing embedding without recomputing
it, and ``save(path)`` / :func:`load_embedder` store them without pickle.
(openTSNE and umap are imported on first use of the classes.)
"""

from __future__ import annotations

from typing import Any

from serendip.embed._base import BaseEmbedder, check_features

_LAZY = {
    "TSNEEmbedder": "serendip.embed.tsne",
    "REFERENCE_TSNE": "serendip.embed.tsne",
    "UMAPEmbedder": "serendip.embed.umap_embedder",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'serendip.embed' has no attribute {name!r}")


def load_embedder(path) -> BaseEmbedder:
    """Load any embedder saved with ``save`` (t-SNE or UMAP)."""
    import serendip.embed.tsne  # noqa: F401 - registers the kinds
    import serendip.embed.umap_embedder  # noqa: F401

    return BaseEmbedder.load(path)


__all__ = [
    "REFERENCE_TSNE",
    "BaseEmbedder",
    "TSNEEmbedder",
    "UMAPEmbedder",
    "check_features",
    "load_embedder",
]
