"""Chandra Source Catalog 2.1 through TAP (pyvo): an ADQL builder and a cached client.

``CscQuery`` builds the ADQL for detection-level properties (one row per detection:
``observation_source`` joined through the stack tables to ``master_source``), with the
cuts as options. ``run_tap`` sends ADQL to a TAP service's sync endpoint with pyvo and
caches the result as Parquet keyed by (service URL, ADQL), so a re-run works offline.
Every failure (service error, timeout, malformed answer, empty result) raises
:class:`~serendip.errors.InputError` naming the service and the problem.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.tables import read_table, write_table

CSC21_TAP_URL = "https://cda.cfa.harvard.edu/csc21tap"
"""Default CSC 2.1 TAP endpoint (change with ``url=`` / config ``tap.url``)."""

MASTER_COLUMNS = ["name", "ra", "dec", "significance", "likelihood"]
"""``master_source`` columns: CSC name, position [deg], source significance, likelihood."""

DETECTION_COLUMNS = [
    "obsid",
    "obi",
    "region_id",
    "theta",
    "flux_significance_b",
    "flux_aper_b",
    "flux_aper_s",
    "flux_aper_m",
    "flux_aper_h",
    "hard_hm",
    "hard_hs",
    "hard_ms",
    "powlaw_gamma",
    "bb_kt",
    "var_prob_b",
    "var_sigma_b",
    "var_mean_b",
    "var_min_b",
    "var_max_b",
    "var_prob_h",
    "var_sigma_h",
    "var_mean_h",
    "var_min_h",
    "var_max_h",
    "var_prob_s",
    "var_sigma_s",
    "var_mean_s",
    "var_min_s",
    "var_max_s",
    "gti_start",
    "gti_stop",
]
"""``observation_source`` (per-detection) columns: fluxes [erg cm^-2 s^-1], hardness
ratios, spectral fits (photon index, blackbody kT [keV]), variability statistics per band,
good-time interval [s]."""

_SAFE_COLUMN = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def _check_column(name: str) -> str:
    if not name or not set(name.lower()) <= _SAFE_COLUMN:
        raise InputError("ADQL", f"column name {name!r} is not a plain identifier")
    return name


@dataclass
class CscQuery:
    """Detection-level CSC query; ``adql()`` returns the text sent to the service.

    Parameters
    ----------
    master_columns, detection_columns : columns of master_source (m) and observation_source (o).
    min_flux_significance_b : keep detections with o.flux_significance_b above this (None: no cut).
    not_null : observation_source columns that must be present (UMLCAXS: powlaw_gamma, bb_kt).
    cone : (ra_deg, dec_deg, radius_arcmin) to restrict the sky area, or None for all sky.
    names : restrict to these CSC source names (e.g. "2CXO J004231.1+411621").
    obsids : restrict to these ObsIDs.
    where : further ADQL conditions, ANDed verbatim.
    top : maximum number of rows (ADQL TOP), or None.
    schema : table-name prefix, e.g. "csc21." ("" for services that expose bare names).
    """

    master_columns: list[str] = field(default_factory=lambda: list(MASTER_COLUMNS))
    detection_columns: list[str] = field(default_factory=lambda: list(DETECTION_COLUMNS))
    min_flux_significance_b: float | None = 5.0
    not_null: list[str] = field(default_factory=lambda: ["powlaw_gamma", "bb_kt"])
    cone: tuple[float, float, float] | None = None
    names: list[str] | None = None
    obsids: list[int] | None = None
    where: list[str] = field(default_factory=list)
    top: int | None = None
    schema: str = ""

    def conditions(self) -> list[str]:
        """The ADQL WHERE conditions of the query, one string each."""
        c = []
        if self.min_flux_significance_b is not None:
            c.append(f"o.flux_significance_b > {float(self.min_flux_significance_b):g}")
        c += [f"o.{_check_column(n)} IS NOT NULL" for n in self.not_null]
        if self.cone is not None:
            ra, dec, r = (float(v) for v in self.cone)
            if not (0 <= ra < 360 and -90 <= dec <= 90 and r > 0):
                raise InputError(
                    "ADQL",
                    f"cone {self.cone} is not (ra in [0,360), dec in [-90,90], radius > 0 arcmin)",
                )
            c.append(
                f"CONTAINS(POINT('ICRS', m.ra, m.dec), CIRCLE('ICRS', {ra:.7f}, {dec:.7f}, {r / 60.0:.7f})) = 1"
            )
        if self.names:
            quoted = ", ".join("'" + str(n).replace("'", "''") + "'" for n in self.names)
            c.append(f"m.name IN ({quoted})")
        if self.obsids:
            c.append(f"o.obsid IN ({', '.join(str(int(v)) for v in self.obsids)})")
        c += [f"({w})" for w in self.where]
        return c

    def adql(self) -> str:
        """The full ADQL query text."""
        s = self.schema
        cols = [f"m.{_check_column(c)}" for c in self.master_columns] + [
            f"o.{_check_column(c)}" for c in self.detection_columns
        ]
        top = f"TOP {int(self.top)} " if self.top else ""
        joins = [
            "m.name = a.name",
            "s.detect_stack_id = a.detect_stack_id AND s.region_id = a.region_id",
            "s.detect_stack_id = b.detect_stack_id AND s.region_id = b.region_id",
            "o.obsid = b.obsid AND o.obi = b.obi AND o.region_id = b.region_id",
        ]
        where = " AND ".join(f"({c})" for c in self.conditions() + joins)
        return (
            f"SELECT DISTINCT {top}{', '.join(cols)} "
            f"FROM {s}master_source AS m, {s}master_stack_assoc AS a, {s}observation_source AS o, "
            f"{s}stack_observation_assoc AS b, {s}stack_source AS s "
            f"WHERE {where} ORDER BY m.name ASC, o.obsid ASC"
        )


def cache_key(url: str, adql: str) -> str:
    """Hex key of a query: sha256 of the service URL and the whitespace-normalised ADQL."""
    text = url.rstrip("/") + "\n" + " ".join(adql.split())
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _session(timeout_s: float):
    import requests

    class _TimeoutSession(requests.Session):
        def request(self, *args, **kwargs):
            kwargs.setdefault("timeout", timeout_s)
            return super().request(*args, **kwargs)

    sess = _TimeoutSession()
    sess.headers["User-Agent"] = "serendip (pyvo)"
    return sess


def _is_timeout(exc: BaseException) -> bool:
    import requests

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, requests.exceptions.Timeout | TimeoutError):
            return True
        exc = getattr(exc, "cause", None) or exc.__cause__ or exc.__context__
    return False


def run_tap(
    adql: str,
    url: str = CSC21_TAP_URL,
    *,
    timeout_s: float = 120.0,
    cache_dir: str | Path | None = None,
    offline: bool = False,
    allow_empty: bool = False,
    maxrec: int | None = None,
) -> pd.DataFrame:
    """Run ``adql`` on the TAP service at ``url`` (sync); return a DataFrame.

    With ``cache_dir`` the result is read from / written to ``cache_dir/<key>.parquet``
    (key from :func:`cache_key`) and the ADQL is saved beside it; ``offline=True`` never
    contacts the service and fails clearly on a cache miss. An empty result raises
    :class:`InputError` unless ``allow_empty``.
    """
    from pyvo.dal import DALFormatError, DALQueryError, DALServiceError, TAPService

    where = f"TAP service {url}"
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"{cache_key(url, adql)}.parquet"
        if path.exists():
            df = read_table(path)
            df.attrs.update({"tap_url": url, "cache": str(path)})
            return df
    if offline:
        raise InputError(where, f"offline and the query is not cached (looked for {path})")
    try:
        result = TAPService(url, session=_session(timeout_s)).run_sync(adql, maxrec=maxrec)
        table = result.to_table()
    except (DALServiceError, DALQueryError, DALFormatError) as exc:
        if _is_timeout(exc):
            raise InputError(
                where,
                f"no answer within {timeout_s:g} s (timeout); try again later or raise tap.timeout_s",
            ) from exc
        kind = "rejected the query" if isinstance(exc, DALQueryError) else "failed"
        raise InputError(where, f"{kind}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - transport problems become a clear message
        if _is_timeout(exc):
            raise InputError(
                where,
                f"no answer within {timeout_s:g} s (timeout); try again later or raise tap.timeout_s",
            ) from exc
        raise InputError(where, f"request failed: {type(exc).__name__}: {exc}") from exc
    df = _table_to_frame(table)
    if len(df) == 0 and not allow_empty:
        raise InputError(
            where, f"the query returned no rows (check the cuts): {' '.join(adql.split())[:300]}"
        )
    if path is not None:
        write_table(df, path)
        path.with_suffix(".adql").write_text(f"-- {url}\n{adql}\n")
    df.attrs.update({"tap_url": url})
    return df


def _table_to_frame(table) -> pd.DataFrame:
    """astropy Table -> DataFrame with masked values as NaN/None and bytes decoded."""
    out = {}
    for name in table.colnames:
        col = table[name]
        if len(col.shape) > 1:
            continue
        data = np.ma.asarray(col)
        if data.dtype.kind in "SUO":
            vals = np.array(
                [
                    v.decode() if isinstance(v, bytes) else v
                    for v in np.ma.filled(data.astype(object), None)
                ],
                dtype=object,
            )
            out[name] = vals
        elif data.dtype.kind in "iu" and np.ma.is_masked(data):
            out[name] = pd.array(np.ma.filled(data, 0), dtype="Int64")
            out[name][np.ma.getmaskarray(data)] = pd.NA
        elif data.dtype.kind == "b":
            out[name] = np.ma.filled(data, False)
        else:
            out[name] = np.ma.filled(
                data.astype(np.float64) if data.dtype.kind == "f" else data,
                np.nan if data.dtype.kind == "f" else 0,
            )
    return pd.DataFrame(out)


def query_csc(query: CscQuery | None = None, *, url: str = CSC21_TAP_URL, **kwargs) -> pd.DataFrame:
    """Detection-level CSC properties for ``query`` (default: UMLCAXS's cuts), via :func:`run_tap`."""
    query = CscQuery() if query is None else query
    return run_tap(query.adql(), url, **kwargs)
