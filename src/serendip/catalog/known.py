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

Matching a list to what was ingested (:func:`match_known_transients`, used by ``serendip
run``): a known transient is found by its ``obsreg_id`` (``OBSID_REGION``, leading zeros
ignored), else by its ``name`` (against the event files' ``OBJECT``), else by its ``ra``/``dec``
against an ingested source's position (region centre, or the observation's target) with both
position errors (:mod:`serendip.catalog.posmatch`: separation at most
``max(3 sqrt(e_known**2 + e_source**2), 1 arcsec)``, and never beyond
:data:`MATCH_RADIUS_ARCSEC`; a list or files without an error column get 1 arcsec, counted in a
notice). :func:`read_known_list` keeps the rows that have only a name or
coordinates; unmatched entries are returned (the run writes ``known_unmatched.csv``) and
counted in a notice.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.notices import notice

TYPE_COLUMNS = ("type", "klass", "class", "label")
NAME_COLUMNS = ("name", "object", "src_name", "source_name")
RA_COLUMNS, DEC_COLUMNS = ("ra", "ra_deg", "raj2000"), ("dec", "dec_deg", "dej2000")
#: largest radius [arcsec] at which a known transient's coordinates may match an ingested
#: source (the match itself uses the position errors, :mod:`serendip.catalog.posmatch`)
MATCH_RADIUS_ARCSEC = 5.0
KNOWN_LIST_COLUMNS = ["obsreg_id", "name", "ra", "dec", "pos_err_arcsec", "type", "group"]


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
        msg = f"{int((~ok).sum())} of {len(df)} rows have no obsreg_id and are not used"
        notice("input", "known_without_id", msg, source=path, count=int((~ok).sum()), total=len(df))
        warnings.warn(f"{path}: {msg}", stacklevel=3)
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
        notice("input", "known_conflicting_types", f"{int(dup.sum())} obsreg_id(s) listed under two "
               "types, keeping the first", source=path, count=int(dup.sum()), total=len(df))
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


def _first(df: pd.DataFrame, names) -> str | None:
    low = {c.lower(): c for c in df.columns}
    return next((low[n] for n in names if n in low), None)


def read_known_list(path: str | Path) -> pd.DataFrame:
    """Every known transient of a file with whatever identifies it: ``obsreg_id``, ``name``,
    ``ra``, ``dec`` [deg] (NaN / "" when absent), ``type``, ``group``. Rows with none of the
    three identifiers are dropped with a notice."""
    path = Path(path)
    if path.suffix.lower() == ".json" or not path.is_file():
        df = read_known_transients(path)
        return df.assign(name="", ra=np.nan, dec=np.nan, pos_err_arcsec=np.nan)[KNOWN_LIST_COLUMNS]
    from serendip.io.tables import read_table

    df = read_table(path)
    tcol = _first(df, TYPE_COLUMNS)
    if tcol is None:
        raise InputError(path, f"no type column (one of {list(TYPE_COLUMNS)}); found {list(df.columns)[:20]}")

    def text(col):
        if col is None:
            return pd.Series([""] * len(df), index=df.index)
        return df[col].where(df[col].notna(), "").astype(str).str.strip().str.removesuffix(".0")

    oid, name = text(_first(df, ("obsreg_id",))), text(_first(df, NAME_COLUMNS))
    rac, decc = _first(df, RA_COLUMNS), _first(df, DEC_COLUMNS)
    ra = pd.to_numeric(df[rac], errors="coerce") if rac else pd.Series(np.nan, index=df.index)
    dec = pd.to_numeric(df[decc], errors="coerce") if decc else pd.Series(np.nan, index=df.index)
    ok = (oid != "") | (name != "") | (ra.notna() & dec.notna())
    if (~ok).any():
        notice("input", "known_unidentified", f"{int((~ok).sum())} of {len(df)} known transients "
               "have no obsreg_id, name or coordinates and are not used", source=path,
               count=int((~ok).sum()), total=len(df))
    group = df[tcol].where(df[tcol].notna(), "unknown").astype(str)
    from serendip.catalog.posmatch import ERROR_COLUMNS

    low = {c.lower(): c for c in df.columns}
    ecol = next((c for c in ERROR_COLUMNS if c in low), None)
    err = (pd.to_numeric(df[low[ecol]], errors="coerce") * ERROR_COLUMNS[ecol] if ecol
           else pd.Series(np.nan, index=df.index))
    out = pd.DataFrame({"obsreg_id": oid, "name": name, "ra": ra, "dec": dec,
                        "pos_err_arcsec": err, "type": [normalise_type(g) for g in group],
                        "group": group})[ok]
    if not len(out):
        raise InputError(path, "lists no known transients")
    return out.reset_index(drop=True)


