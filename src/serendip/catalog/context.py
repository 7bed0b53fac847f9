"""Archival context of each source: nearest Gaia DR3 star, SIMBAD and NED types, latitude.

Nothing here needs the network unless asked. For each catalogue (:data:`ARCHIVES`: ``gaia``,
``simbad``, ``ned``) the answers come from, in order:

1. a **table the user supplies** (CSV, Parquet, FITS, VOTable; e.g. a Gaia archive export
   of the field), matched to every source;
2. the **cache of TAP answers** (``cache_dir``): one cone query per source (the top
   ``n_query`` sources), sent through :func:`serendip.io.tap.run_tap`, which keeps each answer
   as Parquet keyed by (service, ADQL). Without ``online=True`` a query that is not cached is
   not sent: it is counted in a notice and the source gets no answer from that catalogue.
   With ``online=True`` missing answers are fetched and cached, so the next run is offline.

Every match uses positional errors (:mod:`serendip.catalog.posmatch`): separation at most
``max(k * sqrt(e_src**2 + e_cat**2), floor)``, nearest by normalised separation; the
catalogues' own errors come from their columns (Gaia ``ra_error``/``dec_error`` [mas],
SIMBAD ``coo_err_maja`` [mas]) or :data:`CATALOGUE_ERR_ARCSEC`.

Columns added (:func:`archival_context`): ``gaia_source_id``, ``gaia_sep_arcsec``,
``gaia_parallax`` [mas], ``gaia_parallax_over_error``, ``gaia_g`` [mag]; ``simbad_id``,
``simbad_type``, ``simbad_sep_arcsec``; ``ned_name``, ``ned_type``, ``ned_sep_arcsec``;
``glat`` [deg] (kept or computed); ``context_from`` (where each answer came from) and
``likely_stellar_flare``: a flare candidate (its best detection's burst significance at
least ``flare_min_dex``, or a known flare) at a Gaia star with a significant parallax
(``parallax / error >= stellar_parallax_snr``) or a bright one (``G <= stellar_g_max``),
i.e. most likely a coronal flare of a nearby star rather than an extragalactic transient.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.catalog.posmatch import MATCH_FLOOR_ARCSEC, MATCH_SIGMA, match_nearest, match_radius


@dataclass(frozen=True)
class Archive:
    """One archival catalogue: its TAP service, cone query and the columns kept.

    ``columns`` maps the output column (without prefix) to the names a table may use for it,
    first match wins; ``adql`` is a format string with ``ra``, ``dec`` and ``radius`` [deg].
    """

    name: str
    url: str
    adql: str
    columns: dict[str, tuple[str, ...]]
    description: str


_RA = ("ra", "ra_deg", "raj2000", "ra_icrs")
_DEC = ("dec", "dec_deg", "dej2000", "dec_icrs")

#: the archival catalogues (their TAP services are used only with ``online=True`` or a cache)
ARCHIVES: dict[str, Archive] = {
    "gaia": Archive(
        "gaia", "https://gea.esac.esa.int/tap-server/tap",
        "SELECT source_id, ra, dec, ra_error, dec_error, parallax, parallax_error, "
        "phot_g_mean_mag FROM gaiadr3.gaia_source WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), "
        "CIRCLE('ICRS', {ra:.7f}, {dec:.7f}, {radius:.7f}))",
        {"source_id": ("source_id", "gaia_source_id", "designation"),
         "parallax": ("parallax", "plx"), "parallax_error": ("parallax_error", "e_plx"),
         "g": ("phot_g_mean_mag", "gmag", "g")},
        "Gaia DR3 gaia_source (ESA archive)",
    ),
    "simbad": Archive(
        "simbad", "https://simbad.cds.unistra.fr/simbad/sim-tap",
        "SELECT main_id, ra, dec, otype, coo_err_maja FROM basic WHERE 1 = CONTAINS("
        "POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra:.7f}, {dec:.7f}, {radius:.7f}))",
        {"id": ("main_id", "id", "name"), "type": ("otype", "main_type", "type", "otype_txt")},
        "SIMBAD basic (CDS)",
    ),
    "ned": Archive(
        "ned", "https://ned.ipac.caltech.edu/tap",
        "SELECT prefname, ra, dec, pretype FROM NEDTAP.objdir WHERE 1 = CONTAINS("
        "POINT('J2000', ra, dec), CIRCLE('J2000', {ra:.7f}, {dec:.7f}, {radius:.7f}))",
        {"name": ("prefname", "object_name", "name"), "type": ("pretype", "type", "obj_type")},
        "NED object directory (IPAC)",
    ),
}

#: 1-sigma position error [arcsec] assumed for a catalogue row without its own
CATALOGUE_ERR_ARCSEC = {"gaia": 0.01, "simbad": 0.5, "ned": 1.0}


def _pick(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    low = {c.lower(): c for c in df.columns}
    return next((low[n] for n in names if n in low), None)


def normalise_archive_table(df: pd.DataFrame, archive: str, where: str = "") -> pd.DataFrame:
    """A catalogue table in its archive's columns: ``ra``, ``dec`` [deg], ``err_arcsec`` and
    the archive's columns (:data:`ARCHIVES`); InputError naming ``where`` without ra/dec."""
    from serendip.catalog.posmatch import position_errors
    from serendip.errors import InputError
    from serendip.notices import NoticeLog

    a = ARCHIVES[archive]
    ra, dec = _pick(df, _RA), _pick(df, _DEC)
    if ra is None or dec is None:
        raise InputError(where or archive, f"{a.description} table needs ra/dec [deg] columns; "
                         f"found {list(df.columns)[:20]}")
    out = pd.DataFrame({"ra": pd.to_numeric(df[ra], errors="coerce").to_numpy(np.float64),
                        "dec": pd.to_numeric(df[dec], errors="coerce").to_numpy(np.float64)})
    with NoticeLog():  # a catalogue without errors gets its typical one (stated in the docs)
        out["err_arcsec"] = position_errors(df, archive, default=CATALOGUE_ERR_ARCSEC[archive])
    for col, names in a.columns.items():
        c = _pick(df, names)
        out[col] = df[c].to_numpy() if c is not None else np.nan
    return out


