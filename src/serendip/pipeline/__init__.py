"""The discovery run: ingest -> represent -> features -> embed -> cluster -> candidates -> report.

``run_pipeline(config, run_dir)`` executes the stages in order. Every stage records its
settings and a key (hash of its settings and of its inputs' keys) in
``RUN_DIR/stages/<stage>/manifest.json``; a stage whose key did not change and whose outputs
exist is not recomputed, so repeating or resuming an interrupted run redoes only what changed.

Names are imported on first use (PEP 562): reading and validating a configuration
(:mod:`serendip.pipeline.config`) does not import the stages' numerical libraries.
"""

from serendip.lazy import lazy_exports

_WHERE = {
    "DEFAULT_CONFIG": "config",
    "RunConfig": "config",
    "load_config": "config",
    "validate_config": "config",
    "dump_config": "config",
    "config_reference": "config",
    "run_pipeline": "runner",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())


__all__ = [
    "DEFAULT_CONFIG",
    "RunConfig",
    "config_reference",
    "dump_config",
    "load_config",
    "run_pipeline",
    "validate_config",
]
