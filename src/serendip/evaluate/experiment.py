"""``serendip evaluate`` as one function: a configuration file in, the evaluation out."""

from __future__ import annotations

from pathlib import Path

#: label of the artefact (bogus) class that ``serendip evaluate`` recognises without being told
ARTEFACT_CLASS = "artefact"


def evaluate(config: str | Path, out: str | Path | None = None, *, plot: bool = True):
    """Leave-one-subclass-out evaluation of the detectors a configuration names.

    Parameters
    ----------
    config : TOML file (see :mod:`serendip.evaluate.config`): the labelled table (or light
        curves in their survey's columns and a labels table), its feature columns, the class hierarchy, the detectors and the protocol settings.
    out : folder for results.csv (with an artefact class among the labels, also artefacts.csv:
        per detector the share of each budget's top list that is artefacts), runs.csv, per-metric tables (CSV, Markdown, LaTeX) and the
        plot; None writes nothing.
    plot : also write results.png (with ``out``).

    Returns
    -------
    :class:`serendip.evaluate.EvaluationResult`; its ``failures`` list the runs that failed.
    """
    from serendip.evaluate.config import check_detectors, feature_matrix, load_config

    cfg = load_config(config)  # every configuration error before the heavy imports
    check_detectors(cfg, config)
    from serendip.evaluate.protocol import leave_one_subclass_out
    from serendip.io.tables import read_table

    if cfg.lightcurves:
        from serendip.evaluate.config import lightcurve_table

        cfg.exclude = [*cfg.exclude, "object_id"]
        table = lightcurve_table(cfg)
    else:
        table = read_table(cfg.table)
    X, labels, groups = feature_matrix(cfg, table)
    protocol = dict(cfg.protocol)
    explicit = protocol.pop("artefact_class", None)  # only when the file sets it
    artefact = ARTEFACT_CLASS if explicit is None else explicit
    if artefact and artefact in set(labels):
        protocol["artefact_class"] = artefact
    elif explicit:
        from serendip.errors import InputError

        raise InputError(cfg.table, f"protocol.artefact_class {explicit!r} is not among the "
                         f"labels of column {cfg.label!r}")  # fmt: skip
    result = leave_one_subclass_out(
        X, labels, cfg.detectors, groups=groups, hierarchy=cfg.hierarchy, **protocol
    )
    if out is not None:
        result.write(out, plot=plot)
    return result
