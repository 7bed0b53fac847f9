"""LabelStore: durable (survives SIGKILL), keeps history, thread-safe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from serendip.app.labels import LabelStore
from serendip.errors import InputError

WRITER = """
import sys, time
from serendip.app.labels import LabelStore
store = LabelStore(sys.argv[1])
for i in range(20):
    store.add(f"src_{i}", "interesting" if i % 2 else "artefact", note=f"n{i}")
store.add("src_0", "not interesting", note="changed my mind")
print("written", flush=True)
time.sleep(60)
"""


def test_labels_survive_sigkill(tmp_path):
    db = tmp_path / "explore" / "labels.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "written"
        os.kill(proc.pid, signal.SIGKILL)  # no chance to close or checkpoint
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    store = LabelStore(db)
    latest = store.latest()
    assert len(latest) == 20 and store.n_labelled() == 20
    assert latest.iloc[0].tolist()[:3] == ["src_0", "not interesting", "changed my mind"]
    assert latest["label"].iloc[1:].tolist() == [
        "interesting" if i % 2 else "artefact" for i in range(1, 20)
    ]
    hist = store.history()
    assert len(hist) == 21 and hist["label"].iloc[0] == "artefact"
    assert (hist["time"].diff().dropna() >= 0).all()
    mode = store._con.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode.lower() == "wal"


def test_concurrent_writers(tmp_path):
    store = LabelStore(tmp_path / "l.sqlite")

    def work(k: int) -> None:
        for i in range(50):
            store.add(f"t{k}_{i}", "interesting")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.n_labelled() == 200 and len(store.history()) == 200


def test_unusable_path_is_a_clear_error(tmp_path):
    (tmp_path / "f").write_text("a file, not a folder")
    with pytest.raises(InputError, match="label database"):
        LabelStore(tmp_path / "f" / "labels.sqlite")
