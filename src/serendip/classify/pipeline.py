"""``serendip classify CONFIG.toml --out DIR``: classify a CSC property table end to end.

The configuration (TOML) and an annotated example of every key are in
:mod:`serendip.classify.config`, the one place that defines them.

Writes ``DIR/detections.<ext>`` and ``DIR/sources.<ext>`` for every format, the plots
``hardness_variability.png``, ``bic.png`` and ``reliability.png``, ``summary.json`` and,
for the kinds that train, ``model.safetensors``. Probabilities ``p_<class>`` are
calibrated for the training class mix, or for ``model.priors`` when given (then
``p_<class>_train`` keeps the values before the shift). The decision rule picks only the
reported ``class``. Figures on the rows a model was trained on are never reported as
performance: the reliability curve of a trained model is its out-of-fold curve; use
``serendip classify --cv K`` (:mod:`serendip.classify.evaluation`) for cross-validated
figures against a plain baseline.
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


def _labels(df: pd.DataFrame, cfg: dict, base: Path) -> tuple[np.ndarray | None, pd.DataFrame | None]:
    """Labels (n,) (None = unlabelled) and their provenance table (n rows): ``label_provenance``
    (where each label came from), ``label_quality`` ("given", "secure" or "candidate") and,
    for a crossmatch, ``label_otype``, ``label_sep_arcsec`` and ``label_p_match``."""
    from serendip.catalog.crossmatch import probabilistic_crossmatch, simbad_labels
    from serendip.catalog.simbad_types import MAPPING_VERSION, is_candidate, map_otypes
    from serendip.io.tables import read_table
    from serendip.notices import notice

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
        m, info = probabilistic_crossmatch(
            df,
            table,
            radius,
            sigma_sources=lab.get("position_error_arcsec", 0.5),
            sigma_catalog=float(lab.get("label_position_error_arcsec", 0.1)),
            shift_arcsec=max(60.0, 20 * radius),
            columns=[otype],
            sources_name="input",
            catalog_name=where,
        )
        ot = m["match_" + otype].to_numpy(dtype=object)
        y = map_otypes(ot, level=lab.get("level", "fine"))
        has = np.array([v is not None for v in y])
        cand = is_candidate(ot) & has
        pm = m["match_p_match"].to_numpy()
        notice(
            "classify",
            "label_crossmatch",
            f"{int((m['match_index'] >= 0).sum()):,} of {len(df):,} rows matched {where} within "
            f"{radius:g} arcsec; expected false-match fraction "
            f"{info['false_match_fraction']:.3f} (positions shifted by {info['shift_arcsec']:g} "
            f"arcsec: {info['shifted_match_fraction']:.3f} of them matched)",
            source=where,
            count=info["n_matched"],
            total=len(df),
            severity="info",
        )
        if cand.any():
            drop = bool(lab.get("exclude_candidates", False))
            notice(
                "classify",
                "candidate_labels_dropped" if drop else "candidate_labels",
                f"{int(cand.sum()):,} of {int(has.sum()):,} labels come from candidate types "
                + ("(dropped: labels.exclude_candidates)" if drop else "(kept, label_quality = candidate)"),
                source=where,
                count=int(cand.sum()),
                total=int(has.sum()),
                severity="info" if not drop else "warning",
            )
            if drop:
                y = y.copy()
                y[cand] = None
        low = has & (pm < float(lab.get("min_p_match", 0.0)))
        if low.any():
            notice(
                "classify",
                "labels_low_match_probability",
                f"{int(low.sum()):,} labels dropped: match probability < {lab['min_p_match']}",
                source=where,
                count=int(low.sum()),
                total=int(has.sum()),
                severity="warning",
            )
            y = y.copy()
            y[low] = None
        has = np.array([v is not None for v in y])
        meta = pd.DataFrame(
            {
                "label_provenance": np.where(
                    has, f"SIMBAD type via {where} (mapping {MAPPING_VERSION})", ""
                ),
                "label_quality": np.where(has, np.where(cand, "candidate", "secure"), ""),
                "label_otype": pd.Series(ot, dtype=object).where(has, None).to_numpy(),
                "label_sep_arcsec": np.where(has, m["match_sep_arcsec"].to_numpy(), np.nan),
                "label_p_match": np.where(has, pm, np.nan),
            }
        )
        return y, meta
    mcfg = cfg.get("model", {})
    col = mcfg.get("label_column")
    if col:
        if col not in df.columns:
            raise ConfigError("model.label_column", f"input has no column {col!r}")
        y = df[col].to_numpy(dtype=object)
        from serendip.classify.umlcaxs import labelled_mask

        has = labelled_mask(y)
        ref = mcfg.get("label_reference_column")
        if ref and ref not in df.columns:
            raise ConfigError("model.label_reference_column", f"input has no column {ref!r}")
        prov = (
            df[ref].astype(str).radd(f"column {col}: ").to_numpy()
            if ref
            else np.full(len(df), f"column {col}", dtype=object)
        )
        meta = pd.DataFrame(
            {
                "label_provenance": np.where(has, prov, ""),
                "label_quality": np.where(has, "given", ""),
            }
        )
        return y, meta
    return None, None


def read_config(config: str | Path | dict, base: Path | None = None) -> tuple[dict, Path]:
    """``(checked config, base folder for relative paths)`` from a TOML path or a dict."""
    if isinstance(config, str | Path):
        base = Path(config).resolve().parent if base is None else base
        return load_config(config, base), base
    cfg = dict(config)
    base = Path.cwd() if base is None else base
    validate_config(cfg, "config", base)
    return cfg, base


def prepare(cfg: dict, base: Path) -> dict:
    """Load the input table and build the model's features and labels.

    Returns ``{"df", "F" (features the model uses), "y" (labels or None), "label_meta"
    (each label's provenance and quality, or None), "source",
    "feature_set", "shipped" (model, settings, extra) for kind "shipped"}``.
    """
    from serendip.classify.features import FEATURE_SETS, build_features, missing_counterparts
    from serendip.classify.inputs import load_catalog
    from serendip.classify.modelio import load_shipped
    from serendip.classify.umlcaxs import umlcaxs_recipe
    from serendip.notices import notice

    mcfg = cfg.get("model", {})
    kind = mcfg.get("kind", "shipped")
    shipped = None
    if kind == "shipped":
        shipped = load_shipped(mcfg.get("name", "csc_xray_grouped"))
        feature_set = shipped[1]["feature_set"]
    else:
        feature_set = mcfg.get("feature_set", "umlcaxs" if kind == "umlcaxs" else "xray")
    df = load_catalog(cfg["input"], base=base, feature_set=feature_set)
    src = df.attrs.get("source_path", "input")
    F = build_features(df, feature_set, source=src)
    if kind == "shipped":
        cols = list(shipped[1]["feature_names"])
    elif "features" in mcfg:
        missing = [c for c in mcfg["features"] if c not in F.columns]
        if missing:
            raise ConfigError(
                "model.features",
                f"unknown feature(s) {missing}; the {feature_set!r} set has {list(F.columns)}",
            )
        cols = list(mcfg["features"])
    elif kind == "umlcaxs":
        cols = umlcaxs_recipe(feature_set)[0]
    else:
        cols = list(FEATURE_SETS[feature_set])
    F = F[cols]
    counterparts = None
    if cfg.get("counterparts"):
        F, counterparts = _counterparts(df, F, cfg["counterparts"], base, src)
    for cat, n in missing_counterparts(F).items():
        if n:
            notice(
                "classify",
                f"no_{cat.lower()}_counterpart",
                f"{n:,} of {len(F):,} rows have no {cat} counterpart: its features kept as missing",
                source=src,
                count=n,
                total=len(F),
                severity="info",
            )
    from serendip.classify.validate import check_feature_table

    check_feature_table(df, F, str(src))
    if "abs_gal_b" in cols and F["abs_gal_b"].isna().all():
        notice(
            "classify",
            "no_position",
            "the input has no ra/dec: |Galactic latitude| is missing for every row, "
            "which the model never saw in training",
            source=src,
            count=len(F),
            total=len(F),
        )
    y, label_meta = _labels(df, cfg, base)
    return {
        "df": df,
        "F": F,
        "y": y,
        "label_meta": label_meta,
        "source": src,
        "feature_set": feature_set,
        "shipped": shipped,
        "counterparts": counterparts,
    }


def _counterparts(
    df: pd.DataFrame, F: pd.DataFrame, ccfg: dict, base: Path, src
) -> tuple[pd.DataFrame, dict]:
    """``F`` with the ``[counterparts]`` features appended (match probability + catalogue
    columns, missing where no counterpart) and the crossmatch summary; notices state the
    matched and false-match fractions."""
    from serendip.classify.counterparts import counterpart_features
    from serendip.io.tables import read_table
    from serendip.notices import notice

    p = Path(ccfg["path"])
    where = str(p)
    cat = read_table(p if p.is_absolute() else base / p)
    radius = float(ccfg.get("radius_arcsec", 2.0))
    Fc, info = counterpart_features(
        df,
        cat,
        name=ccfg.get("name", "cp"),
        columns=ccfg.get("columns") or None,
        radius_arcsec=radius,
        sigma_sources=ccfg.get("position_error_arcsec", 0.5),
        sigma_catalog=ccfg.get("counterpart_position_error_arcsec", 0.1),
        cat_ra=ccfg.get("ra_column", "ra"),
        cat_dec=ccfg.get("dec_column", "dec"),
        catalog_name=where,
    )
    clash = [c for c in Fc.columns if c in F.columns]
    if clash:
        raise ConfigError("counterparts.name", f"features {clash} exist already: pick another name")
    n, n_hit = len(df), info["n_matched"]
    notice(
        "classify",
        "counterpart_crossmatch",
        f"{n_hit:,} of {n:,} rows matched {where} within {radius:g} arcsec; expected false-match "
        f"fraction {info['false_match_fraction']:.3f} (positions shifted by "
        f"{info['shift_arcsec']:g} arcsec: {info['shifted_match_fraction']:.3f} of them matched); "
        f"features {info['features']} ({info['name']}_p_match = match probability)",
        source=where,
        count=n_hit,
        total=n,
        severity="info",
    )
    if n_hit < n:
        notice(
            "classify",
            "no_counterpart",
            f"{n - n_hit:,} of {n:,} rows have no counterpart in {where}: its columns kept as "
            f"missing, {info['name']}_p_match = 0",
            source=where,
            count=n - n_hit,
            total=n,
            severity="info",
        )
    return pd.concat([F, Fc.set_axis(F.index)], axis=1), info


def make_model(kind: str, mcfg: dict, columns: list[str], feature_set: str):
    """An unfitted estimator of a training ``kind`` ("boost" or "umlcaxs") from ``[model]``."""
    if kind == "umlcaxs":
        from serendip.classify.umlcaxs import UmlcaxsClassifier, umlcaxs_recipe

        _, settings = umlcaxs_recipe(
            feature_set,
            columns,
            n_components=mcfg.get("n_components"),
            temperature=float(mcfg.get("temperature", 1.0)),
        )
        return UmlcaxsClassifier(**settings)
    from serendip.classify.crossfit import CrossFitBoostClassifier

    return CrossFitBoostClassifier(
        n_members=int(mcfg.get("n_members", 3)),
        max_leaf_nodes=int(mcfg.get("max_leaf_nodes", 31)),
        class_weight=None if mcfg.get("class_weight") == "none" else mcfg.get("class_weight", "sqrt"),
        calibration=mcfg.get("calibration", "dirichlet"),
        decision=mcfg.get("decision", "balanced"),
        cost_matrix=mcfg.get("cost_matrix"),
    )


def decide_classes(model, proba: np.ndarray, mcfg: dict) -> np.ndarray:
    """Reported class indices under ``model.decision`` (default: the model's own rule)."""
    from serendip.classify.priors import decide

    rule = mcfg.get("decision")
    if rule is None:
        return model.decide(proba) if hasattr(model, "decide") else proba.argmax(axis=1)
    priors = getattr(model, "priors_", None)
    if rule == "balanced" and priors is None:
        raise ConfigError("model.decision", "this model stores no class priors; use 'argmax'")
    return decide(proba, rule, priors, mcfg.get("cost_matrix"))


def apply_prior_shift(proba: np.ndarray, model, priors, source) -> tuple[np.ndarray, dict]:
    """Probabilities re-weighted to ``priors`` (``{class: prior}`` or "em"); returns
    ``(proba, info)`` with the training and target priors (and EM iterations)."""
    from serendip.classify.priors import em_priors, shift_priors
    from serendip.notices import notice

    classes = [str(c) for c in model.classes_]
    train = getattr(model, "priors_", None)
    if train is None:
        raise ConfigError("model.priors", "this model stores no training priors to shift from")
    info = {"train": dict(zip(classes, map(float, train), strict=True))}
    if priors == "em":
        q, out, n_iter = em_priors(proba, train)
        info.update({"method": "EM (Saerens et al. 2002)", "iterations": n_iter})
    else:
        unknown = sorted(set(priors) - set(classes))
        if unknown:
            raise ConfigError("model.priors", f"unknown class(es) {unknown}; classes: {classes}")
        q = np.array([float(priors.get(c, 0.0)) for c in classes])
        if q.sum() <= 0:
            raise ConfigError("model.priors", "priors must not all be 0")
        q = q / q.sum()
        out = shift_priors(proba, train, q)
        info["method"] = "given"
    info["target"] = dict(zip(classes, map(float, q), strict=True))
    notice(
        "classify",
        "prior_shift",
        "probabilities re-weighted from the training priors to "
        + ", ".join(f"{c} {v:.3f}" for c, v in info["target"].items())
        + f" ({info['method']}); p_<class>_train keeps the values before",
        source=source,
        count=len(proba),
        total=len(proba),
        severity="info",
    )
    return out, info


def save_trained(path: Path, model, F, feature_set: str, y, info: dict | None = None) -> Path:
    """Save a fitted boost model with the figures it was validated with: ``info`` (from
    ``--cv``) or, by default, its own out-of-fold figures (inner cross-fit, grouped)."""
    from serendip.classify.crossval import cv_info
    from serendip.classify.metrics import (
        classification_scores,
        expected_calibration_error,
        reliability_curve,
    )
    from serendip.classify.modelio import save_classifier

    classes = np.asarray(model.classes_).astype(str)
    yi = np.searchsorted(classes, np.asarray(y).astype(str))
    oof = model.calibrator_.transform(model.oof_proba_) if model.calibrator_ else model.oof_proba_
    if info is None:
        r = {
            "scores": classification_scores(yi, model.decide(oof), classes),
            "scores_argmax": classification_scores(yi, oof.argmax(axis=1), classes),
            "ece": expected_calibration_error(oof, yi),
        }
        info = cv_info(r, model.n_members, model.random_state)
        info["cv"] = (
            f"out-of-fold over the model's own {model.n_members} cross-fit folds grouped by "
            "source (the calibrator was fitted on these rows, so ECE is optimistic; use --cv)"
        )
    rel = reliability_curve(oof, yi)
    info = {"n_train": int(len(yi)), "features": list(F.columns), **info}
    return save_classifier(
        path,
        model,
        feature_set,
        list(F.columns),
        info,
        {
            "rel_confidence": rel["confidence"],
            "rel_accuracy": rel["accuracy"],
            "rel_count": rel["count"],
        },
    )


def run_classify(config: str | Path | dict, out_dir: str | Path, base: Path | None = None) -> dict:
    """Run the classification described by ``config`` and write everything to ``out_dir``.

    Returns a summary dict (counts, model, written paths).
    """
    from serendip.classify.metrics import expected_calibration_error, reliability_curve
    from serendip.classify.umlcaxs import labelled_mask
    from serendip.classify.votes import prob_column, source_votes
    from serendip.notices import notice

    cfg, base = read_config(config, base)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    mcfg = dict(cfg.get("model", {}))
    kind = mcfg.get("kind", "shipped")
    data = prepare(cfg, base)
    df, F, y, src, feature_set = data["df"], data["F"], data["y"], data["source"], data["feature_set"]
    model_info: dict = {"kind": kind}
    stored_rel = None
    if kind == "shipped":
        model, settings, extra = data["shipped"]
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
    X = F.to_numpy()
    lab = None if y is None else labelled_mask(y)
    if kind != "shipped":
        need = 1 if kind == "umlcaxs" else MIN_BOOST_LABELLED
        if lab is None or lab.sum() < need:
            raise InputError(
                src,
                f"the {kind!r} kind trains: it needs at least {need} labelled rows, found "
                f"{0 if lab is None else int(lab.sum())} ([labels] crossmatch or model.label_column)",
            )
        model = make_model(kind, mcfg, list(F.columns), feature_set)
        if kind == "umlcaxs":  # unsupervised GMM on all rows, class statistics from the labelled
            model.fit(X, y)
        else:
            model.fit(X[lab], y[lab].astype(str), groups=df["name"].to_numpy()[lab])
            if lab.sum() < len(lab):
                notice(
                    "classify",
                    "unlabelled_rows_predicted",
                    f"{int((~lab).sum()):,} of {len(lab):,} rows have no label: not trained on, classified",
                    source=src,
                    count=int((~lab).sum()),
                    total=len(lab),
                    severity="info",
                )
    proba = model.predict_proba(X)
    classes = [str(c) for c in model.classes_]
    proba_train = None
    if mcfg.get("priors") is not None:
        proba_train = proba
        proba, model_info["priors"] = apply_prior_shift(proba, model, mcfg["priors"], src)
    pred = decide_classes(model, proba, mcfg)

    keep = [c for c in ("name", "obsid", "obi", "region_id", "ra", "dec") if c in df.columns]
    det = pd.concat([df[keep].reset_index(drop=True), F.reset_index(drop=True)], axis=1)
    if hasattr(model, "predict_cluster"):
        det["cluster"] = model.predict_cluster(X)
    elif getattr(model, "gmm_", None) is not None:
        det["cluster"] = model.cluster_proba(X).argmax(axis=1)
    for j, c in enumerate(classes):
        det[prob_column(c)] = proba[:, j]
    if proba_train is not None:
        for j, c in enumerate(classes):
            det[prob_column(c) + "_train"] = proba_train[:, j]
    if hasattr(model, "out_of_domain"):
        det["n_out_of_domain"] = model.out_of_domain(X)
        ood = int((det["n_out_of_domain"] > 0).sum())
        if ood:
            notice(
                "classify",
                "out_of_domain",
                f"{ood:,} of {len(det):,} rows have features outside the training range "
                "(column n_out_of_domain counts them); their probabilities are extrapolated",
                source=src,
                count=ood,
                total=len(det),
            )
    det["class"] = np.asarray(classes, dtype=object)[pred]
    det["p_class"] = proba[np.arange(len(det)), pred]
    if y is not None:
        det["label"] = pd.Series(y, dtype=object).where(labelled_mask(y), None).to_numpy()
        if data["label_meta"] is not None:
            det = pd.concat([det, data["label_meta"].reset_index(drop=True)], axis=1)
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
    if data["counterparts"] is not None:
        summary["counterparts"] = data["counterparts"]
    if cfg.get("output", {}).get("plots", True):
        from serendip.classify.plots import bic_plot, hardness_variability, reliability_plot

        hard = ("hr_hm", "hr_ms") if feature_set != "umlcaxs" else ("hard_hm", "hard_ms")
        var = "var_intra_prob" if feature_set != "umlcaxs" else "var_prob_b"
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
        oof = getattr(model, "oof_proba_", None)
        if kind == "boost" and oof is not None:  # out-of-fold: honest, unlike the fitted rows
            yi = np.searchsorted(np.asarray(classes), np.asarray(y[lab]).astype(str))
            r = reliability_curve(oof, yi)
            r["ece"] = expected_calibration_error(oof, yi)
            curves["training rows, out-of-fold (uncalibrated members)"] = r
        if kind == "shipped" and y is not None and labelled_mask(y).any():
            # labelled rows a shipped model never saw (unless they are its training table)
            lab = labelled_mask(y) & np.isin(np.asarray(y, dtype=object).astype(str), classes)
            yi = np.searchsorted(np.asarray(classes), np.asarray(y[lab]).astype(str))
            r = reliability_curve(proba[lab], yi)
            r["ece"] = expected_calibration_error(proba[lab], yi)
            curves["labelled input rows (held out only if not in the model's training set)"] = r
            summary["ece_labelled_rows_shipped_model"] = r["ece"]
        if stored_rel is not None:
            curves["shipped model, 5-fold CV"] = stored_rel
        if curves:
            written.append(str(reliability_plot(curves, out / "reliability.png")))
    if kind == "boost":
        written.append(str(save_trained(out / "model.safetensors", model, F, feature_set, y[lab])))
    summary["written"] = written
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary
