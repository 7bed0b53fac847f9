"""Anomaly detectors behind one interface: higher score means more anomalous.

Every detector subclasses :class:`BaseDetector` (scikit-learn conventions:
``fit`` / ``score_samples`` / ``predict`` / ``get_params``, passing scikit-learn's
``check_estimator``), sets ``threshold_`` from ``contamination`` and saves to one
safetensors file without pickle (scaler, class order and settings included). Short names
for the CLI and configs: :data:`DETECTORS`.

Glossary (scikit-learn and PyOD names; where the two disagree, serendip says which it follows)
----------------------------------------------------------------------------------------------
``score_samples(X)``
    Anomaly score per row, (n_samples,) float64, **higher = more anomalous** for every
    detector (scikit-learn's own ``score_samples`` has the opposite sign; PyOD calls this
    ``decision_function``).
``contamination``
    Expected fraction of anomalies among the training rows, in (0, 0.5) (as in PyOD and
    scikit-learn); it only sets ``threshold_``, never the model itself.
``threshold_``
    The score cut: the ``1 - contamination`` quantile of the training scores (PyOD's
    ``threshold_``; scikit-learn's ``offset_`` with the sign flipped).
``decision_scores_`` (also ``training_scores_``)
    Scores of the training rows, (n_train,), leave-self-out where the detector supports it
    (kNN, LOF) (PyOD's ``decision_scores_``).
``labels_``
    0/1 label of every training row, 1 = above ``threshold_`` (PyOD's ``labels_``).
``decision_function(X)``
    ``score_samples(X) - threshold_``: positive = anomaly. This is **scikit-learn's**
    meaning; PyOD's ``decision_function`` is the raw score (here ``score_samples``).
``predict(X)``
    1 = anomaly, 0 = inlier (**PyOD's** convention; scikit-learn's outlier detectors return
    -1 / +1, which is why the detectors do not use ``OutlierMixin``).
``threshold_for_budget(scores, budget)``
    The cut that selects the top ``budget`` fraction of ``scores`` (an inspection budget).
``n_features_in_`` / ``feature_names_in_``
    Columns seen in ``fit`` (names when fitted on a DataFrame), checked when scoring.
``needs_labels``
    True for the multi-class detectors (MCIF, MultiClassDeepSVDD, ClassifierLatentDetector,
    HierarchicalRouter), whose ``fit(X, y)`` needs known-class labels ``y``.
``score_matrix(X)``
    Multi-class detectors: per-class scores (n_samples, n_classes) and ``classes_``, the
    column order.
"""

from serendip.lazy import lazy_exports

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
    "Mahalanobis": "gauss",
    "OCSVM": "ocsvm",
    "DETECTORS": "registry",
    "DetectorEntry": "registry",
    "make_detector": "registry",
    "load_detector": "registry",
    "needs_labels": "registry",
    "HierarchicalRouter": "router",
    "DeepSVDD": "svdd",
    "MultiClassDeepSVDD": "svdd",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())


__all__ = [
    "BaseDetector",
    "IForest",
    "OCSVM",
    "KNN",
    "LOF",
    "Mahalanobis",
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
    "load_detector",
    "needs_labels",
]
