"""
X-ray transient discovery on simulated data, end to end
=======================================================

Simulate a population of X-ray sources with known classes, describe each source's photons,
score anomalies, and check which injected flares and fast transients come out on top.
"""

# %%
# Simulate a population
# ---------------------
# The simulator draws steady, variable, flaring and fast-transient sources through an
# approximate ACIS response with exact Poisson arrival times; ``sources`` is the truth table.
import matplotlib.pyplot as plt
import numpy as np

from serendip.simulate import simulate_population

pop = simulate_population(1500, seed=1)
print(pop.sources["label"].value_counts())

# %%
# E-t maps of three kinds of source
# ---------------------------------
from serendip.represent import et_maps

maps = et_maps(pop.events)
ids = pop.events.obsreg_id.astype(str)
fig, axes = plt.subplots(1, 3, figsize=(9, 3))
for ax, label in zip(axes, ["steady", "flare", "fxt"]):
    sid = pop.sources.loc[pop.sources["label"] == label, "obsreg_id"].iloc[0]
    i = int(np.flatnonzero(ids == sid)[0])
    ax.imshow(maps[i].T, origin="lower", aspect="auto", cmap="viridis")
    ax.set(title=label, xlabel="time bin", ylabel="energy bin")
fig.tight_layout()

# %%
# Rank the sources
# ----------------
from serendip.pipeline.ranking import rank_files

ranked = rank_files(pop.events, pop.files)
truth = pop.sources.set_index("obsreg_id")["label"]
ranked["label"] = truth.reindex(ranked["obsreg_id"].astype(str)).to_numpy()
top = ranked.sort_values("rank").head(30)
print(top[["obsreg_id", "rank", "score", "label"]].head(10))
