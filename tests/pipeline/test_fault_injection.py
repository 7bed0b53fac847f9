"""Fault injection: a discovery run SIGKILLed at random points, with and without a changed
setting in between, always resumes to the outputs of an uninterrupted run with the final
settings, leaves nothing behind and does not redo finished work (issue 15, "What to build" 2).

Each trial copies a finished run (or one whose last stages had not run), starts a run in a
child process with other settings (or the same), kills it at a random point - as soon as a randomly chosen output is replaced (between
output and manifest), as soon as a stage's manifest is withdrawn (before its outputs), or after
a random delay - and then resumes with the final settings in process. ``SERENDIP_FAULT_TRIALS``
sets the number of trials (default 5; the benchmark runs more); ``SERENDIP_FAULT_REPORT`` names
a JSON file that receives the counts.
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
import pytest

from serendip.io.tables import read_table
from serendip.pipeline import run_pipeline
from serendip.pipeline.stages import digest_matches

from .conftest import SMALL, small_config

TRIALS = int(os.environ.get("SERENDIP_FAULT_TRIALS", "5"))
PRODUCTS = (
    "events.parquet",
    "files.parquet",
    "stages/represent/event_features.parquet",
    "stages/features/features.parquet",
    "embedding.parquet",
    "clusters.parquet",
    "candidates.parquet",
    "candidates.csv",
)
#: settings changed by the interrupted run, with the outputs that change first
CHANGES = {
    "none": ({}, ["clusters.parquet", "candidates.parquet", "candidates.csv"]),
    "candidates": ({"candidates": {"n_estimators": 60}}, ["candidates.parquet", "candidates.csv"]),
    "cluster": ({"cluster": {"eps": 3.0}}, ["clusters.parquet", "candidates.parquet"]),
    "seed": ({"input": {"seed": 1}}, ["events.parquet", "files.parquet"]),
}
_CHILD = """
import json, sys
from serendip.pipeline import load_config, run_pipeline
run_pipeline(load_config(None, json.loads(sys.argv[2])), sys.argv[1], progress=False,
             stop_after="candidates")
"""


def _overrides(change: dict) -> dict:
    over = json.loads(json.dumps(SMALL))
    for section, values in change.items():
        over.setdefault(section, {}).update(values)
    return over


def _stamp(path: Path):
    try:
        st = path.stat()
        return st.st_ino, st.st_mtime_ns
    except FileNotFoundError:
        return None


def _kill_run(run_dir: Path, overrides: dict, trigger: tuple, timeout: float = 120) -> bool:
    """Start the child run and SIGKILL it at ``trigger``; True when it was killed (not done)."""
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(run_dir), json.dumps(overrides)],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    kind, arg = trigger
    watched = run_dir / arg if kind in ("replaced", "withdrawn") else None
    before = _stamp(watched) if watched is not None else None
    started = time.monotonic()
    try:
        while child.poll() is None:
            now = _stamp(watched) if watched is not None else None
            if (
                (kind == "replaced" and now is not None and now != before)
                or (kind == "withdrawn" and before is not None and now is None)
                or (kind == "delay" and time.monotonic() - started >= arg)
            ):
                os.killpg(child.pid, signal.SIGKILL)
                break
            assert time.monotonic() - started < timeout, "the child run never reached its trigger"
            time.sleep(0.0005)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    return child.returncode == -signal.SIGKILL


def _finished_stages(run_dir: Path) -> dict[str, tuple[str, int]]:
    """{stage: (key, manifest mtime)} of the stages whose manifest and outputs are intact."""
    out = {}
    for m in (run_dir / "stages").glob("*/manifest.json"):
        data = json.loads(m.read_text())
        if all(
            digest_matches(run_dir / rel, data["digests"][k]) for k, rel in data["outputs"].items()
        ):
            out[m.parent.name] = (data["key"], m.stat().st_mtime_ns)
    return out


def assert_same_run(run_dir: Path, reference: Path) -> None:
    for rel in PRODUCTS:
        pd.testing.assert_frame_equal(
            read_table(run_dir / rel), read_table(reference / rel), obj=rel
        )
    left = [p.relative_to(run_dir) for p in run_dir.rglob(".*") if p.is_file()]
    assert not left, f"temporaries left behind: {left}"


@pytest.fixture(scope="module")
def references(small_run, tmp_path_factory) -> dict[str, Path]:
    """The uninterrupted run of each final setting (the changed ones derived from small_run)."""
    refs = {"none": small_run}
    root = tmp_path_factory.mktemp("refs")
    for name in ("candidates", "cluster"):
        refs[name] = root / name
        shutil.copytree(small_run, refs[name])
        run_pipeline(
            small_config(**{f"{s}__{k}": v for s, d in CHANGES[name][0].items() for k, v in d.items()}),
            refs[name], progress=False, stop_after="candidates",
        )  # fmt: skip
    return refs


def test_random_kills_resume_to_the_uninterrupted_outputs(references, tmp_path):
    rng = np.random.default_rng(2026)
    kills, trials = 0, []
    for trial in range(TRIALS):
        change = str(rng.choice(list(CHANGES)))
        overrides, outputs = CHANGES[change]
        # the final settings: back to the original ones, or the changed ones themselves
        final = change if change in references and rng.random() < 0.4 else "none"
        kind = str(rng.choice(["replaced", "withdrawn", "delay"]))
        if kind == "replaced":
            trigger = (kind, str(rng.choice(outputs)))
        elif kind == "withdrawn":
            stage = {"none": "cluster", "seed": "represent"}.get(change, "candidates")
            trigger = (kind, f"stages/{stage}/manifest.json")
        else:
            trigger = (kind, float(rng.uniform(2.0, 9.0)))
        run_dir = tmp_path / f"trial{trial}"
        shutil.copytree(references["none"], run_dir)  # a finished run, re-run with a change
        if change == "none":  # or a run that had not reached the cluster stage yet
            for stage in ("cluster", "candidates"):
                (run_dir / "stages" / stage / "manifest.json").unlink()
        killed = _kill_run(run_dir, _overrides(overrides), trigger)
        kills += killed
        before = _finished_stages(run_dir)
        final_cfg = small_config(
            **{f"{s}__{k}": v for s, d in CHANGES[final][0].items() for k, v in d.items()}
        )
        records = run_pipeline(final_cfg, run_dir, progress=False, stop_after="candidates")
        for stage, rec in records.items():  # finished work (same key, intact) is not redone
            if stage in before and before[stage][0] == rec.key:
                assert rec.reused, (trial, stage)
                manifest = run_dir / "stages" / stage / "manifest.json"
                assert manifest.stat().st_mtime_ns == before[stage][1]
        assert_same_run(run_dir, references[final])
        trials.append({"change": change, "final": final, "trigger": list(map(str, trigger)),
                       "killed": bool(killed)})  # fmt: skip
        shutil.rmtree(run_dir)
    print(f"\nserendip run: {kills} SIGKILLs survived in {TRIALS} trials")
    _report("run", kills, trials)
    assert kills >= TRIALS // 2, "too few trials were killed before the run ended"


def _report(name: str, kills: int, trials: list) -> None:
    path = os.environ.get("SERENDIP_FAULT_REPORT")
    if path:
        data = json.loads(Path(path).read_text()) if Path(path).is_file() else {}
        data[name] = {"kills_survived": kills, "trials": trials}
        Path(path).write_text(json.dumps(data, indent=2))
