"""One call for any representation, and its file on disk.

``represent(events, kind, **options)`` returns a :class:`Representation` (kind, data,
obsreg_id order, settings). Arrays are saved as ``.npz`` holding ``data``, ``obsreg_id``
(unicode array) and ``settings`` (a JSON string), read back without pickle; sparse cubes
(:class:`~serendip.represent.sparse.SparseCubes`) as ``data``, ``indices``, ``indptr`` and
``cube_shape`` in place of the dense ``data`` (about 4 bytes per non-zero cell); feature
tables are saved as Parquet with the settings in the file's metadata.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.atomic import atomic_path
from serendip.io.eventset import EventSet
from serendip.represent.sparse import SparseCubes

KINDS = ("et", "etdt", "dedt", "features")
_META_KEY = b"serendip_representation"


@dataclass
class Representation:
    """A representation of many files.

    ``data``: (n_files, ...) float32 array for et / dedt (and dense etdt), a
    :class:`~serendip.represent.sparse.SparseCubes` for etdt, or a DataFrame (one row per
    file, ``obsreg_id`` first) for features; ``obsreg_id``: (n_files,) ids in row order;
    ``settings``: the options that made it (JSON-serialisable).
    """

    kind: str
    data: np.ndarray | pd.DataFrame
    obsreg_id: np.ndarray
    settings: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.obsreg_id)


def represent(
    events: EventSet,
    kind: str,
    *,
    files: pd.DataFrame | None = None,
    gtis: pd.DataFrame | None = None,
    **options: Any,
) -> Representation:
    """Compute representation ``kind`` ('et', 'etdt', 'dedt' or 'features') of every file.

    ``options`` go to :func:`et_maps`, :func:`etdt_cubes`, :func:`dedt_maps` (``files`` to
    ``et_maps`` and ``event_features``; ``gtis``, ingest's good-time intervals, to
    ``event_features``).
    """
    from serendip.represent.dedt import dedt_maps
    from serendip.represent.features import event_features
    from serendip.represent.maps import et_maps, etdt_cubes

    if kind not in KINDS:
        raise InputError(None, f"unknown representation kind {kind!r}; use one of {list(KINDS)}")
    try:
        if kind == "et":
            data = et_maps(events, files=files, **options)
        elif kind == "etdt":
            data = etdt_cubes(events, **options)
        elif kind == "dedt":
            data = dedt_maps(events, **options)
        else:
            if options:
                raise InputError(None, f"features take no options, got {sorted(options)}")
            data = event_features(events, files=files, gtis=gtis)
    except TypeError as exc:  # unknown option names
        raise InputError(None, f"bad option for kind {kind!r}: {exc}") from exc
    settings = {k: v for k, v in options.items() if k not in ("out", "progress")}
    settings = json.loads(
        json.dumps(settings, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
    )
    return Representation(kind, data, np.asarray(events.obsreg_id, dtype=object), settings)


def default_filename(rep: Representation) -> str:
    """``<kind>_<bins>_norm<True|False>.npz`` (or ``features.parquet``), as the reference names its outputs."""
    if rep.kind == "features":
        return "features.parquet"
    shape = "-".join(str(s) for s in np.shape(rep.data)[1:])
    extra = ""
    if rep.settings.get("time_mode") == "absolute":
        extra = "_abs"
    if rep.settings.get("dt_mode") == "log":
        extra = "_logdt"
    return f"{rep.kind}_{shape}{extra}_norm{bool(rep.settings.get('normalize', False))}.npz"


def save_representation(rep: Representation, path: str | Path) -> Path:
    """Write ``rep`` to ``path`` atomically (.npz for arrays, .parquet for features)."""
    path = Path(path)
    header = json.dumps({"kind": rep.kind, "settings": rep.settings})
    if rep.kind == "features":
        import pyarrow as pa
        import pyarrow.parquet as pq

        if path.suffix.lower() not in (".parquet", ".pq"):
            raise InputError(path, "feature tables are saved as Parquet (.parquet)")
        table = pa.Table.from_pandas(rep.data, preserve_index=False)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), _META_KEY: header.encode()}
        )
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
        return path
    if path.suffix.lower() != ".npz":
        raise InputError(path, "array representations are saved as .npz")
    ids = np.asarray(rep.obsreg_id).astype(str)
    arrays = (
        rep.data.to_arrays() if isinstance(rep.data, SparseCubes) else {"data": np.asarray(rep.data)}
    )
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays, obsreg_id=ids, settings=np.array(header))
    return path


def load_representation(path: str | Path) -> Representation:
    """Read a file written by :func:`save_representation` (no pickle)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such representation file")
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as exc:  # noqa: BLE001
            raise InputError(path, f"cannot be read as Parquet: {exc}") from exc
        meta = (table.schema.metadata or {}).get(_META_KEY)
        if meta is None:
            raise InputError(path, "Parquet file has no serendip representation metadata")
        header = json.loads(meta)
        df = table.to_pandas()
        return Representation(
            header["kind"], df, df["obsreg_id"].to_numpy(dtype=object), header["settings"]
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            data = SparseCubes.from_arrays(z) if "indptr" in z.files else z["data"]
            ids = z["obsreg_id"].astype(object)
            header = json.loads(str(z["settings"]))
    except KeyError as exc:
        raise InputError(path, f"not a serendip representation file (missing {exc})") from exc
    except Exception as exc:  # noqa: BLE001
        raise InputError(path, f"cannot be read as .npz: {type(exc).__name__}: {exc}") from exc
    if len(ids) != len(data):
        raise InputError(path, f"{len(ids)} obsreg_id values for {len(data)} rows")
    return Representation(header["kind"], data, ids, header["settings"])
