"""One row per source (issue 16 item 4): detections of one sky source across overlapping
observations are grouped with their position errors; the source table carries the quiescent
level elsewhere and the archival context, from a user table or the TAP cache (never the
network in tests); flares at Gaia stars are flagged likely_stellar_flare."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.catalog.context import ARCHIVES, archival_context, cone_adql, query_radius
from serendip.catalog.posmatch import match_nearest, match_radius
from serendip.catalog.sources import candidates_by_source, group_detections
from serendip.notices import NoticeLog
from serendip.simulate.field import simulate_field


def test_match_radius_uses_errors_with_a_floor():
    assert match_radius(0.1, 0.1) == pytest.approx(1.0)  # floor
    assert match_radius(1.0, 2.0) == pytest.approx(3 * np.sqrt(5.0))
    # the nearest by normalised separation: a precise object at 1.5" loses to a loose one at 2"
    j, sep, x = match_nearest([10.0], [0.0], [0.1], [10.0, 10.0], [1.5 / 3600, -2.0 / 3600],
                              [0.1, 2.0])
    assert j[0] == 1 and sep[0] == pytest.approx(2.0, abs=1e-3)


def test_field_simulation_overlaps_and_groups_one_row_per_source():
    pop = simulate_field(40, 4, seed=3)
    f = pop.files
    assert len(f) == 160 and f["obsid"].nunique() == 4
    assert f["pos_err_arcsec"].gt(0).all() and {"theta", "mjdref"} <= set(f.columns)
    # the same sky source sits at (almost) the same position in every observation
    t = pop.sources
    one = f[t["source_index"].to_numpy() == 0]
    assert np.ptp(one["ra"]) * 3600 * np.cos(np.radians(one["dec"].iloc[0])) < 5
    with NoticeLog() as log:
        g = group_detections(f)
    assert not [r for r in log.records if r.code == "position_error_assumed"]
    # every group is exactly one true source, and every source one group
    x = pd.crosstab(g["source_id"], t["source_index"])
    assert x.shape == (40, 40) and ((x > 0).sum(axis=1) == 1).all() and ((x > 0).sum(axis=0) == 1).all()
    # errors made 10x smaller than the scatter split the sources: the errors are used
    tight = f.assign(pos_err_arcsec=f["pos_err_arcsec"] / 30)
    assert group_detections(tight, floor_arcsec=0.0)["source_id"].nunique() > 40


def test_master_id_column_groups_and_missing_ids_are_counted():
    f = pd.DataFrame({"obsreg_id": ["1_1", "2_1", "3_4", "3_5"],
                      "master_id": ["2CXO J1", "2CXO J1", "", "2CXO J2"]})
    with NoticeLog() as log:
        g = group_detections(f)
    assert list(g["source_id"]) == ["2CXO J1", "2CXO J1", "D_3_4", "2CXO J2"]
    assert g["grouped_by"].iloc[0] == "master_id"
    assert [r.count for r in log.records if r.code == "no_master_id"] == [1]


def _cands(files, scores, burst):
    order = np.argsort(-np.asarray(scores), kind="stable")
    c = pd.DataFrame({"obsreg_id": files["obsreg_id"], "score": scores, "burst_significance": burst,
                      "reasons": "", "known_type": "", "n_events": files["n_events"],
                      "exposure": files["exposure"]}).iloc[order]
    return c.assign(rank=np.arange(1, len(c) + 1))


def test_source_table_quiescent_level_and_stellar_flags_from_a_table_and_the_cache(tmp_path):
    pop = simulate_field(20, 3, seed=5, transients=[(2, 1, "flare"), (7, 0, "flare"),
                                                     (11, 2, "fxt")], transient_counts=300.0)
    f, t = pop.files, pop.sources
    flare = t["label"].ne("steady").to_numpy()
    cands = _cands(f, np.where(flare, 1.0, 0.1 + 0.01 * np.arange(len(f)) / len(f)),
                   np.where(flare, 20.0, 0.5))
    g = group_detections(f)
    table = candidates_by_source(cands, f, g)
    assert len(table) == 20 and table["n_detections"].eq(3).all()
    assert list(table["source_rank"]) == list(range(1, 21))
    top = table.set_index("source_id").loc[g.set_index("obsreg_id").loc[f["obsreg_id"][flare], "source_id"]]
    assert (top["source_rank"] <= 3).all()
    # the quiescent level elsewhere: the rate of the other two observations, near the truth
    s2 = table.iloc[int(np.flatnonzero(table["best_obsreg_id"] == f["obsreg_id"][t["source_index"].eq(2)
                                        & t["label"].ne("steady")].iloc[0])[0])]
    true_q = t.loc[t["source_index"] == 2, "quiescent_rate"].iloc[0]
    assert s2["rate_ratio"] > 2 and abs(s2["quiescent_rate"] - true_q) < 4 * s2["quiescent_rate_err"] + 3e-5
    assert len(s2["epochs_mjd"].split(";")) == 3

    # Gaia: stars at sky sources 2 (flare, parallax), 11 (fxt, bright) and 5 (no flare)
    truth = t.drop_duplicates("source_index").set_index("source_index")
    gaia = pd.DataFrame({"source_id": [101, 111, 105, 999],
                         "ra": [truth.loc[i, "ra_true"] for i in (2, 11, 5)] + [truth.loc[0, "ra_true"] + 0.01],
                         "dec": [truth.loc[i, "dec_true"] for i in (2, 11, 5)] + [truth.loc[0, "dec_true"]],
                         "ra_error": 0.05, "dec_error": 0.05, "parallax": [12.0, 0.3, 8.0, 5.0],
                         "parallax_error": [0.1, 0.3, 0.1, 0.1], "phot_g_mean_mag": [9.5, 11.0, 10.0, 8.0]})
    # SIMBAD answers for source 7's cone, only in the TAP cache (as a cached service answer)
    from serendip.io.tap import cache_key

    s7 = table.set_index("best_obsreg_id").loc[f["obsreg_id"][t["source_index"].eq(7) & t["label"].ne("steady")].iloc[0]]
    adql = cone_adql("simbad", s7["ra"], s7["dec"], query_radius("simbad", s7["pos_err_arcsec"], 3.0, 1.0))
    cache = tmp_path / "tap"
    cache.mkdir()
    pd.DataFrame({"main_id": ["V* XX Sim"], "ra": [truth.loc[7, "ra_true"]], "dec": [truth.loc[7, "dec_true"]],
                  "otype": ["Fl*"], "coo_err_maja": [10.0]}).to_parquet(
        cache / f"{cache_key(ARCHIVES['simbad'].url, adql)}.parquet")
    with NoticeLog() as log:
        ctx = archival_context(table, {"gaia": gaia}, cache_dir=cache, n_query=5)
    by = ctx.set_index("source_id")
    sid = g.set_index("obsreg_id")["source_id"]
    src_of = {i: sid[f["obsreg_id"][t["source_index"].eq(i)].iloc[0]] for i in (0, 2, 5, 7, 11)}
    assert by.loc[src_of[2], "gaia_source_id"] == "101" and by.loc[src_of[2], "likely_stellar_flare"]
    assert by.loc[src_of[11], "likely_stellar_flare"]  # bright G, no parallax
    assert not by.loc[src_of[5], "likely_stellar_flare"]  # a star, but no flare
    assert by.loc[src_of[0], "gaia_source_id"] == ""  # 36" away: no match
    assert int(ctx["likely_stellar_flare"].sum()) == 2
    assert by.loc[src_of[7], "simbad_type"] == "Fl*" and by.loc[src_of[7], "simbad_id"] == "V* XX Sim"
    assert np.isfinite(ctx["glat"]).all()
    codes = {r.code: r for r in log.records}
    assert codes["simbad_not_cached"].count == 4 and codes["ned_not_cached"].count == 5


def test_run_over_overlapping_field_one_row_per_source(tmp_path):
    from serendip.pipeline import load_config, run_pipeline

    truth = simulate_field(50, 3, seed=2).sources
    flares = truth[truth["label"].isin(["flare", "stellar_flare"])].drop_duplicates("source_index")
    stars = truth.drop_duplicates("source_index").set_index("source_index")
    star_ids = list(flares["source_index"]) + [int(i) for i in stars.index[:3] if i not in set(flares["source_index"])]
    gaia = pd.DataFrame({"source_id": np.arange(len(star_ids)) + 1,
                         "ra": stars.loc[star_ids, "ra_true"].to_numpy(),
                         "dec": stars.loc[star_ids, "dec_true"].to_numpy(),
                         "parallax": 10.0, "parallax_error": 0.2, "phot_g_mean_mag": 12.0})
    gaia.to_csv(tmp_path / "gaia.csv", index=False)
    cfg = load_config(overrides={
        "input": {"n_sources": 50, "seed": 2, "field_observations": 3},
        "embed": {"n_iter": 250, "perplexity": 20.0},
        "sources": {"gaia": str(tmp_path / "gaia.csv")}})
    run_pipeline(cfg, tmp_path / "run", progress=False, stop_after="sources")
    src = pd.read_parquet(tmp_path / "run" / "candidates_by_source.parquet")
    cands = pd.read_parquet(tmp_path / "run" / "candidates.parquet")
    assert len(cands) == 150 and len(src) == 50 and src["n_detections"].eq(3).all()
    assert src["source_id"].is_unique and src["best_obsreg_id"].isin(cands["obsreg_id"]).all()
    flagged = src[src["likely_stellar_flare"]]
    flare_files = set(truth.loc[truth["label"].isin(["flare", "stellar_flare"]), "obsreg_id"])
    assert len(flares) >= 1 and set(flagged["best_obsreg_id"]) == flare_files
