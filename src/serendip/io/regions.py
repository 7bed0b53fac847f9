"""Source regions of any shape and frame, and cutting them from event files (vectorised).

Region files and texts are parsed by astropy's `regions <https://astropy-regions.readthedocs.io>`_
package (DS9 and CRTF; FITS region tables are read by :func:`read_fits_region_table`);
sky regions in any frame it knows (icrs, fk5, fk4, galactic, ecliptic, ...) are converted
through astropy coordinates and the event file's WCS to the file's sky pixels (the values
of its ``x``/``y`` columns). Pixel regions are either ``physical`` (the ``x``/``y`` column
values) or ``image`` (``physical - (TLMIN - 0.5)``: 1-based pixels of the full-resolution
image starting at the column's ``TLMIN``; for Chandra, whose ``TLMIN`` is 0.5, the two agree).

A :class:`SourceRegion` is one source: the union of its ``include`` shapes minus the union
of its ``exclude`` shapes, with an optional ``background`` shape. Shapes: circle, ellipse,
box (rectangle), polygon, circle annulus, ellipse annulus.

Selection is compiled (:func:`compile_regions`) to a :class:`PixelRegions` table of
pixel shapes whose membership tests are numpy expressions (``regions``' own ``contains``
costs about 3 ms per ellipse; these cost tens of microseconds), and applied through a
:class:`PositionIndex` so a region costs about its own area, not a pass over the file:
2,000 ellipses from the ObsID 754 evt2 take well under a second (benchmarks/bench_regions.py).

Region text understood by :func:`parse_region` (CLI ``--region``)::

    228.48,-59.13,10"             sky circle: ra, dec [deg, ICRS], radius [arcsec]
    sky:228.48,-59.13,10           sky circle: ra, dec [deg], radius [arcsec]
    phys:4096.5,4096.5,20          physical circle: x, y, radius [pixel]
    galactic;circle(320.3,-1.2,6") any single DS9 region line (frame;shape(...))

and a path to a ``.reg`` (DS9), ``.crtf`` (CASA) or FITS region file.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from serendip.errors import InputError

#: frames a DS9/CRTF sky region may use (anything astropy knows also works through CRTF)
SKY_FRAMES = ("icrs", "fk5", "fk4", "galactic", "ecliptic", "j2000", "b1950")
PIXEL_FRAMES = ("physical", "image")
#: DS9 shapes serendip can select events with
SHAPES = ("circle", "ellipse", "box", "polygon", "annulus")
_OTHER_DS9_SHAPES = ("point", "line", "vector", "text", "ruler", "compass", "projection",
                     "panda", "epanda", "bpanda", "segment", "composite")

KIND_ELLIPSE, KIND_BOX, KIND_POLYGON = 0, 1, 2


# ------------------------------------------------------------------ shapes
@dataclass(frozen=True)
class Shape:
    """One shape before it meets an event file: a ``regions`` object and its coordinate system.

    ``region`` is a ``regions`` sky or pixel region; ``system`` is ``"sky"``, ``"physical"``
    or ``"image"``; ``where`` names its origin (file and line) for error messages.
    """

    region: object
    system: str = "sky"
    where: str = ""

    def describe(self) -> str:
        """The shape in words, with its centre and size in the units it was given."""
        r = self.region
        name = type(r).__name__.replace("SkyRegion", "").replace("PixelRegion", "").lower()
        if self.system == "sky":
            c = r.center.icrs if hasattr(r, "center") else None
            pos = "" if c is None else f"ra={c.ra.deg:.6f}, dec={c.dec.deg:.6f}, frame={r.center.frame.name}"
            return f"{name}({pos})"
        c = getattr(r, "center", None)  # regions keeps pixels 0-based: the text's numbers minus 1
        pos = "" if c is None else f"x={c.x + 1:g}, y={c.y + 1:g} {self.system}"
        return f"{name}({pos})"


@dataclass(frozen=True)
class SourceRegion:
    """One source: union of ``include`` shapes minus union of ``exclude`` shapes.

    ``name`` becomes the region part of the obsreg_id (``{OBS_ID}_{name}``); without it regions
    are numbered 1, 2, ... in the order given. ``background`` (optional) is recorded and
    counted for later stages.
    """

    include: tuple[Shape, ...]
    exclude: tuple[Shape, ...] = ()
    name: str | None = None
    background: tuple[Shape, ...] = ()

    def __post_init__(self) -> None:
        if not self.include:
            raise InputError(None, "a source region needs at least one include shape")

    @classmethod
    def sky(cls, ra: float, dec: float, radius_arcsec: float, name: str | None = None,
            frame: str = "icrs") -> SourceRegion:
        """Sky circle: ``ra``, ``dec`` [deg] in ``frame`` (lon/lat for galactic), radius [arcsec];
        each may also be an astropy Quantity (``5 * u.arcsec``, ``0.1 * u.arcmin``)."""
        import astropy.units as u
        from astropy.coordinates import SkyCoord
        from regions import CircleSkyRegion

        ra, dec = (v.to_value(u.deg) if hasattr(v, "unit") else v for v in (ra, dec))
        if hasattr(radius_arcsec, "unit"):
            radius_arcsec = radius_arcsec.to_value(u.arcsec)

        _check_circle(radius_arcsec, dec)
        c = SkyCoord(float(ra) * u.deg, float(dec) * u.deg, frame=frame)
        return cls((Shape(CircleSkyRegion(c, float(radius_arcsec) * u.arcsec), "sky"),), name=name)

    @classmethod
    def physical(cls, x: float, y: float, radius_pix: float, name: str | None = None) -> SourceRegion:
        """Physical circle: ``x``, ``y``, radius [pixel] in the event file's x/y columns."""
        from regions import CirclePixelRegion, PixCoord

        _check_circle(radius_pix, None, x, y)
        # stored like the DS9 reader stores pixels: 0-based (compile_regions adds the 1 back)
        reg = CirclePixelRegion(PixCoord(float(x) - 1.0, float(y) - 1.0), float(radius_pix))
        return cls((Shape(reg, "physical"),), name=name)

    @property
    def is_sky(self) -> bool:
        """True when any include shape is in sky coordinates."""
        return any(s.system == "sky" for s in self.include)

    # -- the first include shape's centre and size, in the units it was given
    @property
    def _first(self):
        return self.include[0].region

    @property
    def ra(self) -> float | None:
        """Longitude [deg] of the first shape's centre in its own frame (RA for icrs/fk5/fk4,
        l for galactic); None for a pixel region."""
        return float(self._first.center.spherical.lon.deg) if self.include[0].system == "sky" else None

    @property
    def dec(self) -> float | None:
        """Latitude [deg] of the first shape's centre in its own frame; None for a pixel region."""
        return float(self._first.center.spherical.lat.deg) if self.include[0].system == "sky" else None

    @property
    def x(self) -> float | None:
        """x of the first shape's centre [pixel, as written]; None for a sky region."""
        return None if self.include[0].system == "sky" else float(self._first.center.x) + 1.0

    @property
    def y(self) -> float | None:
        """Physical y pixel (1-based) of the first include shape's centre; None for sky shapes."""
        return None if self.include[0].system == "sky" else float(self._first.center.y) + 1.0

    @property
    def radius(self) -> float | None:
        """Radius of a circle (outer radius of an annulus): arcsec for sky, pixels for pixel
        regions; None for other shapes."""
        r = getattr(self._first, "radius", getattr(self._first, "outer_radius", None))
        if r is None:
            return None
        return float(r.to_value("arcsec")) if hasattr(r, "unit") else float(r)

    def describe(self) -> str:
        """The region in words: include shapes joined by ``+``, exclusions by ``-``."""
        text = " + ".join(s.describe() for s in self.include)
        if self.exclude:
            text += " - " + " - ".join(s.describe() for s in self.exclude)
        return text


