"""Cost of model-file integrity checking, and the corpus of bad inputs, in numbers.

For every shipped model (src/serendip/models/*.safetensors) and one synthetic 64 MiB
model, times (best of ``--repeat``):

* **baseline** ``safetensors.numpy.load_file`` -- reads the tensors, checks nothing;
* **serendip** ``serendip.io.modelfile.load_model`` -- the same plus the byte-level
  header checks, the manifest and both SHA-256 digests.

Also times the whole bad-input corpus (tests/data/bad_inputs) through its readers.

Run: ``python benchmarks/bench_model_integrity.py [--repeat 5] [--big-mib 64]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tomllib
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import peak_rss_mib, write_section  # noqa: E402
from serendip.errors import SerendipError  # noqa: E402
from serendip.io.modelfile import load_model, save_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def corpus_seconds() -> tuple[int, float]:
    from serendip.catalog import read_known_transients
    from serendip.classify.inputs import read_catalog
    from serendip.classify.pipeline import load_config as load_classify_config
    from serendip.io.lightcurves import read_lightcurves
    from serendip.io.tables import read_table
    from serendip.pipeline import load_config

    readers = {
        "catalog": lambda p: read_catalog(p, feature_set="xray"),
        "known": read_known_transients,
        "table": read_table,
        "lightcurves": read_lightcurves,
        "run_config": load_config,
        "classify_config": load_classify_config,
        "model": lambda p: load_model(p, kind="corpus.Linear"),
    }
    base = ROOT / "tests" / "data" / "bad_inputs"
    index = tomllib.loads((base / "expected.toml").read_text())["files"]
    for name, e in index.items():  # warm imports once
        try:
            readers[e["reader"]](base / name)
        except SerendipError:
            pass
    t0 = time.perf_counter()
    for name, e in index.items():
        try:
            readers[e["reader"]](base / name)
            raise AssertionError(f"{name} was accepted")
        except SerendipError:
            pass
    return len(index), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--big-mib", type=int, default=64)
    args = ap.parse_args()
    from safetensors.numpy import load_file

    warnings.simplefilter("ignore")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        big = save_model(
            Path(tmp) / "big.safetensors",
            "bench.Big",
            {"w": np.random.default_rng(0).normal(size=args.big_mib * 2**17)},
            {"note": "synthetic"},
        )
        paths = sorted((ROOT / "src" / "serendip" / "models").glob("*.safetensors")) + [big]
        for p in paths:
            size = p.stat().st_size / 2**20
            t_base = best(lambda p=p: load_file(str(p)), args.repeat)
            t_ser = best(lambda p=p: load_model(p), args.repeat)
            rows.append((p.name, size, t_base, t_ser))
            print(
                f"{p.name:32s} {size:7.2f} MiB  load_file {t_base * 1e3:7.2f} ms  "
                f"load_model {t_ser * 1e3:7.2f} ms"
            )
    n_bad, t_bad = corpus_seconds()
    print(f"corpus: {n_bad} bad inputs rejected in {t_bad:.2f} s")
    lines = [
        "| model file | size [MiB] | safetensors load_file [ms] | serendip load_model [ms] "
        "| overhead [ms] | verified [MiB/s] |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, size, tb, ts in rows:
        lines.append(
            f"| {name} | {size:.2f} | {tb * 1e3:.2f} | {ts * 1e3:.2f} | {(ts - tb) * 1e3:.2f} "
            f"| {size / ts:.0f} |"
        )
    body = (
        "Loading a model checks its bytes, manifest and two SHA-256 digests "
        "(serendip.io.modelfile); the baseline is safetensors' own `load_file` on the same "
        f"file in the same process (best of {args.repeat}).\n\n"
        + "\n".join(lines)
        + f"\n\nThe bad-input corpus (tests/data/bad_inputs): {n_bad} files, all rejected "
        f"with their expected error in {t_bad:.2f} s in total. Peak RSS {peak_rss_mib():.0f} MiB."
    )
    write_section("model_integrity", "Model-file integrity and the bad-input corpus", body)


if __name__ == "__main__":
    main()