def _norm_id(ids) -> np.ndarray:
    """``"23022_0122" -> "23022_122"`` (leading zeros of each numeric part ignored)."""
    s = pd.Series(np.asarray(ids, dtype=object)).astype(str).str.strip()
    return s.str.replace(r"(?<![0-9])0+(?=[0-9])", "", regex=True).to_numpy()


def _norm_name(names) -> np.ndarray:
    return pd.Series(np.asarray(names, dtype=object)).astype(str).str.lower().str.replace(
        r"[\s_\-]+", "", regex=True).to_numpy()


def match_known_transients(
    known: pd.DataFrame, files: pd.DataFrame, radius_arcsec: float = MATCH_RADIUS_ARCSEC,
    source: str = "known transients",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Match a :func:`read_known_list` table to ingested sources (``files``: obsreg_id, object,
    ra, dec, optional position errors). Positions match with both 1-sigma errors
    (:func:`serendip.catalog.posmatch.match_nearest`), never beyond ``radius_arcsec``. Returns ``(matched, unmatched)``: matched has the ingested ``obsreg_id``, ``type``,
    ``group``, ``known_id`` (the list's id or name), ``match`` (``obsreg_id``, ``name`` or
    ``position``) and ``sep_arcsec``; unmatched is the list's unmatched rows. A notice counts
    the unmatched ones."""
    ids = files["obsreg_id"].astype(str).to_numpy()
    by_id = dict(zip(_norm_id(ids), ids, strict=True))
    rows, done = [], np.zeros(len(known), bool)
    kid = _norm_id(known["obsreg_id"])
    for i, k in enumerate(kid):
        if known["obsreg_id"].iloc[i] and k in by_id:
            rows.append((by_id[k], i, "obsreg_id", 0.0))
            done[i] = True
    if "object" in files.columns:
        objects = _norm_name(files["object"])
        for i, nm in enumerate(_norm_name(known["name"])):
            if not done[i] and known["name"].iloc[i]:
                hit = np.flatnonzero(objects == nm)
                rows.extend((ids[j], i, "name", np.nan) for j in hit)
                done[i] = len(hit) > 0
    kra, kdec = known["ra"].to_numpy(float), known["dec"].to_numpy(float)
    fra = files["ra"].to_numpy(float) if "ra" in files.columns else np.full(len(files), np.nan)
    fdec = files["dec"].to_numpy(float) if "dec" in files.columns else np.full(len(files), np.nan)
    want = ~done & np.isfinite(kra) & np.isfinite(kdec)
    have = np.isfinite(fra) & np.isfinite(fdec)
    if want.any() and have.any():
        from serendip.catalog.posmatch import match_nearest, position_errors

        kerr = position_errors(known.loc[want], f"{source} (known transients)", stage="input")
        ferr = position_errors(files.loc[have], "ingested sources", stage="input")
        j, sep, _ = match_nearest(kra[want], kdec[want], kerr, fra[have], fdec[have], ferr,
                                  max_radius=radius_arcsec)
        for i, jj, d in zip(np.flatnonzero(want), j, sep, strict=True):
            if jj >= 0:
                rows.append((ids[have][jj], i, "position", float(d)))
                done[i] = True
    ref = np.where(known["obsreg_id"].astype(str) != "", known["obsreg_id"].astype(str), known["name"].astype(str))
    matched = pd.DataFrame(
        [(oid, known["type"].iloc[i], known["group"].iloc[i], ref[i], how, d) for oid, i, how, d in rows],
        columns=["obsreg_id", "type", "group", "known_id", "match", "sep_arcsec"],
    ).drop_duplicates("obsreg_id", keep="first").reset_index(drop=True)
    unmatched = known[~done].reset_index(drop=True)
    if len(unmatched):
        notice("input", "known_unmatched", f"{len(unmatched)} of {len(known)} known transients match "
               f"no ingested source (by obsreg_id, name, or position within their errors, at most "
               f"{radius_arcsec:g} arcsec); "
               "listed in known_unmatched.csv", source=source, count=len(unmatched), total=len(known))
    return matched, unmatched
