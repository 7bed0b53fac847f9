"""Early- versus full-curve AUROC (issue 17, item 8): truncation at days since first detection."""

from __future__ import annotations

import numpy as np
import pandas as pd

from serendip.evaluate.early import early_curve_evaluation, truncate_lightcurves


def _curves(seed=0):
    """Classes A, B: flat; L: flat for 20 days, then a 10x brightening (found only late)."""
    rng = np.random.default_rng(seed)
    rows, labels = [], {}
    for cls, n in (("A", 40), ("B", 40), ("L", 15)):
        for i in range(n):
            oid = f"{cls}{i}"
            t = 100 + np.sort(rng.uniform(0, 60, 40))
            t[0] = 100.0
            base = 100.0 if cls != "B" else 120.0
            f = np.full(t.size, base) + (900.0 * (t > 120) if cls == "L" else 0.0)
            rows.append(pd.DataFrame({"object_id": oid, "time": t, "band": "g",
                                      "flux": f + rng.normal(0, 3, t.size), "flux_err": 3.0,
                                      "is_upper_limit": False}))  # fmt: skip
            labels[oid] = cls
    ul = pd.DataFrame({"object_id": "A0", "time": [95.0, 130.0], "band": "g", "flux": np.nan,
                       "flux_err": np.nan, "is_upper_limit": True})  # fmt: skip
    table = pd.concat([*rows, ul], ignore_index=True).sort_values(["object_id", "time"])
    table.attrs["kind"] = "flux"
    return table.reset_index(drop=True), pd.Series(labels)


def test_truncation_keeps_the_first_days_and_earlier_limits():
    table, _ = _curves()
    cut = truncate_lightcurves(table, 10.0)
    a0 = cut[cut.object_id == "A0"]
    assert a0["time"].max() <= 110.0 and 95.0 in set(a0["time"])  # limit before t_first kept
    assert 130.0 not in set(a0["time"])
    assert (cut.groupby("object_id")["time"].min() <= 100.0).all()
    assert truncate_lightcurves(table, np.inf) is table


def test_auroc_grows_with_the_curve_for_a_late_anomaly(tmp_path):
    table, labels = _curves()
    res = early_curve_evaluation(table, labels, {"knn": "pyod.KNN"}, days=(10, 40),
                                 feature_set="basic", held_out=["L"], seeds=(0,),
                                 train_mode="all")  # fmt: skip
    t = res.table("auroc")
    assert list(t.columns) == ["10 d", "40 d", "full"]
    assert t.loc["L", "10 d"] < 0.8 and t.loc["L", "full"] > 0.95
    assert res.points.loc[10.0, "median_points"] < res.points.loc[np.inf, "median_points"]
    assert res.points.loc[np.inf, "no_feature"] == 0.0
    paths = res.write(tmp_path)
    assert (tmp_path / "early_auroc.png").is_file() and "early_summary.csv" in paths
