"""
Light-curve anomaly detection, measured against PyOD
====================================================

Describe ZTF-like light curves with the ``light-curve`` package's features, then measure
serendip's anomaly detectors with the leave-one-class-out protocol of the ALeRCE anomaly
detector: each class in turn is held out as "the anomaly", detectors are trained on the other
classes, and the held-out objects must rank above the test inliers. PyOD's defaults on the same
splits and features are the baseline.
"""

# %%
# Labelled light curves
# ---------------------
# The project's optical simulator makes labelled ZTF-like g/r light curves (fluxes in uJy);
# your own survey exports go through ``serendip.read_lightcurves`` the same way.
import matplotlib.pyplot as plt
import numpy as np

import serendip
from serendip.simulate.optical import simulate_lightcurves

classes = ["SNIa", "SNII", "RRL", "AGN", "TDE", "SLSN"]
lcs, labels = simulate_lightcurves(40, classes=classes, seed=3)
print(labels["label"].value_counts().to_string())

fig, axes = plt.subplots(2, 3, figsize=(10, 5), sharex=True)
for ax, cls in zip(axes.ravel(), classes):
    oid = labels.loc[labels["label"] == cls, "object_id"].iloc[0]
    one = lcs[lcs["object_id"] == oid]
    for band, colour in (("g", "tab:green"), ("r", "tab:red")):
        b = one[one["band"] == band]
        ax.errorbar(b["time"], b["flux"], b["flux_err"], fmt=".", ms=3, color=colour, label=band)
    ax.set_title(cls)
axes[0, 0].legend()
for ax in axes[1]:
    ax.set_xlabel("time [days]")
for ax in axes[:, 0]:
    ax.set_ylabel("flux [uJy]")
fig.tight_layout()

# %%
# Features
# --------
# One row per object, ``<band>_<feature>`` columns; a band with too few points gives missing
# values, imputed inside each training split and never silently.
X = serendip.lightcurve_features(lcs, ["g", "r"], n_jobs=1)
y = labels.set_index("object_id")["label"].reindex(X.index).to_numpy()
print(X.shape, "features per object")

# %%
# Leave one class out, three seeds
# --------------------------------
detectors = {
    "serendip IForest": "iforest",
    "serendip MCIF": "mcif",
    "PyOD IForest": "pyod.IForest",
    "PyOD KNN": "pyod.KNN",
}
res = serendip.leave_one_subclass_out(X, y, detectors, seeds=(0, 1, 2), show_progress=False)
summary = res.summary
auroc = summary[summary["metric"] == "auroc"]
print(auroc[["held_out_class", "detector", "mean", "std"]].to_string(index=False))

# %%
# AUROC of each held-out class
# ----------------------------
piv = auroc.pivot_table(index="held_out_class", columns="detector", values="mean")
err = auroc.pivot_table(index="held_out_class", columns="detector", values="std")
fig, ax = plt.subplots(figsize=(8, 4))
w = 0.8 / piv.shape[1]
for j, det in enumerate(piv.columns):
    ax.bar(np.arange(len(piv)) + j * w, piv[det], w, yerr=err[det], label=det)
ax.set_xticks(np.arange(len(piv)) + 0.4 - w / 2, piv.index)
ax.axhline(0.5, color="grey", lw=0.8)
ax.set(ylabel="AUROC (held-out class vs inliers)", ylim=(0, 1))
ax.legend(fontsize=8)
fig.tight_layout()
