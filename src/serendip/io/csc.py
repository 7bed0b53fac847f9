"""Chandra Source Catalog per-region products: pair each ``regevt3`` with its ``reg3``.

File names follow ``{acisf|hrcf}{OBSID:05d}_{OBI:03d}N{VER:03d}_r{REGION:04d}_{product}.fits[.gz]``.
The event file (``regevt3``) and the region file (``reg3``) of one source often carry
different version numbers, so they are paired by OBSID and REGION. The ``reg3`` file holds
one binary table per energy band (``ECF90REGB``, ``ECF90REGU``, ``ECF90REGS``,
``ECF90REGM``, ``ECF90REGH``, ``ECF90REGW`` for HRC): the 90%-ECF source region in sky
pixels (``SHAPE``, ``X``, ``Y``, ``R``, ``ROTANG``, ``COMPONENT``; ``!``-prefixed rows are
exclusions). Each pair becomes one source named ``OBSID_REGION`` (``23022_122``), as in the
reference pipeline and its list of bona fide transients. The ``BKGREG`` table of the ``reg3``
file, when present, is the source's background region (an annulus with overlapping sources
excluded; the ``regevt3`` file holds its events too): its events give the source's background
light curve and the own-background test (:mod:`serendip.io.background`); without it the
default annulus of 1.5-4 x the source region is used, with a notice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CSC_NAME = re.compile(
    r"^(?P<inst>acisf|hrcf)(?P<obsid>\d{5})_(?P<obi>\d{3})N(?P<ver>\d{3})_r(?P<region>\d{4})_"
    r"(?P<product>[a-z0-9]+)\.fits?(\.gz)?$",
    re.I,
)
#: CSC energy bands whose 90%-ECF region may be applied (B: broad 0.5-7 keV, the default)
CSC_BANDS = ("b", "u", "s", "m", "h", "w")
DEFAULT_CSC_BAND = "b"


@dataclass(frozen=True)
class CSCName:
    """The parts of a CSC per-region product name."""

    instrument: str
    obsid: int
    obi: int
    version: int
    region: int
    product: str

    @property
    def obsreg_id(self) -> str:
        """The source's id, ``<obsid>_<region>``."""
        return f"{self.obsid}_{self.region}"

    @property
    def key(self) -> tuple[int, int]:
        """``(obsid, region)`` as integers (sort and pairing key)."""
        return (self.obsid, self.region)


def parse_csc_name(path: str | Path) -> CSCName | None:
    """The parts of a CSC per-region product's file name, or None for any other name."""
    m = CSC_NAME.match(Path(path).name)
    if m is None:
        return None
    return CSCName(m["inst"].lower(), int(m["obsid"]), int(m["obi"]), int(m["ver"]),
                   int(m["region"]), m["product"].lower())


def pair_products(paths: list[Path]) -> tuple[list[Path], dict[Path, tuple[CSCName, Path | None]], list[Path]]:
    """Split input files into (other files, {regevt3: (name, its reg3 or None)}, unpaired reg3 files).

    When several versions of one product exist for a source, the highest version is used.
    """
    evts: dict[tuple, tuple[CSCName, Path]] = {}
    regs: dict[tuple, tuple[CSCName, Path]] = {}
    other: list[Path] = []
    for p in paths:
        n = parse_csc_name(p)
        if n is None or n.product not in ("regevt3", "reg3"):
            other.append(p)
            continue
        table = evts if n.product == "regevt3" else regs
        if n.key not in table or n.version > table[n.key][0].version:
            table[n.key] = (n, p)
    paired = {p: (n, regs[k][1] if k in regs else None) for k, (n, p) in evts.items()}
    lonely = [p for k, (_, p) in regs.items() if k not in evts]
    return other, paired, lonely


def region_extension(band: str = DEFAULT_CSC_BAND) -> str:
    """Extension name of the 90%-ECF source region of a CSC band (``"b"`` -> ``ECF90REGB``)."""
    b = str(band).strip().lower()
    if b not in CSC_BANDS:
        from serendip.errors import InputError

        raise InputError(None, f"CSC band must be one of {', '.join(CSC_BANDS)}; got {band!r}")
    return f"ECF90REG{b.upper()}"


def read_csc_region(path: Path, band: str = DEFAULT_CSC_BAND, name: str | None = None):
    """The source region of one ``reg3`` file in ``band`` as a :class:`~serendip.io.sourcelists.SourceList`
    of one source (union of its include rows minus its exclusions)."""
    from serendip.io.sourcelists import read_source_list

    sl = read_source_list(path, extension=region_extension(band), single_source=True)
    if name is not None:
        sl.names[:] = name
    sl.obsid = None
    sl.background_list = read_csc_background(path, sl.names)
    return sl


#: extension of a ``reg3`` file holding the source's background region
BACKGROUND_EXTENSION = "BKGREG"


def read_csc_background(path: Path, names):
    """The background region of one ``reg3`` file (its :data:`BACKGROUND_EXTENSION` table: an
    annulus, ``!``-rows excluding overlapping sources) as a one-source
    :class:`~serendip.io.sourcelists.SourceList`, or None (with a notice) when the file has
    none, in which case ingest uses the default annulus of 1.5-4 x the source region."""
    from serendip.errors import InputError
    from serendip.io.sourcelists import BKG_INNER, BKG_OUTER, read_source_list
    from serendip.notices import notice

    try:
        bkg = read_source_list(path, extension=BACKGROUND_EXTENSION, single_source=True)
    except InputError:
        notice("ingest", "default_background_annulus", f"CSC region file without a {BACKGROUND_EXTENSION} "
               f"extension: the background is an annulus of {BKG_INNER:g}-{BKG_OUTER:g} x the "
               "source region", source=str(path), count=1, total=1, severity="info")
        return None
    bkg.names = np.asarray(names).copy()
    bkg.src[:] = 0  # every row (annulus and exclusions) belongs to the one source
    bkg.obsid = None
    return bkg
