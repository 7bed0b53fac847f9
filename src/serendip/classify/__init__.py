"""Catalogue source classification: UMLCAXS reproduction and serendip's calibrated classifier.

Modules: ``features`` (feature sets from CSC property tables), ``transforms``,
``gmm`` (BIC elbow), ``umlcaxs`` (the reproduced method), ``boosted`` (GMM memberships +
gradient boosting, calibrated), ``calibration``, ``metrics`` (accuracy, ECE), ``splits``
(grouped by source), ``crossval``, ``votes`` (detections -> sources), ``trees`` (pickle-free
boosted trees), ``modelio`` (model files, shipped models), ``plots``, ``pipeline``
(``serendip classify``), ``train_shipped`` (rebuilds the shipped models).
"""

from serendip.classify.boosted import ClusterBoostClassifier
from serendip.classify.modelio import load_classifier, load_shipped, save_classifier
from serendip.classify.umlcaxs import UmlcaxsClassifier
from serendip.classify.votes import source_votes

__all__ = [
    "ClusterBoostClassifier",
    "UmlcaxsClassifier",
    "load_classifier",
    "load_shipped",
    "save_classifier",
    "source_votes",
]
