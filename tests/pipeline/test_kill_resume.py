"""A discovery run killed with SIGKILL part-way resumes to the same outputs as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from serendip.io.tables import read_table
from serendip.pipeline import load_config, run_pipeline

OVERRIDES = {
    "input": {"n_sources": 400, "seed": 3},
    "embed": {"n_iter": 250},
    "report": {"n_top": 10},
}
#: the run's data products (report.html holds timings, so it is compared by existence only)
PRODUCTS = (
    "files.parquet",
    "stages/represent/event_features.parquet",
    "stages/features/features.parquet",
    "embedding.parquet",
    "clusters.parquet",
    "candidates.parquet",
)

_CHILD = """
import json, sys
from serendip.pipeline import load_config, run_pipeline
cfg = load_config(None, json.loads(sys.argv[2]))
run_pipeline(cfg, sys.argv[1], progress=False)
"""


def _manifest(run_dir: Path, stage: str) -> Path:
    return run_dir / "stages" / stage / "manifest.json"


@pytest.mark.slow
def test_sigkill_during_a_run_resumes_to_the_uninterrupted_outputs(tmp_path):
    cfg = load_config(None, OVERRIDES)
    whole = tmp_path / "whole"
    run_pipeline(cfg, whole, progress=False)

    killed = tmp_path / "killed"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(killed), json.dumps(OVERRIDES)],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        deadline = time.monotonic() + 240
        # kill once the features stage has finished, i.e. during the embedding
        while not _manifest(killed, "features").is_file():
            assert child.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "features stage never finished"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    assert not (killed / "candidates.parquet").exists(), "killed too late to test anything"
    finished_before = {
        s: _manifest(killed, s).stat().st_mtime_ns
        for s in ("input", "represent", "features")
        if _manifest(killed, s).is_file()
    }
    assert set(finished_before) == {"input", "represent", "features"}

    # a partial write of a killed run (atomic_path's temporary name) is cleaned up, never used
    (killed / ".candidates.x1y2.tmp.parquet").write_bytes(b"PAR1 partial")
    records = run_pipeline(cfg, killed, progress=False)
    # finished stages were not redone; the rest ran
    for stage, mtime in finished_before.items():
        assert records[stage].reused, stage
        assert _manifest(killed, stage).stat().st_mtime_ns == mtime
    assert not records["candidates"].reused
    assert not [p for p in killed.rglob("*") if p.name.startswith(".") and p.is_file()], (
        "a temporary file was left behind"
    )
    for rel in PRODUCTS:
        pd.testing.assert_frame_equal(read_table(killed / rel), read_table(whole / rel), obj=rel)
    assert (killed / "report.html").is_file()