#: the old name: a circle is a :class:`SourceRegion` made by ``.sky()`` or ``.physical()``
CircleRegion = SourceRegion


def _check_circle(radius, dec=None, *xy) -> None:
    vals = [radius, *(v for v in (dec, *xy) if v is not None)]
    if not all(np.isfinite(float(v)) for v in vals):
        raise InputError(None, f"region has a non-finite value: {vals}")
    if not float(radius) > 0:
        raise InputError(None, f"region radius must be > 0, got {radius}")
    if dec is not None and not -90.0 <= float(dec) <= 90.0:
        raise InputError(None, f"region dec must be within [-90, 90] deg, got {dec}")


# ------------------------------------------------------------------ parsing (regions package)
_SHAPE_RE = re.compile(r"^\s*([-+!]?)\s*([a-z]+)\s*\(", re.I)


def _parse_ds9_line(frame: str, body: str, where: str, path) -> list[Shape]:
    """One DS9 shape line (in ``frame``) through ``regions``; errors name file, line and shape."""
    from regions import Regions

    m = _SHAPE_RE.match(body)
    shape = m.group(2).lower() if m else body.split("(", 1)[0].strip()
    if shape not in SHAPES:
        kind = "is not a region an event can be inside" if shape in _OTHER_DS9_SHAPES else "is unknown"
        raise InputError(path, f"{where}: shape {shape!r} {kind} (supported: {', '.join(SHAPES)})")
    system = "sky" if frame in SKY_FRAMES else frame
    text = f"{'image' if system != 'sky' else frame};{body}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            found = list(Regions.parse(text, format="ds9"))
        except Exception as exc:  # noqa: BLE001 - the parser raises many kinds
            raise InputError(path, f"{where}: cannot parse {shape} {body!r}: {exc}") from exc
    if not found:
        why = "; ".join(str(w.message) for w in caught) or "nothing parsed"
        raise InputError(path, f"{where}: cannot parse {shape} {body!r} in frame {frame}: {why}")
    for r in found:
        _check_values(r, f"{where}: {shape} {body!r}", path)
    return [Shape(r, system, where) for r in found]


