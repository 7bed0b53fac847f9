"""``serendip classify CONFIG.toml --out DIR``: classify a CSC property table end to end.

Config (TOML; every key, its type, default and allowed values: :mod:`serendip.classify.config`)::

    [input]
    path = "my_csc_detections.csv"       # or an [input.tap] section (see serendip.io.catalog)

    [model]
    kind = "shipped"                      # "shipped" | "boost" | "umlcaxs"
    name = "csc_xray_grouped"             # shipped model name (kind = "shipped")
    feature_set = "xray"                  # "xray" | "umlcaxs" (kinds that train)
    n_components = "bic"                  # GMM K or "bic" (kinds that train)
    features = ["hr_hm", "hr_ms"]         # optional subset of the feature set (kinds that train)
    label_column = "label"                # class per row for training kinds (empty = unlabelled)
    calibration = "temperature"           # boost only: "temperature" | "isotonic" | "none"

    [labels]                              # optional: labels by crossmatch with a local table
    path = "simbad_types.csv"             # ra, dec [deg] and a SIMBAD type column
    # simbad = true                       # ...or query SIMBAD online (astroquery), no path
    # simbad = true                       # ...or query SIMBAD online (astroquery) instead of path
    otype_column = "main_type"
    radius_arcsec = 1.0
    level = "fine"                        # "fine" | "muwclass" | "grouped"

    [output]
    formats = ["parquet", "fits", "csv", "votable"]
    plots = true

Writes ``DIR/detections.<ext>`` and ``DIR/sources.<ext>`` for every format, the plots
``hardness_variability.png``, ``bic.png`` and ``reliability.png``, and ``summary.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.classify.config import EXT, load_config, validate_config
from serendip.errors import ConfigError, InputError
from serendip.io.tables import write_table

# the configuration's models, checks and output formats live in serendip.classify.config
__all__ = ["EXT", "load_config", "run_classify", "validate_config"]
#: labelled rows the boosted classifier needs (its cross-validated calibration splits them)
MIN_BOOST_LABELLED = 10


def _labels(df: pd.DataFrame, cfg: dict, base: Path) -> np.ndarray | None:
    from serendip.catalog.crossmatch import crossmatch, simbad_labels
    from serendip.catalog.simbad_types import map_otypes
    from serendip.io.tables import read_table

    lab = cfg.get("labels")
    if lab:
        radius = float(lab.get("radius_arcsec", 1.0))
        if lab.get("simbad", False):  # online: query SIMBAD around every input position
            table, otype, where = simbad_labels(df, radius), "main_type", "SIMBAD"
        elif "path" in lab:
            p = Path(lab["path"])
            table = read_table(p if p.is_absolute() else base / p)
            otype, where = lab.get("otype_column", "main_type"), str(p)
        else:
            raise ConfigError("labels", "give labels.path (a local table) or labels.simbad = true")
        m = crossmatch(df, table, radius, columns=[otype], sources_name="input", labels_name=where)
        return map_otypes(
            m["match_" + otype].to_numpy(dtype=object), level=lab.get("level", "fine")
        )
    col = cfg.get("model", {}).get("label_column")
    if col:
        if col not in df.columns:
            raise ConfigError("model.label_column", f"input has no column {col!r}")
        return df[col].to_numpy(dtype=object)
    return None


def run_classify(config: str | Path | dict, out_dir: str | Path, base: Path | None = None) -> dict:
    """Run the classification described by ``config`` and write everything to ``out_dir``.

    Returns a summary dict (counts, model, written paths).
    """
    from serendip.classify.boosted import ClusterBoostClassifier
    from serendip.classify.features import build_features
    from serendip.classify.metrics import expected_calibration_error, reliability_curve
    from serendip.classify.modelio import load_shipped
    from serendip.classify.umlcaxs import UmlcaxsClassifier, labelled_mask
    from serendip.classify.votes import prob_column, source_votes
    from serendip.io.catalog import load_catalog

    if isinstance(config, str | Path):
        base = Path(config).resolve().parent if base is None else base
        cfg = load_config(config, base)
    else:
        cfg = dict(config)
        base = Path.cwd() if base is None else base
        validate_config(cfg, "config", base)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    mcfg = dict(cfg.get("model", {}))
    kind = mcfg.get("kind", "shipped")
    model_info: dict = {"kind": kind}
    stored_rel = None
    if kind == "shipped":
        model, settings, extra = load_shipped(mcfg.get("name", "csc_xray_grouped"))
        feature_set = settings["feature_set"]
        model_info.update(
            {"name": mcfg.get("name", "csc_xray_grouped"), "info": settings.get("info", {})}
        )
        if "rel_confidence" in extra:
            stored_rel = {
                "confidence": extra["rel_confidence"],
                "accuracy": extra["rel_accuracy"],
                "count": extra["rel_count"],
                "ece": float(settings.get("info", {}).get("cv_ece", np.nan)),
            }
    else:  # "boost" or "umlcaxs" (validate_config rejects any other kind)
        feature_set = mcfg.get("feature_set", "umlcaxs" if kind == "umlcaxs" else "xray")

    df = load_catalog(cfg["input"], base=base, feature_set=feature_set)
    src = df.attrs.get("source_path", "input")
    F = build_features(df, feature_set, source=src)
    if kind == "shipped":
        F = F[settings["feature_names"]]
    elif "features" in mcfg:
        missing = [c for c in mcfg["features"] if c not in F.columns]
        if missing:
            raise ConfigError(
                "model.features",
                f"unknown feature(s) {missing}; the {feature_set!r} set has {list(F.columns)}",
            )
        F = F[list(mcfg["features"])]
    elif feature_set == "xray":
        from serendip.classify.features import XRAY_FEATURES

        F = F[XRAY_FEATURES]
    from serendip.classify.validate import check_feature_table

    check_feature_table(df, F, str(src))
    X = F.to_numpy()
    y = _labels(df, cfg, base)
    if kind == "umlcaxs":
        from serendip.classify.features import UMLCAXS_LOG, UMLCAXS_MINMAX

        cols = list(F.columns)
        if feature_set == "umlcaxs":
            log_c = [cols.index(c) for c in UMLCAXS_LOG]
            mm_c = [cols.index(c) for c in UMLCAXS_MINMAX]
        else:
            log_c, mm_c = [], [cols.index("powlaw_gamma")]
        if y is None or not labelled_mask(y).any():
            raise InputError(
                src,
                "the UMLCAXS method needs some labelled rows ([labels] crossmatch or model.label_column)",
            )
        nc = mcfg.get("n_components", "bic")
        model = UmlcaxsClassifier(
            log_columns=log_c,
            minmax_columns=mm_c,
            n_components=nc,
            temperature=float(mcfg.get("temperature", 1.0)),
        ).fit(X, y)
    elif kind == "boost":
        n_lab = 0 if y is None else int(labelled_mask(y).sum())
        if n_lab < MIN_BOOST_LABELLED:
            raise InputError(
                src,
                f"the boosted classifier needs at least {MIN_BOOST_LABELLED} labelled rows, "
                f"found {n_lab} ([labels] crossmatch or model.label_column)",
            )
        lab = labelled_mask(y)
        nc = mcfg.get("n_components", 6)
        model = ClusterBoostClassifier(
            n_components=nc, calibration=mcfg.get("calibration", "temperature")
        ).fit(X[lab], y[lab].astype(str), groups=df["name"].to_numpy()[lab], X_unlabelled=X[~lab])
    proba = model.predict_proba(X)
    classes = [str(c) for c in model.classes_]
    pred = model.decide(proba) if hasattr(model, "decide") else proba.argmax(axis=1)

    keep = [c for c in ("name", "obsid", "obi", "region_id", "ra", "dec") if c in df.columns]
    det = pd.concat([df[keep].reset_index(drop=True), F.reset_index(drop=True)], axis=1)
    if hasattr(model, "predict_cluster"):
        det["cluster"] = model.predict_cluster(X)
    elif getattr(model, "gmm_", None) is not None:
        det["cluster"] = model.cluster_proba(X).argmax(axis=1)
    for j, c in enumerate(classes):
        det[prob_column(c)] = proba[:, j]
    det["class"] = np.asarray(classes, dtype=object)[pred]
    det["p_class"] = proba[np.arange(len(det)), pred]
    if y is not None:
        det["label"] = pd.Series(y, dtype=object).where(labelled_mask(y), None).to_numpy()
    extra = det[[c for c in ("ra", "dec") if c in det.columns]]
    src_tab = source_votes(proba, det["name"].to_numpy(), classes, extra=extra)

    formats = cfg.get("output", {}).get("formats", ["parquet", "fits", "csv", "votable"])
    written = []
    for f in formats:  # validate_config checked them
        for name, tab in (("detections", det), ("sources", src_tab)):
            # text columns: missing values as "" (FITS/VOTable have no null strings)
            text = {
                c: tab[c].where(tab[c].notna(), "").astype(str)
                for c in tab.columns
                if tab[c].dtype == object
            }
            written.append(str(write_table(tab.assign(**text), out / f"{name}{EXT[f]}")))
    summary = {
        "n_detections": int(len(det)),
        "n_sources": int(len(src_tab)),
        "classes": classes,
        "detections_per_class": det["class"].value_counts().to_dict(),
        "sources_unique": int((src_tab["status"] == "unique").sum()),
        "sources_ambiguous": int((src_tab["status"] == "ambiguous").sum()),
        "model": model_info,
        "feature_set": feature_set,
    }
    if cfg.get("output", {}).get("plots", True):
        from serendip.classify.plots import bic_plot, hardness_variability, reliability_plot

        hard = ("hr_hm", "hr_ms") if feature_set == "xray" else ("hard_hm", "hard_ms")
        var = "var_intra_prob" if feature_set == "xray" else "var_prob_b"
        written.append(
            str(hardness_variability(det, "class", out / "hardness_variability.png", hard, var))
        )
        if len(getattr(model, "bic_", [])):
            k = model.n_clusters_ if hasattr(model, "n_clusters_") else len(model.gmm_.weights_)
            written.append(
                str(
                    bic_plot(
                        model.k_grid_,
                        model.bic_,
                        k,
                        out / "bic.png",
                        "GMM BIC on the shipped model's training data"
                        if kind == "shipped"
                        else "GMM BIC on the input table",
                    )
                )
            )
        curves = {}
        if y is not None and labelled_mask(y).any():
            lab = labelled_mask(y) & np.isin(np.asarray(y, dtype=object).astype(str), classes)
            yi = np.searchsorted(np.asarray(classes), np.asarray(y[lab]).astype(str))
            r = reliability_curve(proba[lab], yi)
            r["ece"] = expected_calibration_error(proba[lab], yi)
            curves["labelled input rows"] = r
            summary["ece_labelled_rows"] = r["ece"]
        if stored_rel is not None:
            curves["shipped model, 5-fold CV"] = stored_rel
        if curves:
            written.append(str(reliability_plot(curves, out / "reliability.png")))
    summary["written"] = written
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary
