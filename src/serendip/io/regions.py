"""Circular source regions, in sky or physical coordinates, and cutting them from event files.

A :class:`CircleRegion` is either

* sky: ``ra``, ``dec`` [deg] and ``radius`` [arcsec], mapped to the event file's
  physical pixels through the WCS of its ``x``/``y`` columns (``TCTYPn``, ``TCRVLn``,
  ``TCRPXn``, ``TCDLTn``), or
* physical: ``x``, ``y`` and ``radius`` [pixel] in the file's ``x``/``y`` columns.

:func:`extract_regions` reads a (full-field) event file once and cuts any number of
regions from it; each region costs one binary search on the x-sorted event positions
plus a mask over the events in its x-strip, never a pass over the whole file.

Region text (CLI ``--region`` and ds9 files) understood by :func:`parse_region`::

    228.48,-59.13,10"          sky: ra, dec [deg], radius [arcsec] (the " marks arcsec)
    sky:228.48,-59.13,10       sky: ra, dec [deg], radius [arcsec]
    phys:4096.5,4096.5,20      physical: x, y, radius [pixel]
    fk5;circle(228.48,-59.13,10")       ds9 sky circle (radius " / ' / d units)
    circle(15:13:55.6,-59:08:09,0.2')   ds9 sexagesimal sky circle
    physical;circle(4096.5,4096.5,20)   ds9 physical circle

A region file (``*.reg``) holds one such region per line (comments ``#`` and the
global/coordinate-system lines are understood; non-circle shapes are rejected).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from serendip.errors import InputError


@dataclass(frozen=True)
class CircleRegion:
    """A circle on the sky (``ra``, ``dec`` [deg], ``radius`` [arcsec]) or in physical pixels.

    Give either ``ra`` and ``dec`` (sky) or ``x`` and ``y`` (physical). ``name`` (optional)
    becomes the region part of the obsreg_id (``{OBS_ID}_{name}``); without it regions
    are numbered 1, 2, ... in the order given.
    """

    radius: float
    ra: float | None = None
    dec: float | None = None
    x: float | None = None
    y: float | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        sky = self.ra is not None and self.dec is not None
        phys = self.x is not None and self.y is not None
        if sky == phys:
            raise InputError(
                None, f"region needs either ra/dec or x/y (exactly one pair), got {self!r}"
            )
        vals = [self.radius, *((self.ra, self.dec) if sky else (self.x, self.y))]
        if not all(np.isfinite(float(v)) for v in vals):
            raise InputError(None, f"region has a non-finite value: {self!r}")
        if not float(self.radius) > 0:
            raise InputError(None, f"region radius must be > 0, got {self.radius}")
        if sky and not (-90.0 <= float(self.dec) <= 90.0):
            raise InputError(None, f"region dec must be within [-90, 90] deg, got {self.dec}")

    @property
    def is_sky(self) -> bool:
        return self.ra is not None

    @classmethod
    def sky(
        cls, ra: float, dec: float, radius_arcsec: float, name: str | None = None
    ) -> CircleRegion:
        """Sky circle: ``ra``, ``dec`` [deg], radius [arcsec]."""
        return cls(radius=float(radius_arcsec), ra=float(ra), dec=float(dec), name=name)

    @classmethod
    def physical(
        cls, x: float, y: float, radius_pix: float, name: str | None = None
    ) -> CircleRegion:
        """Physical circle: ``x``, ``y``, radius [pixel] in the event file's x/y columns."""
        return cls(radius=float(radius_pix), x=float(x), y=float(y), name=name)

    def describe(self) -> str:
        if self.is_sky:
            return f"circle(ra={self.ra:.6f} deg, dec={self.dec:.6f} deg, r={self.radius:g} arcsec)"
        return f"circle(x={self.x:g}, y={self.y:g}, r={self.radius:g} pix)"


# ------------------------------------------------------------------ parsing
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _angle(text: str, hours: bool) -> float:
    """Degrees from ``12.5`` or sexagesimal ``12:30:00`` (hours when ``hours``)."""
    text = text.strip()
    if ":" in text:
        parts = text.split(":")
        sign = -1.0 if parts[0].strip().startswith("-") else 1.0
        vals = [abs(float(parts[0]))] + [float(p) for p in parts[1:]]
        deg = (
            vals[0]
            + (vals[1] if len(vals) > 1 else 0) / 60
            + (vals[2] if len(vals) > 2 else 0) / 3600
        )
        return sign * deg * (15.0 if hours else 1.0)
    return float(text.rstrip("d"))


def _radius_arcsec(text: str) -> float:
    text = text.strip()
    if text.endswith('"'):
        return float(text[:-1])
    if text.endswith("'"):
        return float(text[:-1]) * 60.0
    if text.endswith("d"):
        return float(text[:-1]) * 3600.0
    return float(text)


def parse_region(text: str, name: str | None = None, system: str | None = None) -> CircleRegion:
    """One region from text (see the module docstring for the forms understood)."""
    raw = text
    t = text.strip()
    if "#" in t:
        t = t.split("#", 1)[0].strip()
    try:
        low = t.lower()
        if low.startswith(("sky:", "phys:", "physical:")):
            kind, rest = t.split(":", 1)
            a, b, r = (v.strip() for v in rest.split(","))
            if kind.lower() == "sky":
                return CircleRegion.sky(
                    _angle(a, ":" in a), _angle(b, False), _radius_arcsec(r), name
                )
            return CircleRegion.physical(float(a), float(b), float(r), name)
        if ";" in t:
            sys_part, t = t.rsplit(";", 1)
            system = sys_part.strip().lower().split(";")[-1]
            low = t.strip().lower()
        m = re.fullmatch(r"\s*circle\s*\(([^)]*)\)\s*", low)
        if m:
            a, b, r = (v.strip() for v in t[t.index("(") + 1 : t.rindex(")")].split(","))
            if system in ("physical", "image"):
                if system == "image":
                    raise InputError(
                        None, "image-coordinate regions are not supported; use physical or sky"
                    )
                return CircleRegion.physical(float(a), float(b), float(r), name)
            if system is None and not (":" in a or r.endswith(('"', "'", "d"))):
                # bare numbers with no coordinate system: ds9 reads them as physical
                return CircleRegion.physical(float(a), float(b), float(r), name)
            return CircleRegion.sky(_angle(a, ":" in a), _angle(b, False), _radius_arcsec(r), name)
        parts = [v.strip() for v in t.split(",")]
        if len(parts) == 3 and parts[2].endswith('"'):
            return CircleRegion.sky(
                _angle(parts[0], ":" in parts[0]),
                _angle(parts[1], False),
                _radius_arcsec(parts[2]),
                name,
            )
    except InputError:
        raise
    except (ValueError, IndexError) as exc:
        raise InputError(None, f"cannot parse region {raw!r}: {exc}") from exc
    raise InputError(
        None,
        f"cannot parse region {raw!r}; use 'RA,DEC,R\"' (deg, deg, arcsec), 'sky:RA,DEC,R_ARCSEC', "
        "'phys:X,Y,R_PIX', a ds9 circle or a .reg file",
    )


