"""Many event files (and event tables) in; one event table, a per-file table and failures out.

>>> res = ingest(["obs/", "more/acisf00754_evt2.fits.gz"])        # doctest: +SKIP
>>> res.events      # EventSet: obsreg_id, time [s], energy [eV]
>>> res.files       # one row per ingested file / region
>>> res.failures    # (file, reason) for every input that could not be used
>>> write_ingest(res, "run/")   # run/events.parquet, run/files.parquet, run/failures.csv

Inputs may be files or folders; folders are searched recursively for FITS event files
(``*.fits``, ``*.fits.gz``, ``*.evt``, ``*.evt.gz``, ``*.fit``, ``*.fts`` and gzipped
variants). Event tables in the reference ``eventfiles_table.csv`` layout
(``.parquet``/``.csv``, see :mod:`serendip.io.reference`) are read when named directly.

Each file gets its mission's standard band unless a band is given
(:data:`serendip.io.missions.MISSIONS`). Chandra Source Catalog per-region products
(``regevt3`` + ``reg3``) are paired and cut to their broad-band source region with ids
``OBSID_REGION`` (:mod:`serendip.io.csc`); ``region`` and ``sources`` cut event files into
sources (:mod:`serendip.io.region_plan`), recorded with their background in ``regions``
(``regions.parquet``). Every cut and drop is a :func:`serendip.notices.notice`.

A bad input never stops the run: its :class:`~serendip.errors.InputError` reason becomes
a row of ``failures`` and the rest proceed. obsreg_ids are made unique: a repeated id
gets ``.2``, ``.3``, ... appended (the ``files`` table keeps the path of each).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.artefacts import (
    ARTEFACT_COLUMNS,
    PILEUP_COLUMNS,
    empty_artefacts,
    empty_pileup,
    note_unmeasured,
)
from serendip.io.csc import DEFAULT_CSC_BAND, pair_products, read_csc_region
from serendip.io.eventfile import (
    AUTO_BAND,
    EVENT_FILE_SUFFIXES,
    LARGE_CUT_FRACTION,
    EventFile,
    _check_band,
    load_events,
    zero_events_reason,
)
from serendip.io.eventset import EventSet
from serendip.io.missions import identify_mission
from serendip.io.reference import is_event_table, read_event_table
from serendip.io.region_plan import beside_files, make_plan
from serendip.io.tables import write_table
from serendip.layout import RunLayout
from serendip.notices import notice

#: Columns of :attr:`IngestResult.files`, in order (the first ten are the contract).
FILES_COLUMNS = [
    "obsreg_id",
    "telescope",
    "instrument",
    "obsid",
    "exposure",
    "tstart",
    "tstop",
    "n_events",
    "energy_source",
    "path",
    "object",
    "exposure_source",
    "n_raw",
    "n_outside_gti",
    "n_outside_band",
    "n_outside_region",
    "region",
    "band_low_ev",
    "band_high_ev",
    "ra",
    "dec",
    "n_quality",
    "n_flare_gti",
    "flare_gti_decision",
    "mode",
    "imaging",
    "has_energy",
    "timesys",
    "timeref",
    "mjdref",
    "time_origin",
    "time_correction",
    "tstart_utc",
    "tstop_utc",
]
#: Columns of :attr:`IngestResult.regions` (one row per source region cut from a file):
#: centre [pixel], size (half-extent [pixel], area [pixel^2]) and the background counts in
#: the band with the background's geometric area (other sources' events left out)
REGION_COLUMNS = [
    "obsreg_id",
    "path",
    "region",
    "ra",
    "dec",
    "x",
    "y",
    "radius_pix",
    "src_area_pix",
    "n_events",
    "bkg_counts",
    "bkg_area_pix",
]
FAILURE_COLUMNS = ["file", "reason"]
_CHANDRA_BAND = identify_mission("CHANDRA", "ACIS").band_ev
#: ``weight``: relative expected rate in the interval (1: constant; see io/background.py)
GTI_COLUMNS = ["obsreg_id", "start", "stop", "weight"]


def empty_gtis() -> pd.DataFrame:
    """A good-time-interval table with no rows (``obsreg_id``, ``start``, ``stop`` [s])."""
    return _typed_gtis(pd.DataFrame({c: [] for c in GTI_COLUMNS}))


def _typed_gtis(gtis: pd.DataFrame) -> pd.DataFrame:
    """``obsreg_id`` as Python str objects, ``start``/``stop`` float64 (one dtype however made)."""
    out = gtis.copy()
    out["obsreg_id"] = out["obsreg_id"].astype(str).to_numpy(dtype=object)
    if "weight" not in out.columns:
        out["weight"] = 1.0
    for c in ("start", "stop", "weight"):
        out[c] = out[c].to_numpy(dtype=np.float64)
    return out.reset_index(drop=True)


@dataclass
class IngestResult:
    """What :func:`ingest` produced.

    Attributes
    ----------
    events : EventSet
        All events, grouped by obsreg_id in ``files`` order; time [s], energy [eV].
    files : DataFrame
        One row per obsreg_id: obsreg_id, telescope, instrument, obsid, exposure [s],
        tstart, tstop [s], n_events, energy_source, path, and the cut counts.
    failures : DataFrame
        ``file``, ``reason`` for each input (or region) that could not be used.
    gtis : DataFrame
        Good-time intervals of each FITS file or region (``obsreg_id``, ``start``, ``stop``
        [s], merged; the region's CCDs where GTIs are per CCD); files without GTIs (and event
        tables) have no rows.
    regions : DataFrame
        One row per source region (:data:`REGION_COLUMNS`), empty without regions.
    artefacts : DataFrame
        Instrumental-artefact diagnostics of each FITS file or region
        (:mod:`serendip.io.artefacts`): chip-edge distance, dither power, afterglow chains,
        readout streaks, counts per frame, out-of-time events, dead time.
    pileup : DataFrame
        Counts per frame of each source over time (:data:`serendip.io.artefacts.PILEUP_COLUMNS`,
        bins of 100 frames), for framed detectors; the ``pileup`` flag rests on it.
    """

    events: EventSet
    files: pd.DataFrame
    failures: pd.DataFrame
    gtis: pd.DataFrame = field(default_factory=empty_gtis)
    regions: pd.DataFrame = field(default_factory=lambda: empty_regions())
    #: per-source artefact diagnostics (:data:`serendip.io.artefacts.ARTEFACT_COLUMNS`), one row
    #: per FITS file or region (event tables have none)
    artefacts: pd.DataFrame = field(default_factory=lambda: empty_artefacts())
    #: each source's background-annulus events in the band (``obsreg_id``, ``time`` [s]; other
    #: sources' events left out; ``area_ratio``: source area / annulus area), for the
    #: own-background common-mode test; empty without source-list backgrounds
    background: pd.DataFrame = field(default_factory=lambda: empty_background())
    #: counts per frame of each source over time (:data:`serendip.io.artefacts.PILEUP_COLUMNS`)
    pileup: pd.DataFrame = field(default_factory=lambda: empty_pileup())

    @property
    def n_ok(self) -> int:
        """Number of files read."""
        return len(self.files)

    @property
    def n_failed(self) -> int:
        """Number of files that failed (see ``failures``)."""
        return len(self.failures)


def discover(
    paths: Iterable[str | Path], suffixes: tuple[str, ...] | None = None
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand files and folders into input files; returns ``(files, failures)``.

    Folders are searched recursively for names ending in ``suffixes`` (default: event-file
    suffixes), sorted per folder; hidden files (names starting with ``.``, e.g. temporaries of an
    interrupted write) are skipped. A missing path or a folder without inputs is a failure. The
    same file named twice (directly and through its folder) is listed once.
    """
    suffixes = tuple(suffixes or EVENT_FILE_SUFFIXES)
    files: list[Path] = []
    failures: list[tuple[str, str]] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*")
                if f.is_file() and not f.name.startswith(".") and f.name.lower().endswith(suffixes)
            )
            if not found:
                failures.append(
                    (str(p), f"folder holds no input files (names ending in {', '.join(suffixes)})")
                )
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            failures.append((str(p), "no such file or folder"))
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, failures


