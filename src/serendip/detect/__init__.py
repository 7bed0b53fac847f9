"""Anomaly detectors behind one interface: higher score means more anomalous."""

from serendip.detect.base import BaseDetector

__all__ = ["BaseDetector"]
