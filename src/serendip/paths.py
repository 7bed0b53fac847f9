"""Where serendip finds optional real data and its shipped models.

Real observations are never copied into the project; they are read by path.
The folder defaults to ``../shared/data/real`` (relative to the working directory,
then to the source checkout) and can be set with ``SERENDIP_REAL_DATA``.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_REAL_DATA = "SERENDIP_REAL_DATA"
_PACKAGE_DIR = Path(__file__).resolve().parent


def real_data_dir() -> Path | None:
    """The folder of real data, or ``None`` when it is absent (a user's machine)."""
    env = os.environ.get(ENV_REAL_DATA)
    if env:  # an explicit setting wins, also when it names a missing folder (no real data)
        return Path(env).resolve() if Path(env).is_dir() else None
    candidates = [
        Path.cwd() / ".." / "shared" / "data" / "real",
        _PACKAGE_DIR.parents[2] / "shared" / "data" / "real",  # src/serendip -> repo/..
    ]
    for c in candidates:
        if c.is_dir():
            return c.resolve()
    return None


def models_dir() -> Path:
    """Folder of models shipped inside the package (safetensors/npz + JSON)."""
    return _PACKAGE_DIR / "models"
