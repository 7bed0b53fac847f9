"""Benchmark: ``serendip batch-classify`` over a simulated whole Chandra Source Catalog.

A CSC-2.1-sized table (408,000 sources, 1.3 million detections, 1-6 per source; toy CSC
properties from :func:`serendip.simulate.csc.toy_csc_properties`, sky positions uniform) is
written as Parquet, then classified in row chunks on a Dask LocalCluster
(:func:`serendip.scale.classify_table`, the shipped default model) and the detections are
combined into source-level classes. Reports wall time, rows/s and peak memory of this
process and of each Dask worker (the workers' memory is bounded by ``chunk_rows``). The same-process baseline is
the in-process run (``scheduler="none"``) on the first 10% of the table, scaled.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_classify_batch.py [N_SOURCES]``.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import peak_rss_mib, write_section  # noqa: E402
from serendip.scale import classify_table  # noqa: E402
from serendip.scale.client import get_client  # noqa: E402
from serendip.simulate.csc import TOY_CLASS_CENTRES, toy_csc_properties  # noqa: E402


def simulate(n_src: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ndet = rng.choice([1, 2, 3, 4, 5, 6], size=n_src, p=[0.22, 0.2, 0.15, 0.15, 0.14, 0.14])
    cls = rng.choice(list(TOY_CLASS_CENTRES), size=n_src, p=[0.8, 0.05, 0.15])
    ra = np.repeat(rng.uniform(0, 360, n_src), ndet)
    dec = np.repeat(np.degrees(np.arcsin(rng.uniform(-1, 1, n_src))), ndet)
    name = np.repeat(np.char.add("2CXO J", np.arange(n_src).astype("U7")), ndet)
    df = pd.DataFrame({"name": name, "ra": ra, "dec": dec})
    return pd.concat([df, toy_csc_properties(np.repeat(cls, ndet), rng)], axis=1)


def main() -> None:
    n_src = int(sys.argv[1]) if len(sys.argv) > 1 else 408_000
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        df = simulate(n_src)
        src = tmp / "csc.parquet"
        df.to_parquet(src, row_group_size=100_000)
        t_sim = time.perf_counter() - t0
        n = len(df)
        sub = tmp / "sub.parquet"
        df.iloc[: n // 10].to_parquet(sub, row_group_size=100_000)
        del df
        t0 = time.perf_counter()
        classify_table(sub, tmp / "sub_out.parquet", scheduler="none", progress=False)
        t_base = (time.perf_counter() - t0) * 10
        t0 = time.perf_counter()
        with get_client("local") as client:
            path, info = classify_table(
                src, tmp / "out.parquet", chunk_rows=100_000, client=client, progress=False
            )
            t_dask = time.perf_counter() - t0
            # each worker's own peak resident memory (Linux ru_maxrss: KiB) and its limit
            worker_peak = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            limits = [w["memory_limit"] for w in client.scheduler_info()["workers"].values()]
        peak_w = max(worker_peak.values()) / 1024
        srcs = pd.read_parquet(info["sources_path"], columns=["status"])
    body = (
        f"{n:,} simulated detections of {n_src:,} sources (toy CSC properties, simulated in {t_sim:.0f} s), "
        f"Parquet, 100,000-row chunks, shipped model `csc_xray_grouped`, Dask LocalCluster on this machine:\n\n"
        "| run | wall [s] | detections/s |\n|---|---|---|\n"
        f"| batch-classify on Dask, with source-level classes | {t_dask:.0f} | {n / t_dask:,.0f} |\n"
        f"| in process (scheduler none), first 10% x 10 | {t_base:.0f} | {n / t_base:,.0f} |\n\n"
        f"{info['sources']:,} sources classified ({int((srcs['status'] == 'ambiguous').sum()):,} ambiguous: "
        f"soft and hard votes of their detections disagree). Goal: under 300 s "
        f"({'met' if t_dask < 300 else 'not met'}). Peak RSS of the driver {peak_rss_mib():.0f} MiB; "
        f"of the {len(worker_peak)} Dask workers (one thread each) at most {peak_w:.0f} MiB each "
        f"(memory limit {min(limits) / 2**30:.1f} GiB each; a chunk of 100,000 rows bounds it, "
        f"whatever the table's size). Load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} "
        "shared cores at the end.\n"
    )
    write_section(
        "classify_batch",
        "Batch classification of a simulated whole CSC (batch-classify on Dask)",
        body,
        "OMP_NUM_THREADS=1 python benchmarks/bench_classify_batch.py",
    )
    print(body)


if __name__ == "__main__":
    main()
