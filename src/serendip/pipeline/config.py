"""Run configuration: a TOML file validated by the typed model :class:`RunConfig`.

One pydantic model per TOML table (``[input]``, ``[features]``, ``[embed]``, ``[cluster]``,
``[candidates]``, ``[report]``): every key has a type, a default, bounds and a description.
Feature-case names come from :data:`serendip.features.registry.FEATURE_CASES` and detector names from
:data:`serendip.detect.registry.DETECTORS`, so a new case or detector is accepted here without
editing this file. An unknown key, a misspelt name, a wrong type or an impossible value is a
one-line :class:`~serendip.errors.ConfigError` naming the file, the key and what is allowed,
raised before any stage runs. So is a value the code could not honour as written (a setting of
another method than the one chosen, a t-SNE perplexity above what the number of files allows):
nothing is silently clipped while ``config.toml`` records another value.

:data:`DEFAULT_CONFIG` (a plain dict) and :func:`config_reference` (Markdown) come from the
same models, and the resolved configuration written to ``RUN_DIR/config.toml`` round-trips:
``load_config(path_of(dump_config(cfg))) == cfg``.

Adding a key is one line in its section's model below (see CONTRIBUTING.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from serendip.configfile import Section, read_toml, validate_model
from serendip.configfile import config_reference as _reference
from serendip.errors import ConfigError


# ---------------------------------------------------------------- names from the registries
def _feature_cases() -> tuple[str, ...]:
    from serendip.features.registry import FEATURE_CASES

    return tuple(FEATURE_CASES.names())


def _pca_cases() -> tuple[str, ...]:
    from serendip.features.registry import FEATURE_CASES

    return tuple(n for n, case in FEATURE_CASES.items() if case.extractor == "pca")


def _anomaly_detectors() -> tuple[str, ...]:
    """Detectors the candidate stage can fit without labels."""
    from serendip.detect.registry import DETECTORS

    return tuple(n for n, entry in DETECTORS.items() if not entry.needs_labels)


def _all_detectors() -> tuple[str, ...]:
    from serendip.detect.registry import DETECTORS

    return tuple(DETECTORS.names())


def _map_modes() -> tuple[str, ...]:
    from serendip.features.registry import MAP_MODES

    return tuple(MAP_MODES)


#: every feature-case name (from the feature-case registry)
FEATURE_CASES = _feature_cases()
_ANOMALY = _anomaly_detectors()
CaseName = Literal[FEATURE_CASES]  # type: ignore[valid-type]
AnomalyName = Literal[("auto", *_ANOMALY)]  # type: ignore[valid-type]
MapMode = Literal[_map_modes()]  # type: ignore[valid-type]


def _finite(**kw: Any) -> Any:
    return Field(allow_inf_nan=False, **kw)


# ---------------------------------------------------------------- sections
class InputSection(Section):
    """What to run on: a simulated population, event files / folders / event tables, or
    light-curve tables (one object per light curve)."""

    simulate: bool = Field(True, description="run on the built-in simulated population")
    n_sources: int = Field(5000, ge=50, description="simulated sources (= event files)")
    seed: int = Field(0, ge=0, description="simulation seed (also seeds feature training)")
    field_observations: int = Field(
        0, ge=0, description="0: the population of independent sources; N >= 1: n_sources sky "
        "sources of one field, each seen in N overlapping observations (serendip.simulate.field; "
        "files = n_sources x N)",
    )
    real_sky: bool = Field(
        False, description="add the real sky's effects to the simulated population: background "
        "flares, dither over chip edges and bad columns, afterglow chains, pile-up "
        "(serendip.simulate.realsky; measured and flagged as for real files)"
    )
    scan_fraction: float = Field(
        0.0, ge=0.0, le=1.0, description="with real_sky: fraction of simulated sources seen in "
        "eROSITA-like scan mode (40 s passes every 4 h, vignetted), their exposure curve as the "
        "expected-rate template (gtis.parquet)"
    )
    paths: list[str] = Field(
        default_factory=list,
        description="event files, folders or event tables (when simulate = false)",
    )
    lightcurves: list[str] = Field(
        default_factory=list,
        description="light-curve tables in the surveys' own columns (serendip.io.lightcurves; "
        "ZTF forced photometry, ALeRCE, ATLAS, Rubin, Kepler/TESS, CRTS, plain): each object is "
        "one item of the run (instead of event files; simulate is then false)",
    )
    lightcurve_features: Literal["full", "basic"] = Field(
        "full", description="light-curve feature set (serendip.represent.lc_features.FEATURE_SETS)"
    )
    band_ev: list[float] = Field(
        default_factory=list,
        description="energy band [low, high] of the events kept [eV]; [] = each file's mission "
        "standard band (serendip.io.missions)",
    )
    region: str | dict[str, str] = Field(
        "",
        description='source region(s) cut from every event file: region text, a DS9/CRTF/FITS '
        'region file, "beside" (a region file named after each event file), a manifest table '
        "(path, region) or a table {event file = region file}",
    )
    sources: str | dict[str, str] = Field(
        "",
        description='source list cutting each observation into sources (OBSID_<id>): a FITS '
        'source list, CSC table or CSV, "csc" (CSC 2.1 through TAP, cached), "beside", a manifest '
        "table (path, sources) or a table {event file = source list}",
    )
    quality_filter: bool = Field(
        True, description="apply each instrument's standard event screening (Chandra status and "
        "grades, XMM PATTERN/FLAG per camera, Swift grades by mode, eROSITA FLAG; counted)"
    )
    flare_screen: Literal["auto", "field", "off"] = Field(
        "auto", description="each mission's standard background-flare screening (XMM-Newton SAS "
        "flare recipe or flare-GTI extension, eROSITA FLAREGTI): auto = per source where a source "
        "list or region cuts the file, never cutting a source that flares itself then (a whole "
        "file is only reported); field = cut from every event; off = ignored"
    )
    barycentre: bool = Field(
        True, description="correct times measured at the spacecraft (TIMEREF not SOLARSYSTEM) to the "
        "solar-system barycentre for each source's position (stated in files.parquet)"
    )
    exposure: str = Field(
        "", description="relative exposure curve(s) for survey-mode data (eROSITA srctool light "
        'curve, CSC light curve or a table start, stop, fracexp[, obsreg_id]); "constant" takes '
        'survey data with a constant effective area; "" none (survey data refused)'
    )
    dither_exposure: bool = Field(
        True, description="give sources that Chandra's dither moves over a chip edge or bad column "
        "the fraction of their PSF on the chip vs time as relative exposure (from the events' chip "
        "positions; counted in a notice)"
    )
    csc_band: Literal["b", "u", "s", "m", "h", "w"] = Field(
        "b", description="CSC band whose 90%-ECF region is applied to CSC per-region products"
    )
    known_transients: str = Field(
        "truth",
        description="known transients: JSON (reference bonafide layout) or CSV (obsreg_id, "
        'type); "truth" labels a random fraction of the simulated flares/dips; "" none',
    )
    known_radius_arcsec: float = _finite(
        default=5.0,
        gt=0,
        description="known transients with coordinates match an ingested source within their "
        "combined position errors (3 sigma, floor 1 arcsec; serendip.catalog.posmatch), never "
        "beyond this radius [arcsec] (after obsreg_id and name)",
    )
    known_fraction: float = _finite(
        default=0.1,
        ge=0,
        le=1,
        description='fraction of simulated transients taken as known ("truth")',
    )

    @field_validator("band_ev")
    @classmethod
    def _band(cls, band: list[float]) -> list[float]:
        if band and (len(band) != 2 or not 0 < band[0] < band[1] < float("inf")):
            raise ValueError(f"must be [low, high] eV with 0 < low < high, or []; got {band!r}")
        return band

    @model_validator(mode="after")
    def _files(self) -> InputSection:
        if self.scan_fraction and not (self.simulate and self.real_sky):
            raise ValueError("input.scan_fraction needs input.simulate = true and input.real_sky = true")
        if self.lightcurves:
            if self.paths:
                raise ValueError("give input.paths (event files) or input.lightcurves, not both")
            for p in self.lightcurves:
                if not Path(p).is_file():
                    raise ValueError(f"input.lightcurves: no such file {p!r}")
            kt = self.known_transients
            if kt and kt != "truth" and not Path(kt).is_file():
                raise ValueError(f"input.known_transients: no such file {kt!r}")
            self.__dict__["simulate"] = False  # the light curves are the input (recorded)
            return self
        if self.simulate:
            return self
        if not self.paths:
            raise ValueError("input.paths is empty and input.simulate is false: nothing to run on")
        for p in self.paths:
            if not p.strip():
                raise ValueError(f"input.paths entries must be file or folder names, got {p!r}")
            if not Path(p).exists():
                raise ValueError(f"input.paths: no such file or folder {p!r}")
        kt = self.known_transients
        if kt and kt != "truth" and not Path(kt).is_file():
            raise ValueError(f"input.known_transients: no such file {kt!r}")
        if self.region and self.sources:
            raise ValueError("give input.region or input.sources, not both")
        for key in ("region", "sources"):
            value = getattr(self, key)
            files = value.values() if isinstance(value, dict) else (
                [value] if key == "sources" and value and value not in ("beside", "csc") else [])
            for f in files:
                if not Path(f).is_file():
                    raise ValueError(f"input.{key}: no such file {f!r}")
        return self


class FeaturesSection(Section):
    """How event files become feature vectors (the feature-case registry)."""

    case: CaseName = Field(
        "events",
        description='feature case; "events" (event features incl. burst significance) '
        "recovers injected transients best on the simulated population (BENCHMARKS.md)",
    )
    n_components: int = Field(
        0, ge=0, description="PCA components of the PCA cases; 0 = the case's default (15 / 22)"
    )
    maps: MapMode = Field(
        "deviance",
        description='input of the E-t map / cube cases: "deviance" (count-aware: signed Poisson '
        'deviance from a constant rate, time bins adapted to the counts) or "reference" (raw / '
        "min-max maps as in the reference; anomaly scores then track counts)",
    )

    allow_mixed: bool = Field(
        False,
        description="accept files of several missions / instruments in one embedding without "
        "a warning (their scores may then sort them by instrument)",
    )

    @model_validator(mode="after")
    def _components(self) -> FeaturesSection:
        from serendip.features.registry import FEATURE_CASES as _CASES

        if self.maps != "deviance" and _CASES[self.case].representation == "events":
            raise ValueError(
                f"features.maps = {self.maps!r} applies only to the E-t map and cube cases; "
                f"remove it with features.case = {self.case!r}"
            )
        pca = _pca_cases()
        if self.n_components and self.case not in pca:
            raise ValueError(
                f"features.n_components = {self.n_components} applies only to the PCA cases "
                f"({', '.join(pca)}); use 0 with features.case = {self.case!r}"
            )
        return self


class EmbedSection(Section):
    """The 2-D map of the feature space (openTSNE or UMAP)."""

    method: Literal["tsne", "umap"] = Field("tsne", description="embedding method")
    perplexity: float = _finite(
        default=30.0, gt=0, description="t-SNE perplexity; at most (n_files - 1) / 3"
    )
    learning_rate: float | Literal["auto"] = Field(
        "auto", description='t-SNE learning rate (scikit-learn convention) or "auto"'
    )
    n_iter: int = Field(500, ge=1, description="t-SNE iterations, early exaggeration included")
    early_exaggeration: float = _finite(default=12.0, gt=0, description="t-SNE early exaggeration")
    init: Literal["pca", "spectral", "random"] = Field("pca", description="t-SNE initialisation")
    random_state: int = Field(0, ge=0, description="seed of the embedding")
    n_neighbors: int = Field(15, ge=2, description="UMAP neighbours; at most n_files - 1")
    min_dist: float = _finite(default=0.1, ge=0, le=1, description="UMAP minimum distance")

    @field_validator("learning_rate")
    @classmethod
    def _lr(cls, lr: float | str) -> float | str:
        if not isinstance(lr, str) and not 0 < lr < float("inf"):
            raise ValueError(f'must be "auto" or a positive finite number; got {lr!r}')
        return lr

    @model_validator(mode="after")
    def _method(self) -> EmbedSection:
        return _only_with(self, "embed", "method", _EMBED_ONLY)


_EMBED_ONLY = {
    "perplexity": "tsne",
    "learning_rate": "tsne",
    "n_iter": "tsne",
    "early_exaggeration": "tsne",
    "init": "tsne",
    "n_neighbors": "umap",
    "min_dist": "umap",
}


class ClusterSection(Section):
    """Clusters of the 2-D embedding."""

    method: Literal["dbscan", "hdbscan"] = Field("dbscan", description="clustering method")
    eps: Annotated[float, _finite(gt=0)] | Literal["auto"] = Field(
        "auto",
        description='DBSCAN radius [embedding units] or "auto" (knee of the k-distance curve)',
    )
    min_samples: int = Field(25, ge=1, description="DBSCAN core-point neighbours")
    min_cluster_size: int = Field(25, ge=2, description="HDBSCAN smallest cluster; at most n_files")

    @model_validator(mode="after")
    def _method(self) -> ClusterSection:
        return _only_with(
            self,
            "cluster",
            "method",
            {"eps": "dbscan", "min_samples": "dbscan", "min_cluster_size": "hdbscan"},
        )


class CandidatesSection(Section):
    """Ranking of the files: anomaly score, analogs of known transients, clusters."""

    k_neighbours: int = Field(
        10, ge=1, description="nearest analogs of each known transient; at most n_files - 1"
    )
    nn_span: float = _finite(
        default=0.2,
        ge=0,
        description="analogs of known transients rank like the anomaly top (nn_span * r / (k + 1)); "
        "with 0.2 only each known transient's nearest analog reaches the top 2 %",
    )
    anomaly: AnomalyName = Field(
        "auto",
        description='anomaly detector (the detector registry; unsupervised ones), or "auto": '
        "the feature case's detectors, chosen on simulated validation data and combined by "
        "calibrated rank (serendip.features.registry.FeatureCase.detectors)",
    )
    n_estimators: int = Field(300, ge=1, description='trees of the isolation forest ("iforest")')
    random_state: int = Field(0, ge=0, description="seed of the anomaly detector")

    @field_validator("anomaly", mode="before")
    @classmethod
    def _unsupervised(cls, name: Any) -> Any:
        if isinstance(name, str) and name not in _ANOMALY and name in _all_detectors():
            raise ValueError(
                f"detector {name!r} needs known-class labels, which the candidate stage does "
                f"not have; use one of {', '.join(_ANOMALY)}"
            )
        return name

    @model_validator(mode="after")
    def _detector(self) -> CandidatesSection:
        if self.anomaly == "auto":  # n_estimators applies when the case's rule uses iforest
            return self
        return _only_with(self, "candidates", "anomaly", {"n_estimators": "iforest"})


class SourcesSection(Section):
    """One row per source: detections grouped across observations, with archival context
    (serendip.catalog.sources, serendip.catalog.context)."""

    group_by: str = Field(
        "auto", min_length=1,
        description='how detections become sources: "auto" (a master-source id column of the '
        'files, e.g. the CSC master source, else position), "position", or a files column',
    )
    match_sigma: float = _finite(
        default=3.0, gt=0, description="positional matches: separation <= match_sigma x the "
        "combined 1-sigma position error (grouping, archival context)",
    )
    match_floor_arcsec: float = _finite(
        default=1.0, ge=0, description="smallest positional match radius [arcsec]"
    )
    gaia: str = Field("", description="Gaia DR3 table of the field (ra, dec, parallax, "
                      'parallax_error, phot_g_mean_mag, source_id) [path]; "" = none')
    simbad: str = Field("", description='SIMBAD table (ra, dec, main_id, otype) [path]; "" = none')
    ned: str = Field("", description='NED table (ra, dec, prefname, pretype) [path]; "" = none')
    archive_cache: str = Field(
        "", description="folder of cached TAP answers (Gaia, SIMBAD, NED cone queries) for the "
        'catalogues without a table; "" = none',
    )
    online: bool = Field(
        False, description="send the cone queries not in archive_cache to the services (and "
        "cache them); false: never contact the network",
    )
    n_query: int = Field(50, ge=0, description="top sources looked up in the cache / online")
    stellar_parallax_snr: float = _finite(
        default=5.0, gt=0, description="likely_stellar_flare: Gaia parallax / error at least this"
    )
    stellar_g_max: float = _finite(
        default=13.0, description="likely_stellar_flare: or a Gaia star at most this G [mag]"
    )
    flare_min_dex: float = _finite(
        default=3.0, ge=0, description="likely_stellar_flare: best detection's burst "
        "significance at least this [dex], or a known flare",
    )


class CompletenessSection(Section):
    """Injection and recovery after the candidates (serendip.pipeline.completeness)."""

    n_per_cell: int = Field(
        0, ge=0, description="injections per case (kind x duration x counts); 0 = none "
        "(serendip demo uses 3; serendip completeness RUN_DIR runs it on any finished run)",
    )
    top_fraction: float = _finite(
        default=0.02, gt=0, lt=1, description="recovered = in the top ceil(top_fraction x n_files)"
    )
    seed: int = Field(0, ge=0, description="seed of the hosts and the injected transients")


class SignificanceSection(Section):
    """Empirical false-alarm probabilities: the same scoring on time-scrambled copies of the
    files (serendip.catalog.significance)."""

    n_scrambles: int = Field(
        4, ge=0, le=1000,
        description="time-scrambled copies of every file scored as the null (times redrawn from "
        "each source's exposure within its GTIs, energies kept); 0 = no calibration (the report "
        "then shows no probability)",
    )
    seed: int = Field(0, ge=0, description="seed of the scrambles")
    fap_threshold: float = _finite(
        default=1e-3, gt=0, lt=1,
        description="a candidate is significant when its empirical false-alarm probability "
        "(all terms) is at or below this; the expected false candidates per 1,000 sources "
        "are stated at it",
    )
    count_bins: int = Field(
        5, ge=1, le=100,
        description="quantile bins of the files' counts within which each file is compared "
        "with the null files",
    )


class ReportSection(Section):
    """The HTML report."""

    n_top: int = Field(24, ge=1, description="candidates shown in the report (all when fewer)")


class RunConfig(Section):
    """Every setting of ``serendip run``, one table per stage."""

    input: InputSection = Field(default_factory=InputSection)
    features: FeaturesSection = Field(default_factory=FeaturesSection)
    embed: EmbedSection = Field(default_factory=EmbedSection)
    cluster: ClusterSection = Field(default_factory=ClusterSection)
    candidates: CandidatesSection = Field(default_factory=CandidatesSection)
    sources: SourcesSection = Field(default_factory=SourcesSection)
    completeness: CompletenessSection = Field(default_factory=CompletenessSection)
    significance: SignificanceSection = Field(default_factory=SignificanceSection)
    report: ReportSection = Field(default_factory=ReportSection)

    @model_validator(mode="after")
    def _sizes(self) -> RunConfig:
        if self.input.simulate:  # the number of files is known before any work
            n_files = self.input.n_sources * max(1, self.input.field_observations)
            problem = data_size_problem(self.model_dump(), n_files)
            if problem:
                raise ValueError(problem)
        return self


def _only_with(section: Section, name: str, selector: str, only: dict[str, str]) -> Any:
    """Refuse a non-default setting of a method other than the one ``selector`` picks."""
    chosen = getattr(section, selector)
    for key, method in only.items():
        default = type(section).model_fields[key].default
        if chosen != method and getattr(section, key) != default:
            raise ValueError(
                f"{name}.{key} = {getattr(section, key)!r} is used only with "
                f"{name}.{selector} = {method!r} (here {chosen!r}); remove it or change "
                f"{name}.{selector}"
            )
    return section


def data_size_problem(cfg: dict[str, Any], n_files: int) -> str | None:
    """Why ``cfg`` cannot be honoured as written on ``n_files`` files, or None.

    The embedding and clustering libraries would otherwise lower these values silently
    (openTSNE's perplexity to (n - 1) / 3, UMAP's neighbours and HDBSCAN's cluster size to
    n, the analog search to n - 1 neighbours); PCA cannot have more components than files.
    """
    n = int(n_files)
    emb, clu, cand = cfg["embed"], cfg["cluster"], cfg["candidates"]
    checks = []
    if emb["method"] == "tsne":
        checks.append(("embed.perplexity", emb["perplexity"], (n - 1) / 3, "(n_files - 1) / 3"))
    else:
        checks.append(("embed.n_neighbors", emb["n_neighbors"], n - 1, "n_files - 1"))
    if clu["method"] == "hdbscan":
        checks.append(("cluster.min_cluster_size", clu["min_cluster_size"], n, "n_files"))
    checks.append(("candidates.k_neighbours", cand["k_neighbours"], n - 1, "n_files - 1"))
    if cfg["features"]["n_components"]:  # PCA components (a PCA case: checked by the model)
        checks.append(("features.n_components", cfg["features"]["n_components"], n, "n_files"))
    for key, value, limit, rule in checks:
        if value > limit:
            return f"{key} = {value!r} is out of range for {n} files: must be <= {rule} = {limit:g}"
    return None


def check_data_size(cfg: dict[str, Any], n_files: int, source: str | Path | None = None) -> None:
    """Raise :class:`ConfigError` (naming the key) when ``cfg`` cannot be honoured on
    ``n_files`` files; called by the stages once the number of files is known."""
    problem = data_size_problem(cfg, n_files)
    if problem:
        raise ConfigError(source, problem)


#: Every setting with its default (a plain dict, from :class:`RunConfig`).
DEFAULT_CONFIG: dict[str, Any] = RunConfig().model_dump()


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_config(data: dict[str, Any], source: str | Path | None = None) -> RunConfig:
    """The typed :class:`RunConfig` of a (partial) configuration dict; missing keys take
    their defaults. Raises :class:`ConfigError` naming ``source`` and the key."""
    if not isinstance(data, dict):
        raise ConfigError(source, f"a configuration must be a table, got {type(data).__name__}")
    return validate_model(RunConfig, data, source)


def load_config(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Read a TOML run configuration (or none), apply ``overrides``, validate everything and
    return the resolved configuration (every key) as a plain dict.

    Raises :class:`ConfigError` naming the file for syntax errors, unknown keys, wrong types
    and values the run could not honour.
    """
    raw = read_toml(path) if path is not None else {}
    if overrides:
        raw = _deep_merge(raw, overrides)
    return parse_config(raw, path).model_dump()


def validate_config(cfg: dict[str, Any], source: str | Path | None = None) -> dict[str, Any]:
    """Validate a (partial or resolved) configuration dict; return it resolved."""
    return parse_config(cfg, source).model_dump()


#: older name of :func:`validate_config`
validate = validate_config


def dump_config(cfg: dict[str, Any], path: str | Path) -> None:
    """Write the resolved configuration as TOML (``load_config(path)`` gives it back)."""
    import tomli_w

    from serendip.io.atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_bytes(tomli_w.dumps(validate_config(cfg, path)).encode())


def config_reference() -> str:
    """Markdown reference of every run-configuration key (type, default, allowed, meaning)."""
    return _reference(
        RunConfig,
        "Run configuration (`serendip run CONFIG.toml`)",
        "Every key is optional; unknown keys and impossible values are errors before any work.",
    )
