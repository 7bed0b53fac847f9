"""A stage's outputs and its manifest are committed together (issue 15, items 1, 2 and 7).

A run is "killed" in-process between a stage's outputs and its manifest (``StageStore.record``
raises), with a changed setting, and then re-run with the original settings: every output must
equal the reference run's, and run-level copies (candidates.csv/.fits) agree with
candidates.parquet. The real SIGKILLs are in ``test_fault_injection.py``. The runs stop after
the candidates (the report stage alone takes longer than the rest at this size).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from serendip.io.tables import read_table
from serendip.pipeline import run_pipeline
from serendip.pipeline.stages import StageStore

from .conftest import small_config

PRODUCTS = (
    "events.parquet",
    "files.parquet",
    "sources.parquet",
    "stages/represent/event_features.parquet",
    "stages/features/features.parquet",
    "embedding.parquet",
    "clusters.parquet",
    "candidates.parquet",
)


class Killed(BaseException):
    """Stands for a SIGKILL: nothing after it runs (not an Exception, so nothing catches it)."""


def _cfg(**changes) -> dict:
    return small_config(**changes)


@pytest.fixture(scope="module")
def reference(small_run) -> Path:
    return small_run


def _run(cfg, run_dir: Path, stop_after: str = "candidates"):
    return run_pipeline(cfg, run_dir, progress=False, stop_after=stop_after)


def _killed_before_manifest(monkeypatch, cfg, run_dir: Path, stage: str) -> None:
    """Run ``cfg`` in ``run_dir`` and stop it after ``stage`` wrote its outputs, before its
    manifest."""
    real = StageStore.record

    def record(self, name, *args, **kwargs):
        if name == stage:
            raise Killed(name)
        return real(self, name, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(StageStore, "record", record)
        with pytest.raises(Killed):
            _run(cfg, run_dir)


def assert_same_products(run_dir: Path, reference: Path) -> None:
    for rel in PRODUCTS:
        pd.testing.assert_frame_equal(
            read_table(run_dir / rel), read_table(reference / rel), obj=rel
        )
    cands = read_table(run_dir / "candidates.parquet")
    for copy in ("candidates.csv", "candidates.fits"):
        other = read_table(run_dir / copy)
        assert other["obsreg_id"].astype(str).tolist() == cands["obsreg_id"].astype(str).tolist()
        np.testing.assert_allclose(other["score"].to_numpy(float), cands["score"].to_numpy(float))
    assert not [p for p in run_dir.rglob(".*") if p.is_file()], "a temporary was left behind"


def test_changed_candidates_setting_killed_before_its_manifest(reference, tmp_path, monkeypatch):
    """Issue 15 item 1: 1,944 of 2,000 positions differed and every stage said 'reused'."""
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)
    alt = _cfg(candidates__n_estimators=100)
    _killed_before_manifest(monkeypatch, alt, run_dir, "candidates")
    # the interrupted run did replace the candidates (or this test tests nothing)
    changed = read_table(run_dir / "candidates.parquet")["obsreg_id"].tolist()
    assert changed != read_table(reference / "candidates.parquet")["obsreg_id"].tolist()

    records = _run(_cfg(), run_dir)
    assert not records["candidates"].reused
    assert all(records[s].reused for s in ("input", "represent", "features", "embed", "cluster"))
    assert_same_products(run_dir, reference)


def test_changed_seed_killed_before_the_input_manifest(reference, tmp_path, monkeypatch):
    """Issue 15 item 2: events.parquet shared no id with files.parquet, all stages 'reused'."""
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)
    _killed_before_manifest(monkeypatch, _cfg(input__seed=1), run_dir, "input")
    records = _run(_cfg(), run_dir)
    assert not records["input"].reused
    events = pd.read_parquet(run_dir / "events.parquet", columns=["obsreg_id"])
    files = read_table(run_dir / "files.parquet")
    assert set(events["obsreg_id"].astype(str)) <= set(files["obsreg_id"].astype(str))
    assert_same_products(run_dir, reference)


def test_changed_seed_killed_one_stage_later(reference, tmp_path, monkeypatch):
    """The changed input finished; the next stage was killed before its manifest."""
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)
    _killed_before_manifest(monkeypatch, _cfg(input__seed=1), run_dir, "represent")
    _run(_cfg(), run_dir)
    assert_same_products(run_dir, reference)


def test_an_output_edited_after_its_manifest_is_recomputed(reference, tmp_path):
    """Reuse checks the recorded digest, not only that the file exists."""
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)
    cands = read_table(run_dir / "candidates.parquet")
    cands.iloc[::-1].to_parquet(run_dir / "candidates.parquet")  # same size class, other order
    records = _run(_cfg(), run_dir)
    assert not records["candidates"].reused
    assert_same_products(run_dir, reference)


def test_a_plain_copy_of_a_run_is_reused(reference, tmp_path):
    """Other modification times (cp without -p) but the same bytes: nothing is redone."""
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir, copy_function=shutil.copyfile)
    records = _run(_cfg(), run_dir)
    assert all(r.reused for r in records.values())


def test_stale_report_temporaries_are_removed_on_resume(reference, tmp_path):
    """Issue 15 item 7: a killed report stage left gallery/.gallery_*.tmp.png forever."""
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)
    stale = [run_dir / "gallery" / ".gallery_flare.abc123.tmp.png", run_dir / ".run.x.tmp.json"]
    for p in stale:
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"")
    _run(_cfg(), run_dir, stop_after="input")
    assert not any(p.exists() for p in stale)


def test_files_of_another_input_kind_do_not_survive(reference, tmp_path):
    """A gtis.parquet or failures.csv from an earlier real-data run in the same folder is not
    read as if it described a simulated input."""
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)
    (run_dir / "failures.csv").write_text("path,error\nx,y\n")
    _run(_cfg(input__seed=1), run_dir, stop_after="input")
    assert not (run_dir / "failures.csv").exists()
