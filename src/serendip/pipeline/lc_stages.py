"""The input, represent and features stages of a run on light curves (``[input] lightcurves``).

Each object of the light-curve tables is one item of the run, with its object id as the
run's ``obsreg_id``; the later stages (embed, cluster, candidates, report) are those of an
event-file run.

===========  ================================================================
input        lightcurves.parquet (the standard table, see
             :mod:`serendip.io.lightcurves`), files.parquet (one row per object:
             n_points, n_upper_limits, bands, mjd_first/mjd_last), known_transients.csv
represent    stages/represent/event_features.parquet (light-curve features, NaN where a
             curve is too short: never filled) + lc_objects.parquet (points per band,
             missing features, exclusion and reason)
features     stages/features/features.parquet (the detectors' matrix: empty columns
             dropped, missing values filled with the column median, n_missing_features
             added) + imputation.parquet (per column: how many filled, with what)
===========  ================================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from serendip.io.tables import read_table, write_table


def is_lightcurve_run(cfg: dict[str, Any]) -> bool:
    """Whether the run's input is light-curve tables."""
    return bool(cfg["input"].get("lightcurves"))


def stage_input(run) -> tuple[dict[str, Path], dict[str, Any]]:
    """Read the light-curve tables; one row per object in files.parquet."""
    from serendip.io.lightcurves import read_lightcurves

    inp = run.cfg["input"]
    for stale in ("events", "sources", "gtis", "regions", "artefacts", "background", "pileup"):
        run.layout.path(stale).unlink(missing_ok=True)
    paths = [str(p) for p in inp["lightcurves"]]
    lc = read_lightcurves(paths if len(paths) > 1 else paths[0])
    attrs = dict(lc.attrs)
    write_table(lc, run.layout.lightcurves)
    ul = lc["is_upper_limit"].to_numpy(dtype=bool)
    g = lc.assign(det=~ul).groupby("object_id", sort=True)
    files = pd.DataFrame(
        {
            "n_points": g["det"].sum().astype(np.int64),
            "n_upper_limits": g["is_upper_limit"].sum().astype(np.int64),
            "bands": g["band"].agg(lambda b: ",".join(sorted(set(b)))),
            "mjd_first": g["time"].min(),
            "mjd_last": g["time"].max(),
        }
    ).rename_axis("obsreg_id").reset_index()
    files["obsreg_id"] = files["obsreg_id"].astype(str)
    files["flux_type"] = str(lc["flux_type"].iloc[0]) if len(lc) else ""
    write_table(files, run.layout.files)
    known = _known(inp.get("known_transients", ""), files["obsreg_id"])
    write_table(known, run.layout.known)
    info = {
        "n_files": len(files),
        "n_rows": int(attrs.get("n_rows_read", len(lc))),
        "n_points": int((~ul).sum()),
        "n_upper_limits": int(ul.sum()),
        "format": attrs.get("format"),
        "flux_unit": attrs.get("flux_unit"),
        "time_convention": attrs.get("time_convention"),
        "n_known": len(known),
    }
    return {"lightcurves": run.layout.lightcurves, "files": run.layout.files,
            "known": run.layout.known}, info  # fmt: skip


def _known(path: str, ids: pd.Series) -> pd.DataFrame:
    """Known objects (obsreg_id, type) from a table of object id (any light-curve id alias)
    and ``type`` / ``class`` / ``label``; "" or "truth" gives none."""
    empty = pd.DataFrame({"obsreg_id": pd.Series(dtype=str), "type": pd.Series(dtype=str)})
    if not path or path == "truth":
        return empty
    from serendip.errors import InputError
    from serendip.io.lightcurves import COLUMN_ALIASES, _pick_one
    from serendip.notices import notice

    t = read_table(path)
    idc = _pick_one(t.columns, COLUMN_ALIASES["object_id"] + ("obsreg_id",))
    tc = _pick_one(t.columns, ("type", "class", "label", "klass"))
    if idc is None or tc is None:
        raise InputError(path, f"known transients need an object-id and a type column; has "
                         f"{list(t.columns)}")  # fmt: skip
    k = pd.DataFrame({"obsreg_id": t[idc].astype(str), "type": t[tc].astype(str)})
    hit = k["obsreg_id"].isin(set(ids))
    if (~hit).any():
        notice("input", "known_unmatched", f"{int((~hit).sum())} of {len(k)} known objects are "
               "not among the light curves", source=path, count=int((~hit).sum()),
               total=len(k))  # fmt: skip
    return k[hit].reset_index(drop=True)


def stage_represent(run) -> tuple[dict[str, Path], dict[str, Any]]:
    """Light-curve features per object (missing where a curve is too short; counted)."""
    from serendip.represent.lc_features import lightcurve_feature_table

    lc = read_table(run.layout.lightcurves)
    lc.attrs["kind"] = "flux" if "flux" in lc.columns else "mag"
    res = lightcurve_feature_table(
        lc, feature_set=run.cfg["input"]["lightcurve_features"], progress=run.progress
    )
    feats = res.features.reset_index().rename(columns={"object_id": "obsreg_id"})
    feats["obsreg_id"] = feats["obsreg_id"].astype(str)
    write_table(feats, run.layout.event_features)
    objects = res.objects.reset_index().rename(columns={"object_id": "obsreg_id"})
    write_table(objects, run.layout.lc_objects)
    return {"event_features": run.layout.event_features, "lc_objects": run.layout.lc_objects}, {
        "n_features": res.features.shape[1],
        "n_excluded": int(res.objects["excluded"].sum()),
        "features_per_second": round(res.features_per_second),
    }


def stage_features(run) -> tuple[dict[str, Path], dict[str, Any]]:
    """The detectors' feature matrix, every fill stated in imputation.parquet."""
    from serendip.pipeline.config import check_data_size
    from serendip.represent.lc_features import impute_for_detectors

    table = read_table(run.layout.event_features).set_index("obsreg_id")
    check_data_size(run.cfg, len(table), run.layout.config)
    X, imputation = impute_for_detectors(table, "light-curve features")
    write_table(X.reset_index(), run.layout.features)
    write_table(imputation, run.layout.imputation)
    return {"features": run.layout.features, "imputation": run.layout.imputation}, {
        "n_columns": X.shape[1],
        "n_filled": int(imputation.loc[imputation["action"] == "median", "n_missing"].sum()),
    }
