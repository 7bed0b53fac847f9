"""Isolation forest with its trees exported to plain arrays (no pickle, exact scores).

scikit-learn's :class:`~sklearn.ensemble.IsolationForest` grows the trees; we then
export every tree as flat arrays (children, split feature, split threshold and the
per-leaf path length ``depth + c(n_leaf) - 1``) and score with a numba kernel that
walks the trees exactly as scikit-learn does (features compared as float32, trees
summed in order). The score is the original isolation-forest anomaly score of Liu
et al. (2008), ``s = 2 ** (-E[h(x)] / c(max_samples))`` in (0, 1], higher = more
anomalous; it equals ``-IsolationForest.score_samples``. Because fitted scores and
loaded scores come from the same arrays and the same kernel, a saved model gives
bit-identical scores after loading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numba
import numpy as np

from serendip.detect._common import ScaledDetector
from serendip.errors import ModelFileError


def average_path_length(n: np.ndarray) -> np.ndarray:
    """c(n): mean path length of an unsuccessful BST search among ``n`` points."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


@dataclass
class TreeArrays:
    """All trees of one isolation forest as concatenated node arrays.

    ``left``/``right``: (n_nodes,) int32 child index *within the tree* (-1 at leaves);
    ``feature``: (n_nodes,) int32 column of ``X`` split on; ``threshold``: (n_nodes,)
    float64 split value (go left if ``float32(x) <= threshold``); ``leaf_value``:
    (n_nodes,) float64 path length credited at a leaf; ``offsets``: (n_trees + 1,)
    int64 start of each tree; ``c_max``: c(max_samples), the normaliser.
    """

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    leaf_value: np.ndarray
    offsets: np.ndarray
    c_max: float

    @classmethod
    def from_sklearn(cls, forest) -> TreeArrays:
        """Export every tree of a fitted ``sklearn.ensemble.IsolationForest``."""
        lefts, rights, feats, thrs, vals, sizes = [], [], [], [], [], []
        for est, features in zip(forest.estimators_, forest.estimators_features_, strict=True):
            t = est.tree_
            feat = np.asarray(t.feature, dtype=np.int64)
            leaf = t.children_left < 0
            mapped = np.where(leaf, 0, np.asarray(features)[np.where(leaf, 0, feat)])
            lefts.append(t.children_left.astype(np.int32))
            rights.append(t.children_right.astype(np.int32))
            feats.append(mapped.astype(np.int32))
            thrs.append(t.threshold.astype(np.float64))
            vals.append(t.compute_node_depths() + average_path_length(t.n_node_samples) - 1.0)
            sizes.append(t.node_count)
        offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum(sizes)
        c_max = float(average_path_length(np.array([forest._max_samples]))[0])
        return cls(
            np.concatenate(lefts),
            np.concatenate(rights),
            np.concatenate(feats),
            np.concatenate(thrs),
            np.concatenate(vals).astype(np.float64),
            offsets,
            c_max,
        )

    def score(self, X: np.ndarray) -> np.ndarray:
        """Anomaly score (n,) in (0, 1] for features X (n, n_features)."""
        X32 = np.ascontiguousarray(X, dtype=np.float32)
        depths = _forest_depths(
            X32, self.left, self.right, self.feature, self.threshold, self.leaf_value, self.offsets
        )
        denom = (len(self.offsets) - 1) * self.c_max
        if denom == 0:
            return np.ones(X32.shape[0])
        return 2.0 ** (-(depths / denom))

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The node arrays with keys ``prefix/name`` (for a model file)."""
        return {
            f"{prefix}/left": self.left,
            f"{prefix}/right": self.right,
            f"{prefix}/feature": self.feature,
            f"{prefix}/threshold": self.threshold,
            f"{prefix}/leaf_value": self.leaf_value,
            f"{prefix}/offsets": self.offsets,
            f"{prefix}/c_max": np.array([self.c_max]),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, n_features: int) -> TreeArrays:
        """Rebuild from :meth:`to_arrays`, validating the structure against ``n_features``."""
        try:
            t = cls(
                np.ascontiguousarray(arrays[f"{prefix}/left"], dtype=np.int32),
                np.ascontiguousarray(arrays[f"{prefix}/right"], dtype=np.int32),
                np.ascontiguousarray(arrays[f"{prefix}/feature"], dtype=np.int32),
                np.ascontiguousarray(arrays[f"{prefix}/threshold"], dtype=np.float64),
                np.ascontiguousarray(arrays[f"{prefix}/leaf_value"], dtype=np.float64),
                np.ascontiguousarray(arrays[f"{prefix}/offsets"], dtype=np.int64),
                float(arrays[f"{prefix}/c_max"][0]),
            )
        except KeyError as exc:
            raise ModelFileError(None, f"isolation forest arrays missing: {exc}") from exc
        t.validate(n_features)
        return t

    def validate(self, n_features: int) -> None:
        """Check structure so that a tampered file cannot make the kernel read out of bounds."""
        n = len(self.left)
        if not (
            len(self.right) == len(self.feature) == len(self.threshold) == len(self.leaf_value) == n
        ):
            raise ModelFileError(None, "isolation forest node arrays have different lengths")
        off = self.offsets
        if len(off) < 2 or off[0] != 0 or off[-1] != n or np.any(np.diff(off) <= 0):
            raise ModelFileError(None, "isolation forest tree offsets are inconsistent")
        sizes = np.repeat(np.diff(off), np.diff(off))
        node = np.arange(n) - np.repeat(off[:-1], np.diff(off))
        leaf = self.left < 0
        inner = ~leaf
        ok = (
            np.all(self.right[leaf] < 0)
            and np.all((self.left[inner] > node[inner]) & (self.left[inner] < sizes[inner]))
            and np.all((self.right[inner] > node[inner]) & (self.right[inner] < sizes[inner]))
            and np.all((self.feature[inner] >= 0) & (self.feature[inner] < n_features))
        )
        if not ok:
            raise ModelFileError(
                None,
                "isolation forest node arrays are corrupt (child or feature index out of range)",
            )


@numba.njit(cache=True, nogil=True)
def _forest_depths(
    X, left, right, feature, threshold, leaf_value, offsets
):  # pragma: no cover - numba
    # tree-outer / sample-inner keeps one tree in cache while all rows walk it; each
    # row still adds the trees in order, so sums equal scikit-learn's to the last bit
    n = X.shape[0]
    n_trees = offsets.shape[0] - 1
    depths = np.zeros(n)
    for t in range(n_trees):
        base = offsets[t]
        for i in range(n):
            node = 0
            while left[base + node] >= 0:
                j = base + node
                if X[i, feature[j]] <= threshold[j]:
                    node = left[j]
                else:
                    node = right[j]
            depths[i] += leaf_value[base + node]
    return depths


def fit_isolation_trees(
    X: np.ndarray, n_estimators: int, max_samples, max_features: float, random_state
) -> TreeArrays:
    """Grow a scikit-learn isolation forest on X (n, d) and export its trees."""
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(
        n_estimators=n_estimators,
        max_samples=max_samples,
        max_features=max_features,
        random_state=random_state,
        n_jobs=1,
    ).fit(X)
    return TreeArrays.from_sklearn(forest)


class IForest(ScaledDetector):
    """Isolation forest (Liu et al. 2008); score in (0, 1], higher = more anomalous.

    Parameters
    ----------
    n_estimators : number of trees.
    max_samples : rows per tree ("auto" = min(256, n)), int, or fraction.
    max_features : fraction of features per tree.
    scale : standardise features first (trees are invariant to it; kept for uniformity).
    contamination : training fraction above ``threshold_``.
    random_state : seed (int) for reproducible trees.

    Persistence: the trees are exported to arrays (see module docstring), so the
    model file holds no training data and loaded scores are bit-identical.

    A baseline: at its defaults this is scikit-learn's forest with PyOD's ``IForest``
    defaults, and it ranks objects exactly as PyOD's does with the same seed (what it adds is
    the pickle-free model file). serendip's own detectors are MCIF, the classifier-latent
    detector, Multi-Class Deep SVDD, settings tuned on the inliers
    (:class:`serendip.evaluate.combine.InnerCVTuned`) and rank-averaged ensembles; see
    BENCHMARKS.md, "Detection beyond PyOD".
    """

    kind: ClassVar[str] = "detect.IForest"

    def __init__(
        self,
        n_estimators: int = 100,
        max_samples: Any = "auto",
        max_features: float = 1.0,
        scale: bool = False,
        contamination: float = 0.01,
        random_state: int | None = 0,
    ):
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_features = max_features
        self.scale = scale
        self.contamination = contamination
        self.random_state = random_state

    def _fit_scaled(self, Xs, y):
        self.trees_ = fit_isolation_trees(
            Xs, self.n_estimators, self.max_samples, self.max_features, self.random_state
        )

    def _score_scaled(self, Xs):
        return self.trees_.score(Xs)

    def _model_state(self):
        return self.trees_.to_arrays("trees"), {}

    def _set_model_state(self, arrays, state):
        self.trees_ = TreeArrays.from_arrays(arrays, "trees", self.n_features_in_)
