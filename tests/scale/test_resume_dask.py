"""SIGKILL the driver of a Dask-run batch; no worker is left behind; the rerun resumes exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil

from .conftest import finished_chunks, resume_and_check, slow_batch_script

# the real run_batch on a 2-worker LocalCluster, each chunk slowed by 1 s (on the worker) so
# the kill lands part-way through the 8 chunks whatever the machine's speed
SCRIPT = slow_batch_script(1.0, "local:2")


def _alive_in_group(pgid: int) -> list[psutil.Process]:
    """Processes of process group ``pgid`` that still run (zombies waiting for a reaper excluded)."""
    alive = []
    for p in psutil.process_iter(["status"]):
        try:
            if os.getpgid(p.pid) == pgid and p.info["status"] != psutil.STATUS_ZOMBIE:
                alive.append(p)
        except (ProcessLookupError, psutil.Error):
            continue
    return alive


def _wait_until(cond, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def test_sigkill_dask_driver_then_resume_in_process(reference_run, tiles, tmp_path):
    out = tmp_path / "run"
    marks = out / "stages" / "features"
    with open(tmp_path / "stderr.txt", "wb") as err:
        # a new session: the driver, its scheduler, nannies and worker processes share one
        # process group, as under a batch scheduler, which kills the whole group (or cgroup)
        proc = subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(tiles), str(out)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    pgid = proc.pid
    try:
        started = _wait_until(
            lambda: proc.poll() is not None or len(list(marks.glob("chunk-*.json"))) >= 2, 120
        )
        assert started and proc.poll() is None, (tmp_path / "stderr.txt").read_text()[-3000:]
        workers = [p for p in _alive_in_group(pgid) if p.pid != proc.pid]
        assert workers, "the Dask worker processes should run beside the driver"
        os.kill(proc.pid, signal.SIGKILL)  # the driver only
        proc.wait(timeout=30)
        # workers notice their nanny (in the driver) is gone and exit; when some outlive
        # the driver, kill the group as a batch scheduler does when it ends a job
        orphans_exited = _wait_until(lambda: not _alive_in_group(pgid), 20)
        if not orphans_exited:
            os.killpg(pgid, signal.SIGKILL)
        assert _wait_until(lambda: not _alive_in_group(pgid), 30), _alive_in_group(pgid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    print(f"workers exited by themselves after the driver's SIGKILL: {orphans_exited}")
    assert proc.returncode == -signal.SIGKILL
    done = finished_chunks(marks)
    assert 2 <= len(done) < 8, done  # killed part-way through the 8 chunks
    assert not (out / "scores.parquet").exists()
    pids = {json.loads((marks / f"chunk-{c}.json").read_text())["pid"] for c in done}
    assert proc.pid not in pids  # the finished chunks ran on the workers

    resume_and_check(tiles, out, done, reference_run)
