"""Stream-realism checks (issue 17, item 8): artefact light curves and the share of the top list
they take, periods on the window function's aliases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.evaluate.metrics import artefact_fraction_at_budget
from serendip.represent.lc_window import alias_check, spectral_window
from serendip.simulate.lc_artefacts import inject_artefacts


def _nightly(n_obj=6, seed=0):
    """Constant sources observed once a night (same hour +- 30 min) for 200 nights."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_obj):
        t = np.sort(rng.choice(200, 80, replace=False) + 0.3 + rng.uniform(-0.02, 0.02, 80))
        rows.append(pd.DataFrame({"object_id": f"o{i}", "time": t, "band": "g",
                                  "flux": 100 + rng.normal(0, 2, t.size), "flux_err": 2.0}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def test_window_function_and_aliases():
    lc = _nightly()
    t = lc.loc[lc.object_id == "o0", "time"].to_numpy()
    assert spectral_window(t, [1.0])[0] > 0.9 and spectral_window(t, [0.37])[0] < 0.2
    periods = {"o0": 1.0005, "o1": 0.5, "o2": 29.6, "o3": 3.7, "o4": 0.31, "o5": 1 / (1 / 0.9973)}
    out = alias_check(periods, lc)
    assert out.loc["o0", "nearest_alias"] == "solar day" and out.loc["o0", "is_alias"]
    assert out.loc["o1", "nearest_alias"] == "solar day x2"
    assert out.loc["o2", "nearest_alias"] == "lunar month"
    assert not out.loc["o3", "is_alias"] and out.loc["o3", "nearest_alias"] == ""
    assert out["window_power"].between(0, 1).all()


def test_artefacts_and_their_share_of_the_top_list():
    hosts = _nightly(10)
    rows, labels = inject_artefacts(hosts, 9, seed=1)
    assert labels["artefact_kind"].value_counts().to_dict() == {
        "dipole": 3, "crossing": 3, "bad_epoch": 3}  # fmt: skip
    dev = rows.assign(z=(rows.flux - 100).abs() / rows.flux_err).groupby("object_id")["z"].max()
    assert (dev > 15).all()  # every artefact has an epoch far off its host's level
    dip = rows[rows.object_id.str.endswith("dipole")]
    assert (dip.flux < 60).any() or (dip.flux > 140).any()
    bad = rows[rows.object_id.str.endswith("bad_epoch")]
    low = bad.loc[bad.flux < 60, "time"].round()
    assert low.nunique() <= 3  # the same bad nights in every curve
    is_art = np.r_[np.ones(5), np.zeros(95)]
    scores = np.r_[np.full(5, 10.0), np.linspace(0, 1, 95)]
    assert artefact_fraction_at_budget(is_art, scores, 0.05) == 1.0
    assert artefact_fraction_at_budget(is_art, -scores, 0.05) == 0.0
    assert artefact_fraction_at_budget(is_art, np.zeros(100), 0.1) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="unknown artefact"):
        inject_artefacts(hosts, 3, kinds=["ghost"])