def _check_values(r, what: str, path) -> None:
    """Every number of a parsed region finite, every size > 0, latitudes within +-90 deg."""
    for name in ("radius", "inner_radius", "outer_radius", "width", "height", "inner_width",
                 "inner_height", "outer_width", "outer_height"):
        v = getattr(r, name, None)
        if v is None:
            continue
        val = float(v.to_value("deg")) if hasattr(v, "unit") else float(v)
        if not (np.isfinite(val) and val > 0):
            raise InputError(path, f"{what}: {name} must be a finite number > 0, got {val}")
    c = getattr(r, "center", None)
    vals = []
    if c is not None and hasattr(c, "spherical"):
        vals = [c.spherical.lon.deg, c.spherical.lat.deg]
    elif c is not None:
        vals = [c.x, c.y]
    elif hasattr(r, "vertices"):
        v = r.vertices
        vals = list(np.ravel(getattr(v, "x", []))) + list(np.ravel(getattr(v, "y", [])))
    if not all(np.isfinite(np.asarray(vals, float))):
        raise InputError(path, f"{what}: position is not finite")


def read_ds9(text: str, path: str | Path | None = None, default_frame: str | None = None) -> list[SourceRegion]:
    """Source regions of a DS9 region text: each include shape is one source, exclusions
    (``-shape``) are removed from every source; ``# text={name}`` names a source and
    ``# background`` marks a background shape (given to every source)."""
    frame = default_frame
    includes: list[tuple[Shape, str | None]] = []
    excludes: list[Shape] = []
    background: list[Shape] = []
    src = path or "region"
    for lineno, line in enumerate(text.splitlines(), 1):
        body, _, comment = line.partition("#")
        for part in (p.strip() for p in body.split(";")):
            if not part:
                continue
            low = part.lower()
            if low.startswith("global") or low.startswith("region file format"):
                continue
            word = low.split("(", 1)[0].strip()
            if "(" not in low:
                if word in SKY_FRAMES or word in PIXEL_FRAMES:
                    frame = word
                    continue
                raise InputError(path, f"line {lineno}: unknown coordinate frame or keyword {part!r} "
                                 f"(frames: {', '.join(SKY_FRAMES + PIXEL_FRAMES)})")
            where = f"line {lineno}"
            if frame is None:
                # bare numbers and no frame: DS9 reads them as physical pixels
                frame = "physical"
            shapes = _parse_ds9_line(frame, part, where, path)
            tag = re.search(r"text\s*=\s*[{\"']([^}\"']*)", comment)
            is_bkg = "background" in comment.lower()
            for s in shapes:
                if not s.region.meta.get("include", True):
                    excludes.append(s)
                elif is_bkg:
                    background.append(s)
                else:
                    includes.append((s, tag.group(1).strip() if tag else None))
    if not includes:
        raise InputError(src, "region file holds no include region")
    return [SourceRegion((s,), tuple(excludes), name, tuple(background)) for s, name in includes]


def read_crtf(path: Path) -> list[SourceRegion]:
    """Source regions of a CASA CRTF file (each include shape one source, exclusions on all)."""
    from regions import Regions

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            found = list(Regions.read(str(path), format="crtf"))
        except Exception as exc:  # noqa: BLE001
            raise InputError(path, f"cannot parse CRTF region file: {exc}") from exc
    if caught:
        raise InputError(path, "; ".join(str(w.message) for w in caught))
    for i, r in enumerate(found, 1):
        if not hasattr(r, "to_pixel"):
            raise InputError(path, f"region {i} ({type(r).__name__}) is in CRTF pixel coordinates; give "
                             "CRTF regions in sky coordinates (coord=ICRS, J2000, B1950, GALACTIC, ...) "
                             "or use a DS9 physical region")
    shapes = [Shape(r, "sky", f"region {i}") for i, r in enumerate(found, 1)]
    inc = [s for s in shapes if s.region.meta.get("include", True)]
    exc_ = tuple(s for s in shapes if not s.region.meta.get("include", True))
    if not inc:
        raise InputError(path, "region file holds no include region")
    return [SourceRegion((s,), exc_) for s in inc]


