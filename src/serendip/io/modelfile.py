"""Model files without pickle: one ``.safetensors`` file holds weights and settings.

Tensors (numpy arrays) are stored with safetensors; the settings (class order,
scaler parameters, hyper-parameters, the model kind and format version) go as JSON
in the safetensors header metadata. Loading never executes code from the file:
a malformed or tampered file raises :class:`~serendip.errors.ModelFileError`.

Integrity
---------
:func:`save_model` also stores, under the metadata key ``serendip_integrity``, a JSON
object with

* ``tensors``: SHA-256 over every tensor in name order -- for each its name, dtype,
  shape and little-endian bytes (:func:`tensor_digest`);
* ``settings``: SHA-256 of the exact JSON text stored under the ``serendip`` key;
* ``manifest``: ``{name: [dtype, shape]}`` of the tensors saved.

:func:`load_model` first checks the raw bytes (safetensors layout, header JSON, tensor
offsets inside the file; a pickle or a zip archive is named as such and never
unpickled), then the manifest (missing, unexpected or reshaped tensors), then both
digests. A file without the integrity entry (saved before it existed, or by another
tool) is refused unless the caller passes ``allow_unsigned=True`` or the environment
sets ``SERENDIP_ALLOW_UNSIGNED_MODELS=1``; :func:`sign_model` adds the entry to such a
file after checking that its tensors are unchanged byte for byte.

The digests detect corruption and edits made without serendip (a changed weight, a
truncated or re-packed file); they are not a signature: someone who rewrites a file
with serendip itself can also rewrite its digests.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from serendip.errors import ModelFileError
from serendip.io.atomic import atomic_path

FORMAT_VERSION = 1
_META_KEY = "serendip"
_INTEGRITY_KEY = "serendip_integrity"
#: environment variable that, set to ``1``, lets :func:`load_model` accept unsigned files
ALLOW_UNSIGNED_ENV = "SERENDIP_ALLOW_UNSIGNED_MODELS"
#: largest safetensors header serendip reads [bytes] (the format's own limit is 100 MB)
MAX_HEADER_BYTES = 100_000_000
#: safetensors dtype code -> (numpy dtype, bytes per element); BF16/F8 are never written here
_DTYPES = {
    "F64": ("<f8", 8),
    "F32": ("<f4", 4),
    "F16": ("<f2", 2),
    "I64": ("<i8", 8),
    "I32": ("<i4", 4),
    "I16": ("<i2", 2),
    "I8": ("i1", 1),
    "U64": ("<u8", 8),
    "U32": ("<u4", 4),
    "U16": ("<u2", 2),
    "U8": ("u1", 1),
    "BOOL": ("?", 1),
}


def _canonical(arr: np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(arr)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return arr


def _dtype_name(arr: np.ndarray) -> str:
    return np.dtype(arr.dtype).newbyteorder("<").str


def tensor_digest(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 (hex) of ``arrays``: name, dtype, shape and little-endian bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        arr = _canonical(np.asarray(arrays[name]))
        h.update(json.dumps([name, _dtype_name(arr), list(arr.shape)]).encode())
        h.update(b"\0")
        h.update(arr.reshape(-1).view(np.uint8).data)  # the bytes, without a copy
    return h.hexdigest()


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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

    The file carries the integrity digests described in the module docstring.
    """
    tensors = {}
    for name, value in arrays.items():
        arr = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        if arr.dtype == object or arr.dtype.kind in "USOV":
            raise TypeError(f"array {name!r} has dtype {arr.dtype}; store strings in settings")
        tensors[name] = _canonical(arr)
    header = {"kind": kind, "format_version": FORMAT_VERSION, "settings": settings}
    text = json.dumps(header, default=_json_default)
    integrity = {
        "algorithm": "sha256",
        "tensors": tensor_digest(tensors),
        "settings": _text_digest(text),
        "manifest": {n: [_dtype_name(a), list(a.shape)] for n, a in sorted(tensors.items())},
    }
    meta = {_META_KEY: text, _INTEGRITY_KEY: json.dumps(integrity)}
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(_safetensors_bytes(tensors, meta))
    return path


def _safetensors_bytes(tensors: dict[str, np.ndarray], meta: dict[str, str]) -> bytes:
    """The safetensors encoding of ``tensors`` with ``meta``, byte-for-byte deterministic.

    The tensors are laid out by ``safetensors.numpy.save`` itself (without metadata its
    output is deterministic); the metadata is then added to the header with its keys
    sorted -- the library writes its metadata map in hash order, so the same model would
    otherwise give files that differ from run to run.
    """
    from safetensors.numpy import save

    raw = save(tensors)
    hlen = int.from_bytes(raw[:8], "little")
    entries = json.loads(raw[8 : 8 + hlen])
    entries.pop("__metadata__", None)
    header = json.dumps(
        {"__metadata__": dict(sorted(meta.items())), **entries}, separators=(",", ":")
    ).encode("utf-8")
    header += b" " * (-len(header) % 8)
    return len(header).to_bytes(8, "little") + header + raw[8 + hlen :]


