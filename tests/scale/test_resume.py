"""SIGKILL a batch run half-way; the rerun ends with the same outputs without redoing chunks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd

from serendip.scale import run_batch

from .conftest import SMALL

# the run in the subprocess: the real run_batch, each chunk slowed by 0.4 s so that the
# kill lands between chunks and inside one (the test must not depend on machine speed)
SCRIPT = textwrap.dedent(
    """
    import sys, time
    import serendip.scale.batch as b
    real = b.features_chunk
    def slow(**kw):
        time.sleep(0.4)
        return real(**kw)
    b.features_chunk = slow
    b.run_batch(sys.argv[1], sys.argv[2], scheduler="none", chunk_size=1, progress=False,
                n_fit={n_fit}, n_estimators={n_estimators}, n_top={n_top})
    """
).format(**SMALL)


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
    done = {p.stem.removeprefix("chunk-"): p.stat().st_mtime_ns for p in marks.glob("chunk-*.json")}
    assert 3 <= len(done) < 8, done  # killed part-way through the 8 chunks
    assert not (out / "scores.parquet").exists()

    res = run_batch(tiles, out, scheduler="none", chunk_size=1, progress=False, **SMALL)
    st = res.summary["stages"]["features"]
    assert set(st["computed_ids"]) == {f"{i:06d}" for i in range(8)} - set(done)
    assert st["chunks_reused"] == len(done)
    # finished chunks were not rewritten
    for cid, mtime in done.items():
        assert (marks / f"chunk-{cid}.json").stat().st_mtime_ns == mtime
    assert not list(marks.glob(".chunk-*"))  # temporaries of the killed write are gone
    pd.testing.assert_frame_equal(res.scores, reference_run.scores)
    pd.testing.assert_frame_equal(
        pd.read_parquet(res.paths["candidates"]), pd.read_parquet(reference_run.paths["candidates"])
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_files"] == 240
