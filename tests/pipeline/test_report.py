"""Report: self-contained HTML with plots drawn from embedded data, settings last; class gallery PNGs."""

from __future__ import annotations

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


def _data(text: str) -> dict:
    import json

    m = re.search(r"<script type='application/json' id='report-data'>(.*?)</script>", text, re.S)
    assert m, "no report data"
    return json.loads(m.group(1).replace("<\\/", "</"))


def test_report_is_self_contained_with_plots_from_data_and_settings_last(run):
    run_dir, ev, cand = run
    settings = {
        "embed": {"method": "tsne", "perplexity": 50},
        "cluster": {"eps": 2.5},
        "seed": 1234,
    }
    path = write_report(run_dir, settings=settings, n_top=4, max_clusters=3, n_per_cluster=4)
    assert path == run_dir / "report.html" and path.stat().st_size > 10_000
    text = path.read_text()
    # nothing is loaded from elsewhere; no images: plots are drawn from the embedded numbers
    assert not re.search(r'(src|href)=["\'](?!data:)', text)
    assert "<img" not in text
    data = _data(text)
    emb = data["embedding"]
    assert len(emb["x"]) == len(emb["y"]) == len(cand) and emb["top"] == [0, 1, 2, 3]
    top = cand.sort_values("rank").iloc[0]
    assert emb["id"][0] == str(top["obsreg_id"])
    # 4 top candidates with their E-t map counts and light curves; 3 clusters x 4 thumbnails
    assert [f["key"] for f in data["files"]] == ["top0", "top1", "top2", "top3"]
    i0 = list(ev.obsreg_id).index(top["obsreg_id"])
    t, e = ev.events_of(i0)
    first = data["files"][0]
    assert np.array(first["map"]["z"]).shape == (24, 16)
    assert np.array(first["map"]["z"]).sum() == np.sum((e >= 500) & (e <= 7000))
    assert first["map"]["e_kev"] == [0.5, 7.0] and len(first["lc"]["rate"]) >= 4
    assert len(data["thumbs"]) == 3 * 4
    for token in ('"perplexity": 50', '"eps": 2.5', '"seed": 1234'):
        assert token in text
    # results first, settings last
    assert (
        text.index("<h2>Embedding") < text.index("<h2>Top candidates") < text.index("<h2>Settings")
    )
    # the top candidates appear with their reasons
    assert str(top["obsreg_id"]) in text and "anomaly-score top" in text
    assert "known flare (input list)" in text


def test_report_without_events_explains_and_still_plots(run, tmp_path):
    _, _, cand = run
    path = write_report(tmp_path / "r2", candidates=cand, settings={"x": 1}, n_top=3)
    text = path.read_text()
    assert "No events available" in text
    data = _data(text)
    assert len(data["embedding"]["x"]) == len(cand) and data["files"] == []


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
