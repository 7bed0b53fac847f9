"""``serendip explore``: a local web app over a run directory.

* :class:`~serendip.app.rundata.RunData` loads a run's tables once (embedding, clusters,
  candidates, features, event features, files, known transients, simulation truth and
  classification results) and answers per-source queries (E-t map, light curve, analogs);
* :class:`~serendip.app.labels.LabelStore` keeps the user's labels durably in SQLite;
* :func:`~serendip.app.server.create_app` is the FastAPI application (HTTP API + static page).
"""

from __future__ import annotations

from serendip.app.labels import LabelStore
from serendip.app.rundata import RunData

__all__ = ["LabelStore", "RunData", "create_app"]


def create_app(*args, **kwargs):
    """See :func:`serendip.app.server.create_app` (imported lazily: FastAPI is only needed here)."""
    from serendip.app.server import create_app as _create_app

    return _create_app(*args, **kwargs)
