"""``serendip evaluate`` configuration files (TOML).

Example::

    [data]
    table = "features.parquet"      # any table read_table reads; relative to this file
    label = "class"                 # column with the subclass of each row
    group = "object_id"             # optional: rows of one object stay on one side of the split
    features = ["a", "b"]           # optional: default every numeric column except label/group
    exclude = ["ra", "dec"]         # optional: columns never used as features
    log10 = ["flux"]                # optional: columns to log10 (non-positive values -> NaN)

    [protocol]
    seeds = [0, 1, 2]
    test_size = 0.2
    budgets = [0.01, 0.02, 0.05, 0.15]
    held_out = ["CV", "NS"]         # optional: default every class
    scale = "standard"              # "standard", "robust" or "none"
    train_mode = "branch"           # or "all"

    [hierarchy]                     # optional: branch = [subclasses]
    transient = ["SNIa", "SNII"]

    [detectors.iforest]             # one table per detector; name = the column in the results
    kind = "IForest"                # serendip.detect class, pyod.<Name> or sklearn.<Name>
    params = { n_estimators = 100 }
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from serendip.configfile import read_toml
from serendip.errors import ConfigError


@dataclass
class EvaluateConfig:
    table: Path
    label: str
    group: str | None
    features: list[str] | None
    exclude: list[str]
    log10: list[str]
    protocol: dict[str, Any]
    hierarchy: dict[str, list[str]] | None
    detectors: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)


_PROTOCOL_KEYS = {
    "seeds",
    "test_size",
    "budgets",
    "held_out",
    "scale",
    "train_mode",
    "pass_labels",
    "min_class_size",
}


def load_config(path: str | Path) -> EvaluateConfig:
    """Parse and check a configuration file; every problem is a :class:`ConfigError` naming it."""
    path = Path(path)
    raw = read_toml(path)
    data = raw.get("data")
    if not isinstance(data, dict) or "table" not in data or "label" not in data:
        raise ConfigError(path, "needs a [data] section with 'table' and 'label'")
    table = Path(data["table"])
    if not table.is_absolute():
        table = (path.parent / table).resolve()
    protocol = dict(raw.get("protocol", {}))
    unknown = sorted(set(protocol) - _PROTOCOL_KEYS)
    if unknown:
        raise ConfigError(
            path, f"unknown [protocol] key(s) {unknown}; allowed: {sorted(_PROTOCOL_KEYS)}"
        )
    if protocol.get("scale") == "none":
        protocol["scale"] = None
    dets = raw.get("detectors")
    if not isinstance(dets, dict) or not dets:
        raise ConfigError(path, "needs at least one [detectors.<name>] section with a 'kind'")
    detectors = {}
    for name, spec in dets.items():
        if not isinstance(spec, dict) or "kind" not in spec:
            raise ConfigError(path, f"[detectors.{name}] needs a 'kind'")
        detectors[name] = (str(spec["kind"]), dict(spec.get("params", {})))
    hierarchy = raw.get("hierarchy")
    if hierarchy is not None:
        hierarchy = {str(k): [str(x) for x in v] for k, v in hierarchy.items()}
    return EvaluateConfig(
        table=table,
        label=str(data["label"]),
        group=data.get("group"),
        features=data.get("features"),
        exclude=list(data.get("exclude", [])),
        log10=list(data.get("log10", [])),
        protocol=protocol,
        hierarchy=hierarchy,
        detectors=detectors,
    )


def feature_matrix(
    cfg: EvaluateConfig, df: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    """``(X, labels, groups)`` from a table according to ``cfg`` (checks the columns)."""
    from serendip.io.tables import require_columns

    require_columns(df, [cfg.label] + ([cfg.group] if cfg.group else []), cfg.table)
    df = df[df[cfg.label].notna()]
    if cfg.features:
        require_columns(df, list(cfg.features), cfg.table)
        cols = list(cfg.features)
    else:
        skip = {cfg.label, cfg.group, *cfg.exclude}
        cols = [
            c
            for c in df.columns
            if c not in skip
            and pd.api.types.is_numeric_dtype(df[c])
            and not pd.api.types.is_bool_dtype(df[c])
        ]
    if not cols:
        raise ConfigError(cfg.table, "no numeric feature columns")
    X = df[cols].apply(pd.to_numeric, errors="coerce").astype(np.float64)
    for c in cfg.log10:
        if c not in X.columns:
            raise ConfigError(cfg.table, f"log10 column {c!r} is not a feature")
        X[c] = np.log10(X[c].where(X[c] > 0))
    all_nan = [c for c in cols if X[c].isna().all()]
    if all_nan:
        X = X.drop(columns=all_nan)
    groups = df[cfg.group].astype(str).to_numpy() if cfg.group else None
    return X, df[cfg.label].astype(str).to_numpy(), groups
