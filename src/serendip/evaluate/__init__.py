"""Evaluation harness: leave-one-subclass-out over a class hierarchy, grouped splits, metrics, tables."""

from serendip.evaluate.metrics import all_metrics, aupr, aupr_baseline, auroc, recall_at_budget
from serendip.evaluate.protocol import EvaluationResult, leave_one_subclass_out
from serendip.evaluate.splits import grouped_stratified_split

__all__ = [
    "EvaluationResult",
    "all_metrics",
    "aupr",
    "aupr_baseline",
    "auroc",
    "grouped_stratified_split",
    "leave_one_subclass_out",
    "recall_at_budget",
]
