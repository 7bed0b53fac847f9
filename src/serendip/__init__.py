"""serendip: systematic serendipitous discovery in X-ray and time-domain astronomy.

Data flow one way, one subpackage per stage::

    io -> represent -> features -> embed / cluster / detect -> catalog / classify -> report / app
                                         evaluate measures any detector
                                         simulate makes labelled synthetic data
                                         pipeline and scale orchestrate; cli is a thin shell

Everything the command line does is a documented function here. The whole demo in a notebook::

    import serendip
    pop = serendip.simulate_population(2000, seed=0)                # events + truth
    table = serendip.event_features(pop.events, pop.files)          # per-file statistics
    feats = serendip.extract_features("events", events=pop.events, event_table=table)
    xy = serendip.TSNEEmbedder(random_state=0).fit_transform(feats.features)
    clusters = serendip.cluster_embedding(xy, "dbscan", eps=2.5, min_samples=25)
    scores = serendip.IForest(random_state=0).fit(feats.features).score_samples(feats.features)
    cands = serendip.rank_features(pop.events.obsreg_id, feats.features, table,
                                   clusters=clusters, embedding=xy)

or, as one configured, resumable run whose tables are attributes::

    run = serendip.run({"input": {"n_sources": 2000}}, out="runs/nb")
    run.candidates.head()
    serendip.Run.open("runs/nb")                                  # a finished run, later

Names are imported on first use (PEP 562), so ``import serendip`` stays fast.
"""

from __future__ import annotations

from importlib import import_module

from serendip.errors import ConfigError as ConfigError
from serendip.errors import InputError as InputError
from serendip.errors import SerendipError as SerendipError

__version__ = "0.1.0"
__citation__ = (
    "serendip: systematic serendipitous discovery in X-ray and time-domain astronomy "
    f"(version {__version__})"
)

#: public name -> (module, attribute in it; None for the module itself)
_LAZY: dict[str, tuple[str, str | None]] = {
    # reading
    "read_events": ("serendip.io.eventfile", "read_event_file"),
    "ingest": ("serendip.io.ingest", "ingest"),
    "read_lightcurves": ("serendip.io.lightcurves", "read_lightcurves"),
    "read_regions": ("serendip.io.regions", "read_region_file"),
    "read_source_list": ("serendip.io.sourcelists", "read_source_list"),
    "read_table": ("serendip.io.tables", "read_table"),
    "write_table": ("serendip.io.tables", "write_table"),
    "EventSet": ("serendip.io.eventset", "EventSet"),
    "MISSIONS": ("serendip.io.missions", "MISSIONS"),
    # representations
    "et_maps": ("serendip.represent.maps", "et_maps"),
    "etdt_cubes": ("serendip.represent.maps", "etdt_cubes"),
    "dedt_maps": ("serendip.represent.dedt", "dedt_maps"),
    "event_features": ("serendip.represent.features", "event_features"),
    "et_map": ("serendip.represent.single", "et_map"),
    "etdt_cube": ("serendip.represent.single", "etdt_cube"),
    "dedt_map": ("serendip.represent.single", "dedt_map"),
    "lightcurve_features": ("serendip.represent.lc_features", "lightcurve_features"),
    # features
    "FEATURE_CASES": ("serendip.features.registry", "FEATURE_CASES"),
    "extract_features": ("serendip.features.extract", "extract_features"),
    # embedders and clusterers
    "TSNEEmbedder": ("serendip.embed", "TSNEEmbedder"),
    "UMAPEmbedder": ("serendip.embed", "UMAPEmbedder"),
    "load_embedder": ("serendip.embed", "load_embedder"),
    "cluster_embedding": ("serendip.cluster", "cluster_embedding"),
    "cluster_summary": ("serendip.cluster", "cluster_summary"),
    # detectors
    "DETECTORS": ("serendip.detect.registry", "DETECTORS"),
    "make_detector": ("serendip.detect.registry", "make_detector"),
    "load_detector": ("serendip.detect.registry", "load_detector"),
    "IForest": ("serendip.detect.isolation", "IForest"),
    "OCSVM": ("serendip.detect.ocsvm", "OCSVM"),
    "KNN": ("serendip.detect.neighbours", "KNN"),
    "LOF": ("serendip.detect.neighbours", "LOF"),
    "Mahalanobis": ("serendip.detect.gauss", "Mahalanobis"),
    "Autoencoder": ("serendip.detect.autoencoder", "Autoencoder"),
    "VAE": ("serendip.detect.autoencoder", "VAE"),
    "DeepSVDD": ("serendip.detect.svdd", "DeepSVDD"),
    "MultiClassDeepSVDD": ("serendip.detect.svdd", "MultiClassDeepSVDD"),
    "MCIF": ("serendip.detect.mcif", "MCIF"),
    "ClassifierLatentDetector": ("serendip.detect.latent", "ClassifierLatentDetector"),
    "HierarchicalRouter": ("serendip.detect.router", "HierarchicalRouter"),
    "train_detector": ("serendip.detect.scoring", "train_detector"),
    "score_table": ("serendip.detect.scoring", "score_table"),
    # candidate ranking
    "anomaly_scores": ("serendip.catalog.anomaly", "anomaly_scores"),
    "build_candidates": ("serendip.catalog.candidates", "build_candidates"),
    "rank_features": ("serendip.pipeline.ranking", "rank_features"),
    "rank_files": ("serendip.pipeline.ranking", "rank_files"),
    # classification, evaluation, simulation (the packages are callable too)
    "classify": ("serendip.classify", None),
    "evaluate": ("serendip.evaluate", None),
    "simulate": ("serendip.simulate", None),
    "simulate_population": ("serendip.simulate.population", "simulate_population"),
    "leave_one_subclass_out": ("serendip.evaluate.protocol", "leave_one_subclass_out"),
    # the discovery run
    "run": ("serendip.pipeline.run", "run"),
    "Run": ("serendip.pipeline.run", "Run"),
    "load_config": ("serendip.pipeline.config", "load_config"),
    "DEFAULT_CONFIG": ("serendip.pipeline.config", "DEFAULT_CONFIG"),
    "RunLayout": ("serendip.layout", "RunLayout"),
    "write_report": ("serendip.report.html", "write_report"),
    # notices
    "NoticeLog": ("serendip.notices", "NoticeLog"),
}


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        mod = import_module(module)
        value = mod if attr is None else getattr(mod, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'serendip' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = sorted(
    [*_LAZY, "ConfigError", "InputError", "SerendipError", "__version__"]
)
