"""
A real Chandra observation: from evt2 to candidates
===================================================

Take a whole Chandra ACIS observation as the archive delivers it (a level-2 event file), cut it
into one event list per source with a source list, and run the discovery chain on the sources.
The observation is ObsID 754 (MSH 15-52, ACIS-I, 19 ks) from ``../shared/data/real`` when it is
present; otherwise a simulated population stands in.
"""

# %%
# Find sources
# ------------
# A source list is usually the observation's CSC source table or a wavdetect list
# (``serendip ingest evt2 --sources LIST``). Here a crude one is made in a few lines: the
# 150 brightest 8x8-pixel cells of the field, each a circle of 6 pixels (3").
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from astropy.io import fits
from astropy.wcs import WCS

import serendip
from serendip.paths import real_data_dir

work = Path(tempfile.mkdtemp())
real = real_data_dir()
evt2 = real / "chandra_acis_obsid754_msh1552" / "msh1552_acis_evt2_filtered.fits.gz" if real else None
if evt2 is not None and evt2.exists():
    with fits.open(evt2) as h:
        ev, hd = h["EVENTS"].data, h["EVENTS"].header
        x, y = np.asarray(ev["x"], float), np.asarray(ev["y"], float)
        cols = [c.lower() for c in h["EVENTS"].columns.names]
    ix, iy = cols.index("x") + 1, cols.index("y") + 1
    w = WCS(naxis=2)
    w.wcs.crpix = [hd[f"TCRPX{ix}"], hd[f"TCRPX{iy}"]]
    w.wcs.cdelt = [hd[f"TCDLT{ix}"], hd[f"TCDLT{iy}"]]
    w.wcs.crval = [hd[f"TCRVL{ix}"], hd[f"TCRVL{iy}"]]
    w.wcs.ctype = [hd[f"TCTYP{ix}"], hd[f"TCTYP{iy}"]]
    H, xe, ye = np.histogram2d(x, y, bins=[np.arange(x.min(), x.max() + 8, 8),
                                           np.arange(y.min(), y.max() + 8, 8)])
    best = np.argsort(H.ravel())[::-1][:150]
    cx = xe[best // H.shape[1]] + 4
    cy = ye[best % H.shape[1]] + 4
    ra, dec = w.wcs_pix2world(cx, cy, 1)
    srclist = work / "sources.csv"
    pd.DataFrame({"id": np.arange(1, len(ra) + 1), "ra": ra, "dec": dec,
                  "radius_arcsec": 3.0}).to_csv(srclist, index=False)
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.hexbin(x, y, gridsize=200, bins="log", cmap="magma")
    ax.scatter(cx, cy, s=30, facecolors="none", edgecolors="cyan", lw=0.6)
    ax.set(title="ObsID 754 with the 150 source regions", xlabel="sky x [pixel]",
           ylabel="sky y [pixel]", aspect="equal")
    config = {"input": {"simulate": False, "paths": [str(evt2)], "sources": str(srclist)}}
else:
    print("real data absent: a simulated population stands in")
    config = {"input": {"simulate": True, "n_sources": 300, "seed": 2}}

# %%
# Run every stage
# ---------------
# ``serendip.run`` ingests (mission band, source regions, GTIs, counted cuts), computes the
# event features, embeds, clusters and ranks; it returns the run with its tables as attributes
# and can be resumed or reopened later with ``serendip.Run.open``.
run = serendip.run(config, out=work / "run")
print(run)
cands = run.candidates.sort_values("rank")
print(cands[["obsreg_id", "rank", "score", "reasons"]].head(8).to_string(index=False))

# %%
# What was cut, and why
# ---------------------
# Every cut, drop and fallback of the run is counted in its warnings table.
warnings = pd.read_parquet(work / "run" / "warnings.parquet")
print(warnings[["stage", "code", "count", "total", "message"]].head(10).to_string(index=False))

# %%
# Light curves of the top candidates
# ----------------------------------
ev = run.events
ids = ev.obsreg_id.astype(str)
fig, axes = plt.subplots(3, 1, figsize=(7, 6), sharex=False)
for ax, sid in zip(axes, cands["obsreg_id"].astype(str).head(3)):
    i = int(np.flatnonzero(ids == sid)[0])
    t, e = ev.events_of(i)
    ax.hist(t - t.min(), bins=40, histtype="step")
    ax.set(ylabel="counts / bin", title=f"{sid}: {len(t)} events")
axes[-1].set_xlabel("time since first event [s]")
fig.tight_layout()
