"""Light-curve features per second (``serendip lightcurves``) on real survey light curves,
against a same-process baseline: the same ``light-curve`` extractor called once per curve in a
Python loop (what a user would write by hand).

    python benchmarks/bench_lc_features.py [--repeat 3] [--jobs 2]

Data: the ZTF Bright Transient Survey SN Ia alert light curves (2,289 objects, g and R) and
the SDSS Stripe 82 RR Lyrae (483 objects, ugriz) in ``shared/data/real``. Times exclude
reading the tables (done once). Writes its section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402


def _loop(extractor, table) -> int:
    """Baseline: one extractor call per (object, band) curve, in Python."""
    n = 0
    value = "flux" if "flux" in table.columns else "mag"
    for (_, _), g in table.groupby(["object_id", "band"], sort=False):
        if len(g) < 5:
            continue
        g = g.sort_values("time")
        try:
            extractor(g["time"].to_numpy(), g[value].to_numpy(), g[f"{value}_err"].to_numpy(),
                      sorted=True, check=False, fill_value=np.nan)  # fmt: skip
        except Exception:  # noqa: BLE001 - a curve the fits cannot take; the run goes on
            pass
        n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    from serendip.io.lightcurves import read_lightcurves
    from serendip.paths import real_data_dir
    from serendip.represent.lc_features import FEATURE_SETS, lightcurve_features

    root = real_data_dir()
    if root is None:
        raise SystemExit("real data folder not present (set SERENDIP_REAL_DATA)")
    d = root / "lightcurve_testdata_ztf_snia_sdss_rrlyr"
    sets = {
        "ZTF BTS SN Ia (flux)": read_lightcurves(d / "ztf_bts_snia_lightcurves.csv.gz",
                                                 to_flux=True),
        "SDSS S82 RR Lyrae (mag)": read_lightcurves(d / "sdss_s82_rrlyrae_lightcurves.csv.gz"),
    }  # fmt: skip
    rows = []
    for name, table in sets.items():
        for fs in ("full", "basic"):
            ex = FEATURE_SETS[fs][0](table.attrs["kind"])
            ours, base = [], []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                feats = lightcurve_features(table, extractor=ex, n_jobs=args.jobs)
                ours.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                _loop(ex, table)
                base.append(time.perf_counter() - t0)
            med, bmed = float(np.median(ours)), float(np.median(base))
            rows.append(
                f"| {name} | {fs} | {len(feats):,} | {feats.shape[1]} | "
                f"{feats.size / med:,.0f} | {med:.2f} ({min(ours):.2f}-{max(ours):.2f}) | "
                f"{bmed:.2f} ({min(base):.2f}-{max(base):.2f}) | {bmed / med:.1f}x |"
            )
    load = os.getloadavg()[0]
    body = (
        f"Feature values per second of `lightcurve_features` (objects x feature columns / "
        f"wall time; `Extractor.many` over all curves of a band, {args.jobs} threads, "
        f"chunks of 2,000) against the same extractor called per curve in a Python loop, "
        f"same process, {args.repeat} repeats (median, min-max). Load average at the end: "
        f"{load:.1f} on 2 cores shared with other work, so absolute times are noisy; the ratio "
        "is measured in one process.\n\n"
        "| data | feature set | objects | columns | features/s | serendip [s] | loop baseline [s] "
        "| speed-up |\n|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    write_section("lc_features", "Light-curve features per second (serendip lightcurves)", body)
    print(body)


if __name__ == "__main__":
    main()