def empty_background() -> pd.DataFrame:
    """A background-event table with no rows (``obsreg_id``, ``time`` [s], ``area_ratio``)."""
    return pd.DataFrame({"obsreg_id": pd.Series(dtype=object), "time": pd.Series(dtype=np.float64),
                         "area_ratio": pd.Series(dtype=np.float64)})


def empty_regions() -> pd.DataFrame:
    """A regions table with no rows."""
    return pd.DataFrame({c: pd.Series(dtype=object if c in ("obsreg_id", "path", "region") else float)
                         for c in REGION_COLUMNS})


def _region_row(ef: EventFile) -> dict:
    m = ef.meta
    return {
        "obsreg_id": ef.obsreg_id,
        "path": m["path"],
        "region": m.get("region") or "",
        "ra": m.get("ra", np.nan),
        "dec": m.get("dec", np.nan),
        "x": m.get("region_x", np.nan),
        "y": m.get("region_y", np.nan),
        "radius_pix": m.get("region_radius_pix", np.nan),
        "src_area_pix": m.get("src_area_pix", np.nan),
        "n_events": m["n_events"],
        "bkg_counts": m.get("bkg_counts", -1),
        "bkg_area_pix": m.get("bkg_area_pix", np.nan),
    }


def _file_row(ef: EventFile) -> dict:
    m = ef.meta
    return {
        "obsreg_id": ef.obsreg_id,
        "telescope": m["telescope"],
        "instrument": m["instrument"],
        "obsid": m["obsid"],
        "exposure": m["exposure"],
        "tstart": m["tstart"],
        "tstop": m["tstop"],
        "n_events": m["n_events"],
        "energy_source": m["energy_source"],
        "path": m["path"],
        "object": m.get("object", ""),
        "exposure_source": m.get("exposure_source", ""),
        "n_raw": m.get("n_raw", m["n_events"]),
        "n_outside_gti": m.get("n_outside_gti", 0),
        "n_outside_band": m.get("n_outside_band", 0),
        "n_outside_region": m.get("n_outside_region", 0),
        "region": m.get("region") or "",
        "band_low_ev": np.nan if m.get("band") is None else m["band"][0],
        "band_high_ev": np.nan if m.get("band") is None else m["band"][1],
        "ra": m.get("ra", np.nan),
        "dec": m.get("dec", np.nan),
        "n_quality": m.get("n_quality", 0),
        "n_flare_gti": m.get("n_flare_gti", 0),
        "flare_gti_decision": m.get("flare_gti_decision", ""),
        "mode": m.get("mode", ""),
        "imaging": m.get("imaging", ""),
        "has_energy": m.get("has_energy", True),
        "timesys": m.get("timesys", ""),
        "timeref": m.get("timeref", ""),
        "mjdref": np.nan if m.get("mjdref") is None else m["mjdref"],
        "time_origin": m.get("time_origin", 0.0),
        "time_correction": m.get("time_correction", ""),
        **_utc_columns(m),
    }


