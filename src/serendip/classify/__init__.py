"""Catalogue source classification: UMLCAXS reproduction and serendip's calibrated classifier.

Modules: ``features`` (feature sets from CSC property tables), ``transforms``,
``gmm`` (BIC elbow), ``umlcaxs`` (the reproduced method), ``boosted`` (GMM memberships +
gradient boosting, calibrated), ``calibration``, ``metrics`` (accuracy, ECE), ``splits``
(grouped by source), ``crossval``, ``counterparts`` (features from a crossmatched catalogue), ``votes`` (detections -> sources), ``trees`` (pickle-free
boosted trees), ``modelio`` (model files, shipped models), ``plots``, ``pipeline``
(``serendip classify``), ``train_shipped`` (rebuilds the shipped models).
"""

from serendip.lazy import lazy_exports

# Imported on first use (PEP 562): reading and checking a configuration
# (serendip.classify.config) does not import scikit-learn.
_WHERE = {
    "ClusterBoostClassifier": "boosted",
    "counterpart_features": "counterparts",
    "load_classifier": "modelio",
    "load_shipped": "modelio",
    "save_classifier": "modelio",
    "UmlcaxsClassifier": "umlcaxs",
    "source_votes": "votes",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())


__all__ = [
    "ClusterBoostClassifier",
    "UmlcaxsClassifier",
    "counterpart_features",
    "load_classifier",
    "load_shipped",
    "save_classifier",
    "source_votes",
]

# ``serendip.classify(...)`` calls run_classify
from serendip.lazy import make_callable  # noqa: E402

make_callable(__name__, "serendip.classify.pipeline:run_classify")
