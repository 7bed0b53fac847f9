"""CSC TAP client against a local TAP server: ADQL sent, results, cache, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from serendip.errors import InputError
from serendip.io.tap import CscQuery, cache_key, run_tap

from .conftest import votable_bytes


def _result_table(n=5):
    rng = np.random.default_rng(1)
    return Table(
        {
            "name": [f"2CXO J0000{i:02d}.0+000000" for i in range(n)],
            "ra": rng.uniform(0, 1, n),
            "dec": rng.uniform(0, 1, n),
            "obsid": np.arange(100, 100 + n, dtype=np.int32),
            "region_id": np.arange(n, dtype=np.int32) + 1,
            "hard_hm": rng.uniform(-1, 1, n),
            "bb_kt": rng.uniform(0.1, 3, n),
        }
    )


def test_adql_builder_has_columns_cuts_and_joins():
    q = CscQuery(
        min_flux_significance_b=3,
        cone=(10.68, 41.27, 6.0),
        obsids=[1575, 303],
        top=100,
        schema="csc21.",
    )
    a = q.adql()
    assert a.startswith("SELECT DISTINCT TOP 100 m.name, m.ra")
    for col in (
        "o.hard_hm",
        "o.hard_hs",
        "o.hard_ms",
        "o.powlaw_gamma",
        "o.bb_kt",
        "o.var_prob_b",
        "o.var_sigma_h",
        "o.var_max_b",
        "o.flux_significance_b",
        "o.obsid",
    ):
        assert col in a
    assert "(o.flux_significance_b > 3)" in a
    assert "(o.powlaw_gamma IS NOT NULL)" in a and "(o.bb_kt IS NOT NULL)" in a
    assert "CIRCLE('ICRS', 10.6800000, 41.2700000, 0.1000000)" in a
    assert "o.obsid IN (1575, 303)" in a
    assert "FROM csc21.master_source AS m" in a and "o.obi = b.obi" in a
    no_cuts = CscQuery(min_flux_significance_b=None, not_null=[]).adql()
    assert "flux_significance_b >" not in no_cuts and "IS NOT NULL" not in no_cuts
    with pytest.raises(InputError, match="not a plain identifier"):
        CscQuery(detection_columns=["hard_hm; DROP TABLE x"]).adql()
    with pytest.raises(InputError, match="cone"):
        CscQuery(cone=(10.0, 95.0, 1.0)).adql()


def test_run_tap_sends_adql_returns_table_and_caches(local_server, tmp_path):
    base, state = local_server
    t = _result_table()
    state.votable = votable_bytes(t)
    adql = CscQuery(top=5).adql()
    n_before = len(state.queries)
    df = run_tap(adql, base + "/tap", timeout_s=5, cache_dir=tmp_path)
    sent = [q for q in state.queries[n_before:] if q["path"] == "/tap/sync"]
    assert len(sent) == 1
    assert (
        sent[0]["QUERY"] == adql and sent[0]["LANG"] == "ADQL" and sent[0]["REQUEST"] == "doQuery"
    )
    assert list(df["name"]) == list(t["name"])
    np.testing.assert_allclose(df["hard_hm"], t["hard_hm"])
    assert df["obsid"].tolist() == list(range(100, 105))
    cached = tmp_path / f"{cache_key(base + '/tap', adql)}.parquet"
    assert cached.exists() and cached.with_suffix(".adql").read_text().strip().endswith(adql)
    # a re-run is answered from the cache, even offline, without contacting the server
    n_mid = len(state.queries)
    df2 = run_tap(adql, base + "/tap", cache_dir=tmp_path, offline=True)
    assert len(state.queries) == n_mid
    np.testing.assert_allclose(df2["bb_kt"], df["bb_kt"])
    with pytest.raises(InputError, match="offline and the query is not cached"):
        run_tap(adql + " ", base + "/tap_other", cache_dir=tmp_path, offline=True)


def test_server_error_timeout_and_empty_give_clear_messages(local_server, tmp_path):
    base, state = local_server
    state.empty_votable = votable_bytes(_result_table(0))
    adql = CscQuery(top=1).adql()
    with pytest.raises(InputError) as err:
        run_tap(adql, base + "/tap_error", timeout_s=5)
    assert f"TAP service {base}/tap_error" in str(err.value) and "failed" in str(err.value)
    with pytest.raises(InputError, match=r"no answer within 0.5 s \(timeout\)"):
        run_tap(adql, base + "/tap_slow", timeout_s=0.5)
    with pytest.raises(InputError, match="returned no rows"):
        run_tap(adql, base + "/tap_empty", timeout_s=5, cache_dir=tmp_path)
    assert not list(tmp_path.glob("*.parquet"))  # failures are never cached
    df = run_tap(adql, base + "/tap_empty", timeout_s=5, allow_empty=True)
    assert len(df) == 0 and "hard_hm" in df.columns


def test_classify_straight_from_tap_then_offline(local_server, tmp_path):
    """TAP -> features -> shipped model, then the same config re-run offline from the cache."""
    from astropy.table import Table as ATable
    from typer.testing import CliRunner

    from serendip.classify.inputs import read_catalog
    from serendip.cli import app
    from serendip.io.tables import read_table, write_table

    from .test_classify import synthetic_detections

    base, state = local_server
    df = synthetic_detections(n_src=30, seed=8).drop(columns=["label"])
    state.votable = votable_bytes(ATable.from_pandas(df))
    cfg = tmp_path / "c.toml"
    body = f'[input.tap]\nurl = "{base}/tap"\ncache_dir = "cache"\ntimeout_s = 5\ntop = 1000\n{{offline}}[output]\nformats = ["parquet"]\nplots = false\n'
    cfg.write_text(body.replace("{offline}", ""))
    res = CliRunner().invoke(app, ["classify", str(cfg), "--out", str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    assert "TOP 1000" in state.queries[-1]["QUERY"]
    n_queries = len(state.queries)
    cfg.write_text(body.replace("{offline}", "offline = true\n"))
    res = CliRunner().invoke(app, ["classify", str(cfg), "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    assert len(state.queries) == n_queries
    a = read_table(tmp_path / "a" / "sources.parquet")
    b = read_table(tmp_path / "b" / "sources.parquet")
    assert len(a) == 30 and np.allclose(a["p_AGN"], b["p_AGN"])
    # the same table as a local VOTable / FITS file reads identically (name alias honoured)
    for ext in (".vot", ".fits"):
        write_table(df.rename(columns={"name": "CSCv2_name"}), tmp_path / f"t{ext}")
        back = read_catalog(tmp_path / f"t{ext}", feature_set="xray")
        assert back["name"].tolist() == df["name"].tolist()
