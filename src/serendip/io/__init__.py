"""Input and output: event files, catalogues, light curves, tables on disk."""

from serendip.io.eventfile import EventFile, read_event_file
from serendip.io.eventset import EventSet
from serendip.io.ingest import IngestResult, ingest, write_ingest
from serendip.io.regions import CircleRegion, extract_regions
from serendip.io.tables import read_table, write_table

__all__ = [
    "CircleRegion",
    "EventFile",
    "EventSet",
    "IngestResult",
    "extract_regions",
    "ingest",
    "read_event_file",
    "read_table",
    "write_ingest",
    "write_table",
]
