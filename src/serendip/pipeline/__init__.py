"""The discovery run: ingest -> represent -> features -> embed -> cluster -> candidates -> report.

``run_pipeline(config, run_dir)`` executes the stages in order. Every stage records its
settings and a key (hash of its settings and of its inputs' keys) in
``RUN_DIR/stages/<stage>/manifest.json``; a stage whose key did not change and whose outputs
exist is not recomputed, so repeating or resuming an interrupted run redoes only what changed.
"""

from serendip.pipeline.config import DEFAULT_CONFIG, load_config
from serendip.pipeline.runner import run_pipeline

__all__ = ["DEFAULT_CONFIG", "load_config", "run_pipeline"]
