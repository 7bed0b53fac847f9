"""``serendip classify CONFIG --cv K``: honest, cross-validated figures against a plain baseline.

The labelled rows of the config's input are split into ``K`` folds grouped by source name
(no source in both train and test), stratified by class and seeded. On the very same
folds it scores

* **serendip**: the config's training kind (``boost`` by default: the cross-fitted,
  calibrated classifier of :mod:`serendip.classify.crossfit`), under its decision rule;
* **baseline**: a plain ``HistGradientBoostingClassifier(class_weight="balanced")`` on the
  same features (:class:`~serendip.classify.crossval.BaselineHGB`);
* **UMLCAXS**: the reproduction (:func:`serendip.classify.umlcaxs.umlcaxs_recipe`, the
  same one ``kind = "umlcaxs"`` runs), unless ``with_umlcaxs=False``.

Every figure is out-of-fold: accuracy (argmax and under the decision rule), balanced
accuracy, per-class recall and precision, top-label ECE, the reliability diagram and the
confusion matrix. Then the model is fitted on all labelled rows and saved with these
figures (``model.safetensors``, ``info["cv_*"]``).

Two diagnostics of serendip's out-of-fold probabilities
(:mod:`serendip.classify.diagnostics`): ``cv_label_audit.csv``, the labelled rows ranked
by the probability of their own label (the most likely mislabelled first, with each
label's provenance and quality), and ``cv_stratified.csv``, per-class recall and ECE by
net counts, off-axis angle, |Galactic latitude| and significance (those the table has).

Writes ``cv_scores.csv`` (one row per method), ``cv_metrics.json``,
``cv_predictions.parquet`` (out-of-fold probabilities and fold of every row),
``cv_label_audit.csv``, ``cv_stratified.csv``,
``cv_reliability.png``, ``cv_confusion.png``, ``cv_confusion_baseline.png``,
``model.safetensors`` and the warnings table.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import InputError


def run_classify_cv(
    config,
    out_dir: str | Path,
    n_splits: int = 5,
    seed: int = 0,
    base: Path | None = None,
    with_umlcaxs: bool = True,
    progress=None,
) -> dict:
    """Cross-validate the config's classifier, the baseline and UMLCAXS on the same folds.

    Returns ``{"classes", "rows" (list of per-method figure dicts), "n", "folds",
    "written"}``; ``progress(message)`` is called as each method starts.
    """
    from serendip.classify.crossval import BaselineHGB, cross_validate, cv_info, summary_row
    from serendip.classify.features import build_features
    from serendip.classify.pipeline import make_model, prepare, read_config, save_trained
    from serendip.classify.plots import confusion_plot, reliability_plot
    from serendip.classify.splits import grouped_folds
    from serendip.classify.umlcaxs import labelled_mask, umlcaxs_recipe
    from serendip.classify.votes import prob_column
    from serendip.notices import notice

    cfg, base = read_config(config, base)
    cfg = {k: dict(v) if isinstance(v, dict) else v for k, v in cfg.items()}
    mcfg = cfg.setdefault("model", {})
    if mcfg.get("kind", "shipped") == "shipped":
        notice(
            "classify",
            "cv_trains_boost",
            "--cv trains and scores a model: the shipped kind is replaced by kind 'boost'",
            source="model.kind",
            severity="info",
        )
        mcfg["kind"] = "boost"
        mcfg.pop("name", None)
    kind = mcfg["kind"]
    data = prepare(cfg, base)
    df, F, y, src, feature_set = (
        data["df"],
        data["F"],
        data["y"],
        data["source"],
        data["feature_set"],
    )
    if y is None:
        raise InputError(src, "--cv needs labels (model.label_column or a [labels] crossmatch)")
    lab = labelled_mask(y)
    if lab.sum() < len(lab):
        notice(
            "classify",
            "cv_unlabelled_rows",
            f"{int((~lab).sum()):,} of {len(lab):,} rows have no label and are left out of the CV",
            source=src,
            count=int((~lab).sum()),
            total=len(lab),
            severity="info",
        )
    yl = np.asarray(y[lab]).astype(str)
    groups = df["name"].to_numpy()[lab]
    classes = np.unique(yl)
    yi = np.searchsorted(classes, yl)
    small = [c for c in classes if (yl == c).sum() < n_splits]
    if small:
        raise InputError(src, f"classes {small} have fewer than {n_splits} labelled rows")
    folds = grouped_folds(yi, groups, n_splits, seed)
    X = F.to_numpy()[lab]
    methods = [
        (f"serendip ({kind})", lambda: make_model(kind, mcfg, list(F.columns), feature_set), X)
    ]
    methods.append(("baseline HGB(class_weight=balanced)", BaselineHGB, X))
    if with_umlcaxs and kind != "umlcaxs":
        ucols, uset = umlcaxs_recipe(
            "umlcaxs" if feature_set == "umlcaxs" else "xray",
            n_components=mcfg.get("n_components"),
        )
        from serendip.classify.umlcaxs import UmlcaxsClassifier

        Fu = build_features(df, "umlcaxs" if feature_set == "umlcaxs" else "xray", source=src)
        methods.append(
            ("UMLCAXS reproduction", lambda: UmlcaxsClassifier(**uset), Fu[ucols].to_numpy()[lab])
        )
    results, rows = {}, []
    for name, factory, Xm in methods:
        if progress is not None:
            progress(f"{name}: {n_splits}-fold CV")
        r = cross_validate(factory, Xm, yl, groups, folds=folds)
        results[name] = r
        rows.append(summary_row(name, r))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    first = rows[0]["method"]
    written = []
    pd.DataFrame(rows).to_csv(out / "cv_scores.csv", index=False)
    written.append(str(out / "cv_scores.csv"))
    fold_of = np.zeros(len(yl), dtype=np.int64)
    for f, (_, te) in enumerate(folds):
        fold_of[te] = f
    pred = pd.DataFrame({"name": groups, "label": yl, "fold": fold_of})
    for name, r in results.items():
        tag = "" if name == first else ("baseline_" if name.startswith("baseline") else "umlcaxs_")
        for j, c in enumerate(classes):
            pred[tag + prob_column(c)] = r["proba"][:, j]
        pred[tag + "class"] = classes[r["pred"]]
    from serendip.io.tables import write_table

    written.append(str(write_table(pred, out / "cv_predictions.parquet")))
    curves = {n: {**r["reliability"], "ece": r["ece"]} for n, r in results.items()}
    written.append(str(reliability_plot(curves, out / "cv_reliability.png")))
    for name, fname in (
        (first, "cv_confusion.png"),
        (rows[1]["method"], "cv_confusion_baseline.png"),
    ):
        written.append(
            str(
                confusion_plot(
                    results[name]["scores"]["confusion"],
                    classes,
                    out / fname,
                    f"{name}, {n_splits}-fold grouped CV",
                )
            )
        )
    from serendip.classify.diagnostics import label_audit, strata_of, stratified_scores

    r0 = results[first]
    meta = data.get("label_meta")
    audit = label_audit(
        r0["proba"], r0["y"], classes, groups, None if meta is None else meta[lab]
    )
    audit.to_csv(out / "cv_label_audit.csv", index=False)
    written.append(str(out / "cv_label_audit.csv"))
    strat = stratified_scores(
        r0["proba"], r0["y"], r0["pred"], classes, strata_of(df[lab], F[lab])
    )
    strat.to_csv(out / "cv_stratified.csv", index=False)
    written.append(str(out / "cv_stratified.csv"))
    info = cv_info(results[first], n_splits, seed)
    if kind == "boost":
        model = make_model(kind, mcfg, list(F.columns), feature_set)
        model.fit(X, yl, groups=groups)
        written.append(
            str(save_trained(out / "model.safetensors", model, F, feature_set, yl, info))
        )
    summary = {
        "classes": [str(c) for c in classes],
        "n": int(len(yl)),
        "n_splits": n_splits,
        "seed": seed,
        "feature_set": feature_set,
        "features": list(F.columns),
        "rows": rows,
        "confusion": {n: r["scores"]["confusion"] for n, r in results.items()},
        "model_info": info,
        "label_audit": audit.head(50).to_dict(orient="records"),
        "stratified": strat.to_dict(orient="records"),
        "written": written,
    }
    (out / "cv_metrics.json").write_text(json.dumps(summary, indent=2, default=float))
    return summary


def format_audit(summary: dict, top: int = 10) -> str:
    """Plain-text list of the ``top`` labelled rows most likely mislabelled (out-of-fold
    probability of their own label lowest; :func:`run_classify_cv`)."""
    rows = summary.get("label_audit", [])[:top]
    lines = [
        f"label-noise audit: the {len(rows)} labelled rows with the lowest out-of-fold "
        "probability of their own label (all: cv_label_audit.csv)",
        f"{'name':28s} {'label':>12s} {'p(label)':>9s} {'most probable':>14s} {'p':>6s}  provenance",
    ]
    for r in rows:
        lines.append(
            f"{str(r['name'])[:28]:28s} {str(r['label'])[:12]:>12s} {r['p_label']:9.4f} "
            f"{str(r['most_probable'])[:14]:>14s} {r['p_most_probable']:6.3f}  "
            f"{r.get('label_provenance', '')} {r.get('label_quality', '')}".rstrip()
        )
    return "\n".join(lines)


def format_cv_table(summary: dict) -> str:
    """Plain-text table of :func:`run_classify_cv`'s figures (one line per method)."""
    classes = summary["classes"]
    head = (
        f"{'method':40s} {'acc(argmax)':>11s} {'balanced':>9s} {'ECE':>6s} "
        + " ".join(f"{'R:' + c[:9]:>11s}" for c in classes)
        + f" {'fit[s]':>7s}"
    )
    lines = [
        f"{summary['n_splits']}-fold CV grouped by source, stratified, seed {summary['seed']}; "
        f"{summary['n']} labelled rows; all figures out-of-fold",
        head,
    ]
    for r in summary["rows"]:
        lines.append(
            f"{r['method'][:40]:40s} {r['accuracy_argmax']:11.3f} {r['balanced_accuracy']:9.3f} "
            f"{r['ece']:6.3f} "
            + " ".join(f"{r['recall_' + c]:11.3f}" for c in classes)
            + f" {r['fit_seconds']:7.2f}"
        )
    lines.append(
        "balanced: under each method's decision rule (serendip: model.decision; others: argmax); "
        "R: per-class recall"
    )
    return "\n".join(lines)