# ---------------------------------------------------------------- reading
def _raw_header(path: Path, data: bytes) -> tuple[dict, dict, int]:
    """(tensor entries, metadata, data start) of safetensors ``data``; ModelFileError if malformed."""
    n = len(data)
    if n == 0:
        raise ModelFileError(path, "empty file (0 bytes), not a model")
    hlen = int.from_bytes(data[:8], "little") if n >= 8 else -1
    looks_safetensors = 0 < hlen <= min(MAX_HEADER_BYTES, n - 8) and data[8:9] == b"{"
    if (
        not looks_safetensors
        and data[:1] == b"\x80"
        and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
        and data[2:3] != b"\x00"  # a truncated safetensors header length has zeros here
    ):
        raise ModelFileError(
            path,
            "is a Python pickle, not a safetensors model; serendip never unpickles "
            "(a pickle can run code when loaded)",
        )
    if not looks_safetensors and data[:4] == b"PK\x03\x04":
        raise ModelFileError(
            path,
            "is a zip archive (torch.save / numpy .npz?), not a safetensors model; "
            "serendip never loads those (they can hold pickles)",
        )
    if n < 8:
        raise ModelFileError(path, f"too short for a safetensors file ({n} bytes): truncated")
    if hlen > MAX_HEADER_BYTES or 8 + hlen > n:
        raise ModelFileError(
            path,
            f"safetensors header length {hlen} runs past the end of the file ({n} bytes): "
            "truncated, or not a safetensors file",
        )
    try:
        header = json.loads(data[8 : 8 + hlen].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(
            path, f"safetensors header is not valid JSON (corrupted file): {exc}"
        ) from exc
    if not isinstance(header, dict):
        raise ModelFileError(path, "safetensors header is not a JSON object (corrupted file)")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise ModelFileError(path, "safetensors metadata is not a map of strings (corrupted file)")
    start = 8 + hlen
    payload = n - start
    for name, info in header.items():
        try:
            dtype, shape, (b, e) = info["dtype"], info["shape"], info["data_offsets"]
            ok = all(isinstance(s, int) and s >= 0 for s in shape)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(path, f"tensor {name!r} has a malformed header entry") from exc
        if dtype not in _DTYPES:
            raise ModelFileError(path, f"tensor {name!r} has unsupported dtype {dtype!r}")
        if not ok or not (isinstance(b, int) and isinstance(e, int) and 0 <= b <= e):
            raise ModelFileError(path, f"tensor {name!r} has a malformed shape or offsets")
        if e > payload:
            raise ModelFileError(
                path,
                f"tensor {name!r} data runs past the end of the file (needs byte {start + e}, "
                f"file has {n}): truncated",
            )
        if e - b != int(np.prod(shape, dtype=np.int64)) * _DTYPES[dtype][1]:
            raise ModelFileError(
                path, f"tensor {name!r}: shape {shape} does not match its {e - b} data bytes"
            )
    return header, meta, start


def _read_tensors(path: Path, data: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    _, meta, _ = _raw_header(path, data)
    from safetensors.numpy import load

    try:
        arrays = load(data)
    except Exception as exc:  # noqa: BLE001 - every safetensors failure is a bad model file
        raise ModelFileError(
            path, f"not a valid safetensors file: {type(exc).__name__}: {exc}"
        ) from exc
    return arrays, meta


def _check_integrity(
    path: Path, arrays: dict[str, np.ndarray], meta: dict[str, str], allow_unsigned: bool
) -> bool:
    """Verify the digests; returns False for an (allowed) unsigned file."""
    if _INTEGRITY_KEY not in meta:
        if allow_unsigned or os.environ.get(ALLOW_UNSIGNED_ENV, "") == "1":
            warnings.warn(
                f"{path}: model file has no integrity digest; loaded because unsigned files "
                "were allowed",
                stacklevel=3,
            )
            return False
        raise ModelFileError(
            path,
            "model file has no integrity digest (saved by an older serendip or another tool); "
            "if you trust it, re-save it with serendip.io.modelfile.sign_model(path), or load "
            f"it with allow_unsigned=True / {ALLOW_UNSIGNED_ENV}=1",
        )
    try:
        integ = json.loads(meta[_INTEGRITY_KEY])
        algo, want_t, want_s = integ["algorithm"], integ["tensors"], integ["settings"]
        manifest = {str(k): (str(v[0]), list(v[1])) for k, v in integ["manifest"].items()}
    except Exception as exc:  # noqa: BLE001
        raise ModelFileError(path, f"integrity entry is malformed (tampered?): {exc}") from exc
    if algo != "sha256":
        raise ModelFileError(path, f"integrity entry uses unknown algorithm {algo!r}")
    missing = sorted(set(manifest) - set(arrays))
    if missing:
        raise ModelFileError(path, f"missing tensor(s) {missing[:10]} listed in its manifest")
    extra = sorted(set(arrays) - set(manifest))
    if extra:
        raise ModelFileError(path, f"unexpected tensor(s) {extra[:10]} not in its manifest")
    for name, (dtype, shape) in manifest.items():
        arr = arrays[name]
        if list(arr.shape) != shape or _dtype_name(arr) != dtype:
            raise ModelFileError(
                path,
                f"tensor {name!r} has shape {list(arr.shape)} {_dtype_name(arr)}, "
                f"its manifest says {shape} {dtype} (shape mismatch)",
            )
    if _text_digest(meta.get(_META_KEY, "")) != want_s:
        raise ModelFileError(
            path, "settings do not match their SHA-256 digest: the file was tampered with"
        )
    if tensor_digest(arrays) != want_t:
        raise ModelFileError(
            path,
            "tensor data do not match their SHA-256 digest: the file was tampered with or corrupted",
        )
    return True


def load_model(
    path: str | Path, kind: str | None = None, *, allow_unsigned: bool = False
) -> tuple[dict[str, np.ndarray], dict[str, Any], str]:
    """Load ``(arrays, settings, kind)`` from a file written by :func:`save_model`.

    Raises :class:`ModelFileError` naming the file when it is missing, not a safetensors
    file (a pickle, a zip, random bytes), truncated, has a corrupted header, lacks
    serendip metadata, fails its integrity check (tensors or settings edited after
    saving, missing / unexpected / reshaped tensors), has another ``kind`` than
    expected, or has no integrity digest and ``allow_unsigned`` is False.
    No code from the file is ever executed.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "no such model file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(path, f"cannot be read: {exc}") from exc
    arrays, meta = _read_tensors(path, data)
    if _META_KEY not in meta:
        raise ModelFileError(
            path, "safetensors file has no serendip metadata; not a serendip model"
        )
    try:
        header = json.loads(meta[_META_KEY])
        found_kind = str(header["kind"])
        settings = header["settings"]
        version = int(header["format_version"])
    except Exception as exc:  # noqa: BLE001
        raise ModelFileError(path, f"model metadata is malformed: {exc}") from exc
    _check_integrity(path, arrays, meta, allow_unsigned)
    if version > FORMAT_VERSION:
        raise ModelFileError(
            path, f"model format version {version} is newer than this serendip ({FORMAT_VERSION})"
        )
    if kind is not None and found_kind != kind:
        raise ModelFileError(path, f"holds a {found_kind!r} model, expected {kind!r}")
    return arrays, settings, found_kind


def verify_model(path: str | Path) -> dict[str, Any]:
    """Check a model file's integrity without using it; returns kind, tensor count, digest.

    Raises :class:`ModelFileError` exactly as :func:`load_model` (unsigned files fail).
    """
    arrays, _settings, kind = load_model(path)
    return {
        "path": str(path),
        "kind": kind,
        "n_tensors": len(arrays),
        "tensors_sha256": tensor_digest(arrays),
    }


def sign_model(path: str | Path, out: str | Path | None = None) -> Path:
    """Add the integrity digests to an unsigned model file (in place, or to ``out``).

    Only for files you trust: the tensors and settings are read (never executed),
    written again with their digests to a temporary file, read back, and checked to be
    byte-identical to the originals before the temporary file replaces ``out`` (default
    ``path``); a mismatch raises :class:`ModelFileError` and leaves ``path`` as it was.
    """
    path = Path(path)
    with warnings.catch_warnings():  # signing is the explicit choice to trust the file
        warnings.simplefilter("ignore", UserWarning)
        arrays, settings, kind = load_model(path, allow_unsigned=True)
    target = Path(out) if out is not None else path
    tmp = target.with_name(target.name + ".signing")
    try:
        save_model(tmp, kind, arrays, settings)
        again, settings2, kind2 = load_model(tmp)
        same_settings = json.dumps(settings2, sort_keys=True) == json.dumps(
            settings, sort_keys=True
        )
        if tensor_digest(again) != tensor_digest(arrays) or kind2 != kind or not same_settings:
            raise ModelFileError(path, "re-saved model differs from the original (not signed)")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


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