def _utc_columns(m: dict) -> dict:
    """``tstart_utc``/``tstop_utc``: UTC ISO strings of the file's interval ("" unknown)."""
    from serendip.io.timesys import utc_iso

    t = np.array([m.get("tstart", np.nan), m.get("tstop", np.nan)], dtype=np.float64)
    iso = utc_iso(t, m.get("mjdref"), m.get("timesys") or "", m.get("time_origin", 0.0))
    return {"tstart_utc": iso[0], "tstop_utc": iso[1]}


def unique_ids(ids: Sequence[str]) -> np.ndarray:
    """Make ids unique: the k-th repeat (k >= 2) of ``a`` becomes ``a.k`` (and further if taken)."""
    ids = pd.Series(np.asarray(ids, dtype=object).astype(str))
    rank = ids.groupby(ids).cumcount().to_numpy()
    out = ids.to_numpy(dtype=object).copy()
    dup = np.flatnonzero(rank > 0)
    if len(dup):
        taken = set(out[rank == 0])
        for i in dup:  # only repeated ids, usually none
            k = rank[i] + 1
            cand = f"{out[i]}.{k}"
            while cand in taken:
                k += 1
                cand = f"{out[i]}.{k}"
            taken.add(cand)
            out[i] = cand
    return out


def _progress(enabled: bool):
    from serendip.progress import progress_bar

    return progress_bar(enabled, eta=True)


