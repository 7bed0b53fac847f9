"""The explorer's HTTP API (FastAPI TestClient) over a small simulated run (budget < 40 s)."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pandas as pd
import pytest
from astropy.table import Table
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from serendip.app.labels import LabelStore
from serendip.app.server import create_app
from serendip.catalog.neighbours import robust_standardize
from serendip.errors import InputError
from serendip.io.eventset import EventSet
from serendip.io.tables import read_table, write_table

from .conftest import N_SOURCES, linked_copy


@pytest.fixture(scope="module")
def client(explore_run, tmp_path_factory):
    run = linked_copy(explore_run, tmp_path_factory.mktemp("api") / "run")
    return TestClient(create_app(run))


@pytest.fixture(scope="module")
def emb(explore_run):
    return read_table(explore_run / "embedding.parquet")


def test_meta(client):
    m = client.get("/api/meta").json()
    assert m["n_sources"] == N_SOURCES and m["kind"] == "pipeline" and m["has_truth"] is True
    assert m["label_choices"][:3] == ["interesting", "not interesting", "artefact"]
    assert len(m["label_choices"]) > 3  # the simulated known types (flare, fxt, dip) follow
    assert "static" in m["strategies"] and m["strategy"] in m["strategies"]
    names = {c["name"]: c["type"] for c in m["colour_by"]}
    assert names["cluster"] == "categorical" and names["score"] == "numeric"
    assert names["true_label"] == "categorical"


def test_points_columnar_and_complete(client, emb, explore_run):
    r = client.get("/api/points", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    p = r.json()
    meta = client.get("/api/meta").json()
    for c in ["obsreg_id", "x", "y", "cluster", "known_type", "score", "rank"] + [
        c["name"] for c in meta["colour_by"]
    ]:
        assert len(p[c]) == N_SOURCES, c
    assert p["obsreg_id"] == emb["obsreg_id"].astype(str).tolist()
    np.testing.assert_allclose(p["x"], emb["x"], rtol=1e-3, atol=1e-12)
    known = read_table(explore_run / "known_transients.csv")
    kt = dict(zip(known["obsreg_id"].astype(str), known["type"], strict=True))
    assert [kt.get(i) for i in p["obsreg_id"]] == p["known_type"]
    assert sorted(p["rank"]) == list(range(1, N_SOURCES + 1))
    plain = client.get("/api/points", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == p


def test_source_view(client, emb, explore_run):
    sid = str(emb["obsreg_id"].iloc[5])
    s = client.get(f"/api/source/{sid}").json()
    assert s["obsreg_id"] == sid
    files = read_table(explore_run / "files.parquet").set_index("obsreg_id")
    t0, t1 = files.loc[sid, "tstart"], files.loc[sid, "tstop"]
    # time zero stated: the observation start, as mission seconds and an ISO date (Chandra)
    assert s["time_zero"]["mission_s"] == pytest.approx(t0)
    assert s["time_zero"]["mjdref"] == 50814.0 and s["time_zero"]["iso"].endswith("Z")
    z = np.array(s["et_map"]["z"])
    assert z.shape == (16, 48)
    assert len(s["et_map"]["energy_edges_kev"]) == 17 and len(s["et_map"]["time_edges_s"]) == 49
    # the whole observation, not first to last event
    assert s["et_map"]["time_edges_s"][-1] == pytest.approx(t1 - t0)
    ev = EventSet.read(explore_run / "events.parquet", order=emb["obsreg_id"].astype(str).tolist())
    t, e = ev.events_of(5)
    in_band = int(((e >= 500) & (e <= 7000)).sum())
    assert int(z.sum()) == in_band
    lc = s["lightcurve"]
    assert len(lc["edges_s"]) == len(lc["counts"]) + 1 == 257
    assert lc["edges_s"][-1] == pytest.approx(t1 - t0)
    assert sum(lc["counts"]) == int(((t >= t0) & (t <= t1)).sum())
    assert sum(lc["good_s"]) == pytest.approx(t1 - t0)  # no GTIs: all the time is good
    sp = s["spectrum"]
    assert sum(sp["counts"]) + sp["n_outside_band"] == len(e)
    assert s["image"] is None  # simulated events carry no x/y
    # truth apart from the properties (hidden while labelling unless asked for)
    assert "true_label" in s["truth"] and not any(k.startswith("true_") for k in s["properties"])
    assert s["properties"]["obsreg_id"] == sid
    assert "score" in s["properties"] and "hard_hm" in s["features"]
    pos = s["position"]
    assert 0 <= pos["ra"] < 360 and -90 <= pos["dec"] <= 90
    assert set(pos["links"]) >= {"SIMBAD", "NED", "Chandra archive"}
    terms = s["score_terms"]
    assert [t["column"] for t in terms][0] == "anomaly_percentile"
    assert any(t["decides"] for t in terms)
    assert max(t["value"] for t in terms) == pytest.approx(s["properties"]["score"])
    sig = s["significance"]
    assert sig["calibrated"] is True and set(sig["terms"]) >= {"burst", "gap", "anomaly"}
    burst = sig["terms"]["burst"]
    assert burst["statistic"] == pytest.approx(s["features"]["burst_sig"])
    assert burst["fap_lo"] <= burst["fap"] <= burst["fap_hi"] and burst["sigma"] >= 0
    assert 0 < sig["all"]["fap"] <= 1 and sig["all"]["best_term"] in sig["terms"]
    assert len(s["neighbours"]) == 8 and sid not in [n["obsreg_id"] for n in s["neighbours"]]
    m = client.get(f"/api/etmap/{sid}").json()
    assert m["et_map"]["z"] == s["et_map"]["z"]


def test_reasons_show_empirical_probabilities_or_none(client, explore_run):
    """No uncalibrated number is shown as a probability: the burst scan statistic in a reason
    is followed by the empirical false-alarm probability, or marked not calibrated."""
    from serendip.app.server import readable_reason

    rows = client.get("/api/candidates?limit=50").json()["rows"]
    burst = [r for r in rows if "burst scan statistic" in r["reason"]]
    assert burst and all("empirical" in r["reason"] for r in burst)
    assert all(0 < r["fap"] <= 1 for r in rows)
    assert not any("dex" in r["reason"] for r in rows)
    assert readable_reason("burst scan statistic 12.0 in 1% of the interval") == (
        "burst scan statistic 12.0 (not calibrated) in 1% of the interval"
    )


def test_one_distance_matches_the_catalogue(client, explore_run):
    cands = read_table(explore_run / "candidates.parquet")
    known = cands[cands["nearest_known"] != ""].iloc[0]
    a = client.get(f"/api/analogs/{known['obsreg_id']}?k=200").json()
    near = {n["obsreg_id"]: n["feature_distance"] for n in a["neighbours"]}
    assert near[known["nearest_known"]] == pytest.approx(known["nearest_known_distance"], rel=1e-3)
    assert "median" in client.get("/api/meta").json()["distance"]["definition"]


def test_search_by_id_name_and_position(client, emb, explore_run):
    sid = str(emb["obsreg_id"].iloc[7])
    r = client.get("/api/search", params={"q": sid}).json()
    assert r["kind"] == "id" and [h["obsreg_id"] for h in r["rows"]] == [sid]
    prefix = sid.split("_")[0] + "_"
    r = client.get("/api/search", params={"q": prefix}).json()
    assert r["rows"] and all(h["obsreg_id"].startswith(prefix) for h in r["rows"])
    cands = read_table(explore_run / "candidates.parquet").set_index("obsreg_id")
    ra, dec = cands.loc[sid, "ra"], cands.loc[sid, "dec"]
    r = client.get("/api/search", params={"q": f"{ra + 1e-4} {dec}", "radius_arcsec": 2}).json()
    assert r["kind"] == "position" and r["rows"][0]["obsreg_id"] == sid
    assert r["rows"][0]["sep_arcsec"] < 0.4
    assert client.get("/api/search", params={"q": "400 0"}).status_code == 422


def test_analogs_agree_with_brute_force(client, explore_run, emb):
    feats = read_table(explore_run / "stages" / "features" / "features.parquet")
    X = feats.drop(columns=["obsreg_id"]).to_numpy(np.float64)
    X = robust_standardize(X)
    ids = feats["obsreg_id"].astype(str).to_numpy()
    for row in (0, 17, 333):
        a = client.get(f"/api/analogs/{ids[row]}?k=10").json()
        assert a["query"] == ids[row]
        d = np.sqrt(((X - X[row]) ** 2).sum(axis=1))
        d[row] = np.inf
        best = np.argsort(d, kind="stable")[:10]
        got = [n["obsreg_id"] for n in a["neighbours"]]
        np.testing.assert_allclose(
            [n["feature_distance"] for n in a["neighbours"]], d[best], rtol=1e-3
        )
        assert set(got[:9]) <= set(ids[np.argsort(d)[:11]])  # ties only at the edge
        assert got[0] == ids[best[0]]


@pytest.mark.parametrize(
    "path",
    [
        "/api/source/nope_1",
        "/api/analogs/nope_1",
        "/api/etmap/..%2F..%2Fpyproject.toml",
        "/static/..%2Fpyproject.toml",
        "/static/%2e%2e/pyproject.toml",
        "/static/../pyproject.toml",
        "/static/rundata.py",
        "/static/__init__.py",
    ],
)
def test_unknown_ids_and_files_are_404(client, path):
    r = client.get(path)
    assert r.status_code == 404
    if path.startswith("/api"):
        assert "detail" in r.json()


def test_static_files_served(client):
    assert "<html" in client.get("/").text.lower()
    for name in ("index.html", "app.js", "style.css", "plotly.min.js"):
        assert client.get(f"/static/{name}").status_code == 200, name
    assert len(client.get("/static/plotly.min.js").content) > 1_000_000


def test_labels_validation_history_and_durability(fresh_run, emb):
    c = TestClient(create_app(fresh_run))
    a, b = (str(i) for i in emb["obsreg_id"].iloc[:2])
    assert c.post("/api/labels", json={"obsreg_id": a, "label": "bogus"}).status_code == 422
    assert (
        c.post("/api/labels", json={"obsreg_id": "nope_9", "label": "artefact"}).status_code == 404
    )
    assert c.post("/api/labels", json={"label": "artefact"}).status_code == 422
    too_long = {"obsreg_id": a, "label": "artefact", "note": "x" * 5000}
    assert c.post("/api/labels", json=too_long).status_code == 422
    r = c.post("/api/labels", json={"obsreg_id": a, "label": "artefact", "note": "hot pixel"})
    assert r.json() == {"ok": True, "n_labels": 1}
    c.post("/api/labels", json={"obsreg_id": b, "label": "not interesting"})
    r = c.post("/api/labels", json={"obsreg_id": a, "label": "interesting", "note": "flare!"})
    assert r.json()["n_labels"] == 2
    rows = c.get("/api/labels").json()["rows"]
    assert [(x["obsreg_id"], x["label"], x["note"]) for x in rows] == [
        (a, "interesting", "flare!"),
        (b, "not interesting", ""),
    ]
    # a new app on the same directory (a restart) sees the same labels and the full history
    c2 = TestClient(create_app(fresh_run))
    assert c2.get("/api/labels").json()["rows"] == rows
    assert c2.get("/api/meta").json()["n_labels"] == 2
    hist = LabelStore(fresh_run / "explore" / "labels.sqlite").history()
    assert hist["label"].tolist() == ["artefact", "not interesting", "interesting"]


def test_candidates_and_rerank(fresh_run, emb):
    c = TestClient(create_app(fresh_run))
    static = c.get("/api/candidates?order=static&limit=50").json()
    assert [r["rank"] for r in static["rows"]] == list(range(1, 51))
    assert c.get("/api/candidates?order=bogus").status_code == 422
    top = [r["obsreg_id"] for r in static["rows"]]
    points = c.get("/api/points").json()
    truth = dict(zip(points["obsreg_id"], points["true_label"], strict=True))
    labels = []
    for sid in top[:12]:  # label the static top 12 from the simulation truth
        lab = "not interesting" if truth[sid] in ("steady", "agn") else "interesting"
        labels.append(lab)
        c.post("/api/labels", json={"obsreg_id": sid, "label": lab})
    lc = c.get("/api/learning-curve").json()  # follows the labels without a re-rank
    assert lc["n_labels"] == 12 and lc["curve"]["n_inspected"] == list(range(1, 13))
    assert lc["static_curve"]["basis"] == "simulation truth"
    assert len(lc["static_curve"]["n_interesting"]) == 12
    r = c.post("/api/rerank", json={}).json()
    assert r["ok"] and r["n_labels"] == 12
    assert r["curve"]["n_inspected"] == list(range(1, 13))
    want = np.cumsum([lab == "interesting" for lab in labels]).tolist()
    assert r["curve"]["n_interesting"] == want
    rest = c.get("/api/candidates?order=static&limit=5").json()["rows"]
    assert [x["rank"] for x in rest] == list(range(13, 18))  # labelled ones left out
    with_lab = c.get("/api/candidates?order=static&limit=5&include_labelled=1").json()["rows"]
    assert with_lab[0]["obsreg_id"] == top[0] and with_lab[0]["label"] == labels[0]
    active = c.get("/api/candidates?order=active&limit=588").json()["rows"]
    assert len(active) == N_SOURCES - 12 and not set(top[:12]) & {x["obsreg_id"] for x in active}
    act = [x["active_score"] for x in active]
    assert act == sorted(act, reverse=True)
    if r["strategy"] != "static":
        assert [x["obsreg_id"] for x in active[:30]] != top[12:42]  # the labels moved something


@pytest.mark.parametrize("strategy", ["static", "aad"])
def test_other_strategies(fresh_run, strategy):
    c = TestClient(create_app(fresh_run, strategy=strategy))
    assert c.get("/api/meta").json()["strategy"] == strategy
    top = [r["obsreg_id"] for r in c.get("/api/candidates?limit=6").json()["rows"]]
    for sid, lab in zip(top, ["interesting", "artefact"] * 3, strict=True):
        c.post("/api/labels", json={"obsreg_id": sid, "label": lab})
    r = c.post("/api/rerank", json={}).json()
    assert r["strategy"] == strategy and r["curve"]["n_interesting"] == [1, 1, 2, 2, 3, 3]
    rows = c.get("/api/candidates?order=active&limit=20").json()["rows"]
    static = c.get("/api/candidates?order=static&limit=20").json()["rows"]
    same = [x["obsreg_id"] for x in rows] == [x["obsreg_id"] for x in static]
    assert same == (strategy == "static")


def test_unknown_strategy(explore_run):
    with pytest.raises(InputError, match="unknown strategy"):
        create_app(explore_run, strategy="nope")


def test_export_round_trips(fresh_run, emb):
    c = TestClient(create_app(fresh_run))
    ids = [str(i) for i in emb["obsreg_id"].iloc[[3, 1, 4, 100]]]
    for sid in ids[:2]:
        c.post("/api/labels", json={"obsreg_id": sid, "label": "artefact", "note": 'a, "b"'})
    for fmt, ext in (("csv", "csv"), ("votable", "vot"), ("fits", "fits")):
        for what, want in (("labels", ids[:2]), ("selection", ids)):
            r = c.post("/api/export", json={"what": what, "format": fmt, "ids": ids})
            assert r.status_code == 200, r.text
            assert f'filename="serendip-{what}.{ext}"' in r.headers["content-disposition"]
            assert "attachment" in r.headers["content-disposition"]
            astro_fmt = {"csv": "ascii.ecsv", "votable": "votable", "fits": "fits"}[fmt]
            t = Table.read(io.BytesIO(r.content), format=astro_fmt)
            assert [str(v) for v in t["obsreg_id"]] == want
            assert [str(v) for v in t["note"]][:2] == ['a, "b"'] * 2
            assert [str(v) for v in t["label"]][:2] == ["artefact"] * 2
            # coordinates and units, and the run's provenance in the header
            assert str(t["ra"].unit) == "deg" and str(t["dec"].unit) == "deg"
            assert str(t["tstart"].unit) == "s" and str(t["date_obs"][0]).endswith("Z")
            meta = {k.upper(): v for k, v in t.meta.items()} if fmt != "votable" else None
            if meta is not None:
                assert meta["SERENDIP"] and len(meta["CFGHASH"]) == 16
            if what == "selection":
                assert "score" in t.colnames and "embedding_x" in t.colnames
                assert str(t["rate"].unit) == "ct / s"
    assert not list((fresh_run / "explore").glob("export-*"))  # temporary files removed
    bad = {"what": "selection", "format": "xlsx", "ids": ids}
    assert c.post("/api/export", json=bad).status_code == 422
    bad = {"what": "selection", "format": "csv", "ids": ["nope_1"]}
    assert c.post("/api/export", json=bad).status_code == 404
    assert c.post("/api/export", json={"what": "selection", "format": "csv"}).status_code == 422
    assert c.post("/api/export", json={"what": "../x", "format": "csv"}).status_code == 422


def test_notes_undo_unlabel_and_review_order(fresh_run, emb):
    c = TestClient(create_app(fresh_run))
    a, b = (str(i) for i in emb["obsreg_id"].iloc[:2])
    # a note on its own is kept, with no label
    assert c.post("/api/notes", json={"obsreg_id": a, "note": "odd dip"}).json()["ok"]
    assert c.get("/api/labels").json()["rows"] == []
    assert [r["note"] for r in c.get("/api/notes").json()["rows"]] == ["odd dip"]
    r = c.post("/api/export", json={"what": "labels", "format": "csv"})
    t = Table.read(io.BytesIO(r.content), format="ascii.ecsv")
    assert [str(v) for v in t["obsreg_id"]] == [a] and str(t["note"][0]) == "odd dip"
    c.post("/api/labels", json={"obsreg_id": a, "label": "interesting", "note": "odd dip"})
    c.post("/api/labels", json={"obsreg_id": b, "label": "artefact"})
    assert c.get("/api/meta").json()["n_labels"] == 2
    # undo the last label, then unlabel the other: both count as unlabelled again
    u = c.post("/api/undo", json={}).json()
    assert u["undone"]["obsreg_id"] == b and u["n_labels"] == 1
    assert c.post("/api/unlabel", json={"obsreg_id": a}).json()["n_labels"] == 0
    cands = c.get("/api/candidates?order=static&limit=600").json()
    assert cands["n_labelled"] == 0 and cands["n_total"] == N_SOURCES
    assert {a, b} <= {x["obsreg_id"] for x in cands["rows"]}
    assert c.get("/api/notes").json()["rows"][0]["note"] == "odd dip"  # the note stays
    # the review order chosen survives a restart
    assert c.get("/api/meta").json()["review_order"] == "static"
    c.post("/api/review-state", json={"order": "active"})
    assert TestClient(create_app(fresh_run)).get("/api/meta").json()["review_order"] == "active"
    assert c.post("/api/review-state", json={"order": "x"}).status_code == 422


def test_event_download(client, emb, explore_run):
    sid = str(emb["obsreg_id"].iloc[2])
    ev = EventSet.read(explore_run / "events.parquet", order=emb["obsreg_id"].astype(str).tolist())
    t, _ = ev.events_of(2)
    for fmt, astro in (("fits", "fits"), ("csv", "ascii.ecsv")):
        r = client.get(f"/api/events/{sid}", params={"format": fmt})
        assert r.status_code == 200 and f"{sid}-events.{fmt}" in r.headers["content-disposition"]
        tab = Table.read(io.BytesIO(r.content), format=astro)
        assert len(tab) == len(t) and str(tab["time"].unit) == "s"
        assert str(tab["energy"].unit) == "eV"
        np.testing.assert_allclose(np.asarray(tab["time"]), t)
    assert client.get("/api/events/nope_1").status_code == 404
    assert client.get(f"/api/events/{sid}", params={"format": "exe"}).status_code == 422


def test_xy_and_batched_et_maps(client, emb):
    # /api/xy: x, y, cluster, score as float32 columns in the row order of /api/points
    pts = client.get("/api/points").json()
    r = client.get("/api/xy")
    n = len(pts["obsreg_id"])
    assert r.headers["x-serendip-columns"] == "x,y,cluster,score" and len(r.content) == 16 * n
    cols = np.frombuffer(r.content, "<f4").reshape(4, n)
    np.testing.assert_allclose(
        cols[0], np.asarray(pts["x"], float), rtol=1e-3, atol=1e-3
    )  # points: rounded
    np.testing.assert_array_equal(cols[2], pts["cluster"])
    np.testing.assert_allclose(cols[3], np.asarray(pts["score"], float), rtol=1e-3, atol=1e-4)
    # /api/etmaps: the maps of several sources in one request, equal to /api/etmap's
    ids = [str(i) for i in emb["obsreg_id"].iloc[:3]]
    maps = client.get("/api/etmaps", params={"ids": ",".join(ids)}).json()["maps"]
    assert list(maps) == ids
    for sid in ids:
        assert maps[sid] == client.get(f"/api/etmap/{sid}").json()["et_map"]
    assert client.get("/api/etmaps", params={"ids": f"{ids[0]},nope_1"}).status_code == 404
    many = ",".join([ids[0]] * 2 + [f"x{i}" for i in range(70)])
    assert client.get("/api/etmaps", params={"ids": many}).status_code == 422


def test_deep_link_serves_the_page(client, emb):
    sid = str(emb["obsreg_id"].iloc[4])
    r = client.get(f"/source/{sid}")
    assert r.status_code == 200 and "serendip explore" in r.text
    assert client.get("/source/nope_1").status_code == 404


def test_catalog_view(client, classified_run):
    assert client.get("/api/catalog").status_code == 404
    c = TestClient(create_app(classified_run))
    m = c.get("/api/meta").json()
    assert m["kind"] == "both"
    det = read_table(classified_run / "classify" / "detections.parquet")
    cat = c.get("/api/catalog").json()
    assert cat["n"] == cat["n_total"] == len(det)
    assert set(cat["classes"]) == {"AGN", "STAR_CV_NS", "XRB", "YSO"}
    assert len(cat["columns"]["class"]) == len(det) and "hr_hm" in cat["numeric"]
    cls = det["class"].value_counts().index[0]
    sub = c.get(f"/api/catalog?cls={cls}&min_prob=0.5").json()
    want = ((det["class"] == cls) & (det["p_class"] >= 0.5)).sum()
    assert sub["n"] == want == len(sub["columns"]["class"]) and set(sub["columns"]["class"]) == {
        cls
    }
    assert c.get("/api/catalog?min_det=2").json()["n"] == 0  # one detection per source here
    assert c.get("/api/catalog?cls=NOPE").status_code == 422
    names = {x["name"] for x in m["colour_by"]}
    assert {"class", "p_class", "p_AGN"} <= names
    p = c.get("/api/points").json()
    sid = f"{det['obsid'].iloc[0]}_{det['region_id'].iloc[0]}"
    i = p["obsreg_id"].index(sid)
    assert p["class"][i] == det["class"].iloc[0]
    assert p["p_class"][i] == pytest.approx(det["p_class"].iloc[0], rel=1e-3)
    props = c.get(f"/api/source/{sid}").json()["properties"]
    assert props["class"] == det["class"].iloc[0]


def test_classification_only_directory(classified_run):
    c = TestClient(create_app(classified_run / "classify"))
    m = c.get("/api/meta").json()
    det = read_table(classified_run / "classify" / "detections.parquet")
    assert m["kind"] == "classification" and m["n_sources"] == len(det)
    p = c.get("/api/points").json()
    assert len(p["x"]) == len(det)
    s = c.get(f"/api/source/{p['obsreg_id'][0]}").json()
    assert s["et_map"] is None and len(s["neighbours"]) == 8


def test_bad_run_directories(tmp_path, explore_run):
    with pytest.raises(InputError, match="embedding.parquet missing"):
        create_app(tmp_path)
    with pytest.raises(InputError, match="no such run directory"):
        create_app(tmp_path / "absent")
    run = linked_copy(explore_run, tmp_path / "bad")
    (run / "candidates.parquet").unlink()
    cand = read_table(explore_run / "candidates.parquet").drop(columns=["score"])
    write_table(cand, run / "candidates.parquet")
    with pytest.raises(InputError, match="candidates.parquet.*no 'score' column"):
        create_app(run)
    (run / "embedding.parquet").unlink()
    (run / "embedding.parquet").write_text("not parquet")
    with pytest.raises(InputError, match="embedding.parquet"):
        create_app(run)


def test_cli_bad_run_dir_is_a_clear_error(tmp_path):
    from serendip.cli import app

    res = CliRunner().invoke(app, ["explore", str(tmp_path), "--no-browser"])
    out = " ".join(res.output.split())  # rich wraps long lines
    assert res.exit_code == 2
    assert "not a serendip run directory" in out and "Traceback" not in out
    res = CliRunner().invoke(app, ["explore", str(tmp_path), "--strategy", "nope"])
    assert res.exit_code == 2 and "unknown strategy" in " ".join(res.output.split())


def test_live_server_and_restart(explore_run, start_server, tmp_path):
    run = linked_copy(explore_run, tmp_path / "live")
    s = start_server(run)
    r = httpx.post(f"{s.url}/api/labels", json={"obsreg_id": "x", "label": "artefact"})
    assert r.status_code == 404
    sid = str(read_table(run / "embedding.parquet")["obsreg_id"].iloc[0])
    httpx.post(f"{s.url}/api/labels", json={"obsreg_id": sid, "label": "artefact"})
    s.stop()
    s2 = start_server(run)
    rows = httpx.get(f"{s2.url}/api/labels").json()["rows"]
    assert [(x["obsreg_id"], x["label"]) for x in rows] == [(sid, "artefact")]
    assert pd.Series(httpx.get(f"{s2.url}/api/points").json()["x"]).size == N_SOURCES


def test_foreign_host_header_is_refused(client):
    """A page on another site that DNS-rebinds to 127.0.0.1 sends its own Host: refused."""
    assert client.get("/api/meta", headers={"Host": "evil.example:8765"}).status_code == 400
    r = client.get("/api/meta", headers={"Host": "127.0.0.1:8765"})
    assert r.status_code == 200 and r.headers["x-content-type-options"] == "nosniff"


def test_points_cache_follows_the_inputs(fresh_run, emb):
    first = TestClient(create_app(fresh_run)).get("/api/points").json()
    caches = list((fresh_run / "explore").glob("points-*.json.gz"))
    assert len(caches) == 1
    assert TestClient(create_app(fresh_run)).get("/api/points").json() == first  # from the cache
    moved = emb.assign(x=emb["x"] + 100.0)
    (fresh_run / "embedding.parquet").unlink()  # a symlink: replace it by a new table
    write_table(moved, fresh_run / "embedding.parquet")
    again = TestClient(create_app(fresh_run)).get("/api/points").json()
    np.testing.assert_allclose(again["x"], np.asarray(first["x"]) + 100.0, rtol=1e-3, atol=0.1)
    assert len(list((fresh_run / "explore").glob("points-*.json.gz"))) == 1


def test_cli_serves_and_stops_on_ctrl_c(fresh_run):
    import signal
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    main = "from serendip.cli import main; main()"
    cmd = [sys.executable, "-c", main, "explore", str(fresh_run), "--no-browser"]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        url = proc.stdout.readline().strip()
        assert url == f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 60
        while True:
            try:
                meta = httpx.get(url + "api/meta", timeout=5).json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert meta["n_sources"] == N_SOURCES
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