def read_archive_table(path: str | Path, archive: str) -> pd.DataFrame:
    """A user-supplied catalogue table (any format :func:`serendip.io.read_table` reads)."""
    from serendip.io.tables import read_table

    return normalise_archive_table(read_table(Path(path)), archive, str(path))


def cone_adql(archive: str, ra: float, dec: float, radius_arcsec: float) -> str:
    """The cone query of ``archive`` around (ra, dec) [deg] (radius rounded up to 0.1 arcsec,
    so the same source gives the same query and cache key)."""
    r = np.ceil(radius_arcsec * 10.0) / 10.0
    return ARCHIVES[archive].adql.format(ra=ra, dec=dec, radius=r / 3600.0)


def query_radius(archive: str, err_arcsec: float, k: float, floor: float) -> float:
    """Cone radius [arcsec] of a source with 1-sigma error ``err_arcsec``: its match radius
    against a catalogue object with twice the catalogue's typical error."""
    return float(match_radius(err_arcsec, 2 * CATALOGUE_ERR_ARCSEC[archive], k, floor))


def tap_answers(
    archive: str, sources: pd.DataFrame, err: np.ndarray, *, cache_dir: str | Path | None,
    online: bool, k: float, floor: float, timeout_s: float = 60.0,
) -> tuple[pd.DataFrame, int, int]:
    """The cached (or, with ``online``, fetched) cone answers of ``archive`` around each row
    of ``sources``: (normalised table of every answer, queries answered, queries missing)."""
    from serendip.errors import InputError
    from serendip.io.tap import run_tap

    url = ARCHIVES[archive].url
    parts, missing = [], 0
    for ra, dec, e in zip(sources["ra"], sources["dec"], err, strict=True):
        if not (np.isfinite(ra) and np.isfinite(dec)):
            missing += 1
            continue
        adql = cone_adql(archive, float(ra), float(dec), query_radius(archive, e, k, floor))
        try:
            df = run_tap(adql, url, cache_dir=cache_dir, offline=not online, allow_empty=True,
                         timeout_s=timeout_s)
        except InputError:
            missing += 1
            continue
        if len(df):
            parts.append(normalise_archive_table(df, archive, url))
    table = (pd.concat(parts, ignore_index=True) if parts
             else normalise_archive_table(pd.DataFrame({"ra": [], "dec": []}), archive))
    return table.drop_duplicates(["ra", "dec"]), len(sources) - missing, missing


