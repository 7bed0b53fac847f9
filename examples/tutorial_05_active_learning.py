"""
Labelling and active learning
=============================

``serendip explore RUN_DIR`` lets you step through candidates and label them with one key each
(``1`` interesting, ``2`` not interesting, ``3`` artefact, ``4``-``9`` known types); every label
is written to ``RUN_DIR/explore/labels.sqlite`` at once. From your labels an active-learning
ranker re-orders the rest: sources like your finds rise, sources like those you rejected sink.
This tutorial runs the same ranker in Python with an *oracle* (the simulation's truth) in place of
the astronomer, and compares how many rare sources each order finds.
"""

# %%
# A population rich in look-alikes
# --------------------------------
# Flares, dips and eclipses all look "anomalous" to an unsupervised detector; only the fast
# X-ray transients (FXTs) are what this reviewer is after.
import matplotlib.pyplot as plt
import numpy as np

import serendip
from serendip.detect.active import ActiveRanker, simulate_review

fractions = {"steady": 0.6, "agn": 0.1, "flare": 0.08, "dip": 0.08, "eclipse": 0.06,
             "stellar_flare": 0.04, "fxt": 0.04}
pop = serendip.simulate_population(3000, seed=11, class_fractions=fractions)
table = serendip.event_features(pop.events, pop.files)
X = serendip.extract_features("events", events=pop.events, event_table=table).features
score = serendip.IForest(random_state=0).fit(X).score_samples(X)
truth = pop.sources.set_index("obsreg_id")["label"].reindex(
    pop.events.obsreg_id.astype(str)).to_numpy() == "fxt"
print(f"{truth.sum()} FXTs among {len(truth)} sources")

# %%
# Static order against active orders
# ----------------------------------
# The static order inspects by the detector's score alone; ``knn`` (the default) spreads each
# label to similar sources through a kernel, ``aad`` is coniferest's active anomaly detection.
n = 150
static = np.cumsum(truth[np.argsort(-score, kind="stable")][:n])
curves = {"static (isolation forest)": static}
for strategy in ("knn", "aad"):
    ranker = ActiveRanker(strategy=strategy, random_state=0)
    curves[f"active: {strategy}"] = simulate_review(ranker, X, score, truth, n_inspect=n)

fig, ax = plt.subplots(figsize=(6.5, 4.5))
for name, c in curves.items():
    ax.plot(np.arange(1, n + 1), c, label=name)
ax.set(xlabel="sources inspected", ylabel="FXTs found", title="Finds against reviews")
ax.legend()
for name, c in curves.items():
    print(f"{name:28s} found {c[49]:3d} / {c[99]:3d} / {c[-1]:3d} after 50 / 100 / {n} reviews")

# %%
# The explorer
# ------------
# In the browser the same loop runs as you label: press ``r`` to re-rank and plot the
# interesting sources found against the number inspected. Screenshots of each tab, made by
# the project's browser tests, are shown here when they exist in ``test-artifacts/explore``.
from pathlib import Path

shots = sorted(Path("../test-artifacts/explore").glob("*.png"))[:4]
if shots:
    fig, axes = plt.subplots(len(shots), 1, figsize=(9, 5.5 * len(shots)))
    for ax, p in zip(np.atleast_1d(axes), shots):
        ax.imshow(plt.imread(p))
        ax.set_title(p.stem)
        ax.axis("off")
    fig.tight_layout()
print(f"{len(shots)} screenshots found")
