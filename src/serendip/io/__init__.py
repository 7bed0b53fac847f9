"""Input and output: event files, catalogues, light curves, tables on disk."""

from serendip.io.eventset import EventSet
from serendip.io.tables import read_table, write_table

__all__ = ["EventSet", "read_table", "write_table"]
