"""Nuisance audit (serendip.catalog.nuisance) and the mixed-instrument warning."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _cands(n=1000, seed=0, track_counts=False):
    rng = np.random.default_rng(seed)
    counts = rng.lognormal(4, 1, n)
    score = np.log(counts) + 0.1 * rng.normal(size=n) if track_counts else rng.normal(size=n)
    return pd.DataFrame(
        {
            "obsreg_id": [f"f{i}" for i in range(n)],
            "score": score,
            "anomaly_score": score,
            "anomaly_percentile": np.linspace(0, 1, n),
            "n_events": counts,
            "exposure": rng.uniform(1e4, 1e5, n),
            "tstart": rng.uniform(1e8, 8e8, n),
        }
    )


def test_a_score_that_tracks_counts_is_caught_and_said_in_words():
    from serendip.catalog.nuisance import OVER_FACTOR, audit_summary, nuisance_audit

    files = pd.DataFrame({"obsreg_id": [f"f{i}" for i in range(1000)],
                          "ccd_id": np.arange(1000) % 4, "telescope": "CHANDRA"})  # fmt: skip
    audit = nuisance_audit(_cands(track_counts=True), files, top=0.02)
    corr = audit[(audit["bin"] == "") & (audit["score"] == "anomaly_score")].set_index("nuisance")
    assert corr.loc["net counts", "spearman_rho"] > 0.9
    assert abs(corr.loc["exposure", "spearman_rho"]) < 0.2
    assert "observation year" in corr.index and "chip" not in corr.index  # chip: categorical
    assert "mission" not in set(audit["nuisance"])  # one value: nothing to audit
    top_q = audit[(audit["nuisance"] == "net counts") & audit["bin"].str.startswith("Q4")]
    assert (top_q["ratio"] == 4.0).all() and top_q["flagged"].all()  # 100 % vs 25 % overall
    assert len(audit[(audit["nuisance"] == "chip") & (audit["bin"] != "")]) == 2 * 4
    words = audit_summary(audit)
    assert any("net counts bin Q4" in w and "tracks" in w for w in words)
    fair = nuisance_audit(_cands(track_counts=False), files, top=0.02)
    assert not fair[fair["nuisance"] == "net counts"]["flagged"].any()
    assert any(f"more than {OVER_FACTOR:g}x" in w for w in audit_summary(fair))


def test_mixed_instruments_warn_unless_allowed():
    from serendip.notices import NoticeLog
    from serendip.pipeline.runner import _check_mixed_instruments

    files = pd.DataFrame({"telescope": ["CHANDRA"] * 5 + ["XMM"] * 2,
                          "instrument": ["ACIS"] * 5 + ["EPN"] * 2})  # fmt: skip
    with NoticeLog() as log:
        _check_mixed_instruments(files, allowed=False)
        _check_mixed_instruments(files.iloc[:5], allowed=False)
    assert [n.code for n in log.records] == ["mixed_instruments"]
    assert "XMM/EPN: 2" in log.records[0].message
    with NoticeLog() as log:
        _check_mixed_instruments(files, allowed=True)
    assert len(log) == 0
