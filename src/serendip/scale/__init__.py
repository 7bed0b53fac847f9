"""Survey-scale execution: checkpointed chunk maps, in process or on a Dask cluster.

* :func:`get_client` - "none" (in process), "local" (LocalCluster) or a scheduler address;
* :func:`map_chunks` / :func:`merge_chunks` - checkpointed, resumable chunk map and ordered merge;
* :func:`run_batch` - ingest -> represent -> features -> anomaly scores over many files;
* :func:`classify_table` - a CSC classifier applied to a big table in row chunks;
* :func:`ingest_chunked`, :func:`represent_chunked`, :func:`detect_chunked` - the single-stage
  verbs (``serendip ingest / represent / detect --scheduler``) in chunks, equal to in process;
* :func:`write_simulated_tiles` - eROSITA-like simulated event tiles (tests, benchmarks).
"""

from serendip.scale.batch import BatchResult, BatchSettings, discover_inputs, run_batch
from serendip.scale.chunks import Chunk, ChunkReport, chunk_key, map_chunks, merge_chunks
from serendip.scale.classify import classify_table
from serendip.scale.client import get_client, parse_scheduler
from serendip.scale.tiles import write_simulated_tiles
from serendip.scale.verbs import detect_chunked, ingest_chunked, represent_chunked

__all__ = [
    "BatchResult",
    "BatchSettings",
    "Chunk",
    "ChunkReport",
    "chunk_key",
    "classify_table",
    "detect_chunked",
    "discover_inputs",
    "get_client",
    "ingest_chunked",
    "map_chunks",
    "merge_chunks",
    "parse_scheduler",
    "represent_chunked",
    "run_batch",
    "write_simulated_tiles",
]
