"""Candidate catalogue: known-transient readers, kNN of known transients, anomaly score,
combined ranking with reasons, and the three output formats."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from serendip.catalog import (
    anomaly_scores,
    build_candidates,
    dominated_clusters,
    known_neighbours,
    nearest_known,
    normalise_type,
    read_candidates,
    read_known_transients,
    write_candidates,
)
from serendip.errors import InputError


# ----------------------------------------------------------------- known transients
def test_read_real_bonafide_json(real_data):
    path = real_data / "known_xray_transients" / "dillmann2025_bonafide_transients.json"
    raw = json.loads(path.read_text())
    df = read_known_transients(path)
    assert list(df.columns) == ["obsreg_id", "type", "group"]
    counts = df["type"].value_counts().to_dict()
    assert counts == {
        "flare": len(set(raw["Known Flares"])),
        "dip": len(set(raw["Known Dips"])),
        "other": 1,
    }
    assert df["obsreg_id"].is_unique
    assert df.set_index("obsreg_id").loc["23022_122", "type"] == "other"  # XRT 200515
    assert df.set_index("obsreg_id").loc["10996_5", "group"] == "Known Flares"


def test_read_real_csv_with_klass_column(real_data):
    path = real_data / "known_xray_transients" / "known_xray_transients.csv"
    with pytest.warns(UserWarning, match="rows have no obsreg_id"):
        df = read_known_transients(path)
    assert len(df) > 0 and df["obsreg_id"].str.contains("_").all()
    assert {"dip", "flare"} <= set(df["type"])


def test_read_csv_and_mapping_json(tmp_path):
    p = tmp_path / "k.csv"
    p.write_text("obsreg_id,type\n803_90,FXT\n1042_24,Known Flares\n1042_24,flare\n")
    df = read_known_transients(p)
    assert df.to_dict("list")["obsreg_id"] == ["803_90", "1042_24"]
    assert df["type"].tolist() == ["fxt", "flare"]
    q = tmp_path / "m.json"
    q.write_text(json.dumps({"803_90": "fxt", "4062_31": "Known Dips"}))
    assert read_known_transients(q)["type"].tolist() == ["fxt", "dip"]
    assert normalise_type("dip (bona fide)") == "dip" and normalise_type("Others") == "other"


def test_conflicting_types_warn_and_keep_first(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"Known Flares": ["1_1", "2_2"], "Known Dips": ["2_2"]}))
    with pytest.warns(UserWarning, match="listed under two types"):
        df = read_known_transients(p)
    assert df.set_index("obsreg_id")["type"].to_dict() == {"1_1": "flare", "2_2": "flare"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.json", None, "no such file"),
        ("bad.json", "{not json", "not valid JSON"),
        ("list.json", '["1_1"]', "expected a JSON object"),
        ("empty.json", "{}", "expected a JSON object"),
        ("nested.json", json.dumps({"Known Flares": {"a": 1}}), "must be a list of obsreg_id"),
        ("wrongitem.json", json.dumps({"Known Flares": [["1_1"]]}), "is not an obsreg_id"),
        ("noids.json", json.dumps({"Known Flares": []}), "lists no known transients"),
        ("noid.csv", "name,type\nx,flare\n", "no obsreg_id column"),
        ("notype.csv", "obsreg_id,ra\n1_1,3.0\n", "no type column"),
        ("garbage.parquet", b"\x00\x01garbage", "cannot be read as parquet"),
        ("table.xyz", "a,b\n", "unknown table format"),
    ],
)
def test_broken_known_files_raise_clear_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(InputError, match=message) as info:
        read_known_transients(path)
    assert info.value.path == str(path)


def test_folder_is_rejected(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        read_known_transients(tmp_path)


# ---------------------------------------------------------------- neighbours
def _line():
    # files on a line at x = 0, 1, 2, ... ; known flare at x=0, known dip at x=20
    X = np.c_[np.arange(21.0), np.zeros(21)]
    ids = np.array([f"f{i}" for i in range(21)])
    known = pd.DataFrame({"obsreg_id": ["f0", "f20", "absent_1"], "type": ["flare", "dip", "dip"]})
    return X, ids, known


def test_knn_ranks_and_distances_on_constructed_example():
    X, ids, known = _line()
    nb = known_neighbours(X, ids, known, k=3, standardize=False)
    assert nb["known_id"].tolist() == ["f0"] * 3 + ["f20"] * 3  # absent known skipped
    fl = nb[nb["known_id"] == "f0"]
    assert fl["obsreg_id"].tolist() == ["f1", "f2", "f3"]
    assert fl["rank"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(fl["distance"], [1, 2, 3])
    dp = nb[nb["known_id"] == "f20"]
    assert dp["obsreg_id"].tolist() == ["f19", "f18", "f17"] and (dp["known_type"] == "dip").all()
    assert "f0" not in fl["obsreg_id"].tolist()  # never its own neighbour


def test_knn_is_in_full_feature_space_not_2d():
    # two files equally close in the first 2 features; only the third feature separates them
    X = np.array([[0, 0, 0.0], [1, 0, 0.0], [1, 0, 5.0], [9, 9, 9.0]])
    ids = np.array(["k", "a", "b", "c"])
    nb = known_neighbours(
        X, ids, pd.DataFrame({"obsreg_id": ["k"], "type": ["flare"]}), k=2, standardize=False
    )
    assert nb["obsreg_id"].tolist() == ["a", "b"]


def test_nearest_known_excludes_self():
    X, ids, known = _line()
    near = nearest_known(X, ids, known, standardize=False)
    assert near.loc[5, "nearest_known"] == "f0" and near.loc[5, "nearest_known_distance"] == 5
    assert near.loc[15, "nearest_known"] == "f20"
    assert near.loc[0, "nearest_known"] == "f20" and near.loc[0, "nearest_known_distance"] == 20
    none = nearest_known(X, ids, known.iloc[:0])
    assert (none["nearest_known"] == "").all() and none["nearest_known_distance"].isna().all()


# ------------------------------------------------------------------- anomaly
def test_anomaly_score_ranks_injected_outliers_first():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1000, 6))
    out = rng.choice(1000, 8, replace=False)
    X[out] += rng.choice([-7.0, 7.0], size=(8, 6))
    s = anomaly_scores(X, random_state=0)
    assert s.shape == (1000,)
    assert set(np.argsort(-s)[:8]) == set(out)


# ---------------------------------------------------------------- candidates
@pytest.fixture(scope="module")
def catalogue():
    rng = np.random.default_rng(7)
    n = 1500
    X = rng.normal(size=(n, 5))
    ids = np.array([f"{1000 + i}_{i % 7}" for i in range(n)])
    # a novel transient type: far from everything, no known analog
    X[:4] += 9.0
    # analogs: files 10-12 are near-copies of known flare 20; 30-31 of known flare 21
    X[20] = X[10] + 0.01
    X[21] = X[30] + 0.01
    X[11], X[12], X[31] = X[10] + 0.02, X[10] - 0.02, X[30] - 0.02
    known = pd.DataFrame(
        {"obsreg_id": [ids[20], ids[21], ids[500]], "type": ["flare", "flare", "dip"]}
    )
    clusters = np.zeros(n, dtype=np.int64)
    clusters[100:400] = 1  # big, no known
    clusters[[20, 21, 40, 41, 42, 43, 44]] = 7  # small cluster holding both known flares
    feats = pd.DataFrame(
        {"obsreg_id": ids[::-1], "n_events": np.arange(n)[::-1] + 5, "rate": np.linspace(0, 1, n)}
    )
    emb = rng.normal(size=(n, 2))
    cand = build_candidates(
        ids, X, clusters, known, event_features=feats, embedding=emb, k=5, min_known=2
    )
    return cand, ids, known


def test_candidates_columns_and_ranks(catalogue):
    cand, ids, _ = catalogue
    need = {
        "obsreg_id",
        "rank",
        "score",
        "reasons",
        "anomaly_score",
        "nearest_known",
        "nearest_known_distance",
        "cluster",
        "knn_rank",
        "known_type",
        "emb_x",
        "emb_y",
        "n_events",
        "rate",
    }
    assert need <= set(cand.columns)
    assert cand["rank"].tolist() == list(range(1, len(ids) + 1))
    assert np.all(np.diff(cand["score"].to_numpy()) <= 0)
    assert sorted(cand["obsreg_id"]) == sorted(ids)
    # event features joined by obsreg_id, not by position
    row = cand.set_index("obsreg_id").loc[ids[3]]
    assert row["n_events"] == 3 + 5


def test_novel_transients_and_analogs_both_rise(catalogue):
    cand, ids, _ = catalogue
    top = cand.head(int(0.02 * len(cand)))["obsreg_id"].tolist()  # 2% budget
    assert set(ids[:4]) <= set(top)  # no known analog: found by the anomaly score
    assert {ids[10], ids[11], ids[12], ids[30], ids[31]} <= set(top)  # analogs of known flares
    c = cand.set_index("obsreg_id")
    assert c.loc[ids[0], "reasons"].startswith("anomaly-score top ")
    assert "nearest neighbour of known flare " + ids[20] in c.loc[ids[10], "reasons"]
    assert c.loc[ids[10], "knn_known"] == ids[20] and c.loc[ids[10], "knn_rank"] in (1, 2, 3)
    assert c.loc[ids[10], "nearest_known"] == ids[20]
    assert c.loc[ids[10], "nearest_known_distance"] < 0.1


def test_dominated_cluster_members_flagged(catalogue):
    cand, ids, _ = catalogue
    c = cand.set_index("obsreg_id")
    for i in (40, 41, 42, 43, 44):
        assert c.loc[ids[i], "cluster_dominated_by"] == "flare"
        assert (
            "cluster 7 dominated by known flares (2 of 2 known members)" in c.loc[ids[i], "reasons"]
        )
        assert c.loc[ids[i], "score"] >= 0.95
    assert (c.loc[ids[100:400], "cluster_dominated_by"] == "").all()
    assert (
        c.loc[ids[20], "known_type"] == "flare"
        and "known flare (input list)" in c.loc[ids[20], "reasons"]
    )


def test_dominated_clusters_rules():
    labels = np.array([1] * 4 + [2] * 50 + [0] * 6)
    kt = np.array([""] * 60, dtype=object)
    kt[[0, 1]] = "flare"  # 2 of 4 -> enriched
    kt[[4]] = "dip"  # 1 dip in a big cluster -> below min_known
    kt[[54, 55]] = "flare"  # in noise -> never a cluster
    d = dominated_clusters(labels, kt, min_known=2, max_chance=1.0)
    assert d["cluster"].tolist() == [1] and d["type"].tolist() == ["flare"]
    assert dominated_clusters(labels, kt, min_known=3).empty
    assert dominated_clusters(
        labels, kt, dominated_types=("dip",), min_known=1, max_chance=1.0
    ).empty


def test_a_large_cluster_with_a_few_known_members_is_not_dominated():
    # 3 known dips in a cluster of 2,000 out of 5,000 files with 4 known dips: enriched
    # relative to nothing meaningful, and likely by chance -> not flagged
    labels = np.array([1] * 2000 + [2] * 10 + [3] * 2990)
    kt = np.array([""] * 5000, dtype=object)
    kt[[0, 1, 2]] = "dip"
    kt[[2000, 2001, 2002, 2003]] = "flare"  # 4 of a 10-file cluster: far beyond chance
    kt[[4000]] = "dip"
    d = dominated_clusters(labels, kt, enrichment=1.0)
    assert d["cluster"].tolist() == [2] and d["type"].tolist() == ["flare"]


def test_candidates_roundtrip_all_formats(catalogue, tmp_path):
    cand, _, _ = catalogue
    paths = write_candidates(cand, tmp_path / "run")
    assert {p.name for p in paths.values()} == {
        "candidates.parquet",
        "candidates.fits",
        "candidates.csv",
    }
    for fmt, path in paths.items():
        back = read_candidates(path)
        assert list(back.columns) == list(cand.columns), fmt
        for col in cand.columns:
            if not pd.api.types.is_numeric_dtype(cand[col].dtype):
                assert back[col].tolist() == cand[col].tolist(), (fmt, col)
            else:
                np.testing.assert_allclose(
                    back[col].to_numpy(float),
                    cand[col].to_numpy(float),
                    rtol=1e-12,
                    err_msg=f"{fmt} {col}",
                )


def test_candidate_input_errors():
    X = np.zeros((3, 2))
    with pytest.raises(InputError, match="not unique"):
        build_candidates(["a", "a", "b"], X)
    with pytest.raises(InputError, match="3 rows for 2"):
        build_candidates(["a", "b"], X)
    with pytest.raises(InputError, match="lack 1 file"):
        build_candidates(
            ["a", "b", "c"],
            np.random.default_rng(0).normal(size=(3, 2)),
            event_features=pd.DataFrame({"obsreg_id": ["a", "b"], "x": [1, 2]}),
        )
    with pytest.raises(InputError, match="not a candidate catalogue"):
        p = __import__("pathlib").Path(__import__("tempfile").mkdtemp()) / "x.csv"
        p.write_text("a,b\n1,2\n")
        read_candidates(p)


def test_no_known_no_clusters_still_ranks():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    X[17] += 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cand = build_candidates([f"s{i}" for i in range(200)], X)
    assert cand.loc[0, "obsreg_id"] == "s17"
    assert (cand["nearest_known"] == "").all() and (cand["knn_rank"] == 0).all()
    assert (cand["reasons"].iloc[-10:] == "not flagged").all()


def test_no_ties_at_the_top_of_a_simulated_run_and_a_deterministic_order():
    import serendip
    from serendip.catalog.candidates import TIE_BREAK

    pop = serendip.simulate_population(600, seed=3)
    table = serendip.event_features(pop.events, pop.files)
    feats = serendip.extract_features(
        "events", events=pop.events, event_table=table, files=pop.files, seed=3
    )
    X = feats.features.astype(np.float64)
    ids = np.asarray(pop.events.obsreg_id).astype(str)
    known = pop.known_transients(0.1)
    anomaly = serendip.catalog.anomaly_scores(X, random_state=0, n_estimators=100)
    cand = build_candidates(ids, X, known=known, event_features=table, anomaly=anomaly)
    top = cand.head(40)
    assert top["score"].duplicated().any()  # the score alone ties at the top
    assert not top.duplicated(["score", "anomaly_score"]).any()
    assert cand.attrs["TIEBREAK"] == TIE_BREAK
    # within a tie of score, the secondary keys decide, in the stated order
    keys = cand[["score", "anomaly_score", "burst_significance"]].to_numpy()
    same = keys[1:, 0] == keys[:-1, 0]
    assert np.all(keys[1:, 1][same] <= keys[:-1, 1][same])
    # the order depends neither on a rerun nor on the input order
    again = build_candidates(ids, X, known=known, event_features=table, anomaly=anomaly)
    assert again["obsreg_id"].tolist() == cand["obsreg_id"].tolist()
    p = np.random.default_rng(0).permutation(len(ids))
    shuffled = build_candidates(
        ids[p], X[p], known=known, event_features=table, anomaly=anomaly[p]
    )
    assert shuffled["obsreg_id"].tolist() == cand["obsreg_id"].tolist()


def test_fits_export_keeps_dex_units_as_nonstandard_tunit(tmp_path):
    """A column in dex (log10 of a chance probability) keeps its unit in FITS as a commented,
    non-standard TUNIT instead of looking dimensionless; standard units stay standard."""
    from astropy.io import fits
    from astropy.table import Table

    from serendip.io.tables import write_table

    df = pd.DataFrame({"burst_sig": [1.0, 2.0], "rate": [1.0, 2.0], "rank": [1, 2]})
    df.attrs["units"] = {"burst_sig": "dex", "rate": "ct / s"}
    path = write_table(df, tmp_path / "c.fits")
    hdr = fits.getheader(path, 1)
    assert hdr["TUNIT1"] == "dex" and "non-standard" in hdr.comments["TUNIT1"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = Table.read(path)
    assert str(t["burst_sig"].unit) == "dex" and str(t["rate"].unit) == "ct / s"
    assert t["rank"].unit is None
