"""Empirical false-alarm probabilities on real source-free regions (ObsID 754), issue 16 item 3.

The ACIS-I field of ObsID 754 is cut into source-sized regions (as ``bench_anomaly_real.py``,
nothing injected). Each region is scored as a run scores its sources (event features, the
``events`` case with an isolation forest) and given its empirical false-alarm probability
against time-scrambled copies of every region (:mod:`serendip.catalog.significance`). On real
regions without variable sources the number at or below each threshold should be threshold x
regions within Poisson error.

Baseline in the same process: the *nominal* probabilities the software printed before (burst
and gap ``10^-statistic``, the KS p-value) counted at the same thresholds, and the wall time of
the real regions' event features against that of the whole calibration.

    python benchmarks/bench_significance_real.py [--radius 16] [--scrambles 20] [--reps 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402
from serendip.catalog.significance import empirical_significance  # noqa: E402
from serendip.io import CircleRegion, EventSet, extract_regions  # noqa: E402
from serendip.paths import real_data_dir  # noqa: E402

LEVELS = (0.1, 0.01, 0.001)
NOTE = (
    "Bayesian blocks at 0.1 is OFF on the conservative side: most regions have no change "
    "point, so the statistic is discrete and no FAP lies between the null share with a change "
    "point (~6 %) and 1. The burst term's nominal probability overstates the significance "
    "5-10x on these real null regions; the empirical FAP does not. In `serendip demo` (5,000 "
    "sources, 4 scrambles) the significance stage costs ~3 s CPU (5.0 s in a fresh process, "
    "2.2 s of it imports the earlier stages already paid), against ~3.5 s for the represent stage."
)


def regions(radius: float):
    from astropy.io import fits

    real = real_data_dir()
    if real is None:
        return None
    path = real / "chandra_acis_obsid754_msh1552" / "msh1552_acis_evt2_filtered.fits.gz"
    with fits.open(path) as h:
        x = np.asarray(h["EVENTS"].data["x"], float)
        y = np.asarray(h["EVENTS"].data["y"], float)
    step = 2 * radius
    gx, gy = np.meshgrid(np.arange(np.quantile(x, 0.01), np.quantile(x, 0.99), step),
                         np.arange(np.quantile(y, 0.01), np.quantile(y, 0.99), step))
    regs = [CircleRegion.physical(a, b, radius, name=f"754_{i}")
            for i, (a, b) in enumerate(zip(gx.ravel(), gy.ravel(), strict=True))]
    files = [f for f in extract_regions(path, regs, keep_empty=False) if len(f.time) >= 10]
    es = EventSet.from_arrays({f.obsreg_id: (f.time, f.energy) for f in files})
    ftab = pd.DataFrame({"obsreg_id": es.obsreg_id.astype(str),
                         "tstart": [f.meta["tstart"] for f in files],
                         "tstop": [f.meta["tstop"] for f in files]})
    gtis = pd.DataFrame([(f.obsreg_id, a, b) for f in files if f.good_times is not None
                         for a, b in zip(*f.good_times, strict=True)],
                        columns=["obsreg_id", "start", "stop"])
    return es, ftab, gtis


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--radius", type=float, default=16.0)
    ap.add_argument("--scrambles", type=int, default=20)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    data = regions(args.radius)
    if data is None:
        print("real data not present (SERENDIP_REAL_DATA)")
        return
    es, ftab, gtis = data
    from serendip.features.event_block import event_block
    from serendip.represent import event_features

    t_base, t_sig = [], []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        real = event_features(es, ftab, gtis)
        t_base.append(time.perf_counter() - t0)
        X = event_block(real)[0].astype(np.float32).astype(np.float64)
        cands = pd.DataFrame({"obsreg_id": real["obsreg_id"], "anomaly_score": 0.0,
                              "anomaly_percentile": 1.0})
        t0 = time.perf_counter()
        res = empirical_significance(es, cands, real, files=ftab, gtis=gtis, X=X,
                                     detectors=("iforest",), n_scrambles=args.scrambles,
                                     seed=0, threshold=0.01, n_bins=5)
        t_sig.append(time.perf_counter() - t0)
    t = res.table
    n = len(t)
    rows = []
    for col, label, nominal in (
        ("fap", "all terms (empirical)", None),
        ("fap_burst", "burst", "nominal_burst"),
        ("fap_gap", "gap", "nominal_gap"),
        ("fap_variability", "variability (KS)", "nominal_variability"),
        ("fap_bb_change", "Bayesian blocks", "nominal_bb_change"),
        ("fap_anomaly", "anomaly (iforest)", None),
    ):
        cells = [label]
        for a in LEVELS:
            k = int((t[col] <= a).sum())
            e = a * n
            ok = abs(k - e) <= 2 * np.sqrt(e) + 1
            nom = "" if nominal is None else f" / nominal {int((t[nominal] <= a).sum())}"
            cells.append(f"{k}{nom} ({'ok' if ok else 'OFF'})")
        rows.append(cells)
    head = "| term | " + " | ".join(f"FAP <= {a:g}: expected {a * n:.1f} +- {np.sqrt(a * n):.1f}"
                                      for a in LEVELS) + " |"
    table = "\n".join([head, "|" + "---|" * (len(LEVELS) + 1)]
                      + ["| " + " | ".join(r) + " |" for r in rows])
    tb, ts = np.array(t_base), np.array(t_sig)
    body = (
        f"{n} regions of radius {args.radius:g} px (>= 10 events) over the ObsID 754 ACIS-I field, "
        f"nothing injected; {args.scrambles} scrambles per region, 5 counts bins. Counts at or below "
        "each threshold: empirical FAP, and after a slash the nominal probability the software "
        "printed before (baseline, same regions); ok = within 2 Poisson sigma (+1) of threshold x "
        f"regions.\n\n{table}\n\n"
        f"Time (same process, {args.reps} repetitions, median [min-max]): event features of the "
        f"regions (baseline) {np.median(tb):.2f} s [{tb.min():.2f}-{tb.max():.2f}], the whole "
        f"calibration {np.median(ts):.2f} s [{ts.min():.2f}-{ts.max():.2f}] = "
        f"{np.median(ts) / np.median(tb):.1f}x for {args.scrambles} scrambles.\n\n"
        + NOTE + "\n"
    )
    print(body)
    write_section("significance_real", "Empirical false-alarm probabilities on real source-free "
                  "regions (issue 16 item 3)", body)


if __name__ == "__main__":
    main()
