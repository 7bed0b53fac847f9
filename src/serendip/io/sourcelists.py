"""Source lists: the sources of a whole observation as vectorised regions, with backgrounds.

Accepted (:func:`read_source_list`):

* a FITS region table or detection source list (CIAO wavdetect/celldetect, CSC ``reg3``
  extensions): columns ``X``, ``Y`` [sky pixel] (or ``RA``, ``DEC`` [deg]), ``R`` (one or two
  semi-axes, pixels unless ``TUNIT`` says arcsec), ``ROTANG`` [deg, from +x counter-clockwise],
  optional ``SHAPE`` (``circle``, ``ellipse``, ``annulus``, ``box``; a leading ``!`` marks an
  exclusion) and ``COMPONENT`` (the source number);
* a table (CSV, Parquet, FITS, VOTable) with ``ra``/``dec`` [deg] and a radius
  (``radius_arcsec``, ``r_arcsec`` or ``radius`` [arcsec]) or an ellipse (``a_arcsec``,
  ``b_arcsec`` semi-axes and ``pa_deg``, the major axis' position angle east of north),
  or pixel ``x``/``y`` with ``r_pix`` (or ``a_pix``, ``b_pix``, ``rotang``);
* a Chandra Source Catalog table (``region_id``, ``ra``, ``dec`` and ``src_area_b``
  [arcsec^2], the broad-band aperture, as a circle of equal area; rows of other ObsIDs, by
  its ``obsid`` column, are left out with a notice), downloaded or fetched per ObsID through
  serendip's cached CSC 2.1 TAP access (:func:`csc_observation_sources`; ``sources="csc"``).

Each source is named by its id column (``COMPONENT``, ``region_id``, ``id``, ``name``, ...;
else 1, 2, ...) and becomes the event list ``{OBSID}_{id}``. Each gets a background
annulus of the same shape from :data:`BKG_INNER` to :data:`BKG_OUTER` times its size, from
which the events of every source are left out; ``ingest`` records it (regions.parquet).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.regions import (
    KIND_BOX,
    KIND_ELLIPSE,
    PixelRegions,
    Shape,
    SourceRegion,
    arcsec_per_pixel,
    is_fits_file,
)

#: background annulus of each source, in units of the source's semi-axes
BKG_INNER, BKG_OUTER = 1.5, 4.0

_ID_COLUMNS = ("component", "region_id", "src_id", "source_id", "srcid", "id", "name", "msid")
_RA = ("ra", "ra_deg", "raj2000", "ra_icrs")
_DEC = ("dec", "dec_deg", "dej2000", "dec_icrs", "decj2000")
_SHAPE_KIND = {"circle": KIND_ELLIPSE, "ellipse": KIND_ELLIPSE, "annulus": KIND_ELLIPSE,
               "box": KIND_BOX, "rotbox": KIND_BOX, "rectangle": KIND_BOX}


@dataclass
class SourceList:
    """Shapes of many sources, as arrays (one row per shape).

    ``system`` is ``"sky"`` (``lon``/``lat`` [deg] in ``frame``, sizes [arcsec], ``angle``
    = position angle east of north [deg]) or ``"physical"`` (``lon``/``lat`` = x/y [pixel],
    sizes [pixel], ``angle`` from +x counter-clockwise [deg]). ``src`` is each row's source
    number (0..n_sources-1), ``include`` False for exclusions, ``a_in``/``b_in`` > 0 for
    annuli. ``names`` (n_sources,) str; ``obsid`` (n_sources,) str or None.
    """

    path: str
    system: str
    names: np.ndarray
    src: np.ndarray
    include: np.ndarray
    kind: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    a: np.ndarray
    b: np.ndarray
    a_in: np.ndarray
    b_in: np.ndarray
    angle: np.ndarray
    obsid: np.ndarray | None = None
    frame: str = "icrs"
    #: explicit background regions, one source per source of this list (a CSC ``reg3``'s
    #: ``BKGREG``: an annulus with the overlapping sources excluded); None: the default annulus
    background_list: SourceList | None = None

    @property
    def n_sources(self) -> int:
        """Number of sources in the list."""
        return len(self.names)

    def for_obsid(self, obsid: str) -> SourceList:
        """Only the sources of ``obsid`` (all when the list has no ObsID column)."""
        if self.obsid is None or not obsid:
            return self
        keep_src = np.flatnonzero(self.obsid == str(obsid))
        return self._subset(keep_src)

    def _subset(self, keep_src: np.ndarray) -> SourceList:
        new_index = np.full(self.n_sources, -1)
        new_index[keep_src] = np.arange(len(keep_src))
        rows = new_index[self.src] >= 0
        return SourceList(
            self.path, self.system, self.names[keep_src], new_index[self.src][rows], self.include[rows],
            self.kind[rows], self.lon[rows], self.lat[rows], self.a[rows], self.b[rows],
            self.a_in[rows], self.b_in[rows], self.angle[rows],
            None if self.obsid is None else self.obsid[keep_src], self.frame,
        )

    def to_pixels(self, wcs, path=None) -> PixelRegions:
        """Vectorised conversion to one event file's physical pixels, with backgrounds."""
        if self.system == "sky":
            if wcs is None:
                raise InputError(path, f"source list {self.path} gives sky positions but the event file has "
                                 "no sky WCS for its x/y columns")
            import astropy.units as u
            from astropy.coordinates import SkyCoord

            c = SkyCoord(self.lon * u.deg, self.lat * u.deg, frame=self.frame)
            x, y = wcs.world_to_pixel(c)
            scale = arcsec_per_pixel(wcs)
            # pixel angle of north at each position: offset 1 arcsec north through the WCS
            n = c.directional_offset_by(0 * u.deg, 1 * u.arcsec)
            xn, yn = wcs.world_to_pixel(n)
            north = np.rad2deg(np.arctan2(yn - y, xn - x))
            # a position angle counts from north towards east; on a north-up east-left image
            # (cdelt1 * cdelt2 < 0) east lies 90 deg counter-clockwise of north in pixels
            sign = 1.0 if wcs.wcs.cdelt[0] * wcs.wcs.cdelt[1] < 0 else -1.0
            theta = north + sign * self.angle
            a, b, ai, bi = (v / scale for v in (self.a, self.b, self.a_in, self.b_in))
        else:
            x, y, theta, a, b, ai, bi = self.lon, self.lat, self.angle, self.a, self.b, self.a_in, self.b_in
        first = np.searchsorted(self.src, np.arange(self.n_sources)) if self.n_sources else np.zeros(0, int)
        name = Path(self.path).name
        desc = [
            f"{'ellipse' if self.kind[i] == KIND_ELLIPSE else 'box'}(x={x[i]:.2f}, y={y[i]:.2f}, "
            f"a={a[i]:.2f}, b={b[i]:.2f} pix, angle={theta[i]:.1f} deg) from {name}"
            for i in first
        ]
        pr = PixelRegions(
            [str(s) for s in self.names], desc,
            self.src.astype(np.int64), self.include.astype(bool), self.kind.astype(np.int8),
            np.asarray(x, float), np.asarray(y, float), np.asarray(a, float), np.asarray(b, float),
            np.asarray(ai, float), np.asarray(bi, float), np.asarray(theta, float),
        )
        if self.background_list is not None and self.background_list.n_sources == pr.n_sources:
            pr.background = self.background_list.to_pixels(wcs, path)
            pr.background.background = None
            return pr
        inc = pr.include
        pr.background = PixelRegions(
            pr.names, [f"background annulus {BKG_INNER:g}-{BKG_OUTER:g}x of source {n}" for n in pr.names],
            pr.src[inc], np.ones(int(inc.sum()), bool), pr.kind[inc], pr.cx[inc], pr.cy[inc],
            BKG_OUTER * pr.a[inc], BKG_OUTER * pr.b[inc], BKG_INNER * pr.a[inc], BKG_INNER * pr.b[inc],
            pr.theta[inc],
        )
        return pr

    def to_source_regions(self) -> list[SourceRegion]:
        """One :class:`SourceRegion` per source (``regions`` objects; for region files)."""
        import astropy.units as u
        from astropy.coordinates import SkyCoord
        from regions import (
            CircleAnnulusPixelRegion,
            EllipseAnnulusPixelRegion,
            EllipsePixelRegion,
            EllipseSkyRegion,
            PixCoord,
            RectanglePixelRegion,
            RectangleSkyRegion,
        )

        shapes = []
        for i in range(len(self.src)):
            a, b, ai, bi, ang = self.a[i], self.b[i], self.a_in[i], self.b_in[i], self.angle[i]
            if self.system == "sky":
                c = SkyCoord(self.lon[i] * u.deg, self.lat[i] * u.deg, frame=self.frame)
                # regions' sky angle counts from the longitude axis: PA + 90 deg
                cls = EllipseSkyRegion if self.kind[i] == KIND_ELLIPSE else RectangleSkyRegion
                r = cls(c, 2 * a * u.arcsec, 2 * b * u.arcsec, angle=(ang + 90.0) * u.deg)
                shapes.append(Shape(r, "sky", f"{self.path} row {i + 1}"))
                continue
            c = PixCoord(self.lon[i] - 1.0, self.lat[i] - 1.0)
            if ai > 0 and a == b:
                r = CircleAnnulusPixelRegion(c, ai, a)
            elif ai > 0:
                r = EllipseAnnulusPixelRegion(c, 2 * ai, 2 * bi, 2 * a, 2 * b, angle=ang * u.deg)
            elif self.kind[i] == KIND_BOX:
                r = RectanglePixelRegion(c, 2 * a, 2 * b, angle=ang * u.deg)
            else:
                r = EllipsePixelRegion(c, 2 * a, 2 * b, angle=ang * u.deg)
            shapes.append(Shape(r, "physical", f"{self.path} row {i + 1}"))
        out = []
        for k in range(self.n_sources):
            rows = np.flatnonzero(self.src == k)
            inc = tuple(shapes[i] for i in rows if self.include[i])
            exc = tuple(shapes[i] for i in rows if not self.include[i])
            if inc:
                out.append(SourceRegion(inc, exc, str(self.names[k])))
        return out


