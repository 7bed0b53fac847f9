"""The run directory: every file a discovery run writes, named once.

:data:`RUN_FILES` lists each file (its key, path relative to the run directory, the stage
that writes it and what it holds); :class:`RunLayout` turns a run directory into paths, so
the pipeline, the report, the app, the scale jobs and :class:`serendip.Run` never spell a file
name themselves::

    layout = RunLayout("runs/demo")
    layout.candidates            # Path("runs/demo/candidates.parquet")
    layout.stage_dir("features") # Path("runs/demo/stages/features")

An ingest output folder (``serendip ingest --out``) uses the same names for the files it
shares with a run (events, files, gtis, failures).

To add a file to runs: append a :class:`RunFile` to :data:`RUN_FILES` and use
``RunLayout(run_dir).<key>`` where it is written and read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from serendip.registry import Registry

STAGES_DIR = "stages"


@dataclass(frozen=True)
class RunFile:
    """One file of a run directory.

    Attributes
    ----------
    name : attribute name on :class:`RunLayout` ("candidates").
    path : path relative to the run directory ("candidates.parquet").
    stage : the pipeline stage that writes it ("" when written by the run itself).
    description : what it holds.
    """

    name: str
    path: str
    stage: str
    description: str


def _stage(stage: str, file: str) -> str:
    return f"{STAGES_DIR}/{stage}/{file}"


#: Every file of a run directory.
RUN_FILES: Registry[RunFile] = Registry(
    "run file",
    [
        RunFile("config", "config.toml", "", "the resolved configuration: every setting"),
        RunFile("run_json", "run.json", "", "each stage's key, wall time, reuse, outputs"),
        RunFile("warnings", "warnings.parquet", "", "counted notices of every stage"),
        RunFile("warnings_csv", "warnings.csv", "", "the same notices as CSV"),
        RunFile("events", "events.parquet", "input", "events: obsreg_id, time [s], energy [eV]"),
        RunFile("files", "files.parquet", "input", "one row per file / region"),
        RunFile("lightcurves", "lightcurves.parquet", "input",
                "light-curve runs: the standard light-curve table (object_id, time [MJD], band, "
                "flux [uJy] or mag, errors, flux_type, upper limits)"),
        RunFile("gtis", "gtis.parquet", "input", "good-time intervals (ingested FITS files)"),
        RunFile("failures", "failures.csv", "input", "files that could not be read, and why"),
        RunFile("regions", "regions.parquet", "input",
                "source regions cut from event files: centre, size, background counts and area"),
        RunFile("background", "background.parquet", "input",
                "each source's background-annulus events in the band: obsreg_id, time [s]"),
        RunFile("artefacts", "artefacts.parquet", "input",
                "instrumental-artefact diagnostics per source: chip edge, dither, afterglow, "
                "streak, counts per frame, out-of-time events, dead time"),
        RunFile("pileup", "pileup.parquet", "input",
                "counts per frame of each source over time (bins of 100 frames), framed "
                "detectors: obsreg_id, start, stop [s], frames, counts, counts_per_frame"),
        RunFile("known_unmatched", "known_unmatched.csv", "input",
                "known transients that match no ingested source"),
        RunFile("sources", "sources.parquet", "input", "simulated truth (simulated runs)"),
        RunFile("known", "known_transients.csv", "input", "known transients: obsreg_id, type"),
        RunFile("event_features", _stage("represent", "event_features.parquet"), "represent",
                "per-file event features"),
        RunFile("features", _stage("features", "features.parquet"), "features",
                "feature vectors of the configured case"),
        RunFile("imputation", _stage("features", "imputation.parquet"), "features",
                "light-curve runs: per feature column, the missing values filled and how"),
        RunFile("lc_objects", _stage("represent", "lc_objects.parquet"), "represent",
                "light-curve runs: points per band, missing features, exclusion and reason"),
        RunFile("map_scores", _stage("features", "map_scores.parquet"), "features",
                "per-file scores of the count-aware maps (map_deviance); map cases only"),
        RunFile("feature_model", _stage("features", "feature_model.safetensors"), "features",
                "the fitted feature model"),
        RunFile("embedding", "embedding.parquet", "embed", "2-D embedding: obsreg_id, x, y"),
        RunFile("embedder", _stage("embed", "embedder.safetensors"), "embed",
                "the fitted embedder"),
        RunFile("clusters", "clusters.parquet", "cluster", "cluster label per file (0 = noise)"),
        RunFile("cluster_summary", "cluster_summary.parquet", "cluster",
                "per-cluster sizes, known types and feature medians"),
        RunFile("candidates", "candidates.parquet", "candidates", "ranked candidates"),
        RunFile("candidates_fits", "candidates.fits", "candidates", "the candidates as FITS"),
        RunFile("candidates_csv", "candidates.csv", "candidates", "the candidates as CSV"),
        RunFile("nuisance", "nuisance.parquet", "candidates",
                "nuisance audit: scores against counts, exposure, epoch, instrument"),
        RunFile("significance", "significance.parquet", "significance",
                "empirical false-alarm probability per file and term (time-scrambled null)"),
        RunFile("significance_calibration", _stage("significance", "calibration.parquet"),
                "significance", "nominal against empirical false-alarm probability per term"),
        RunFile("significance_rates", _stage("significance", "rates.parquet"), "significance",
                "expected false candidates per 1,000 sources at the threshold, per term"),
        RunFile("significance_trials", _stage("significance", "trials.parquet"),
                "significance", "the trials the software knows of, counted and named"),
        RunFile("significance_null", _stage("significance", "null.parquet"), "significance",
                "the scrambled null files' statistics and false-alarm probabilities"),
        RunFile("candidates_by_source", "candidates_by_source.parquet", "sources",
                "one row per source: detections grouped across observations, quiescent level "
                "elsewhere, archival context, likely_stellar_flare"),
        RunFile("completeness", "completeness.parquet", "completeness",
                "injection and recovery: one row per injected transient, its host, rank and "
                "whether it was recovered in the top k"),
        RunFile("completeness_plot", "completeness.png", "completeness",
                "completeness curves: fraction recovered against injected counts"),
        RunFile("report", "report.html", "report", "the self-contained HTML report"),
        RunFile("gallery", "gallery", "report", "PNG gallery per simulated class"),
        RunFile("detections", "detections.parquet", "", "burst detections (app, optional)"),
    ],
)  # fmt: skip


class RunLayout:
    """Paths of the files of the run directory ``root`` (see :data:`RUN_FILES`).

    Each :data:`RUN_FILES` key is an attribute giving the file's absolute-or-relative
    :class:`~pathlib.Path` under ``root``.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def __getattr__(self, name: str) -> Path:
        if name.startswith("_") or name not in RUN_FILES:
            raise AttributeError(f"RunLayout has no file {name!r}; files: {RUN_FILES.names()}")
        return self.root / RUN_FILES[name].path

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *RUN_FILES.names()})

    def path(self, name: str) -> Path:
        """The path of file ``name`` (UnknownNameError naming the files otherwise)."""
        return self.root / RUN_FILES[name].path

    @property
    def stages(self) -> Path:
        """The folder of the stages' manifests and private outputs."""
        return self.root / STAGES_DIR

    def stage_dir(self, stage: str) -> Path:
        """``root/stages/<stage>`` (not created)."""
        return self.root / STAGES_DIR / stage

    def manifest(self, stage: str) -> Path:
        """The manifest of ``stage`` (written last, when the stage finished)."""
        return self.stage_dir(stage) / "manifest.json"

    def notices(self, stage: str) -> Path:
        """The counted notices of ``stage``."""
        return self.stage_dir(stage) / "notices.parquet"

    def existing(self) -> dict[str, Path]:
        """The files of :data:`RUN_FILES` present under ``root``, by name."""
        return {
            f.name: self.root / f.path for f in RUN_FILES.values() if (self.root / f.path).exists()
        }

    def __repr__(self) -> str:
        return f"RunLayout({str(self.root)!r})"
