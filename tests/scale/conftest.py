"""Shared fixtures of the survey-scale tests: small simulated tiles, written once per session."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

#: small settings so a whole batch run takes about a second in process
SMALL = {"n_fit": 200, "n_estimators": 40, "n_top": 10}


@pytest.fixture(scope="session")
def tiles(tmp_path_factory):
    """8 simulated event tiles of 30 sources each (240 files, ~50k events)."""
    from serendip.scale import write_simulated_tiles

    out = tmp_path_factory.mktemp("tiles")
    rep = write_simulated_tiles(out, 240, sources_per_tile=30, seed=5, progress=False)
    assert len(rep.computed) == 8 and not rep.failed
    return out


@pytest.fixture(scope="session")
def reference_run(tiles, tmp_path_factory):
    """An uninterrupted in-process run with chunk_size=2 (the result every other run must equal)."""
    from serendip.scale import run_batch

    out = tmp_path_factory.mktemp("reference")
    return run_batch(tiles, out, scheduler="none", chunk_size=2, progress=False, **SMALL)


def slow_batch_script(sleep_s: float, scheduler: str) -> str:
    """``python -c`` text: the real run_batch (chunk_size=1, argv[1] -> argv[2]) on
    ``scheduler``, each features chunk slowed by ``sleep_s`` so that a kill lands part-way
    through the chunks whatever the machine's speed."""
    return textwrap.dedent(
        f"""
        import sys, time
        import serendip.scale.batch as b
        real = b.features_chunk
        def slow(**kw):
            time.sleep({sleep_s})
            return real(**kw)
        b.features_chunk = slow
        b.run_batch(sys.argv[1], sys.argv[2], scheduler={scheduler!r}, chunk_size=1,
                    progress=False, **{SMALL!r})
        """
    )


def finished_chunks(marks) -> dict[str, int]:
    """``{chunk id: marker mtime_ns}`` of the chunks whose marker is written."""
    return {p.stem.removeprefix("chunk-"): p.stat().st_mtime_ns for p in marks.glob("chunk-*.json")}


def resume_and_check(tiles, out, done: dict[str, int], reference_run):
    """Rerun in process into ``out`` after a kill; only unfinished chunks are computed and the
    outputs equal the uninterrupted reference run. Returns the rerun's result."""
    from serendip.scale import run_batch

    marks = out / "stages" / "features"
    res = run_batch(tiles, out, scheduler="none", chunk_size=1, progress=False, **SMALL)
    st = res.summary["stages"]["features"]
    assert set(st["computed_ids"]) == {f"{i:06d}" for i in range(8)} - set(done)
    assert st["chunks_reused"] == len(done)
    for cid, mtime in done.items():  # finished chunks were not rewritten
        assert (marks / f"chunk-{cid}.json").stat().st_mtime_ns == mtime
    assert not list(marks.glob(".chunk-*"))  # temporaries of the killed write are gone
    pd.testing.assert_frame_equal(res.scores, reference_run.scores)
    for name in ("features", "candidates"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(res.paths[name]), pd.read_parquet(reference_run.paths[name])
        )
    return res
