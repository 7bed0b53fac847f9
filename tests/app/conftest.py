"""Fixtures of the explorer tests: a small simulated run directory and live servers.

* ``explore_run`` (session): a ~600-source simulated pipeline run (stages up to the
  significances; ~20 s once per session).
* ``classified_run`` (session): the same run (its files linked, not copied) plus the output
  of ``serendip classify`` in ``classify/`` (kind "both").
* ``start_server`` (function): factory ``start_server(run_dir) -> handle`` with ``.url``,
  ``.app`` and ``.stop()``; every server still running is stopped at the end of the test.
* ``live_server`` (function): ``start_server(explore_run)``'s URL.
* ``fresh_run`` (function): ``explore_run`` linked into a new directory, with no labels.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from serendip.simulate.csc import toy_csc_properties

N_SOURCES = 600


@pytest.fixture(scope="session")
def explore_run(tmp_path_factory) -> Path:
    """A small simulated run directory (embedding, clusters, candidates, events, truth)."""
    from serendip.pipeline import load_config, run_pipeline

    run_dir = tmp_path_factory.mktemp("explore") / "run"
    cfg = load_config(
        None,
        {
            "input": {"n_sources": N_SOURCES, "seed": 3, "known_fraction": 0.3},
            "candidates": {"n_estimators": 100},
        },
    )
    run_pipeline(cfg, run_dir, progress=False, stop_after="significance")
    return run_dir


def tiny_detections(ids: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """CSC-like detections (the columns ``serendip classify`` reads) of the run's sources ``ids``.

    One detection per source, with obsid/region_id taken from the obsreg_id "OBSID_REGION".
    """
    rng = np.random.default_rng(seed)
    n = len(ids)
    cls = np.array(["AGN", "XRB", "YSO"])[np.arange(n) % 3]
    obsid, region = np.array([s.split("_") for s in ids]).T  # n small test rows
    df = pd.DataFrame(
        {
            "name": [f"2CXO J{i:06d}" for i in range(n)],
            "obsid": obsid.astype(int),
            "region_id": region.astype(int),
            "ra": rng.uniform(0, 360, n),
            "dec": rng.uniform(-60, 60, n),
        }
    )
    df = pd.concat([df, toy_csc_properties(cls, rng)], axis=1)
    return df


@pytest.fixture(scope="session")
def classified_run(explore_run, tmp_path_factory) -> Path:
    """``explore_run``'s files (symlinked) plus ``classify/`` from the real classify pipeline."""
    from serendip.classify.pipeline import run_classify
    from serendip.io.tables import read_table

    run_dir = linked_copy(explore_run, tmp_path_factory.mktemp("classified") / "run")
    ids = read_table(explore_run / "embedding.parquet")["obsreg_id"].astype(str).to_numpy()
    det = tiny_detections(ids[:60])
    det.to_csv(run_dir / "detections_in.csv", index=False)
    run_classify(
        {
            "input": {"path": str(run_dir / "detections_in.csv")},
            "model": {"kind": "shipped", "name": "csc_xray_grouped"},
            "output": {"formats": ["parquet"], "plots": False},
        },
        run_dir / "classify",
    )
    return run_dir


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerHandle:
    """A uvicorn server of ``create_app(run_dir)`` in a background thread."""

    def __init__(self, run_dir: Path, strategy: str = "default"):
        import uvicorn

        from serendip.app.server import create_app

        self.app = create_app(run_dir, strategy=strategy)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"explorer server on port {self.port} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self.app.state.explorer.labels.close()


@pytest.fixture
def start_server():
    """Factory: ``start_server(run_dir, strategy="default") -> ServerHandle`` (stopped at teardown)."""
    handles: list[ServerHandle] = []

    def start(run_dir, strategy: str = "default") -> ServerHandle:
        h = ServerHandle(Path(run_dir), strategy)
        handles.append(h)
        return h

    yield start
    for h in handles:
        h.stop()


@pytest.fixture
def live_server(explore_run, start_server) -> str:
    """Base URL (http://127.0.0.1:PORT) of an explorer server over ``explore_run``."""
    return start_server(explore_run).url


def linked_copy(run_dir: Path, dest: Path) -> Path:
    """A run directory at ``dest`` whose entries are symlinks to ``run_dir``'s (no labels)."""
    dest.mkdir(parents=True)
    for entry in Path(run_dir).iterdir():
        if entry.name != "explore":
            os.symlink(entry, dest / entry.name)
    return dest


@pytest.fixture
def fresh_run(explore_run, tmp_path) -> Path:
    """``explore_run`` with no labels yet (its files linked into a new directory)."""
    return linked_copy(explore_run, tmp_path / "run")
