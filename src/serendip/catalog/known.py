"""Known transients supplied by the user: JSON (reference layout) or a table (CSV, ...).

Accepted layouts
----------------
* The reference pipeline's ``bonafide_transients.json``: an object whose keys name a
  type and whose values are lists of obsreg_id, e.g.
  ``{"Known Flares": ["10996_5", ...], "Known Dips": [...], "Others": [...]}``.
  Keys are turned into short types: ``"Known Flares" -> "flare"``, ``"Known Dips" ->
  "dip"``, ``"Others" -> "other"`` (lower case, leading "known " and a plural "s"
  dropped); the original key is kept in column ``group``.
* A JSON object mapping obsreg_id -> type (``{"10996_5": "flare"}``).
* A table (CSV, Parquet, FITS, VOTable) with column ``obsreg_id`` and a type column
  named ``type`` (or ``klass``, ``class``, ``label``). Rows without an obsreg_id are
  dropped with a warning that says how many.

The same obsreg_id listed twice under one type is kept once; an obsreg_id listed under
two different types keeps the first and warns.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import InputError

TYPE_COLUMNS = ("type", "klass", "class", "label")


def normalise_type(name: str) -> str:
    """``"Known Flares" -> "flare"``, ``"Others" -> "other"``, ``"dip (bona fide)" -> "dip"``."""
    t = re.sub(r"\([^)]*\)", " ", str(name))  # "dip (bona fide)" -> "dip"
    t = " ".join(t.strip().lower().replace("_", " ").split())
    if t.startswith("known "):
        t = t[len("known ") :]
    if len(t) > 3 and t.endswith("s") and not t.endswith("ss"):
        t = t[:-1]
    return t.replace(" ", "_")


def read_known_transients(path: str | Path) -> pd.DataFrame:
    """Read known transients -> DataFrame(``obsreg_id`` str, ``type`` str, ``group`` str).

    Raises :class:`InputError` naming the file for a missing, unreadable, empty or
    malformed file (wrong JSON structure, no obsreg_id / type column, non-string ids).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file (known transients)")
    if path.is_dir():
        raise InputError(path, "is a folder, not a known-transients file")
    if path.suffix.lower() == ".json":
        df = _from_json(path)
    else:
        df = _from_table(path)
    return _clean(df, path)


def _from_json(path: Path) -> pd.DataFrame:
    try:
        data = json.loads(path.read_text())
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not a text JSON file: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(
            path, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from exc
    if not isinstance(data, dict) or not data:
        raise InputError(
            path,
            'expected a JSON object such as {"Known Flares": [obsreg_id, ...]}, got '
            + type(data).__name__,
        )
    ids: list[str] = []
    groups: list[str] = []
    for key, value in data.items():
        if isinstance(value, list):
            for item in value:
                if not isinstance(item, (str, int)) or isinstance(item, bool):
                    raise InputError(
                        path, f"entry {item!r} under {key!r} is not an obsreg_id (string)"
                    )
                ids.append(str(item))
                groups.append(str(key))
        elif isinstance(value, str):  # obsreg_id -> type mapping
            ids.append(str(key))
            groups.append(value)
        else:
            raise InputError(
                path,
                f"value of {key!r} must be a list of obsreg_id (or a type string), got {type(value).__name__}",
            )
    return pd.DataFrame({"obsreg_id": ids, "group": groups})


def _from_table(path: Path) -> pd.DataFrame:
    from serendip.io.tables import read_table

    df = read_table(path)
    if "obsreg_id" not in df.columns:
        raise InputError(path, f"no obsreg_id column; found {list(df.columns)[:20]}")
    tcol = next((c for c in TYPE_COLUMNS if c in df.columns), None)
    if tcol is None:
        raise InputError(
            path, f"no type column (one of {list(TYPE_COLUMNS)}); found {list(df.columns)[:20]}"
        )
    ids = df["obsreg_id"]
    ok = ids.notna() & (ids.astype(str).str.strip() != "")
    if (~ok).any():
        warnings.warn(
            f"{path}: {int((~ok).sum())} of {len(df)} rows have no obsreg_id and are not used",
            stacklevel=3,
        )
    df = df.loc[ok]
    types = df[tcol].where(df[tcol].notna(), "unknown").astype(str)
    ids = df["obsreg_id"].astype(str)
    return pd.DataFrame({"obsreg_id": ids.to_numpy(), "group": types.to_numpy()})


def _clean(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    df = df.assign(
        obsreg_id=df["obsreg_id"].astype(str).str.strip(), group=df["group"].astype(str).str.strip()
    )
    df = df[df["obsreg_id"] != ""]
    if len(df) == 0:
        raise InputError(path, "lists no known transients")
    df["type"] = [normalise_type(g) for g in df["group"]]
    df = df.drop_duplicates(["obsreg_id", "type"])
    dup = df["obsreg_id"].duplicated(keep="first")
    if dup.any():
        warnings.warn(
            f"{path}: {int(dup.sum())} obsreg_id(s) listed under two types, keeping the first "
            f"(e.g. {df.loc[dup, 'obsreg_id'].iloc[0]!r})",
            stacklevel=3,
        )
        df = df[~dup]
    return df[["obsreg_id", "type", "group"]].reset_index(drop=True).astype({"obsreg_id": object})


def known_type_counts(known: pd.DataFrame) -> dict[str, int]:
    """Number of known transients per type."""
    vals, counts = np.unique(known["type"].astype(str), return_counts=True)
    return dict(zip(vals.tolist(), counts.tolist(), strict=True))