def ingest(
    paths: str | Path | Iterable[str | Path],
    band: tuple[float, float] | str | None = AUTO_BAND,
    region=None,
    progress: bool = True,
    gain: tuple[float, float] | None = None,
    unique: bool = True,
    sources=None,
    csc_band: str = DEFAULT_CSC_BAND,
    quality: bool = True,
    barycentre: bool = True,
    exposure=None,
    dither_exposure: bool = True,
    flare_screen: str = "auto",
) -> IngestResult:
    """Read event files and tables into one :class:`IngestResult`.

    Parameters
    ----------
    paths : path or iterable of paths
        Files and/or folders (searched recursively for FITS event files).
    band : (float, float), "auto" or None
        Energy band [eV] (or a Quantity pair), inclusive; ``"auto"`` (default) each file's
        mission standard band; ``None`` keeps all energies.
    region : region text, region file, SourceRegion(s), "beside", manifest or mapping
        Regions cut from the FITS files (obsreg_id ``{OBS_ID}_{name or n}``); see
        :mod:`serendip.io.region_plan`. Event tables have no positions and are reported as
        failures when a region is given.
    progress : bool
        Show a rich progress bar on stderr.
    gain : (float, float) or None
        ``(ev_per_channel, offset_ev)`` for files with only a channel column.
    unique : bool
        Make obsreg_ids unique (:func:`unique_ids`); ``False`` keeps the ids as read, for a
        caller that makes them unique over several ingests (chunked ingest on Dask). As ids
        may then repeat, ``gtis`` also gets ``file_row``, the row of ``files`` it belongs to.
    sources : source list path, SourceList, "beside", manifest or mapping
        Cut each observation into one event list per source (``{OBS_ID}_{source id}``), each
        with a background annulus (:mod:`serendip.io.sourcelists`).
    csc_band : str
        CSC band whose 90%-ECF region is applied to CSC per-region products (``"b"``).
    quality : bool
        Apply each instrument's standard event screening (Chandra status and grades, XMM
        PATTERN/FLAG per camera, Swift grades by mode, eROSITA FLAG: the mission registry,
        :data:`serendip.io.missions.MISSIONS`); every cut is counted in a notice.
    barycentre : bool
        Correct times measured at the spacecraft (``TIMEREF`` not ``SOLARSYSTEM``) to the
        solar-system barycentre for each source's position (:mod:`serendip.io.timesys`);
        stated in a notice and in the ``time_correction`` column.
    exposure : None, "constant", path, DataFrame or mapping
        Relative exposure curves (:mod:`serendip.io.exposure`): an eROSITA srctool light
        curve (FRACEXP), a CSC light curve, or a table ``start``, ``stop``, ``fracexp``
        (optionally ``obsreg_id``; a mapping gives one per obsreg_id). They become each
        source's expected-rate template (GTI weights). Survey-mode input (eROSITA scans,
        Swift multi-snapshot observations) without one is refused, naming what is missing;
        ``"constant"`` accepts it with a constant effective area (a warning).
    dither_exposure : bool
        For files with chip coordinates and a known dither (Chandra ACIS and HRC), give each
        source that the dither moves over a chip edge or bad column the fraction of its PSF
        on the chip vs time as its relative exposure (:mod:`serendip.io.dither_exposure`;
        the dither phase is fitted from the events). A curve given in ``exposure`` wins.
    flare_screen : "auto", "field" or "off"
        Each mission's standard flare screening (XMM-Newton SAS flare recipe or a flare-GTI
        extension, eROSITA ``FLAREGTI``; :mod:`serendip.io.flares`): ``"auto"`` applies it per
        source where a region or source list cuts the file, keeping the flare intervals of a
        source that flares itself then (a whole file is only reported), ``"field"`` cuts it
        from every event, ``"off"`` ignores it; reported in notices.
    """
    from serendip.io.exposure import as_curves
    from serendip.io.flares import check_mode

    band = _check_band(band)
    flare_screen = check_mode(flare_screen)
    curves = as_curves(exposure)
    if isinstance(paths, (str, Path)):
        paths = [paths]
    plan = make_plan(region, sources)
    inputs, failures = discover(paths)
    helpers = set(plan.helper_files)
    if plan.region_beside or plan.sources_beside:
        for p in inputs:
            helpers |= {f.resolve() for f in beside_files(p)}
    inputs = [p for p in inputs if p.resolve() not in helpers]
    _, csc_pairs, lonely = pair_products(inputs)
    csc_regions = {reg for _, reg in csc_pairs.values() if reg is not None} | set(lonely)
    for p in lonely:
        notice("ingest", "csc_region_without_events", "CSC region file (reg3) without its event file "
               "(regevt3, same ObsID and region): not used", source=str(p), count=1, total=1)
    inputs = [p for p in inputs if p not in csc_regions]

    id_parts: list[np.ndarray] = []
    count_parts: list[np.ndarray] = []
    time_parts: list[np.ndarray] = []
    energy_parts: list[np.ndarray] = []
    row_parts: list[pd.DataFrame] = []
    rows: list[dict] = []
    region_rows: list[dict] = []
    gti_parts: list[tuple] = []  # (file position, start, stop, weight)
    art_rows: list[tuple[int, dict]] = []  # (file position, artefact diagnostics)
    bkg_parts: list[tuple] = []  # (file position, background-annulus times, area ratio)
    pile_parts: list[tuple] = []  # (file position, counts-per-frame series)
    n_files = 0

    def flush_rows() -> None:
        if rows:
            row_parts.append(pd.DataFrame(rows, columns=FILES_COLUMNS))
            rows.clear()

    with _progress(progress) as bar:
        task = bar.add_task("ingest", total=len(inputs))
        for path in inputs:  # one file at a time; everything inside a file is vectorised
            try:
                if is_event_table(path):
                    if not plan.empty:
                        raise InputError(
                            path,
                            "event table has no sky positions, so a region or source list cannot be "
                            "applied; ingest it without one",
                        )
                    # the reference table layout is the Chandra CSC pipeline's: Chandra's band
                    tr = read_event_table(path, band=_CHANDRA_BAND if band == AUTO_BAND else band)
                    flush_rows()
                    row_parts.append(tr.files.reindex(columns=FILES_COLUMNS))
                    id_parts.append(np.asarray(tr.events.obsreg_id, dtype=object))
                    n_files += tr.events.n_files
                    count_parts.append(tr.events.counts)
                    time_parts.append(tr.events.time)
                    energy_parts.append(tr.events.energy)
                    failures.extend(tr.failures.itertuples(index=False, name=None))
                else:
                    efs, regional = _cut_file(path, band, gain, plan, csc_pairs.get(path), csc_band,
                                              quality, barycentre, curves, dither_exposure,
                                              flare_screen)
                    for ef in efs:
                        if ef.n_events == 0:
                            failures.append(
                                (f"{path} [{ef.obsreg_id}]", zero_events_reason(ef.meta))
                            )
                            continue
                        rows.append(_file_row(ef))
                        if regional:
                            region_rows.append(_region_row(ef))
                        if ef.meta.get("bkg_time") is not None:
                            ratio = ef.meta.get("src_area_pix", np.nan) / ef.meta.get("bkg_area_pix", np.nan)
                            bkg_parts.append((n_files, ef.meta.pop("bkg_time"), ratio))
                        if ef.meta.get("artefacts") is not None:
                            row = dict(ef.meta["artefacts"])
                            ser = row.pop("_pileup_series", None)
                            if ser is not None and len(ser):
                                pile_parts.append((n_files, ser))
                            art_rows.append((n_files, row))
                        if ef.good_times is not None:
                            w = ef.gti_weight
                            gti_parts.append((n_files, *ef.good_times,
                                              np.ones(len(ef.good_times[0])) if w is None else w))
                        n_files += 1
                        id_parts.append(np.array([ef.obsreg_id], dtype=object))
                        count_parts.append(np.array([ef.n_events], dtype=np.int64))
                        time_parts.append(ef.time)
                        energy_parts.append(ef.energy)
            except InputError as exc:
                failures.append((str(path) if exc.path is None else exc.path, exc.problem))
            except Exception as exc:  # noqa: BLE001 - a batch never dies on one input
                failures.append(
                    (str(path), f"unexpected error while reading: {type(exc).__name__}: {exc}")
                )
            bar.advance(task)
    flush_rows()

    if id_parts:
        ids = np.concatenate(id_parts)
        ids = unique_ids(ids) if unique else ids.astype(str).astype(object)
        counts = np.concatenate(count_parts).astype(np.int64)
        offsets = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        events = EventSet(ids, offsets, np.concatenate(time_parts), np.concatenate(energy_parts))
        files = pd.concat(row_parts, ignore_index=True)
        files["obsreg_id"] = ids.astype(str)
    else:
        events = EventSet(
            np.zeros(0, dtype=object), np.zeros(1, np.int64), np.zeros(0), np.zeros(0, np.float32)
        )
        files = pd.DataFrame({c: pd.Series(dtype=object) for c in FILES_COLUMNS})
    files = _typed_files(files)
    fail_df = pd.DataFrame(failures, columns=FAILURE_COLUMNS).astype(str)
    gtis = empty_gtis() if unique else empty_gtis().assign(file_row=pd.Series(dtype=np.int64))
    if gti_parts:
        pos = np.concatenate([np.full(len(p[1]), p[0], dtype=np.int64) for p in gti_parts])
        gtis = pd.DataFrame(
            {
                "obsreg_id": files["obsreg_id"].to_numpy(dtype=object)[pos].astype(str),
                "start": np.concatenate([p[1] for p in gti_parts]),
                "stop": np.concatenate([p[2] for p in gti_parts]),
                "weight": np.concatenate([p[3] for p in gti_parts]),
            }
        )
        gtis = _typed_gtis(gtis)
        if not unique:
            gtis["file_row"] = pos
    regions = empty_regions()
    if region_rows:
        regions = pd.DataFrame(region_rows, columns=REGION_COLUMNS)
        # the same unique ids as files: region rows are the regional files' rows, in order
        regional = files["path"].isin(regions["path"]) & files["region"].ne("")
        if int(regional.sum()) == len(regions):
            regions["obsreg_id"] = files.loc[regional, "obsreg_id"].to_numpy()
    artefacts = empty_artefacts()
    if art_rows:
        artefacts = pd.DataFrame([r for _, r in art_rows]).reindex(columns=ARTEFACT_COLUMNS)
        pos = np.array([p for p, _ in art_rows], dtype=np.int64)
        artefacts["obsreg_id"] = files["obsreg_id"].to_numpy(dtype=object)[pos].astype(str)
        for path, part in artefacts.groupby(files["path"].to_numpy()[pos], sort=False):
            note_unmeasured(part, str(path))
        measured = artefacts.drop(columns=[
            "obsreg_id", "ccd", "n_ccds", "r90_pix", "dither_amp_pix", "frame_s", "pileup_threshold"]).notna().any(axis=1)
        artefacts = artefacts[measured.to_numpy()].reset_index(drop=True)  # nothing to say: no row
    background = empty_background()
    if bkg_parts:
        pos = np.concatenate([np.full(len(t), p, dtype=np.int64) for p, t, _ in bkg_parts])
        background = pd.DataFrame({
            "obsreg_id": files["obsreg_id"].to_numpy(dtype=object)[pos].astype(str),
            "time": np.concatenate([t for _, t, _ in bkg_parts]).astype(np.float64),
            "area_ratio": np.concatenate([np.full(len(t), r) for _, t, r in bkg_parts])})
    pileup = empty_pileup()
    if pile_parts:
        pos = np.concatenate([np.full(len(d), p, dtype=np.int64) for p, d in pile_parts])
        pileup = pd.concat([d for _, d in pile_parts], ignore_index=True)
        pileup.insert(0, "obsreg_id", files["obsreg_id"].to_numpy(dtype=object)[pos].astype(str))
        pileup = pileup[PILEUP_COLUMNS]
    return IngestResult(events, files, fail_df, gtis, regions, artefacts, background, pileup)


