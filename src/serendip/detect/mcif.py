"""Multi-Class Isolation Forest (MCIF, astromcad; Gupta et al. 2024).

One isolation forest is grown on the rows of each known class; a row's per-class
score is that forest's isolation score (``2 ** (-E[h]/c)``, in (0, 1]) and its anomaly
score is the *minimum* over classes - an object is anomalous only if it is unusual
for every known class.

Unlike astromcad (whose per-class scores come out in sorted class order but were
labelled in another), :meth:`MCIF.score_matrix` returns ``(scores, classes)``, the
columns being in exactly the order of ``classes`` (= ``classes_``, sorted labels),
and that order is stored in the model file. The forest of class ``classes_[k]`` is
grown with the same ``random_state`` as a stand-alone :class:`IForest`, so column k
equals ``IForest(random_state=...).fit(X[y == classes_[k]]).score_samples(X)``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from serendip.detect._common import (
    ScaledDetector,
    classes_from_json,
    classes_to_json,
    encode_labels,
)
from serendip.detect.isolation import TreeArrays, fit_isolation_trees
from serendip.errors import ModelFileError


class MCIF(ScaledDetector):
    """Multi-class isolation forest: score = min over classes of the per-class forest score.

    Parameters
    ----------
    n_estimators, max_samples, max_features : settings of every per-class forest.
    scale : standardise features first (trees are invariant to it).
    contamination : training fraction above ``threshold_``.
    random_state : seed shared by the per-class forests.

    ``fit(X, y)`` needs class labels y; ``classes_`` gives the column order.
    """

    kind: ClassVar[str] = "detect.MCIF"
    needs_labels: ClassVar[bool] = True

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
        self.classes_, codes = encode_labels(y, Xs.shape[0])
        self.forests_ = [
            fit_isolation_trees(
                Xs[codes == k],
                self.n_estimators,
                self.max_samples,
                self.max_features,
                self.random_state,
            )
            for k in range(len(self.classes_))
        ]

    def _matrix(self, Xs: np.ndarray) -> np.ndarray:
        return np.column_stack([f.score(Xs) for f in self.forests_])

    def score_matrix(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Per-class isolation scores, ``(scores (n_samples, n_classes), classes (n_classes,))``.

        Column k is the score under the forest of ``classes[k]``; ``classes`` is ``classes_``.
        """
        self._check_fitted()
        return self._matrix(self.transform_features(self._check_X(X))), self.classes_.copy()

    def _score_scaled(self, Xs):
        return self._matrix(Xs).min(axis=1)

    def _model_state(self):
        arrays: dict[str, np.ndarray] = {}
        for k, f in enumerate(self.forests_):
            arrays.update(f.to_arrays(f"class{k}"))
        return arrays, {"classes": classes_to_json(self.classes_)}

    def _set_model_state(self, arrays, state):
        self.classes_ = classes_from_json(state["classes"])
        if len(self.classes_) < 1:
            raise ModelFileError(None, "MCIF model stores no classes")
        self.forests_ = [
            TreeArrays.from_arrays(arrays, f"class{k}", self.n_features_in_)
            for k in range(len(self.classes_))
        ]
        if any(k.startswith(f"class{len(self.classes_)}/") for k in arrays):
            raise ModelFileError(None, "MCIF model holds more forests than stored classes")
