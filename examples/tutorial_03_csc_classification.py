"""
CSC source classification with calibrated probabilities
=======================================================

Give Chandra Source Catalog sources probabilistic classes from their X-ray properties, and
measure the classifier honestly: five folds grouped by source (no source in both training and
test), the same folds for serendip's classifier, a plain gradient-boosting baseline and the
UMLCAXS reference method, and only out-of-fold figures. This is ``serendip classify CONFIG
--cv 5`` as a function.
"""

# %%
# A labelled table
# ----------------
# The MUWCLASS training set (Yang et al. 2022: 3,126 CSC sources with literature classes) when
# the real data folder is present; otherwise a simulated CSC table with the same kind of columns.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from serendip.paths import real_data_dir

real = real_data_dir()
table = real / "csc_muwclass_training_set" / "CSC_TD_11042023_MW.csv" if real else None
work = Path(tempfile.mkdtemp())
if table is not None and table.exists():
    d = pd.read_csv(table)
    grouped = {"AGN": "AGN", "HMXB": "XRB", "LMXB": "XRB", "YSO": "YSO", "CV": "STAR_CV_NS",
               "NS": "STAR_CV_NS", "HM-STAR": "STAR_CV_NS", "LM-STAR": "STAR_CV_NS"}
    d["label"] = d["Class"].map(grouped)
    d = d.drop(columns=["Class"])
    source = "MUWCLASS (real)"
else:
    from serendip.simulate.csc import TOY_CLASS_CENTRES, toy_csc_properties

    rng = np.random.default_rng(0)
    labels = rng.choice(sorted(TOY_CLASS_CENTRES), 1500)
    d = toy_csc_properties(labels, rng)
    d["name"] = [f"2CXO J{i:06d}" for i in range(len(d))]
    d["label"] = labels
    source = "simulated CSC properties"
path = work / "labelled.csv"
d.to_csv(path, index=False)
print(source, d["label"].value_counts().to_string(), sep="\n")

# %%
# Cross-validate
# --------------
# ``kind = "boost"`` is serendip's classifier: cross-fitted gradient-boosted members whose
# out-of-fold probabilities are calibrated (Dirichlet calibration), reported with the decision
# rule you choose; the baseline and UMLCAXS run on the same folds.
from serendip.classify.evaluation import format_cv_table, run_classify_cv

config = {
    "input": {"path": str(path)},
    "model": {"kind": "boost", "feature_set": "xray", "label_column": "label"},
    "output": {"formats": ["csv"], "plots": True},
}
summary = run_classify_cv(config, work / "cv", n_splits=5, seed=0)
print(format_cv_table(summary))

# %%
# Reliability and confusion
# -------------------------
# A calibrated classifier's confidence matches its accuracy: the reliability diagram's points
# lie on the diagonal. These are the plots ``--cv`` writes.
pngs = sorted((work / "cv").rglob("*.png"))
print([p.name for p in pngs])
for p in pngs[:2]:
    fig, ax = plt.subplots(figsize=(7, 5.5))
    ax.imshow(plt.imread(p))
    ax.set_title(p.stem)
    ax.axis("off")
