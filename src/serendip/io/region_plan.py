"""Which source regions or source list goes with each event file (``region`` / ``sources``).

The same values work in :func:`serendip.io.ingest.ingest`, the run configuration
(``[input] region = ...``, ``sources = ...``) and on ``serendip ingest`` / ``batch``:

* one region or source list for every file: region text (``'fk5;circle(...)'``,
  ``'RA,DEC,R"'``), a region file (DS9 ``.reg``, CRTF, FITS region) or a source list
  (FITS source list, CSC table, CSV), or already-made :class:`~serendip.io.regions.SourceRegion`
  / :class:`~serendip.io.sourcelists.SourceList` objects;
* ``"csc"`` (sources only): the Chandra Source Catalog 2.1 detections of each file's ObsID,
  fetched through TAP and cached (:func:`serendip.io.sourcelists.csc_observation_sources`);
* ``"beside"``: a file next to each event file, named after it (``obs.fits.gz`` ->
  ``obs.reg``, ``obs.crtf``, ``obs_reg.fits``; sources: ``obs_src.fits``, ``obs_srclist.fits``,
  ``obs_sources.csv``, and ``..._src2.fits`` for a ``..._evt2`` file);
* a manifest table (CSV or Parquet) with columns ``path`` and ``region`` (or ``sources``);
  relative names are taken from the manifest's folder;
* a mapping ``{event file: region or source list}`` (a TOML table).

A file with no entry is ingested whole (a notice says so when regions were asked for by
``"beside"`` or a manifest). CSC per-region products carry their own region (:mod:`serendip.io.csc`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from serendip.errors import InputError
from serendip.notices import notice

BESIDE = "beside"
_REGION_SUFFIXES = (".reg", ".crtf", "_reg.fits", ".reg.fits", "_reg.fits.gz")
_SOURCE_SUFFIXES = ("_src.fits", "_srclist.fits", ".src.fits", "_sources.csv", ".sources.csv",
                    "_src.fits.gz", "_srclist.fits.gz")


def _key(path) -> Path:
    return Path(path).resolve()


@dataclass
class RegionPlan:
    """Resolved ``region`` and ``sources`` settings (see the module docstring)."""

    region_all: list | None = None
    sources_all: object | None = None
    region_map: dict = field(default_factory=dict)
    sources_map: dict = field(default_factory=dict)
    region_beside: bool = False
    sources_beside: bool = False
    sources_csc: bool = False
    #: files that are regions or source lists of an event file (never ingested as events)
    helper_files: set = field(default_factory=set)

    @property
    def empty(self) -> bool:
        """True when the plan names no region or source list for any file."""
        return not (self.region_all or self.sources_all is not None or self.region_map
                    or self.sources_map or self.region_beside or self.sources_beside
                    or self.sources_csc)

    def for_file(self, path: Path, obsid: str = ""):
        """``("region", [SourceRegion, ...])``, ``("sources", SourceList)`` or None for one event file."""
        from serendip.io.regions import read_region_file
        from serendip.io.sourcelists import read_source_list

        k = _key(path)
        if k in self.region_map:
            return "region", self.region_map[k]
        if k in self.sources_map:
            return "sources", self.sources_map[k]
        if self.region_all:
            return "region", self.region_all
        if self.sources_all is not None:
            return "sources", self.sources_all
        if self.sources_csc:
            from serendip.io.sourcelists import csc_observation_sources

            if not str(obsid).strip().isdigit():
                raise InputError(path, f"sources = 'csc' needs a Chandra ObsID; the file's OBS_ID is {obsid!r}")
            return "sources", csc_observation_sources(obsid)
        for beside, suffixes, kind, reader in (
            (self.region_beside, _region_names(path), "region", read_region_file),
            (self.sources_beside, _source_names(path), "sources", read_source_list),
        ):
            if not beside:
                continue
            for name in suffixes:
                cand = path.with_name(name)
                if cand.is_file():
                    return kind, reader(cand)
        if self.region_beside or self.sources_beside or self.region_map or self.sources_map:
            notice("ingest", "no_region_for_file", "no region file or source list was found for this "
                   "event file; it is ingested whole", source=str(path), count=1, total=1)
        return None


def _stem(path: Path) -> str:
    from serendip.io.eventfile import file_stem

    return file_stem(path)


def _region_names(path: Path) -> tuple[str, ...]:
    """Names a region file beside ``path`` may have."""
    return tuple(_stem(path) + s for s in _REGION_SUFFIXES)


def _source_names(path: Path) -> tuple[str, ...]:
    """Names a source list beside ``path`` may have (``..._evt2`` -> ``..._src2.fits`` first)."""
    stem = _stem(path)
    extra = (f"{stem[:-4]}src2.fits", f"{stem[:-4]}src2.fits.gz") if stem.lower().endswith("evt2") else ()
    return extra + tuple(stem + s for s in _SOURCE_SUFFIXES)


def beside_files(path: Path) -> list[Path]:
    """Existing region files and source lists named after event file ``path``."""
    return [path.with_name(n) for n in _region_names(path) + _source_names(path) if path.with_name(n).is_file()]


def make_plan(region=None, sources=None) -> RegionPlan:
    """A :class:`RegionPlan` from ``region`` and ``sources`` values (see the module docstring)."""
    from serendip.io.regions import SourceRegion, regions_from_text
    from serendip.io.sourcelists import SourceList, read_source_list

    plan = RegionPlan()
    if region not in (None, "", []):
        if isinstance(region, SourceRegion):
            plan.region_all = [region]
        elif isinstance(region, str) and region.strip().lower() == BESIDE:
            plan.region_beside = True
        elif isinstance(region, dict):
            plan.region_map = {_key(k): regions_from_text([str(v)]) for k, v in region.items()}
        elif isinstance(region, (str, Path)) and _is_manifest(region, "region"):
            plan.region_map, plan.helper_files = _manifest(region, "region", regions_from_text)
        elif isinstance(region, (str, Path)):
            plan.region_all = regions_from_text([str(region)])
            if Path(region).is_file():
                plan.helper_files.add(_key(region))
        else:
            items = list(region)
            if all(isinstance(r, SourceRegion) for r in items):
                plan.region_all = items
            else:
                plan.region_all = regions_from_text([str(r) for r in items])
                plan.helper_files |= {_key(r) for r in items if Path(str(r)).is_file()}
    if sources not in (None, ""):
        if plan.region_all or plan.region_map or plan.region_beside:
            raise InputError("--sources", "give either region or sources, not both")
        if isinstance(sources, SourceList):
            plan.sources_all = sources
        elif isinstance(sources, str) and sources.strip().lower() == BESIDE:
            plan.sources_beside = True
        elif isinstance(sources, str) and sources.strip().lower() == "csc":
            plan.sources_csc = True
        elif isinstance(sources, dict):
            plan.sources_map = {_key(k): read_source_list(v) for k, v in sources.items()}
        elif _is_manifest(sources, "sources"):
            plan.sources_map, plan.helper_files = _manifest(sources, "sources", read_source_list)
        else:
            plan.sources_all = read_source_list(sources)
            plan.helper_files.add(_key(sources))
    return plan


def _is_manifest(value, column: str) -> bool:
    p = Path(str(value))
    if not p.is_file() or not p.name.lower().endswith((".csv", ".parquet", ".tsv")):
        return False
    import pandas as pd

    try:
        head = pd.read_parquet(p) if p.suffix.lower() == ".parquet" else pd.read_csv(p, nrows=2, sep=None,
                                                                                      engine="python")
    except Exception:  # noqa: BLE001 - not a readable table: not a manifest
        return False
    cols = {c.strip().lower() for c in head.columns}
    return "path" in cols and column in cols


def _manifest(path, column: str, reader):
    """({event file: regions or SourceList}, helper files) from a ``path, <column>`` table."""
    import pandas as pd

    p = Path(str(path))
    tab = pd.read_parquet(p) if p.suffix.lower() == ".parquet" else pd.read_csv(p, sep=None, engine="python",
                                                                               dtype=str)
    tab = tab.rename(columns=lambda c: c.strip().lower())
    out, helpers = {}, {_key(p)}
    for i, (ev, reg) in enumerate(zip(tab["path"].astype(str), tab[column].astype(str), strict=True), 2):
        evp = Path(ev) if Path(ev).is_absolute() else p.parent / ev
        regp = Path(reg) if Path(reg).is_absolute() else p.parent / reg
        try:
            out[_key(evp)] = reader([str(regp) if regp.exists() else reg] if column == "region" else regp)
        except InputError as exc:
            raise InputError(p, f"line {i}: {exc}") from exc
        if regp.exists():
            helpers.add(_key(regp))
    return out, helpers