def read_region_file(path: str | Path) -> list[CircleRegion]:
    """All circles of a ds9 region file, named ``1, 2, ...`` unless a ``text={...}`` tag names them."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such region file")
    regions: list[CircleRegion] = []
    system: str | None = None
    for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        body = line.split("#", 1)[0].strip()
        if not body or body.lower().startswith("global"):
            continue
        low = body.lower()
        if low in ("fk5", "icrs", "fk4", "galactic", "ecliptic", "physical", "image", "j2000"):
            system = "fk5" if low == "j2000" else low
            if system in ("fk4", "galactic", "ecliptic"):
                raise InputError(
                    path, f"line {lineno}: only fk5/icrs sky or physical coordinates are supported"
                )
            continue
        if not re.match(r"^\s*(\w+\s*;\s*)?circle\s*\(", low):
            raise InputError(
                path, f"line {lineno}: only circle regions are supported, got {body!r}"
            )
        tag = re.search(r"text\s*=\s*\{([^}]*)\}", line)
        name = tag.group(1).strip() if tag else None
        try:
            regions.append(parse_region(body, name=name, system=system))
        except InputError as exc:
            raise InputError(path, f"line {lineno}: {exc.problem}") from exc
    if not regions:
        raise InputError(path, "region file holds no circle regions")
    return regions


def regions_from_text(items: list[str]) -> list[CircleRegion]:
    """Regions from CLI strings: each is a region or the path of a ``.reg`` file."""
    out: list[CircleRegion] = []
    for item in items:
        if item.lower().endswith(".reg") or Path(item).is_file():
            out.extend(read_region_file(item))
        else:
            out.append(parse_region(item))
    return out


# ------------------------------------------------------------------ WCS
@dataclass(frozen=True)
class SkyWCS:
    """Tangent-plane WCS of an event file's x/y columns (FITS 1-based physical pixels)."""

    crval: tuple[float, float]
    crpix: tuple[float, float]
    cdelt: tuple[float, float]
    ctype: tuple[str, str]

    def world_to_pixel(self, ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) physical pixels of sky positions ``ra``, ``dec`` [deg]."""
        from astropy.wcs import WCS

        w = WCS(naxis=2)
        w.wcs.ctype = list(self.ctype)
        w.wcs.crval = list(self.crval)
        w.wcs.crpix = list(self.crpix)
        w.wcs.cdelt = list(self.cdelt)
        x, y = w.all_world2pix(np.atleast_1d(ra), np.atleast_1d(dec), 1)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def pixel_to_world(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from astropy.wcs import WCS

        w = WCS(naxis=2)
        w.wcs.ctype = list(self.ctype)
        w.wcs.crval = list(self.crval)
        w.wcs.crpix = list(self.crpix)
        w.wcs.cdelt = list(self.cdelt)
        ra, dec = w.all_pix2world(np.atleast_1d(x), np.atleast_1d(y), 1)
        return np.asarray(ra), np.asarray(dec)

    @property
    def arcsec_per_pixel(self) -> float:
        return abs(float(self.cdelt[0])) * 3600.0


def wcs_from_header(header, xcol: str, ycol: str) -> SkyWCS | None:
    """The :class:`SkyWCS` of columns ``xcol``/``ycol`` from their ``TC*n`` keywords, or None."""
    names = [str(header.get(f"TTYPE{i}", "")) for i in range(1, int(header.get("TFIELDS", 0)) + 1)]
    try:
        ix = names.index(xcol) + 1
        iy = names.index(ycol) + 1
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
        return SkyWCS(
            crval=(float(vals["TCRVL"][0]), float(vals["TCRVL"][1])),
            crpix=(float(vals["TCRPX"][0]), float(vals["TCRPX"][1])),
            cdelt=(float(vals["TCDLT"][0]), float(vals["TCDLT"][1])),
            ctype=ctype,
        )
    except (TypeError, ValueError):
        return None


def regions_to_pixels(regions: list[CircleRegion], wcs: SkyWCS | None, path) -> np.ndarray:
    """(n_regions, 3) array of x, y, radius in physical pixels."""
    out = np.zeros((len(regions), 3))
    sky = np.array([r.is_sky for r in regions], dtype=bool)
    if sky.any():
        if wcs is None:
            raise InputError(
                path,
                "a sky region was given but the file has no sky WCS for its x/y columns "
                "(TCTYP/TCRVL/TCRPX/TCDLT); give the region in physical pixels instead",
            )
        ra = np.array([r.ra for r in regions if r.is_sky])
        dec = np.array([r.dec for r in regions if r.is_sky])
        x, y = wcs.world_to_pixel(ra, dec)
        out[sky, 0], out[sky, 1] = x, y
        out[sky, 2] = np.array([r.radius for r in regions if r.is_sky]) / wcs.arcsec_per_pixel
    if (~sky).any():
        out[~sky] = np.array([[r.x, r.y, r.radius] for r in regions if not r.is_sky])
    return out


class PositionIndex:
    """Events sorted by (row band of y, x), for cutting many circles from one event list cheaply.

    ``row_height`` [pixel] sets the y-band height; a circle then touches one to a few
    bands, and within each band the events in its x-range are one contiguous slice found
    by binary search, so a region costs about its own area, not a pass over the file.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, row_height: float = 32.0):
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        self.h = float(row_height)
        self.y0 = float(np.min(y)) if len(y) else 0.0
        row = np.floor((y - self.y0) / self.h).astype(np.int64) if len(y) else np.zeros(0, np.int64)
        self.order = np.lexsort((x, row))
        self.rows = row[self.order]
        self.xs = x[self.order]
        self.ys = y[self.order]
        self.n_rows = int(self.rows[-1]) + 1 if len(self.rows) else 0
        self.row_start = np.searchsorted(self.rows, np.arange(self.n_rows + 1))

    def inside(self, cx: float, cy: float, r: float) -> np.ndarray:
        """Indices (into the original, time-sorted arrays) of events within ``r`` of (cx, cy), sorted."""
        r0 = max(int(np.floor((cy - r - self.y0) / self.h)), 0)
        r1 = min(int(np.floor((cy + r - self.y0) / self.h)), self.n_rows - 1)
        parts = []
        for row in range(r0, r1 + 1):  # the few y-bands the circle touches
            a, b = self.row_start[row], self.row_start[row + 1]
            lo = a + int(np.searchsorted(self.xs[a:b], cx - r, side="left"))
            hi = a + int(np.searchsorted(self.xs[a:b], cx + r, side="right"))
            if hi > lo:
                dx = self.xs[lo:hi] - cx
                dy = self.ys[lo:hi] - cy
                parts.append(self.order[lo:hi][dx * dx + dy * dy <= r * r])
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.concatenate(parts) if len(parts) > 1 else parts[0])


def extract_regions(path, regions, band=(500.0, 7000.0), gain=None, keep_empty: bool = True):
    """Cut many regions from one event file, reading it once.

    Parameters
    ----------
    path : str or Path
        Event file (FITS, optionally gzipped) with ``x``/``y`` columns.
    regions : list of CircleRegion
        The regions; sky regions need the file's WCS.
    band : (float, float) or None
        Energy band [eV], inclusive; ``None`` keeps all energies.
    gain : (float, float) or None
        ``(ev_per_channel, offset_ev)`` for files with only a channel column.
    keep_empty : bool
        Regions without events after the cuts are returned with zero events (``True``)
        or left out (``False``).

    Returns
    -------
    list of EventFile
        One per region, in order; ``obsreg_id`` is ``{OBS_ID}_{name or n}`` (n from 1).
    """
    from serendip.io.eventfile import load_events

    raw = load_events(path, gain=gain)
    return raw.cut_regions(list(regions), band=band, keep_empty=keep_empty)
