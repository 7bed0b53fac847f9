"""Names of the active-learning strategies of :mod:`serendip.detect.active`.

Kept apart from the ranker so that light callers (the explorer's first page requests) can list
them without importing scikit-learn.
"""

#: "static" keeps the detector's order; "knn" is Astronomaly-style kernel regression on the
#: labels; "aad" and "pine" are coniferest's AADForest and PineForest
STRATEGIES = ("static", "knn", "aad", "pine")
#: chosen by the oracle benchmark (benchmarks/bench_active.py, BENCHMARKS.md "Active learning")
DEFAULT_STRATEGY = "knn"
