"""Model files without pickle: one ``.safetensors`` file holds weights and settings.

Tensors (numpy arrays) are stored with safetensors; the settings (class order,
scaler parameters, hyper-parameters, the model kind and format version) go as JSON
in the safetensors header metadata. Loading never executes code from the file:
a malformed or tampered file raises :class:`~serendip.errors.ModelFileError`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from serendip.errors import ModelFileError
from serendip.io.atomic import atomic_path

FORMAT_VERSION = 1
_META_KEY = "serendip"


def save_model(
    path: str | Path, kind: str, arrays: dict[str, np.ndarray], settings: dict[str, Any]
) -> Path:
    """Save ``arrays`` and JSON-serialisable ``settings`` for a model of ``kind``.

    Parameters
    ----------
    path : file to write (``.safetensors`` recommended); written atomically.
    kind : the model class identifier, checked again on load (e.g. ``"detect.IForest"``).
    arrays : name -> numpy array (any numeric dtype); torch tensors are converted.
    settings : JSON-serialisable dict (lists, numbers, strings, nested dicts).
    """
    from safetensors.numpy import save_file

    tensors = {}
    for name, value in arrays.items():
        arr = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        if arr.dtype == object or arr.dtype.kind in "USO":
            raise TypeError(f"array {name!r} has dtype {arr.dtype}; store strings in settings")
        tensors[name] = np.ascontiguousarray(arr)
    header = {"kind": kind, "format_version": FORMAT_VERSION, "settings": settings}
    meta = {_META_KEY: json.dumps(header, default=_json_default)}
    path = Path(path)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    return path


def load_model(
    path: str | Path, kind: str | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any], str]:
    """Load ``(arrays, settings, kind)`` from a file written by :func:`save_model`.

    Raises :class:`ModelFileError` when the file is missing, not a safetensors file,
    lacks serendip metadata, has another ``kind`` than expected, or is truncated.
    """
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "no such model file")
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open API
    except Exception as exc:  # noqa: BLE001
        raise ModelFileError(path, f"not a valid serendip model file (safetensors): {exc}") from exc
    if _META_KEY not in meta:
        raise ModelFileError(
            path, "safetensors file has no serendip metadata; not a serendip model"
        )
    try:
        header = json.loads(meta[_META_KEY])
        found_kind = header["kind"]
        settings = header["settings"]
        version = int(header["format_version"])
    except Exception as exc:  # noqa: BLE001
        raise ModelFileError(path, f"model metadata is malformed: {exc}") from exc
    if version > FORMAT_VERSION:
        raise ModelFileError(
            path, f"model format version {version} is newer than this serendip ({FORMAT_VERSION})"
        )
    if kind is not None and found_kind != kind:
        raise ModelFileError(path, f"holds a {found_kind!r} model, expected {kind!r}")
    return arrays, settings, found_kind


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")
