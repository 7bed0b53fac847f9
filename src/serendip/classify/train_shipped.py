"""Rebuild the classifiers shipped in ``serendip/models`` from the MUWCLASS training set.

``python -m serendip.classify.train_shipped [REAL_DATA_DIR]`` trains, on the X-ray columns
of ``csc_muwclass_training_set/CSC_TD_11042023_MW.csv`` (Yang et al. 2022), one
:class:`~serendip.classify.boosted.ClusterBoostClassifier` for the 4 grouped classes and one
for all 8 classes, stores their 5-fold source-grouped CV scores and reliability curves in
the model files, and writes them to ``serendip/models``.
Deterministic: fixed seeds, single-threaded fits give the same arrays.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.catalog.simbad_types import GROUPED
from serendip.classify.boosted import ClusterBoostClassifier
from serendip.classify.crossval import cross_validate
from serendip.classify.features import XRAY_FEATURES, XRAY_POS_FEATURES, xray_features
from serendip.classify.modelio import save_classifier
from serendip.errors import InputError

TRAINING_FILE = "csc_muwclass_training_set/CSC_TD_11042023_MW.csv"
BEST_PARAMS = {
    "n_components": "bic",
    "max_iter": 100,
    "learning_rate": 0.1,
    "calibration": "temperature",
    "calibration_folds": 3,
    "decision": "balanced",
}
MODELS = (
    ("csc_xray_grouped.safetensors", "grouped", XRAY_FEATURES),
    ("csc_xray_all.safetensors", "all", XRAY_FEATURES),
    ("csc_xraypos_grouped.safetensors", "grouped", XRAY_POS_FEATURES),
)
"""(file, class level, features) of every shipped model."""


def training_table(real_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(raw MUWCLASS table, X-ray feature table)."""
    path = Path(real_dir) / TRAINING_FILE
    from serendip.io.tables import read_table

    d = read_table(path)
    if "Class" not in d.columns or "name" not in d.columns:
        raise InputError(path, "expected columns 'name' and 'Class'")
    return d, xray_features(d, source=str(path))


def labels(d: pd.DataFrame, level: str) -> np.ndarray:
    """Class label per row of the training table, (n,) object; ``level`` = ``grouped`` or ``all``.
    """
    if level == "grouped":
        return d["Class"].map(GROUPED).to_numpy(dtype=object)
    return d["Class"].to_numpy(dtype=object)


def make_best(**override) -> ClusterBoostClassifier:
    """The shipped classifier's settings (``BEST_PARAMS``) with ``override`` applied, unfitted."""
    return ClusterBoostClassifier(**{**BEST_PARAMS, **override})


def build(real_dir: Path, out_dir: Path) -> dict:
    """Train the shipped classifiers from the real-data folder into ``out_dir``; returns the
    report dict.
    """
    d, F = training_table(real_dir)
    groups = d["name"].to_numpy()
    report = {}
    for fname, level, features in MODELS:
        X = F[features].to_numpy()
        y = labels(d, level).astype(str)
        cv = cross_validate(make_best, X, y, groups, n_splits=5)
        model = make_best().fit(X, y, groups=groups)
        rel = cv["reliability"]
        info = {
            "training_file": TRAINING_FILE,
            "training_reference": "Yang et al. 2022, ApJ 941, 104 (MUWCLASS); X-ray columns only",
            "features": list(features),
            "level": level,
            "n_train": int(len(y)),
            "cv": "5-fold stratified, grouped by source name",
            "cv_accuracy": cv["scores"]["accuracy"],
            "cv_balanced_accuracy": cv["scores"]["balanced_accuracy"],
            "cv_recall": cv["scores"]["recall"],
            "cv_ece": cv["ece"],
        }
        save_classifier(
            out_dir / fname,
            model,
            "xray",
            features,
            info,
            {
                "rel_confidence": rel["confidence"],
                "rel_accuracy": rel["accuracy"],
                "rel_count": rel["count"],
            },
        )
        report[fname] = info
    return report


def main(argv: list[str] | None = None) -> None:
    """Command line: retrain the shipped classifiers."""
    from serendip.paths import models_dir, real_data_dir

    argv = sys.argv[1:] if argv is None else argv
    real = Path(argv[0]) if argv else real_data_dir()
    if real is None:
        raise SystemExit("real data folder not found; pass it as the first argument")
    for fname, info in build(real, models_dir()).items():
        print(fname, {k: v for k, v in info.items() if k.startswith("cv_")})


if __name__ == "__main__":
    main()
