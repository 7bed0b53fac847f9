"""SIGKILL a batch run half-way; the rerun ends with the same outputs without redoing chunks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd

from .conftest import SMALL, finished_chunks, resume_and_check, slow_batch_script

# the real run_batch, each chunk slowed by 0.4 s so that the kill lands between chunks and
# inside one (the test must not depend on machine speed)
SCRIPT = slow_batch_script(0.4, "none")


def test_sigkill_then_resume_equals_uninterrupted_run(reference_run, tiles, tmp_path):
    out = tmp_path / "run"
    marks = out / "stages" / "features"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(tiles), str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while len(list(marks.glob("chunk-*.json"))) < 3:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "subprocess made no progress"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done = finished_chunks(marks)
    assert 3 <= len(done) < 8, done  # killed part-way through the 8 chunks
    assert not (out / "scores.parquet").exists()

    resume_and_check(tiles, out, done, reference_run)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_files"] == 240


def test_partial_merged_tables_of_a_killed_merge_are_removed(reference_run, tiles, tmp_path):
    """Issue 15 item 7: a batch killed during the merge left a 0-byte .features.*.tmp.parquet
    that the resumed run never removed."""
    import shutil

    from serendip.scale import run_batch

    out = tmp_path / "run"
    shutil.copytree(reference_run.paths["features"].parent, out)
    stale = [out / ".features.k3j2.tmp.parquet", out / ".candidates.x.tmp.parquet"]
    stale.append(out / "model" / ".iforest.q.tmp.safetensors")
    for p in stale:
        p.write_bytes(b"")
    res = run_batch(tiles, out, scheduler="none", chunk_size=2, progress=False, **SMALL)
    assert not [p for p in stale if p.exists()]
    assert not [p for p in out.rglob(".*") if p.is_file()]
    pd.testing.assert_frame_equal(res.scores, reference_run.scores)