def _cut_file(path: Path, band, gain, plan, csc, csc_band: str, quality: bool = True,
              barycentre: bool = True, exposure=None,
              dither_exposure: bool = True,
              flare_screen: str = "auto") -> tuple[list[EventFile], bool]:
    """The event lists of one FITS file (whole, its CSC region, its regions or its sources),
    each with its exposure in time (:func:`_apply_exposure`).
    Returns (event lists, whether they are regions)."""
    raw = load_events(path, gain=gain, quality=quality, barycentre=barycentre,
                      flare_screen=flare_screen)
    efs, regional = _cut_raw(raw, path, band, plan, csc, csc_band)
    _apply_exposure(raw, efs, exposure, dither_exposure)
    return efs, regional


def _apply_exposure(raw, efs: list[EventFile], curves, dither: bool = True) -> None:
    """Give each event list its relative exposure curve (``curves``: a table of curves,
    ``"constant"`` or None; else, with ``dither``, the curve from the dither path that
    :meth:`RawEvents.cut_regions` left in ``meta["dither_curve"]``), or refuse survey-mode
    input that has none (:mod:`serendip.io.exposure`)."""
    from serendip.io.exposure import CONSTANT, curve_for, survey_problem, with_curve

    mission = raw.header["mission_entry"]
    for ef in efs:
        curve = (curve_for(curves, ef.obsreg_id, raw.header["obsid_or_stem"])
                 if isinstance(curves, pd.DataFrame) else None)
        from_dither = ef.meta.pop("dither_curve", None)
        label = "exposure curve"
        if curve is None and dither and from_dither is not None:
            curve, label = from_dither, "PSF fraction on the chip along the fitted dither path"
        if curve is None:
            why = survey_problem(mission, ef.meta.get("mode", ""), ef.good_times)
            if why and curves != CONSTANT:
                raise InputError(raw.path, f"{why}; missing: an exposure curve for {ef.obsreg_id} "
                                 "(ingest exposure=..., CLI --exposure, config input.exposure), or "
                                 "exposure='constant' to assume a constant effective area")
            if why:
                notice("ingest", "survey_constant_exposure", f"{why}; taken with a constant "
                       "effective area as asked (exposure='constant'): passes or snapshots may "
                       "look like bursts", source=raw.path, count=ef.n_events, total=ef.n_events,
                       severity="warning")
            continue
        if ef.good_times is None:
            lo, hi = ef.meta["tstart"], ef.meta["tstop"]
            ef.good_times = (np.array([lo]), np.array([hi]))
        inside, s2, e2, w2, mean_e = with_curve(ef.time, *ef.good_times, ef.gti_weight, curve)
        if not len(s2):
            raise InputError(raw.path, f"the exposure curve of {ef.obsreg_id} gives zero exposure "
                             "over all of its good time (does it belong to this observation?)")
        n_out = int(np.count_nonzero(~inside))
        if n_out:
            notice("ingest", "zero_exposure_events", f"{n_out:,} of {ef.n_events:,} events of "
                   f"{ef.obsreg_id} fall where its exposure curve gives no exposure: dropped",
                   source=raw.path, count=n_out, total=ef.n_events,
                   severity="warning" if n_out > LARGE_CUT_FRACTION * ef.n_events else "info")
            ef.time, ef.energy = ef.time[inside], ef.energy[inside]
            ef.meta["n_events"] = int(len(ef.time))
        ef.good_times, ef.gti_weight = (s2, e2), w2
        ef.meta["exposure"] = float(ef.meta["exposure"]) * mean_e
        ef.meta["exposure_source"] = (f"{ef.meta.get('exposure_source', '')} x mean relative "
                                      f"exposure {mean_e:.4f} ({label}, {len(curve)} bins)")