# ------------------------------------------------------------------ readers
def read_source_list(path: str | Path, extension: str | None = None, single_source: bool = False) -> SourceList:
    """Read a source list or FITS region table (see the module docstring).

    ``extension`` names the FITS extension (default: the first table with positions);
    ``single_source`` makes every row one source (a CSC ``reg3`` region of one source).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such source list")
    if is_fits_file(path):
        table, units, where = _fits_table(path, extension)
    else:
        from serendip.io.tables import read_table

        try:
            table = read_table(path)
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise InputError(path, f"cannot read source list: {type(exc).__name__}: {exc}") from exc
        units, where = {}, str(path)
    if not len(table):
        raise InputError(path, f"source list {where} has no rows")
    return _from_table(table, units, path, single_source)


read_fits_region_table = read_source_list


def _fits_table(path: Path, extension: str | None):
    from astropy.io import fits

    try:
        hdul = fits.open(path, memmap=False)
    except Exception as exc:  # noqa: BLE001
        raise InputError(path, f"cannot open as FITS: {exc}") from exc
    with hdul:
        cands = [h for h in hdul[1:] if isinstance(h, fits.BinTableHDU)]
        if extension is not None:
            cands = [h for h in cands if h.name.upper() == extension.upper()]
            if not cands:
                names = [h.name for h in hdul[1:]]
                raise InputError(path, f"no extension {extension!r} (extensions: {names})")
        for h in cands:
            cols = {c.name.lower(): c for c in h.columns}
            if ("x" in cols and "y" in cols) or any(r in cols for r in _RA):
                data = {}
                for c in h.columns:
                    v = np.asarray(h.data[c.name])
                    if v.dtype.kind in "SU":
                        v = np.char.strip(v.astype(str))
                    elif not v.dtype.isnative:
                        v = v.astype(v.dtype.newbyteorder("="))
                    data[c.name.lower()] = list(v) if v.ndim > 1 else v
                units = {c.name.lower(): (c.unit or "").strip().lower() for c in h.columns}
                tab = pd.DataFrame(data)
                hdr_obsid = h.header.get("OBS_ID", hdul[0].header.get("OBS_ID"))
                if "obsid" not in tab.columns and "obs_id" not in tab.columns and hdr_obsid is not None:
                    tab.attrs["obsid"] = str(hdr_obsid).strip()
                return tab, units, f"{path}[{h.name}]"
    raise InputError(path, "no table extension with X/Y or RA/DEC columns (not a source list or region file)")


def _col(table: pd.DataFrame, names) -> str | None:
    low = {c.lower(): c for c in table.columns}
    return next((low[n] for n in names if n in low), None)


def _num(table, col, path) -> np.ndarray:
    v = pd.to_numeric(table[col], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(v)
    if bad.any():
        raise InputError(path, f"column {col!r}: {int(bad.sum())} row(s) not a finite number "
                         f"(first: row {int(np.flatnonzero(bad)[0]) + 1})")
    return v


def _from_table(table: pd.DataFrame, units: dict, path: Path, single_source: bool) -> SourceList:
    table = table.rename(columns=str.lower)
    n = len(table)
    xcol, ycol = _col(table, ("x",)), _col(table, ("y",))
    racol, deccol = _col(table, _RA), _col(table, _DEC)
    physical = xcol is not None and ycol is not None
    if not physical and (racol is None or deccol is None):
        raise InputError(path, f"source list needs x/y [pixel] or ra/dec [deg] columns; found {list(table.columns)[:20]}")

    # shapes and exclusions
    kind = np.full(n, KIND_ELLIPSE, np.int8)
    include = np.ones(n, bool)
    annulus = np.zeros(n, bool)
    if "shape" in table.columns:
        shape = table["shape"].astype(str).str.strip().str.lower()
        include = ~shape.str.startswith("!").to_numpy()
        shape = shape.str.lstrip("!").str.strip()
        bad = ~shape.isin(list(_SHAPE_KIND))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(path, f"row {i + 1}: shape {shape.iloc[i]!r} is not supported "
                             f"(supported: {', '.join(sorted(_SHAPE_KIND))})")
        kind = shape.map(_SHAPE_KIND).to_numpy(np.int8)
        annulus = (shape == "annulus").to_numpy()

    # sizes
    a, b, a_in = _sizes(table, units, path, physical, n)
    b_in = np.zeros(n)
    if annulus.any():  # R = (inner, outer) radii
        a_in[annulus], b_in[annulus] = a[annulus], a[annulus]
        a[annulus] = b[annulus]
        b[annulus] = a[annulus]
    if "shape" in table.columns:
        circ = (table["shape"].astype(str).str.strip().str.lower().str.lstrip("!") == "circle").to_numpy()
        b[circ] = a[circ]
    box = kind == KIND_BOX
    if box.any():  # FITS region boxes give full widths
        a[box], b[box] = a[box] / 2, b[box] / 2
    angle = np.zeros(n)
    acol = _col(table, ("rotang", "pa_deg", "pa", "posangle", "rotang_deg"))
    if acol is not None:
        angle = _num(table, acol, path)
    if not physical and acol is not None and acol.startswith("rotang"):
        raise InputError(path, "ROTANG is a pixel-frame angle but the list has no X/Y columns; "
                         "give pa_deg (east of north) with ra/dec")

    # grouping into sources
    idcol = _col(table, _ID_COLUMNS)
    ids = (table[idcol].astype(str).str.strip().to_numpy() if idcol is not None
           else np.arange(1, n + 1).astype(str))
    ids = np.array([s[:-2] if s.endswith(".0") and s[:-2].isdigit() else s for s in ids], dtype=object)
    if single_source:
        src = np.zeros(n, np.int64)
        names = np.array([ids[include][0] if include.any() else "1"], dtype=object)
    else:
        inc_ids = ids[include]
        names, first = np.unique(inc_ids, return_index=True)
        names = inc_ids[np.sort(first)]  # first-seen order
        lookup = {v: i for i, v in enumerate(names)}
        src = np.array([lookup.get(v, -1) for v in ids], np.int64)
        if not include.all():  # an exclusion without a source of its id applies to every source
            orphan = np.flatnonzero((src < 0) & ~include)
            if len(orphan):
                reps = np.repeat(orphan, len(names))
                srcs = np.tile(np.arange(len(names)), len(orphan))
                keep = np.flatnonzero(src >= 0)
                rows = np.r_[keep, reps]
                src = np.r_[src[keep], srcs]
                return _build(path, physical, names, src, include[rows], kind[rows],
                              _pos(table, physical, xcol, ycol, racol, deccol, path, rows),
                              a[rows], b[rows], a_in[rows], b_in[rows], angle[rows],
                              _obsids(table, names, ids, include))
    rows = np.arange(n)
    return _build(path, physical, names, src[rows], include[rows], kind[rows],
                  _pos(table, physical, xcol, ycol, racol, deccol, path, rows), a[rows], b[rows],
                  a_in[rows], b_in[rows], angle[rows], _obsids(table, names, ids, include))


def _pos(table, physical, xcol, ycol, racol, deccol, path, rows):
    if physical:
        return _num(table, xcol, path)[rows], _num(table, ycol, path)[rows]
    ra, dec = _num(table, racol, path)[rows], _num(table, deccol, path)[rows]
    if ((dec < -90) | (dec > 90)).any():
        raise InputError(path, f"column {deccol!r} has values outside [-90, 90] deg")
    return ra, dec


def _obsids(table, names, ids, include):
    col = _col(table, ("obsid", "obs_id"))
    if col is None:
        obs = table.attrs.get("obsid")
        return None if obs is None else np.full(len(names), str(obs), dtype=object)
    first = {}
    for i, o in zip(ids[include], table[col].to_numpy()[include], strict=True):
        first.setdefault(i, str(o).strip().removesuffix(".0"))
    return np.array([first[nm] for nm in names], dtype=object)


def _build(path, physical, names, src, include, kind, pos, a, b, a_in, b_in, angle, obsid) -> SourceList:
    order = np.argsort(src, kind="stable")
    return SourceList(
        str(path), "physical" if physical else "sky", np.asarray(names, dtype=object), src[order],
        include[order], kind[order], pos[0][order], pos[1][order], a[order], b[order], a_in[order],
        b_in[order], angle[order], obsid,
    )


_ARCSEC = {"arcsec": 1.0, "arcsecond": 1.0, '"': 1.0, "arcmin": 60.0, "deg": 3600.0, "degree": 3600.0}


def _sizes(table, units, path, physical, n):
    """(a, b, a_in) semi-axes: pixels for a physical list, arcsec for a sky list."""
    zero = np.zeros(n)
    if "r" in table.columns:
        r = np.array([np.atleast_1d(np.asarray(v, float)) for v in table["r"]], dtype=object)
        r0 = np.array([v[0] for v in r], float)
        r1 = np.array([v[1] if len(v) > 1 and v[1] > 0 else v[0] for v in r], float)
        unit = units.get("r", "")
        if physical and unit in _ARCSEC:
            raise InputError(path, "R is in angular units but positions are X/Y pixels; give R in pixels")
        if not physical:
            if unit in ("pixel", "pix", ""):
                raise InputError(path, "R is in pixels (or has no unit) but the list has only RA/DEC; "
                                 "add X/Y columns or give R in arcsec")
            r0, r1 = r0 * _ARCSEC[unit], r1 * _ARCSEC[unit]
        _positive(path, "R", r0, r1)
        return r0, r1, zero.copy()
    suffix = "pix" if physical else "arcsec"
    for aname, bname in ((f"a_{suffix}", f"b_{suffix}"), (f"major_{suffix}", f"minor_{suffix}"),
                         (f"semi_major_{suffix}", f"semi_minor_{suffix}")):
        if aname in table.columns and bname in table.columns:
            a, b = _num(table, aname, path), _num(table, bname, path)
            _positive(path, aname, a, b)
            return a, b, zero.copy()
    for rname in (f"radius_{suffix}", f"r_{suffix}", "radius"):
        if rname in table.columns:
            r = _num(table, rname, path)
            _positive(path, rname, r, r)
            return r, r.copy(), zero.copy()
    if not physical and "src_area_b" in table.columns:  # CSC per-observation broad-band aperture
        r = np.sqrt(_num(table, "src_area_b", path) / np.pi)
        _positive(path, "src_area_b", r, r)
        return r, r.copy(), zero.copy()
    raise InputError(path, f"source list has no size column: give R (FITS), radius_{suffix}, "
                     f"a_{suffix}/b_{suffix} (+ pa_deg), or src_area_b (CSC); found {list(table.columns)[:20]}")


def _positive(path, name, *arrays):
    for v in arrays:
        if (~np.isfinite(v) | (v <= 0)).any():
            raise InputError(path, f"column {name!r}: sizes must be finite and > 0")


#: where ``sources="csc"`` caches its TAP answers (``$SERENDIP_TAP_CACHE`` overrides)
def default_tap_cache() -> Path:
    import os

    return Path(os.environ.get("SERENDIP_TAP_CACHE", Path.home() / ".cache" / "serendip" / "tap"))


def csc_observation_sources(
    obsid: int | str, *, url: str | None = None, cache_dir: str | Path | None = None,
    offline: bool = False, timeout_s: float = 120.0,
) -> SourceList:
    """The CSC 2.1 detections of one ObsID as a source list, through TAP (cached as Parquet
    under ``cache_dir``, default :func:`default_tap_cache`, so a re-run works offline):
    ``region_id`` names each source (``OBSID_REGION``), ``ra``/``dec`` [deg], and a circle of the
    broad-band aperture's area ``src_area_b`` [arcsec^2]."""
    from serendip.io.tap import CSC21_TAP_URL, CscQuery, run_tap

    q = CscQuery(master_columns=["name", "ra", "dec"], detection_columns=["obsid", "region_id", "src_area_b"],
                 min_flux_significance_b=None, not_null=[], obsids=[int(obsid)])
    df = run_tap(q.adql(), url or CSC21_TAP_URL, cache_dir=cache_dir or default_tap_cache(),
                 offline=offline, timeout_s=timeout_s)
    return _from_table(df, {}, Path(f"CSC 2.1 TAP (ObsID {obsid})"), single_source=False)