def is_fits_file(path: Path) -> bool:
    """True when the file (gzip-compressed or not) starts with the FITS signature ``SIMPLE  =``."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(9)
    except OSError:
        return False
    if head[:2] == b"\x1f\x8b":
        import gzip

        with gzip.open(path, "rb") as fh:
            head = fh.read(9)
    return head == b"SIMPLE  ="


def read_region_file(path: str | Path, extension: str | None = None) -> list[SourceRegion]:
    """All source regions of a DS9 (``.reg``), CRTF (``.crtf``) or FITS region file (gzip read
    transparently). A FITS region table (``SHAPE``, ``X``, ``Y``, ``R``, ``ROTANG``,
    ``COMPONENT``) becomes one source per component (see :func:`read_fits_region_table`)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such region file")
    if is_fits_file(path):
        from serendip.io.sourcelists import read_fits_region_table

        return read_fits_region_table(path, extension=extension).to_source_regions()
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        import gzip

        raw = gzip.decompress(raw)
    text = raw.decode(errors="replace")
    if text.lstrip().startswith("#CRTF") or path.suffix.lower() == ".crtf":
        return read_crtf(path)
    return read_ds9(text, path)


def parse_region(text: str, name: str | None = None) -> SourceRegion:
    """One region from text (see the module docstring for the forms understood)."""
    t = text.strip()
    low = t.lower()
    try:
        if low.startswith(("sky:", "phys:", "physical:")):
            kind, rest = t.split(":", 1)
            a, b, r = (v.strip() for v in rest.split(","))
            if kind.lower() == "sky":
                return SourceRegion.sky(_angle(a, ":" in a), _angle(b, False), float(r), name)
            return SourceRegion.physical(float(a), float(b), float(r), name)
        if "(" not in t:
            parts = [v.strip() for v in t.split(",")]
            if len(parts) == 3 and parts[2].endswith('"'):
                return SourceRegion.sky(_angle(parts[0], ":" in parts[0]), _angle(parts[1], False),
                                        float(parts[2][:-1]), name)
    except InputError:
        raise
    except (ValueError, IndexError) as exc:
        raise InputError(None, f"cannot parse region {text!r}: {exc}") from exc
    if "(" in t:
        regs = read_ds9(t, path=f"region {text!r}")
        if name is not None:
            regs = [SourceRegion(r.include, r.exclude, name, r.background) for r in regs]
        if len(regs) != 1:
            raise InputError(None, f"region text {text!r} holds {len(regs)} regions, expected one")
        return regs[0]
    raise InputError(
        None,
        f"cannot parse region {text!r}; use 'RA,DEC,R\"' (deg, deg, arcsec), 'sky:RA,DEC,R_ARCSEC', "
        "'phys:X,Y,R_PIX', a DS9 region such as 'galactic;circle(L,B,R\")' or a region file",
    )


def _angle(text: str, hours: bool) -> float:
    """Degrees from ``12.5`` or sexagesimal ``12:30:00`` (hours when ``hours``)."""
    from astropy.coordinates import Angle

    text = text.strip()
    if ":" in text:
        return float(Angle(text, unit="hourangle" if hours else "deg").deg)
    return float(text.rstrip("d"))


def regions_from_text(items: list[str]) -> list[SourceRegion]:
    """Regions from CLI strings: each is a region or the path of a region file."""
    out: list[SourceRegion] = []
    for item in items:
        p = Path(item)
        if p.is_file():
            out.extend(read_region_file(p))
        elif item.lower().endswith((".reg", ".crtf", ".fits", ".fits.gz")):
            raise InputError(item, "no such region file")
        else:
            out.append(parse_region(item))
    return out


# ------------------------------------------------------------------ WCS
def event_wcs(header, xcol: str, ycol: str):
    """astropy WCS of columns ``xcol``/``ycol`` (``TCTYPn``/``TCRVLn``/``TCRPXn``/``TCDLTn``,
    ``RADESYS``/``EQUINOX``) whose 0-based pixel coordinates ARE the column values
    (``crpix`` + 1: astropy counts pixels from 0, FITS from 1); None when the columns have no celestial WCS."""
    from astropy.wcs import WCS

    names = [str(header.get(f"TTYPE{i}", "")).strip() for i in range(1, int(header.get("TFIELDS", 0)) + 1)]
    try:
        ix, iy = names.index(xcol) + 1, names.index(ycol) + 1
    except ValueError:
        return None
    vals = {}
    for key in ("TCTYP", "TCRVL", "TCRPX", "TCDLT"):
        vx, vy = header.get(f"{key}{ix}"), header.get(f"{key}{iy}")
        if vx is None or vy is None:
            return None
        vals[key] = (vx, vy)
    ctype = (str(vals["TCTYP"][0]).strip(), str(vals["TCTYP"][1]).strip())
    if not (ctype[0].upper().startswith("RA") and ctype[1].upper().startswith("DEC")):
        return None
    try:
        w = WCS(naxis=2)
        w.wcs.ctype = list(ctype)
        w.wcs.crval = [float(v) for v in vals["TCRVL"]]
        w.wcs.crpix = [float(v) + 1.0 for v in vals["TCRPX"]]
        w.wcs.cdelt = [float(v) for v in vals["TCDLT"]]
        radesys = header.get("RADESYS", header.get("RADECSYS"))
        if radesys:
            w.wcs.radesys = str(radesys).strip()
        if header.get("EQUINOX") is not None:
            w.wcs.equinox = float(header["EQUINOX"])
        w.wcs.set()
    except (TypeError, ValueError):
        return None
    return w