def _cut_raw(raw, path: Path, band, plan, csc, csc_band: str) -> tuple[list[EventFile], bool]:
    entry = plan.for_file(path, raw.header["obsid"])
    if entry is None and csc is not None:
        name, reg3 = csc
        if reg3 is None:
            notice("ingest", "csc_events_without_region", f"CSC event file without its region file "
                   f"(reg3 of ObsID {name.obsid}, region {name.region}): every event of the file kept",
                   source=str(path), count=1, total=1)
            return [raw.cut(band=band, obsreg_id=name.obsreg_id)], False
        sl = read_csc_region(reg3, csc_band, name=str(name.region))
        return raw.cut_regions(sl, band=band, obsreg_ids=[name.obsreg_id]), True
    if entry is None:
        return [raw.cut(band=band)], False
    kind, value = entry
    if kind == "sources":
        obsid = raw.header["obsid"]
        sl = value.for_obsid(obsid)
        if sl.n_sources < value.n_sources:
            notice("ingest", "sources_other_obsid", f"{value.n_sources - sl.n_sources:,} of "
                   f"{value.n_sources:,} sources of {value.path} belong to other ObsIDs than {obsid}",
                   source=str(path), count=value.n_sources - sl.n_sources, total=value.n_sources,
                   severity="info")
        if sl.n_sources == 0:
            raise InputError(path, f"source list {value.path} has no source of ObsID {obsid}")
        value = sl
    return raw.cut_regions(value, band=band), True