def archival_context(
    sources: pd.DataFrame,
    tables: dict[str, pd.DataFrame | str | Path] | None = None,
    *,
    cache_dir: str | Path | None = None,
    online: bool = False,
    n_query: int = 50,
    k: float = MATCH_SIGMA,
    floor_arcsec: float = MATCH_FLOOR_ARCSEC,
    stellar_parallax_snr: float = 5.0,
    stellar_g_max: float = 13.0,
    flare_min_dex: float = 3.0,
) -> pd.DataFrame:
    """``sources`` (``ra``, ``dec`` [deg], ``pos_err_arcsec``; e.g. the source table of
    :func:`serendip.catalog.sources.candidates_by_source`) with its archival context (see the
    module docstring for the columns and the rule of ``likely_stellar_flare``).

    ``tables``: ``{archive: DataFrame or path}`` supplied by the user (matched to every
    source); archives without one are looked up in the TAP cache ``cache_dir`` for the
    first ``n_query`` rows (fetched when ``online``). Each catalogue with no answers at all
    is counted in a notice.
    """
    from serendip.notices import notice

    out = sources.copy()
    tables = dict(tables or {})
    ra = pd.to_numeric(out.get("ra", np.nan), errors="coerce")
    dec = pd.to_numeric(out.get("dec", np.nan), errors="coerce")
    ra = np.asarray(ra, np.float64) * np.ones(len(out))
    dec = np.asarray(dec, np.float64) * np.ones(len(out))
    err = (out["pos_err_arcsec"].to_numpy(np.float64) if "pos_err_arcsec" in out
           else np.full(len(out), np.nan))
    err = np.where(np.isfinite(err) & (err > 0), err, 1.0)
    if "glat" not in out:
        from serendip.catalog.sources import _glat

        out["glat"] = _glat(ra, dec)
    origin = {}
    for name, a in ARCHIVES.items():
        given = tables.get(name)
        rows = np.arange(len(out))
        if given is not None and not (isinstance(given, str) and given == ""):
            cat = (read_archive_table(given, name) if isinstance(given, (str, Path))
                   else normalise_archive_table(given, name))
            origin[name] = "table"
        elif cache_dir or online:
            rows = rows[: int(n_query)]
            cat, n_ok, n_miss = tap_answers(name, out.iloc[rows].assign(ra=ra[rows], dec=dec[rows]),
                                            err[rows], cache_dir=cache_dir, online=online, k=k,
                                            floor=floor_arcsec)
            origin[name] = "online" if online else "cache"
            if n_miss:
                notice("sources", f"{name}_not_cached",
                       f"{a.description}: {n_miss} of {len(rows)} cone queries "
                       + ("failed" if online else "not in the cache (online lookups are off)")
                       + "; those sources have no answer from it", count=n_miss, total=len(rows))
            if len(out) > len(rows):
                notice("sources", f"{name}_top_only",
                       f"{a.description}: only the top {len(rows)} of {len(out)} sources looked up",
                       count=len(out) - len(rows), total=len(out), severity="info")
        else:
            cat, origin[name] = None, ""
            notice("sources", f"{name}_no_answers", f"{a.description}: no table, cache or online "
                   "lookup given: no context from it", count=len(out), total=len(out),
                   severity="info")
        idx = np.full(len(out), -1, np.int64)
        sep = np.full(len(out), np.nan)
        if cat is not None and len(cat):
            j, s, _ = match_nearest(ra[rows], dec[rows], err[rows], cat["ra"], cat["dec"],
                                    cat["err_arcsec"], k=k, floor=floor_arcsec)
            idx[rows], sep[rows] = j, s
        hit = idx >= 0

        def col(c, kind=float, cat=cat, idx=idx, hit=hit):
            v = np.full(len(out), np.nan) if kind is float else np.full(len(out), "", dtype=object)
            if cat is not None and hit.any():
                vals = cat[c].to_numpy()[idx[hit]]
                v[hit] = (pd.to_numeric(pd.Series(vals), errors="coerce").to_numpy(np.float64)
                          if kind is float else [_text(x) for x in vals])
            return v

        if name == "gaia":
            out["gaia_source_id"] = col("source_id", str)
            out["gaia_sep_arcsec"] = sep
            out["gaia_parallax"] = col("parallax")
            pe = col("parallax_error")
            with np.errstate(divide="ignore", invalid="ignore"):
                out["gaia_parallax_over_error"] = np.where(pe > 0, out["gaia_parallax"] / pe, np.nan)
            out["gaia_g"] = col("g")
        elif name == "simbad":
            out["simbad_id"] = col("id", str)
            out["simbad_type"] = col("type", str)
            out["simbad_sep_arcsec"] = sep
        else:
            out["ned_name"] = col("name", str)
            out["ned_type"] = col("type", str)
            out["ned_sep_arcsec"] = sep
    out["context_from"] = ";".join(f"{k_}:{v}" for k_, v in origin.items() if v)
    out["likely_stellar_flare"] = likely_stellar_flare(
        out, stellar_parallax_snr=stellar_parallax_snr, stellar_g_max=stellar_g_max,
        flare_min_dex=flare_min_dex)
    return out


def _text(x) -> str:
    """A catalogue value as text ("" for missing)."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    return x.decode().strip() if isinstance(x, bytes) else str(x).strip()


def likely_stellar_flare(
    sources: pd.DataFrame, *, stellar_parallax_snr: float = 5.0, stellar_g_max: float = 13.0,
    flare_min_dex: float = 3.0,
) -> np.ndarray:
    """The ``likely_stellar_flare`` flag of each row (see the module docstring)."""
    n = len(sources)

    def num(c):
        return (pd.to_numeric(sources[c], errors="coerce").to_numpy(np.float64) if c in sources
                else np.full(n, np.nan))

    known = (sources["known_type"].fillna("").astype(str).str.contains("flare").to_numpy()
             if "known_type" in sources else np.zeros(n, bool))
    flare = (num("best_burst_significance") >= flare_min_dex) | known
    star = (num("gaia_parallax_over_error") >= stellar_parallax_snr) | (num("gaia_g") <= stellar_g_max)
    return np.asarray(flare & star, dtype=bool)
