"""Evaluation harness: leave-one-subclass-out over a class hierarchy, grouped splits, metrics, tables."""

from serendip.lazy import lazy_exports

# Imported on first use (PEP 562): reading and checking a configuration
# (serendip.evaluate.config) does not import pandas or the detectors.
_WHERE = {
    "all_metrics": "metrics",
    "artefact_metrics": "metrics",
    "artefact_summary": "report",
    "stream_mix": "stream",
    "early_curve_evaluation": "early",
    "truncate_lightcurves": "early",
    "aupr": "metrics",
    "aupr_baseline": "metrics",
    "auroc": "metrics",
    "recall_at_budget": "metrics",
    "EvaluationResult": "protocol",
    "leave_one_subclass_out": "protocol",
    "grouped_stratified_split": "splits",
    "InnerCVTuned": "combine",
    "RankAverage": "combine",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())


__all__ = [
    "EvaluationResult",
    "InnerCVTuned",
    "RankAverage",
    "all_metrics",
    "artefact_metrics",
    "artefact_summary",
    "aupr",
    "aupr_baseline",
    "early_curve_evaluation",
    "auroc",
    "grouped_stratified_split",
    "leave_one_subclass_out",
    "recall_at_budget",
    "stream_mix",
    "truncate_lightcurves",
]

# ``serendip.evaluate(...)`` calls serendip.evaluate.experiment.evaluate
from serendip.lazy import make_callable  # noqa: E402

make_callable(__name__, "serendip.evaluate.experiment:evaluate")
