"""Input and output: event files, catalogues, light curves, tables on disk."""

from serendip.io.eventfile import EventFile, extract_regions, read_event_file
from serendip.io.eventset import EventSet
from serendip.io.ingest import IngestResult, ingest, write_ingest
from serendip.io.regions import CircleRegion, SourceRegion, read_region_file
from serendip.io.sourcelists import SourceList, read_source_list
from serendip.io.tables import read_table, write_table

__all__ = [
    "CircleRegion",
    "EventFile",
    "EventSet",
    "IngestResult",
    "SourceList",
    "SourceRegion",
    "extract_regions",
    "ingest",
    "read_event_file",
    "read_region_file",
    "read_source_list",
    "read_table",
    "write_ingest",
    "write_table",
]
