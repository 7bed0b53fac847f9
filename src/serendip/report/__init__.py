"""Results people look at: the self-contained HTML run report and PNG galleries."""

from serendip.report.gallery import pick_examples, write_class_gallery
from serendip.report.html import write_report

__all__ = ["pick_examples", "write_class_gallery", "write_report"]
