"""``serendip evaluate`` configuration files (TOML).

Example::

    [data]
    table = "features.parquet"      # any table read_table reads; relative to this file
    # or light curves in the survey's own columns (features made by serendip lightcurves):
    # lightcurves = ["det.csv.gz", "nondet.csv.gz"]; labels = "labels.csv"
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
    small_classes = "merge"         # inlier classes of < min_label_rows training rows:
    min_label_rows = 3              #   "merge" (into "other (merged)"), "skip" or "error"

    [hierarchy]                     # optional: branch = [subclasses]
    transient = ["SNIa", "SNII"]

    [detectors.iforest]             # one table per detector; name = the column in the results
    kind = "IForest"                # serendip.detect class, pyod.<Name> or sklearn.<Name>
    params = { n_estimators = 100 }
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from serendip.configfile import Section, did_you_mean, read_toml, validate_model
from serendip.configfile import config_reference as _reference
from serendip.errors import ConfigError, InputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


@dataclass
class EvaluateConfig:
    """A checked evaluation configuration (paths resolved, protocol keys as given)."""

    table: Path
    label: str
    group: str | None
    features: list[str] | None
    exclude: list[str]
    log10: list[str]
    protocol: dict[str, Any]
    hierarchy: dict[str, list[str]] | None
    detectors: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    #: light-curve files (the features are made from them) and the labels table
    lightcurves: list[Path] = field(default_factory=list)
    labels: Path | None = None
    labels_id: str | None = None
    feature_set: str = "full"


# ------------------------------------------------------------------ detector kinds
#: scikit-learn outlier models the harness wraps (``sklearn.<Name>``)
SKLEARN_DETECTORS = ("IsolationForest", "LocalOutlierFactor", "OneClassSVM")


def detector_kinds() -> list[str]:
    """Every accepted ``kind`` but ``pyod.<Name>``: the registry's short names, class names
    and model-file kinds (each also as ``detect.<Name>``) and ``sklearn.<Name>``."""
    from serendip.detect.registry import DETECTORS

    short = list(DETECTORS)
    classes = [entry.class_name for entry in DETECTORS.values()]
    kinds = [k for e in DETECTORS.values() if (k := e.kind.partition(".")[2]) not in classes]
    from serendip.evaluate.detectors import COMBINED

    return short + classes + kinds + [f"sklearn.{n}" for n in SKLEARN_DETECTORS] + list(COMBINED)


def check_detector_kind(kind: str) -> str:
    """``kind`` when the harness knows it, else ValueError with the allowed kinds."""
    if kind.startswith("pyod.") and kind[5:].isidentifier():
        return kind  # any PyOD class (checked when built; PyOD is imported only then)
    name = kind[7:] if kind.startswith("detect.") else kind
    known = detector_kinds()
    if name in known or name.lower() in {k.lower() for k in known if "." not in k}:
        return kind
    raise ValueError(
        f"unknown detector {kind!r}{did_you_mean(kind, known)}; allowed: "
        f"{', '.join(known)}, or pyod.<Name>"
    )


# ------------------------------------------------------------------ sections
class DataSection(Section):
    """The labelled table and which columns are features."""

    table: str | None = Field(
        None, description="any table read_table reads (relative: the config's folder); "
        "or give lightcurves"
    )
    lightcurves: list[str] = Field(
        default_factory=list,
        description="light-curve file(s) in the survey's own columns (instead of table): "
        "features per object are made as by `serendip lightcurves`",
    )
    labels: str | None = Field(
        None, description="with lightcurves: table of object id (any light-curve id alias) "
        "and the label column"
    )
    labels_id: str | None = Field(
        None, description="with lightcurves: the labels table's object-id column, when its name "
        "is not one of the light-curve id aliases"
    )
    feature_set: Literal["full", "basic"] = Field(
        "full", description="with lightcurves: light-curve feature set"
    )
    label: str = Field(description="column with the subclass of each row")
    group: str | None = Field(
        None, description="column of object ids: rows of one object stay on one side of a split"
    )
    features: list[str] | None = Field(
        None, description="feature columns (default: every numeric column but label/group)"
    )
    exclude: list[str] = Field(default_factory=list, description="columns never used as features")
    log10: list[str] = Field(
        default_factory=list, description="columns to log10 (non-positive values -> NaN)"
    )


class ProtocolSection(Section):
    """The leave-one-subclass-out protocol (:func:`serendip.evaluate.leave_one_subclass_out`)."""

    seeds: list[int] = Field(
        default_factory=lambda: [0, 1, 2], min_length=1, description="one split per seed"
    )
    test_size: float = Field(
        0.2,
        gt=0,
        lt=1,
        allow_inf_nan=False,
        description="fraction of objects per class in the test split",
    )
    budgets: list[float] = Field(
        default_factory=lambda: [0.01, 0.02, 0.05, 0.15],
        min_length=1,
        description="inspection budgets (fractions in (0, 1]) for recall",
    )
    held_out: list[str] | None = Field(None, description="subclasses to hold out (default: all)")
    scale: Literal["standard", "robust", "none"] = Field(
        "standard", description="feature scaling fitted on the training rows"
    )
    train_mode: Literal["branch", "all"] = Field(
        "branch", description="train on the held-out class's branch only, or on all"
    )
    pass_labels: bool = Field(True, description="give the inliers' labels to fit")
    min_class_size: int = Field(2, ge=2, description="smallest class (objects) held out")
    small_classes: Literal["merge", "skip", "error"] = Field(
        "merge",
        description="inlier classes with fewer than min_label_rows training rows: merged into "
        "one 'other (merged)' class, label-using detectors skipped on that split, or left to fail",
    )
    min_label_rows: int = Field(
        3, ge=2, description="training rows an inlier class needs to keep its own label"
    )
    artefact_class: str = Field(
        "artefact",
        description="label of bogus objects: when present among the labels (an error when set "
        "here and absent), never held out or trained on, scored in every test set, and the "
        "share of each budget's top list that is artefacts reported (artefacts@1%, ...); "
        "\"\" = none",
    )

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, seeds: list[int]) -> list[int]:
        if any(s < 0 for s in seeds):
            raise ValueError(f"must be >= 0; got {seeds}")
        return seeds

    @field_validator("budgets")
    @classmethod
    def _budgets(cls, budgets: list[float]) -> list[float]:
        if not all(0 < b <= 1 for b in budgets):
            raise ValueError(f"must be fractions in (0, 1]; got {budgets}")
        return budgets


class DetectorSection(Section):
    """One detector (``[detectors.<name>]``; the name is its column in the results)."""

    kind: str = Field(
        description="serendip detector (registry short or class name), pyod.<Name> or "
        "sklearn.IsolationForest / LocalOutlierFactor / OneClassSVM"
    )
    params: dict[str, Any] = Field(default_factory=dict, description="settings of the detector")

    @field_validator("kind")
    @classmethod
    def _kind(cls, kind: str) -> str:
        return check_detector_kind(kind)


class EvaluateFile(Section):
    """Every setting of ``serendip evaluate``."""

    data: DataSection = Field(description="a [data] table with 'table' and 'label'")
    protocol: ProtocolSection = Field(default_factory=ProtocolSection)
    hierarchy: dict[str, list[str]] | None = Field(
        None, description="branch = [subclasses]; classes not listed form the branch 'other'"
    )
    detectors: dict[str, DetectorSection] = Field(
        min_length=1, description="one [detectors.<name>] table per detector"
    )


def load_config(path: str | Path) -> EvaluateConfig:
    """Parse and check a configuration file; every problem is a :class:`ConfigError` naming it."""
    path = Path(path)
    raw = read_toml(path)
    cfg = validate_model(EvaluateFile, raw, path)
    if bool(cfg.data.table) == bool(cfg.data.lightcurves):
        raise ConfigError(path, "give data.table (a feature table) or data.lightcurves, one")
    if cfg.data.lightcurves and not cfg.data.labels:
        raise ConfigError(path, "data.lightcurves needs data.labels (object id and label)")

    def _file(key: str, name: str) -> Path:
        p = Path(name)
        p = p if p.is_absolute() else (path.parent / p).resolve()
        if not p.is_file():
            raise ConfigError(path, f"data.{key}: no such file {name!r} (relative to {path.parent})")
        return p

    lcs = [_file("lightcurves", f) for f in cfg.data.lightcurves]
    labels = _file("labels", cfg.data.labels) if cfg.data.labels else None
    table = _file("table", cfg.data.table) if cfg.data.table else lcs[0]
    protocol = cfg.protocol.model_dump(exclude_unset=True)
    if protocol.get("scale") == "none":
        protocol["scale"] = None
    return EvaluateConfig(
        table=table,
        label=cfg.data.label,
        group=cfg.data.group,
        features=cfg.data.features,
        exclude=list(cfg.data.exclude),
        log10=list(cfg.data.log10),
        protocol=protocol,
        hierarchy=cfg.hierarchy,
        detectors={name: (d.kind, dict(d.params)) for name, d in cfg.detectors.items()},
        lightcurves=lcs,
        labels=labels,
        labels_id=cfg.data.labels_id,
        feature_set=cfg.data.feature_set,
    )


def lightcurve_table(cfg: EvaluateConfig):
    """One row per labelled object: light-curve features (``serendip lightcurves``) joined to
    the labels table on the object id; unlabelled objects are counted and left out."""

    from serendip.io.lightcurves import COLUMN_ALIASES, _pick_one
    from serendip.io.tables import read_table
    from serendip.notices import notice
    from serendip.represent.lc_features import lightcurve_feature_table

    files = [str(p) for p in cfg.lightcurves]
    res = lightcurve_feature_table(files if len(files) > 1 else files[0],
                                   feature_set=cfg.feature_set)  # fmt: skip
    labels = read_table(cfg.labels)
    idc = cfg.labels_id or _pick_one(labels.columns, COLUMN_ALIASES["object_id"])
    if idc not in labels.columns:
        idc = None
    if idc is None or cfg.label not in labels.columns:
        raise InputError(cfg.labels, f"needs an object-id column ({COLUMN_ALIASES['object_id']}, "
                         f"or name it with data.labels_id) and the label column {cfg.label!r}; "
                         f"has {list(labels.columns)}")  # fmt: skip
    lab = labels[[idc, cfg.label]].rename(columns={idc: "object_id"})
    lab["object_id"] = lab["object_id"].astype(str)
    feats = res.features.reset_index()
    df = feats.merge(lab.drop_duplicates("object_id"), on="object_id", how="inner")
    lost = len(feats) - len(df)
    if lost:
        notice("evaluate", "unlabelled_objects", f"{lost:,} of {len(feats):,} light-curve "
               f"objects have no label in {cfg.labels.name} and are left out",
               source=str(cfg.labels), count=lost, total=len(feats))  # fmt: skip
    return df.drop(columns=["object_id"]).assign(object_id=df["object_id"])


def check_detectors(cfg: EvaluateConfig, source: str | Path | None = None) -> None:
    """Build every configured detector once, so that a setting its class does not take is a
    :class:`ConfigError` naming ``detectors.<name>`` before any data are read."""
    from serendip.evaluate.detectors import make_detector

    for name, (kind, params) in cfg.detectors.items():
        try:
            make_detector(kind, params)
        except ConfigError as exc:
            raise ConfigError(source, f"detectors.{name}: {exc.problem}") from None
        except (TypeError, ValueError) as exc:  # a class that checks its settings itself
            raise ConfigError(source, f"detectors.{name}.params: {exc}") from None


def config_reference() -> str:
    """Markdown reference of every evaluation-configuration key."""
    return _reference(EvaluateFile, "Evaluation configuration (`serendip evaluate`)")


def feature_matrix(
    cfg: EvaluateConfig, df: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    """``(X, labels, groups)`` from a table according to ``cfg`` (checks the columns)."""
    import numpy as np
    import pandas as pd

    from serendip.evaluate.validate import check_labels, count_dropped, numeric_columns
    from serendip.io.tables import require_columns

    require_columns(df, [cfg.label] + ([cfg.group] if cfg.group else []), cfg.table)
    n_rows = len(df)
    df = df[df[cfg.label].notna()]
    if cfg.features:
        require_columns(df, list(cfg.features), cfg.table)
        from serendip.io.tables import check_numeric_columns

        cols = list(cfg.features)
        check_numeric_columns(df, cols, cfg.table)
    else:
        skip = {cfg.label, cfg.group, *cfg.exclude}
        cols = numeric_columns(df, [c for c in df.columns if c not in skip], cfg.table)
    if not cols:
        raise ConfigError(cfg.table, "no numeric feature columns")
    X = df[cols].apply(pd.to_numeric, errors="coerce").astype(np.float64)
    log_invalid = {}
    for c in cfg.log10:
        if c not in X.columns:
            raise ConfigError(cfg.table, f"log10 column {c!r} is not a feature")
        log_invalid[c] = int((X[c] <= 0).sum())
        X[c] = np.log10(X[c].where(X[c] > 0))
    all_nan = [c for c in cols if X[c].isna().all()]
    if all_nan:
        X = X.drop(columns=all_nan)
    if X.shape[1] == 0:
        raise InputError(cfg.table, f"every feature column is empty on every row: {all_nan[:10]}")
    count_dropped(n_rows - len(df), n_rows, all_nan, log_invalid, cfg.table)
    labels = df[cfg.label].astype(str).to_numpy()
    groups = df[cfg.group].astype(str).to_numpy() if cfg.group else None
    check_labels(labels, groups, cfg.table, cfg.label, cfg.group)
    return X, labels, groups