def arcsec_per_pixel(wcs) -> float:
    """Pixel size [arcsec] of an astropy WCS (first axis)."""
    return float(abs(wcs.wcs.cdelt[0]) * 3600.0)


# ------------------------------------------------------------------ compiled pixel shapes
@dataclass
class PixelRegions:
    """Sources as vectorised pixel shapes in one event file's physical pixels.

    Shape arrays (one row per shape): ``src`` (source index), ``include`` (bool),
    ``kind`` (0 ellipse, 1 box, 2 polygon), centre ``cx``, ``cy``, outer half-axes ``a``,
    ``b``, inner half-axes ``a_in``, ``b_in`` (0 when not an annulus), ``theta`` [deg, from
    +x counter-clockwise]; ``polygons`` maps a shape row to its (k, 2) vertices. ``names``
    (n_sources,) and ``descriptions``; ``background``: another PixelRegions (one background
    source per source) or None.
    """

    names: list
    descriptions: list
    src: np.ndarray
    include: np.ndarray
    kind: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    a: np.ndarray
    b: np.ndarray
    a_in: np.ndarray
    b_in: np.ndarray
    theta: np.ndarray
    polygons: dict = field(default_factory=dict)
    background: PixelRegions | None = None

    @property
    def n_sources(self) -> int:
        """Number of sources (regions) compiled."""
        return len(self.names)

    def bboxes(self) -> np.ndarray:
        """(n_shapes, 4) xmin, xmax, ymin, ymax of each shape."""
        t = np.deg2rad(self.theta)
        c, s = np.abs(np.cos(t)), np.abs(np.sin(t))
        ell = self.kind == KIND_ELLIPSE
        hx = np.where(ell, np.sqrt((self.a * c) ** 2 + (self.b * s) ** 2), self.a * c + self.b * s)
        hy = np.where(ell, np.sqrt((self.a * s) ** 2 + (self.b * c) ** 2), self.a * s + self.b * c)
        out = np.c_[self.cx - hx, self.cx + hx, self.cy - hy, self.cy + hy]
        for i, v in self.polygons.items():
            out[i] = [v[:, 0].min(), v[:, 0].max(), v[:, 1].min(), v[:, 1].max()]
        return out

    def shape_contains(self, i: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Mask of points (x, y) inside shape row ``i`` (boundary included; annulus holes open)."""
        if self.kind[i] == KIND_POLYGON:
            from matplotlib.path import Path as MplPath

            return MplPath(self.polygons[i]).contains_points(np.c_[x, y], radius=1e-9)
        t = np.deg2rad(self.theta[i])
        dx, dy = x - self.cx[i], y - self.cy[i]
        u = dx * np.cos(t) + dy * np.sin(t)
        v = -dx * np.sin(t) + dy * np.cos(t)
        a, b, ai, bi = self.a[i], self.b[i], self.a_in[i], self.b_in[i]
        if self.kind[i] == KIND_ELLIPSE:
            inside = (u / a) ** 2 + (v / b) ** 2 <= 1.0
            if ai > 0:
                inside &= (u / ai) ** 2 + (v / bi) ** 2 > 1.0
            return inside
        inside = (np.abs(u) <= a) & (np.abs(v) <= b)
        if ai > 0:
            inside &= ~((np.abs(u) < ai) & (np.abs(v) < bi))
        return inside

    def areas(self) -> np.ndarray:
        """Geometric area [pixel^2] of each source: include shapes summed (overlaps and
        exclusions not subtracted)."""
        area = np.where(self.kind == KIND_ELLIPSE, np.pi * (self.a * self.b - self.a_in * self.b_in),
                        4.0 * (self.a * self.b - self.a_in * self.b_in))
        for i, v in self.polygons.items():
            x, y = v[:, 0], v[:, 1]
            area[i] = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
        return np.bincount(self.src[self.include], weights=area[self.include], minlength=self.n_sources)


def ellipse_regions(names, descriptions, cx, cy, a, b, theta, src=None, include=None,
                    a_in=None, b_in=None) -> PixelRegions:
    """A :class:`PixelRegions` of ellipses (circles: ``a == b``) from arrays (pixels, degrees)."""
    n = len(cx)
    z = np.zeros(n)
    return PixelRegions(
        list(names), list(descriptions),
        np.arange(n) if src is None else np.asarray(src, dtype=np.int64),
        np.ones(n, bool) if include is None else np.asarray(include, bool),
        np.full(n, KIND_ELLIPSE, np.int8),
        np.asarray(cx, float), np.asarray(cy, float), np.asarray(a, float), np.asarray(b, float),
        z.copy() if a_in is None else np.asarray(a_in, float),
        z.copy() if b_in is None else np.asarray(b_in, float),
        np.asarray(theta, float),
    )


def _pixel_row(shape: Shape, wcs, offset: tuple[float, float], path) -> tuple:
    """(kind, cx, cy, a, b, a_in, b_in, theta_deg, vertices) of one shape in physical pixels."""
    from regions import (
        CircleAnnulusPixelRegion,
        CirclePixelRegion,
        EllipseAnnulusPixelRegion,
        EllipsePixelRegion,
        PolygonPixelRegion,
        RectangleAnnulusPixelRegion,
        RectanglePixelRegion,
    )

    r = shape.region
    if shape.system == "sky":
        if wcs is None:
            raise InputError(path, f"{shape.where + ': ' if shape.where else ''}a sky region was given but the file "
                             "has no sky WCS for its x/y columns (TCTYP/TCRVL/TCRPX/TCDLT); give it in physical pixels")
        try:
            r = r.to_pixel(wcs)
        except Exception as exc:  # noqa: BLE001
            raise InputError(path, f"{shape.where}: cannot convert {shape.describe()} to pixels: {exc}") from exc
        dx = dy = 0.0
    else:
        # regions made DS9's 1-based pixel numbers 0-based: add 1 back (physical values),
        # and the image origin for image coordinates
        dx, dy = (1.0 + offset[0], 1.0 + offset[1]) if shape.system == "image" else (1.0, 1.0)
    ang = float(getattr(r, "angle", 0.0 * _deg()).to_value("deg")) if hasattr(r, "angle") else 0.0
    if isinstance(r, PolygonPixelRegion):
        v = np.c_[np.asarray(r.vertices.x, float) + dx, np.asarray(r.vertices.y, float) + dy]
        return (KIND_POLYGON, float(v[:, 0].mean()), float(v[:, 1].mean()), 0.0, 0.0, 0.0, 0.0, 0.0, v)
    cx, cy = float(r.center.x) + dx, float(r.center.y) + dy
    if isinstance(r, CirclePixelRegion):
        return (KIND_ELLIPSE, cx, cy, r.radius, r.radius, 0.0, 0.0, 0.0, None)
    if isinstance(r, EllipsePixelRegion):
        return (KIND_ELLIPSE, cx, cy, r.width / 2, r.height / 2, 0.0, 0.0, ang, None)
    if isinstance(r, RectanglePixelRegion):
        return (KIND_BOX, cx, cy, r.width / 2, r.height / 2, 0.0, 0.0, ang, None)
    if isinstance(r, CircleAnnulusPixelRegion):
        return (KIND_ELLIPSE, cx, cy, r.outer_radius, r.outer_radius, r.inner_radius, r.inner_radius, 0.0, None)
    if isinstance(r, EllipseAnnulusPixelRegion):
        return (KIND_ELLIPSE, cx, cy, r.outer_width / 2, r.outer_height / 2, r.inner_width / 2,
                r.inner_height / 2, ang, None)
    if isinstance(r, RectangleAnnulusPixelRegion):
        return (KIND_BOX, cx, cy, r.outer_width / 2, r.outer_height / 2, r.inner_width / 2,
                r.inner_height / 2, ang, None)
    raise InputError(path, f"{shape.where}: shape {type(r).__name__} cannot select events")


def _deg():
    import astropy.units as u

    return u.deg


def compile_regions(regions: list[SourceRegion], wcs, offset=(0.0, 0.0), path=None) -> PixelRegions:
    """:class:`PixelRegions` of ``regions`` in one event file's physical pixels.

    ``wcs`` is :func:`event_wcs` of the file (None: no sky regions possible); ``offset``
    (x, y) turns image into physical pixels (``TLMIN - 0.5``)."""
    rows, src, inc, names, desc, bkg_rows = [], [], [], [], [], []
    for k, reg in enumerate(regions):
        names.append(reg.name)
        desc.append(reg.describe())
        for s in reg.include:
            rows.append(_pixel_row(s, wcs, offset, path)); src.append(k); inc.append(True)  # noqa: E702
        for s in reg.exclude:
            rows.append(_pixel_row(s, wcs, offset, path)); src.append(k); inc.append(False)  # noqa: E702
        for s in reg.background:
            bkg_rows.append((k, _pixel_row(s, wcs, offset, path)))
    out = _from_rows(names, desc, rows, src, inc)
    if bkg_rows:
        out.background = _from_rows(names, [f"background of {d}" for d in desc],
                                    [r for _, r in bkg_rows], [k for k, _ in bkg_rows], [True] * len(bkg_rows))
    return out


def _from_rows(names, desc, rows, src, inc) -> PixelRegions:
    cols = list(zip(*rows, strict=True)) if rows else [[]] * 9
    out = PixelRegions(
        names, desc, np.asarray(src, np.int64), np.asarray(inc, bool), np.asarray(cols[0], np.int8),
        *(np.asarray(cols[i], float) for i in range(1, 8)),
    )
    out.polygons = {i: r[8] for i, r in enumerate(rows) if r[8] is not None}
    return out


# ------------------------------------------------------------------ selection
class PositionIndex:
    """Events sorted by (row band of y, x), for cutting many regions from one event list cheaply.

    ``row_height`` [pixel] sets the y-band height; a region's bounding box then touches one
    to a few bands, and within each band the events in its x-range are one contiguous slice
    found by binary search, so a region costs about its own area, not a pass over the file.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, row_height: float = 32.0):
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        self.h = float(row_height)
        ok = np.isfinite(x) & np.isfinite(y)
        self.y0 = float(np.min(y[ok])) if ok.any() else 0.0
        row = np.floor((np.where(ok, y, self.y0) - self.y0) / self.h).astype(np.int64)
        row[~ok] = -1  # never inside a region
        self.order = np.lexsort((x, row))
        self.rows = row[self.order]
        self.xs = x[self.order]
        self.ys = y[self.order]
        self.n_rows = int(self.rows[-1]) + 1 if len(self.rows) else 0
        self.row_start = np.searchsorted(self.rows, np.arange(self.n_rows + 1))
        self.x_lo = float(np.min(x[ok])) if ok.any() else 0.0
        self._keys = None

    def keys(self) -> tuple[np.ndarray, float]:
        """(sorted key ``band * (width + 1) + x - x_lo`` of every event, width): one binary
        search on it finds a box's x-range within a y-band (events without a position sort
        first, at negative keys)."""
        if self._keys is None:
            width = float(np.max(self.xs[self.rows >= 0]) - self.x_lo) + 1.0 if len(self.xs) else 1.0
            self._keys = (self.rows * (width + 1.0) + (self.xs - self.x_lo), width)
        return self._keys

    def in_box(self, xmin: float, xmax: float, ymin: float, ymax: float) -> np.ndarray:
        """Indices (into the original arrays) of events inside a box, unsorted."""
        r0 = max(int(np.floor((ymin - self.y0) / self.h)), 0)
        r1 = min(int(np.floor((ymax - self.y0) / self.h)), self.n_rows - 1)
        parts = []
        for row in range(r0, r1 + 1):  # the few y-bands the box touches
            a, b = self.row_start[row], self.row_start[row + 1]
            lo = a + int(np.searchsorted(self.xs[a:b], xmin, side="left"))
            hi = a + int(np.searchsorted(self.xs[a:b], xmax, side="right"))
            if hi > lo:
                ys = self.ys[lo:hi]
                parts.append(self.order[lo:hi][(ys >= ymin) & (ys <= ymax)])
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def inside(self, cx: float, cy: float, r: float) -> np.ndarray:
        """Indices of events within ``r`` of (cx, cy), sorted."""
        idx = self.in_box(cx - r, cx + r, cy - r, cy + r)
        xs, ys = self._x[idx], self._y[idx]
        return np.sort(idx[(xs - cx) ** 2 + (ys - cy) ** 2 <= r * r])

    @property
    def _x(self):
        out = np.empty_like(self.xs)
        out[self.order] = self.xs
        return out

    @property
    def _y(self):
        out = np.empty_like(self.ys)
        out[self.order] = self.ys
        return out


