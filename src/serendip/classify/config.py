"""``serendip classify`` configuration: typed sections validated before any work.

Config (TOML)::

    [input]
    path = "my_csc_detections.csv"       # or an [input.tap] section (see serendip.classify.inputs)

    [model]
    kind = "shipped"                      # "shipped" | "boost" | "umlcaxs"
    name = "csc_xray_grouped"             # shipped model name (kind = "shipped")
    feature_set = "xray"                  # "xray" | "xray+mw" | "umlcaxs" (kinds that train)
    n_components = "bic"                  # umlcaxs: GMM K or "bic"
    features = ["hr_hm", "hr_ms"]         # optional subset of the feature set (kinds that train)
    label_column = "label"                # class per row for training kinds (empty = unlabelled)
    label_reference_column = "Class_ref"  # optional: each label's provenance (a reference)
    calibration = "dirichlet"             # boost: "dirichlet" | "temperature" | "isotonic" | "none"
    n_members = 3                         # boost: cross-fitted members
    class_weight = "sqrt"                 # boost: members' row weights "sqrt" | "balanced" | "none"
    max_leaf_nodes = 31                   # boost: leaves per tree
    decision = "balanced"                 # reported class: "argmax" | "balanced" | "cost"
    cost_matrix = [[0, 1], [5, 0]]        # decision = "cost": rows true, columns reported class
    priors = "em"                         # prior shift: {AGN = 0.6, ...} or "em" (re-estimated)

    [labels]                              # optional: labels by crossmatch with a local table
    path = "simbad_types.csv"             # ra, dec [deg] and a SIMBAD type column
    # simbad = true                       # ...or query SIMBAD online (astroquery) instead of path
    otype_column = "main_type"
    radius_arcsec = 1.0
    level = "fine"                        # "fine" | "muwclass" | "grouped"
    exclude_candidates = false            # drop "YSO_Candidate", "Y*?" ... labels
    position_error_arcsec = 0.5           # input position errors [arcsec] (or a column name)
    min_p_match = 0.0                     # drop labels with a lower match probability

    [counterparts]                        # optional: features from a catalogue you crossmatch
    path = "my_optical.csv"               # ra, dec [deg] and numeric columns (model.kind = "boost")
    name = "opt"                          # features opt_p_match, opt_<column>
    columns = ["rmag", "w1"]              # [] = every numeric column
    radius_arcsec = 2.0
    position_error_arcsec = 0.5           # input position errors [arcsec] (or a column name)
    counterpart_position_error_arcsec = 0.1   # catalogue position errors (or a column name)

    [output]
    formats = ["parquet", "fits", "csv", "votable"]
    plots = true

A key left out keeps its meaning "not given" (the pipeline applies the defaults shown in
:func:`config_reference`); adding a key is one line in its section's model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from serendip.classify.shipped import SHIPPED
from serendip.configfile import Section, read_toml, validate_model
from serendip.configfile import config_reference as _reference
from serendip.errors import ConfigError

#: output format -> file extension
EXT = {"parquet": ".parquet", "fits": ".fits", "csv": ".csv", "votable": ".vot"}

#: names of the shipped classifiers
SHIPPED_MODELS = tuple(SHIPPED)


class TapSection(Section):
    """A Chandra Source Catalog TAP query instead of a table file (``[input.tap]``)."""

    url: str | None = Field(None, description="TAP service (default: CSC 2.1)")
    timeout_s: float = Field(120.0, gt=0, allow_inf_nan=False, description="query timeout [s]")
    cache_dir: str | None = Field(
        None, description="folder caching answers (relative: config folder)"
    )
    offline: bool = Field(False, description="use only the cache")
    master_columns: list[str] | None = Field(None, description="master_source columns")
    detection_columns: list[str] | None = Field(None, description="observation_source columns")
    min_flux_significance_b: float | None = Field(
        None, description="keep detections above this broad-band flux significance (default 5)"
    )
    not_null: list[str] | None = Field(None, description="detection columns that must be present")
    cone: list[float] | None = Field(
        None, min_length=3, max_length=3, description="[ra, dec, radius] [deg, deg, arcmin]"
    )
    names: list[str] | None = Field(None, description="CSC source names")
    obsids: list[int] | None = Field(None, description="ObsIDs")
    where: list[str] | None = Field(None, description="further ADQL conditions (ANDed)")
    top: int | None = Field(None, ge=1, description="maximum number of rows")
    schema_: str | None = Field(None, alias="schema", description='table prefix, e.g. "csc21."')


class InputSection(Section):
    """The table to classify: a file, or a TAP query."""

    path: str | None = Field(None, description="table file (relative: config folder)")
    tap: TapSection | None = Field(None, description="a CSC TAP query ([input.tap])")


class ModelSection(Section):
    """Which classifier: a shipped model, or one trained on the labelled input rows."""

    kind: Literal["shipped", "boost", "umlcaxs"] = Field("shipped", description="classifier")
    name: Literal[SHIPPED_MODELS] = Field(  # type: ignore[valid-type]
        "csc_xray_grouped", description='shipped model (kind = "shipped")'
    )
    feature_set: Literal["xray", "xray+mw", "umlcaxs"] = Field(
        "xray",
        description='feature set of the kinds that train ("xray+mw": + Gaia/2MASS/WISE columns)',
    )
    n_components: int | Literal["bic"] = Field(
        "bic", description='GMM components, 1-200, or "bic" (kinds that train)'
    )
    features: list[str] | None = Field(
        None, description="subset of the feature set (kinds that train)"
    )
    label_column: str | None = Field(None, description="input column with each row's class")
    label_reference_column: str | None = Field(
        None,
        description="input column with each label's provenance, e.g. a literature reference "
        "(copied to label_provenance)",
    )
    calibration: Literal["dirichlet", "temperature", "isotonic", "none"] = Field(
        "dirichlet", description="probability calibration on out-of-fold predictions (boost)"
    )
    n_members: int = Field(3, ge=2, le=20, description="cross-fitted boosted members (boost)")
    max_leaf_nodes: int = Field(
        31,
        ge=2,
        le=255,
        description="leaves per tree of each member (boost; members grow 100 trees per class at "
        "learning rate 0.1 on one shared binning; 15 with class_weight = none is the earlier "
        "setting, see BENCHMARKS.md)",
    )
    class_weight: Literal["sqrt", "balanced", "none"] = Field(
        "sqrt",
        description="weights of the members' training rows: 1/sqrt(class frequency), "
        "1/frequency or none; the calibrator restores the training mix (boost)",
    )
    decision: Literal["argmax", "balanced", "cost"] | None = Field(
        None,
        description="reported class: most probable, p/prior (balanced accuracy), or least "
        "expected cost (default: the model's own rule, balanced for boost)",
    )
    cost_matrix: list[list[float]] | None = Field(
        None, description="decision = cost: C x C, rows true class, columns reported class"
    )
    priors: dict[str, float] | Literal["em"] | None = Field(
        None,
        description='prior shift of the probabilities: {class = prior} or "em" (re-estimated '
        "on the input, Saerens et al. 2002)",
    )
    temperature: float = Field(
        1.0, gt=0, allow_inf_nan=False, description="softmax temperature (umlcaxs)"
    )

    @model_validator(mode="after")
    def _components(self) -> ModelSection:
        nc = self.n_components
        if isinstance(nc, int) and not 1 <= nc <= 200:
            raise ValueError(f"model.n_components must be 'bic' or 1-200; got {nc!r}")
        if self.decision == "cost" and self.cost_matrix is None:
            raise ValueError("model.decision = 'cost' needs model.cost_matrix (C x C)")
        if isinstance(self.priors, dict) and (
            any(v < 0 for v in self.priors.values()) or sum(self.priors.values()) <= 0
        ):
            raise ValueError("model.priors: priors must be >= 0 and not all 0")
        return self


class LabelsSection(Section):
    """Labels by crossmatch with a local table or SIMBAD (optional)."""

    path: str | None = Field(None, description="table with ra, dec [deg] and a type column")
    simbad: bool = Field(False, description="query SIMBAD online instead of a table")
    otype_column: str = Field("main_type", description="column of SIMBAD object types")
    radius_arcsec: float = Field(
        1.0, gt=0, allow_inf_nan=False, description="crossmatch radius [arcsec]"
    )
    level: Literal["fine", "muwclass", "grouped"] = Field("fine", description="class level")
    exclude_candidates: bool = Field(
        False,
        description='drop labels from candidate types ("YSO_Candidate", "Y*?"); otherwise kept '
        "with label_quality = candidate",
    )
    position_error_arcsec: float | str = Field(
        0.5,
        description="1-sigma error of the input positions [arcsec], a number or an input column",
    )
    label_position_error_arcsec: float = Field(
        0.1, ge=0, allow_inf_nan=False, description="1-sigma error of the label positions [arcsec]"
    )
    min_p_match: float = Field(
        0.0,
        ge=0,
        le=1,
        description="drop labels whose match probability (position errors, chance matches from "
        "shifted positions) is lower",
    )


class CounterpartsSection(Section):
    """Features from a counterpart catalogue crossmatched by position (optional; kind boost)."""

    path: str = Field(..., description="catalogue with ra, dec [deg] and numeric columns")
    name: str = Field(
        "cp",
        pattern=r"^[A-Za-z][A-Za-z0-9_]*$",
        description="prefix of the features: <name>_p_match, <name>_<column>",
    )
    columns: list[str] = Field(
        default_factory=list,
        description="catalogue columns added as features; [] = every numeric column but the "
        "coordinates and errors",
    )
    ra_column: str = Field("ra", description="catalogue right ascension column [deg]")
    dec_column: str = Field("dec", description="catalogue declination column [deg]")
    radius_arcsec: float = Field(
        2.0, gt=0, le=60, allow_inf_nan=False, description="crossmatch radius [arcsec]"
    )
    position_error_arcsec: float | str = Field(
        0.5,
        description="1-sigma error of the input positions [arcsec], a number or an input column",
    )
    counterpart_position_error_arcsec: float | str = Field(
        0.1,
        description="1-sigma error of the catalogue positions [arcsec], a number or a column",
    )


class OutputSection(Section):
    """What is written."""

    formats: list[Literal[tuple(EXT)]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(EXT), description="table formats written"
    )
    plots: bool = Field(True, description="write the plots")


class ClassifyConfig(Section):
    """Every setting of ``serendip classify``."""

    input: InputSection | None = Field(None, description="the table to classify (required)")
    model: ModelSection = Field(default_factory=ModelSection)
    labels: LabelsSection | None = Field(None, description="labels by crossmatch (optional)")
    counterparts: CounterpartsSection | None = Field(
        None, description="features from a crossmatched counterpart catalogue (optional)"
    )
    output: OutputSection = Field(default_factory=OutputSection)

    @model_validator(mode="after")
    def _input(self) -> ClassifyConfig:
        if self.input is None:
            raise ValueError("needs an [input] section (path = a table, or [input.tap])")
        if self.input.path is not None and self.input.tap is not None:
            raise ValueError("give either input.path or [input.tap], not both")
        if self.input.path is None and self.input.tap is None:
            raise ValueError("[input] needs path (a table file) or an [input.tap] section")
        if self.counterparts is not None and self.model.kind != "boost":
            raise ValueError(
                "[counterparts] adds features, so it needs a model trained on them: "
                f'model.kind = "boost" (not {self.model.kind!r})'
            )
        return self


def load_config(path: str | Path, base: Path | None = None) -> dict:
    """Read and check a classification config (TOML); :class:`ConfigError` naming the file.

    Relative paths in it are looked up under ``base`` (default: the config's folder).
    """
    path = Path(path)
    cfg = read_toml(path, "config file")
    validate_config(cfg, path, path.resolve().parent if base is None else Path(base))
    return cfg


def validate_config(cfg: dict, source: str | Path | None, base: Path) -> None:
    """Check sections, keys, types and values of a classification config (the dict is not
    changed: keys left out keep meaning "not given").

    Relative ``input.path`` / ``labels.path`` / ``counterparts.path`` are looked up under ``base`` (the config's
    folder). Raises :class:`ConfigError` naming ``source`` and the setting.
    """
    parsed = validate_model(ClassifyConfig, cfg, source)
    for name in ("input", "labels", "counterparts"):
        section = getattr(parsed, name)
        p = None if section is None else section.path
        if p is not None and not (Path(p) if Path(p).is_absolute() else base / p).exists():
            raise ConfigError(source, f"{name}.path: no such file {p!r} (relative to {base})")


def config_reference() -> str:
    """Markdown reference of every classification-configuration key."""
    return _reference(ClassifyConfig, "Classification configuration (`serendip classify`)")
