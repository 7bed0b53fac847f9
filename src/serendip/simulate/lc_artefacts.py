"""Bogus light curves for stream-like evaluations: subtraction dipoles, solar-system crossings,
bad-epoch outliers.

In the SNAD search of ZTF DR3, 188 of 277 inspected outliers were bogus light curves; an
evaluation without such objects overstates what a detector's top list holds. Each kind is made
from a *host* light curve (any standard table with flux and flux_err), so the artefacts carry
the host survey's cadence and noise:

* ``dipole``: a subtraction residual near a bright star - a few epochs of large flux of random
  sign (positive and negative lobes), |flux| of ``amplitude`` x the curve's median error or more;
* ``crossing``: a solar-system object crossing the position - one epoch in one band far above
  the rest, nothing before or after;
* ``bad_epoch``: calibration failures - the same few nights shifted in many curves at once.

:func:`inject_artefacts` returns the new rows (new object ids ``art<k>_<kind>``) and one label row
per artefact (``label`` = ``"artefact"``, ``artefact_kind``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

KINDS = ("dipole", "crossing", "bad_epoch")


def inject_artefacts(
    hosts: pd.DataFrame,
    n: int,
    *,
    kinds: Sequence[str] = KINDS,
    amplitude: float = 20.0,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` artefact light curves built on random host curves of ``hosts``.

    Parameters
    ----------
    hosts : standard long table (object_id, time [days], band, flux, flux_err [any flux unit]).
    n : number of artefacts, spread evenly over ``kinds``.
    kinds : subset of :data:`KINDS`.
    amplitude : artefact size in units of the host's median flux error.
    seed : random seed (the output is a deterministic function of all arguments).

    Returns
    -------
    (rows, labels): the artefact rows in the hosts' columns, and object_id, label, artefact_kind.
    """
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown artefact kind(s) {unknown}; known: {list(KINDS)}")
    if not {"object_id", "time", "band", "flux", "flux_err"} <= set(hosts.columns):
        raise ValueError("hosts need object_id, time, band, flux and flux_err columns")
    rng = np.random.default_rng(seed)
    ids = pd.unique(hosts["object_id"])
    groups = dict(tuple(hosts.groupby("object_id", sort=False)))
    all_times = np.unique(np.round(hosts["time"].to_numpy(np.float64)))
    bad_nights = rng.choice(all_times, size=min(3, all_times.size), replace=False)
    rows, labels = [], []
    for k in range(n):
        kind = kinds[k % len(kinds)]
        host = groups[ids[rng.integers(len(ids))]].copy()
        oid = f"art{k}_{kind}"
        flux = host["flux"].to_numpy(np.float64).copy()
        err = float(np.median(host["flux_err"]))
        m = len(flux)
        if kind == "dipole":
            idx = rng.choice(m, size=min(m, int(rng.integers(2, 5))), replace=False)
            flux[idx] += (
                rng.choice([-1.0, 1.0], idx.size) * amplitude * err * rng.uniform(1, 3, idx.size)
            )
        elif kind == "crossing":
            flux[rng.integers(m)] += amplitude * err * rng.uniform(2, 5)
        else:  # bad_epoch: the shared bad nights
            hit = np.isin(np.round(host["time"].to_numpy(np.float64)), bad_nights)
            if not hit.any():
                hit[rng.integers(m)] = True
            flux[hit] -= amplitude * err * rng.uniform(1, 2)
        host["flux"] = flux
        host["object_id"] = oid
        rows.append(host)
        labels.append((oid, "artefact", kind))
    return (
        pd.concat(rows, ignore_index=True),
        pd.DataFrame(labels, columns=["object_id", "label", "artefact_kind"]),
    )