def _pairs_in_boxes(index: PositionIndex, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (box number, event index) pairs with the event inside the box, for every box at
    once: one vectorised binary search per (box, y-band) pair on a combined (band, x) key."""
    if not len(boxes) or not len(index.xs):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    h, y0 = index.h, index.y0
    r0 = np.clip(np.floor((boxes[:, 2] - y0) / h).astype(np.int64), 0, max(index.n_rows - 1, 0))
    r1 = np.clip(np.floor((boxes[:, 3] - y0) / h).astype(np.int64), -1, index.n_rows - 1)
    nrow = np.maximum(r1 - r0 + 1, 0)
    box = np.repeat(np.arange(len(boxes)), nrow)
    row = np.repeat(r0, nrow) + (np.arange(nrow.sum()) - np.repeat(np.cumsum(nrow) - nrow, nrow))
    key, width = index.keys()
    xmin = np.clip(boxes[box, 0] - index.x_lo, -0.5, width)
    xmax = np.clip(boxes[box, 1] - index.x_lo, -0.5, width)
    lo = np.searchsorted(key, row * (width + 1.0) + xmin, side="left")
    hi = np.searchsorted(key, row * (width + 1.0) + xmax, side="right")
    n = np.maximum(hi - lo, 0)
    pos = np.repeat(lo, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    owner = np.repeat(box, n)
    ys = index.ys[pos]
    ok = (ys >= boxes[owner, 2]) & (ys <= boxes[owner, 3])
    return owner[ok], index.order[pos[ok]]


def _inside_pairs(pr: PixelRegions, shape: np.ndarray, ev: np.ndarray, x, y) -> np.ndarray:
    """Mask of (shape row, event) pairs with the event inside the shape, vectorised by kind."""
    out = np.zeros(len(shape), bool)
    poly = pr.kind[shape] == KIND_POLYGON
    if (~poly).any():
        s, e = shape[~poly], ev[~poly]
        t = np.deg2rad(pr.theta)
        c, sn = np.cos(t)[s], np.sin(t)[s]
        dx, dy = x[e] - pr.cx[s], y[e] - pr.cy[s]
        u = dx * c + dy * sn
        v = dy * c - dx * sn
        ell = (pr.kind == KIND_ELLIPSE)[s]
        hole = (pr.a_in > 0)[s]
        with np.errstate(divide="ignore", invalid="ignore"):
            un, vn = u * (1.0 / pr.a)[s], v * (1.0 / pr.b)[s]
            q = un * un + vn * vn
            inside = q <= 1.0 if ell.all() else np.where(ell, q <= 1.0, (np.abs(un) <= 1.0) & (np.abs(vn) <= 1.0))
            if hole.any():
                ra_, rb_ = pr.a_in / pr.a, pr.b_in / pr.b
                # an elliptical hole of the same shape (a background annulus): q > ratio^2
                similar = ((pr.kind == KIND_ELLIPSE) & (np.abs(ra_ - rb_) < 1e-12))[s]
                fast = hole & similar
                inside[fast] &= q[fast] > (ra_ * ra_)[s][fast]
                h = np.flatnonzero(hole & ~similar)
                if len(h):
                    sh = s[h]
                    uh, vh = u[h], v[h]
                    in_hole = np.where(ell[h], (uh / pr.a_in[sh]) ** 2 + (vh / pr.b_in[sh]) ** 2 <= 1.0,
                                       (np.abs(uh) < pr.a_in[sh]) & (np.abs(vh) < pr.b_in[sh]))
                    inside[h] &= ~in_hole
        out[~poly] = inside
    for i in np.unique(shape[poly]):
        m = poly & (shape == i)
        out[m] = pr.shape_contains(int(i), x[ev[m]], y[ev[m]])
    return out


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """``np.unique`` of an integer array by sorting (numpy 2's hash-based unique is several
    times slower on millions of int64 keys here)."""
    a = np.sort(a)
    if len(a) > 1:
        a = a[np.r_[True, a[1:] != a[:-1]]]
    return a


def select(pr: PixelRegions, x: np.ndarray, y: np.ndarray, index: PositionIndex | None = None) -> list[np.ndarray]:
    """For each source of ``pr``: sorted indices of the events (x, y) inside it (in any include
    shape and in no exclude shape). Vectorised over all shapes at once."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if index is None:
        index = PositionIndex(x, y, row_height=default_row_height(pr))
    shape, ev = _pairs_in_boxes(index, pr.bboxes())
    keep = _inside_pairs(pr, shape, ev, x, y)
    shape, ev = shape[keep], ev[keep]
    n_ev = max(len(x), 1)
    src = pr.src[shape]
    inc = pr.include[shape]
    key_in = sorted_unique(src[inc] * n_ev + ev[inc])  # one per (source, event)
    if (~inc).any():
        out = sorted_unique(src[~inc] * n_ev + ev[~inc])
        pos = np.clip(np.searchsorted(out, key_in), 0, len(out) - 1)
        key_in = key_in[out[pos] != key_in]
    bounds = np.searchsorted(key_in, np.arange(pr.n_sources + 1) * n_ev)
    events = key_in - (key_in // n_ev) * n_ev
    return [events[bounds[k] : bounds[k + 1]] for k in range(pr.n_sources)]


def default_row_height(pr: PixelRegions) -> float:
    """y-band height of a :class:`PositionIndex` for these regions: about two typical heights."""
    if not len(pr.cy):
        return 32.0
    bb = pr.bboxes()
    return float(np.clip(np.median(bb[:, 3] - bb[:, 2]), 4, 1024))
