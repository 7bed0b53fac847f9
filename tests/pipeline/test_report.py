"""Report: self-contained HTML with embedded plots and the run's settings; class gallery PNGs."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest

from serendip.catalog import build_candidates, write_candidates
from serendip.io import EventSet
from serendip.report import pick_examples, write_class_gallery, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _events(n_files: int = 40, seed: int = 0) -> EventSet:
    rng = np.random.default_rng(seed)
    per = {}
    for i in range(n_files):
        n = int(rng.integers(20, 300))
        t = np.sort(rng.uniform(0, 20_000, n))
        if i % 10 == 0:  # a flare
            t = np.sort(np.r_[t, rng.normal(9000, 200, 200)])
        e = rng.uniform(500, 7000, len(t))
        per[f"{7000 + i}_{i}"] = (t, e)
    return EventSet.from_arrays(per)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    ev = _events()
    rng = np.random.default_rng(1)
    X = np.c_[ev.counts, rng.normal(size=(ev.n_files, 3))]
    clusters = np.repeat([1, 2, 0, 3], 10)
    known = pd.DataFrame(
        {"obsreg_id": [ev.obsreg_id[0], ev.obsreg_id[10]], "type": ["flare", "dip"]}
    )
    feats = pd.DataFrame({"obsreg_id": ev.obsreg_id, "n_events": ev.counts})
    cand = build_candidates(
        ev.obsreg_id, X, clusters, known, event_features=feats, embedding=rng.normal(size=(40, 2))
    )
    write_candidates(cand, run_dir)
    ev.write(run_dir / "events.parquet")
    return run_dir, ev, cand


def _images(text: str) -> list[bytes]:
    return [
        base64.b64decode(b)
        for b in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    ]


def test_report_is_self_contained_with_plots_and_settings(run):
    run_dir, ev, cand = run
    settings = {
        "embed": {"method": "tsne", "perplexity": 50},
        "cluster": {"eps": 2.5},
        "seed": 1234,
    }
    path = write_report(run_dir, settings=settings, n_top=4, max_clusters=3, n_per_cluster=4)
    assert path == run_dir / "report.html" and path.stat().st_size > 10_000
    text = path.read_text()
    imgs = _images(text)
    # 3 embedding views + 4 top candidates + 3 cluster galleries
    assert len(imgs) == 3 + 4 + 3
    assert all(b.startswith(PNG_MAGIC) and len(b) > 2000 for b in imgs)
    # nothing is loaded from elsewhere
    assert not re.search(r'(src|href)="(?!data:)', text)
    for token in ('"perplexity": 50', '"eps": 2.5', '"seed": 1234'):
        assert token in text
    # the top candidates appear with their reasons
    top = cand.iloc[0]
    assert str(top["obsreg_id"]) in text and "anomaly-score top" in text
    assert "known flare (input list)" in text


def test_report_without_events_explains_and_still_plots(run, tmp_path):
    _, _, cand = run
    path = write_report(tmp_path / "r2", candidates=cand, settings={"x": 1}, n_top=3)
    text = path.read_text()
    assert "No events available" in text
    assert len(_images(text)) == 3  # the embedding views only


def test_class_gallery_one_png_per_class(tmp_path):
    ev = _events(30, seed=4)
    sources = pd.DataFrame(
        {"obsreg_id": ev.obsreg_id, "label": np.where(np.arange(30) % 10 == 0, "flare", "steady")}
    )
    out = write_class_gallery(ev, sources, tmp_path / "gallery", n_per_class=2)
    assert sorted(out) == ["flare", "steady"]
    for path in out.values():
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000


def test_pick_examples_spreads_over_counts():
    counts = np.arange(100)
    pick = pick_examples(counts, 4, min_counts=30)
    assert len(pick) == 4 and np.all(counts[pick] >= 30)
    assert counts[pick].tolist() == sorted(counts[pick].tolist()) and counts[pick][-1] >= 95
    assert len(pick_examples(np.array([1, 2]), 4)) == 2
