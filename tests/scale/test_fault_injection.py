"""Fault injection: ``serendip batch`` SIGKILLed at random points (after k chunks, mid-merge,
between the model and its info, between merged tables), with and without a changed setting,
resumes to the uninterrupted outputs, leaves nothing behind and reuses finished chunks
(issue 15, "What to build" 2). ``SERENDIP_FAULT_TRIALS`` / ``SERENDIP_FAULT_REPORT`` as in
tests/pipeline/test_fault_injection.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .conftest import SMALL

TRIALS = int(os.environ.get("SERENDIP_FAULT_TRIALS", "5"))
CLI = [sys.executable, "-c", "from serendip.cli import main; main()", "batch"]
SMALL_ARGS = ["--n-estimators", "40", "--n-fit", "200", "--top", "10"]
CHANGES = {"none": [], "seed": ["--seed", "1"], "trees": ["--n-estimators", "30"]}
TRIGGERS = (
    ("markers", None),  # after k features chunks
    ("glob", ".features.*.tmp.parquet"),  # during the merge of the features
    ("replaced", "model/iforest.safetensors"),  # between the model and its info
    ("replaced", "features.parquet"),  # between the merged tables
    ("replaced", "scores.parquet"),
)


def _stamp(path: Path):
    try:
        st = path.stat()
        return st.st_ino, st.st_mtime_ns
    except FileNotFoundError:
        return None


def _kill_batch(tiles: Path, out: Path, args: list[str], trigger, k: int) -> bool:
    child = subprocess.Popen(
        [*CLI, str(tiles), "--out", str(out), "--scheduler", "none", "--chunk-size", "1", "-q",
         *SMALL_ARGS, *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    kind, arg = trigger
    before = _stamp(out / arg) if kind == "replaced" else None
    marks = out / "stages" / "features"
    started = time.monotonic()
    try:
        while child.poll() is None:
            if kind == "markers":
                hit = len(list(marks.glob("chunk-*.json"))) >= k
            elif kind == "glob":
                hit = bool(list(out.glob(arg)))
            else:
                now = _stamp(out / arg)
                hit = now is not None and now != before
            if hit:
                os.killpg(child.pid, signal.SIGKILL)
                break
            assert time.monotonic() - started < 120, "the batch never reached its trigger"
            time.sleep(0.0005)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    return child.returncode == -signal.SIGKILL


def test_random_kills_of_batch_resume_to_the_uninterrupted_outputs(tiles, reference_run, tmp_path):
    from serendip.scale import run_batch

    rng = np.random.default_rng(15)
    kills, trials = 0, []
    for trial in range(TRIALS):
        change = str(rng.choice(list(CHANGES)))
        trigger = TRIGGERS[int(rng.integers(len(TRIGGERS)))]
        k = int(rng.integers(1, 8))
        out = tmp_path / f"trial{trial}"
        if change != "none":  # a finished batch, re-run with another setting and killed
            shutil.copytree(reference_run.out_dir, out)
        killed = _kill_batch(tiles, out, CHANGES[change], trigger, k)
        kills += killed
        marks = out / "stages" / "features"
        done = {p.name: p.stat().st_mtime_ns for p in marks.glob("chunk-*.json")}
        res = run_batch(tiles, out, scheduler="none", chunk_size=1, progress=False, **SMALL)
        feats = res.summary["stages"]["features"]
        computed = set(feats.get("computed_ids", []))
        for name, mtime in done.items():  # finished chunks were not redone
            if (marks / name).stat().st_mtime_ns != mtime:
                raise AssertionError(f"trial {trial}: finished chunk {name} was recomputed")
            assert name.removeprefix("chunk-").removesuffix(".json") not in computed
        pd.testing.assert_frame_equal(res.scores, reference_run.scores)
        for name in ("features", "candidates"):
            pd.testing.assert_frame_equal(
                pd.read_parquet(res.paths[name]), pd.read_parquet(reference_run.paths[name])
            )
        left = [p.relative_to(out) for p in out.rglob(".*") if p.is_file()]
        assert not left, f"trial {trial}: temporaries left behind: {left}"
        trials.append({"change": change, "trigger": [trigger[0], str(trigger[1]), k],
                       "killed": bool(killed)})  # fmt: skip
        shutil.rmtree(out)
    print(f"\nserendip batch: {kills} SIGKILLs survived in {TRIALS} trials")
    path = os.environ.get("SERENDIP_FAULT_REPORT")
    if path:
        data = json.loads(Path(path).read_text()) if Path(path).is_file() else {}
        data["batch"] = {"kills_survived": kills, "trials": trials}
        Path(path).write_text(json.dumps(data, indent=2))
    assert kills >= TRIALS // 2, "too few trials were killed before the batch ended"