def large_cuts(log) -> pd.DataFrame:
    """Files that lost more than half their events to one cut, from a NoticeLog's records:
    ``source``, ``code``, ``count``, ``total`` (what the end-of-run summary lists)."""
    rows = [
        (r.source, r.code, r.count, r.total)
        for r in log.records
        if r.stage == "ingest" and r.code.endswith("_cut") and r.total > 0
        and r.count > LARGE_CUT_FRACTION * r.total and r.severity != "info"
    ]
    return pd.DataFrame(rows, columns=["source", "code", "count", "total"])


def _typed_files(files: pd.DataFrame) -> pd.DataFrame:
    files = files[FILES_COLUMNS].copy()
    for c in ("exposure", "tstart", "tstop", "band_low_ev", "band_high_ev", "ra", "dec", "mjdref",
              "time_origin"):
        files[c] = pd.to_numeric(files[c], errors="coerce").astype(np.float64)
    files["time_origin"] = files["time_origin"].fillna(0.0)
    files["has_energy"] = files["has_energy"].map(
        lambda v: bool(v) if isinstance(v, (bool, np.bool_)) else True).astype(bool)
    for c in ("n_events", "n_raw", "n_outside_gti", "n_outside_band", "n_outside_region", "n_quality",
              "n_flare_gti"):
        files[c] = pd.to_numeric(files[c], errors="coerce").fillna(0).astype(np.int64)
    for c in (
        "obsreg_id",
        "telescope",
        "instrument",
        "obsid",
        "energy_source",
        "path",
        "object",
        "exposure_source",
        "region",
        "flare_gti_decision",
        "mode",
        "imaging",
        "timesys",
        "timeref",
        "time_correction",
        "tstart_utc",
        "tstop_utc",
    ):
        files[c] = files[c].astype(object).where(files[c].notna(), "").astype(str)
    return files.reset_index(drop=True)


def write_ingest(result: IngestResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``events.parquet``, ``files.parquet``, ``failures.csv`` and ``gtis.parquet``
    (always, header only when empty)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "events": result.events.write(RunLayout(out).events),
        "files": write_table(result.files, RunLayout(out).files),
        "failures": write_table(result.failures[FAILURE_COLUMNS], RunLayout(out).failures),
        "gtis": write_table(result.gtis[GTI_COLUMNS], RunLayout(out).gtis),
    }
    if len(result.regions):
        paths["regions"] = write_table(result.regions[REGION_COLUMNS], RunLayout(out).regions)
    if len(result.background):
        paths["background"] = write_table(result.background, RunLayout(out).background)
    if len(result.artefacts):
        paths["artefacts"] = write_table(result.artefacts[ARTEFACT_COLUMNS], RunLayout(out).artefacts)
    if len(result.pileup):
        paths["pileup"] = write_table(result.pileup[PILEUP_COLUMNS], RunLayout(out).pileup)
    return paths


def read_ingest(out_dir: str | Path) -> IngestResult:
    """Read back what :func:`write_ingest` wrote (events in ``files`` order)."""
    from serendip.io.tables import read_table

    out = Path(out_dir)
    files = read_table(RunLayout(out).files)
    events = EventSet.read(RunLayout(out).events, order=files["obsreg_id"].astype(str).tolist())
    failures = pd.read_csv(RunLayout(out).failures, dtype=str, keep_default_na=False)
    gti_path = RunLayout(out).gtis
    gtis = _typed_gtis(read_table(gti_path))[GTI_COLUMNS] if gti_path.is_file() else empty_gtis()
    reg_path = RunLayout(out).regions
    regions = read_table(reg_path) if reg_path.is_file() else empty_regions()
    art_path = RunLayout(out).artefacts
    artefacts = read_table(art_path) if art_path.is_file() else empty_artefacts()
    bkg_path = RunLayout(out).background
    background = read_table(bkg_path) if bkg_path.is_file() else empty_background()
    pile_path = RunLayout(out).pileup
    pileup = read_table(pile_path) if pile_path.is_file() else empty_pileup()
    return IngestResult(events, files, failures, gtis, regions, artefacts, background, pileup)
