"""Read one photon event file (FITS, optionally gzipped) into time [s] and energy [eV].

:func:`read_event_file` handles Chandra, XMM-Newton, eROSITA, NICER, NuSTAR, Swift-XRT,
Suzaku-XIS, AstroSat and any OGIP event list with a ``TIME`` column and either an
``ENERGY`` column (``TUNIT`` eV, keV or MeV) or a ``PI``/``PHA`` channel column with a
known gain, an ``EBOUNDS`` extension or a user-given ``gain=(ev_per_channel, offset_ev)``.

What is applied, all vectorised over the whole event list:

* ``TIMEZERO`` (or ``TIMEZERI + TIMEZERF``) added to event and GTI times;
* GTIs: per-CCD GTI extensions (Chandra ``CCD_ID``, XMM ``CCDID`` keyword) on each
  CCD's events, the other GTI extensions (intersected) on all events;
* rows with NaN/inf time or energy dropped and counted (the file is rejected when they are
  more than :data:`MAX_NAN_FRACTION` of its rows); exact duplicate rows (every byte of the
  row equal) dropped and counted;
* the energy band (inclusive, eV): by default the mission's standard band
  (:data:`serendip.io.missions.MISSIONS`), a user band wins; and optional source regions
  (:mod:`serendip.io.regions`, :mod:`serendip.io.sourcelists`);
* events sorted by time (stable) when the file is not.

Every cut is counted in ``meta`` and recorded with :func:`serendip.notices.notice`; a cut
that removes more than half of a file's events is a warning naming the cut and the counts.

Exposure [s] is the good time of the GTIs (for a region: of the CCDs its events fall on)
times the dead-time factor (``DEADC``, ``DTCOR`` or ``LIVETIME/ONTIME``); without GTIs
the ``EXPOSURE``/``LIVETIME``/``ONTIME`` keywords or ``TSTOP - TSTART``.
``meta["exposure_source"]`` says which.

Files are read whole into memory (gzip decompressed with its CRC checked) and parsed by
:mod:`serendip.io.fitsraw`, which reads headers and only the needed columns straight from
the bytes (astropy as fallback). Every problem raises :class:`~serendip.errors.InputError`
naming the file and the reason.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from serendip.errors import InputError
from serendip.io.fitsraw import FitsFile, HDUInfo
from serendip.io.gti import GTISet, find_column, is_gti_hdu, read_gtis, total_length
from serendip.io.missions import (
    MODE_KEYWORDS,
    Mission,
    describe_gain,
    energy_unit_scale,
    format_energy,
    identify_mission,
)
from serendip.io.regions import (
    PixelRegions,
    PositionIndex,
    SourceRegion,
    compile_regions,
    default_row_height,
    event_wcs,
    select,
    sorted_unique,
)
from serendip.io.timesys import Barycentre, TimeSystem, read_time_system
from serendip.notices import notice

#: File name endings treated as FITS event files when scanning folders.
EVENT_FILE_SUFFIXES = (".fits", ".fits.gz", ".evt", ".evt.gz", ".fit", ".fit.gz", ".fts", ".fts.gz")
#: Extension names that hold events.
EVENT_EXTNAMES = ("EVENTS", "EVENT", "STDEVT", "XTE_SE")
_NOT_EVENTS_CLASSES = ("LIGHTCURVE", "SPECTRUM", "RESPONSE", "GTI", "IMAGE")
_TIME_UNITS_S = ("s", "sec", "second", "seconds", "")
#: a file whose rows with NaN/inf time or energy exceed this fraction is rejected
MAX_NAN_FRACTION = 0.5
#: a cut removing more than this fraction of a file's events is a warning
LARGE_CUT_FRACTION = 0.5
#: ``band="auto"``: the mission's standard band (:data:`serendip.io.missions.MISSIONS`)
AUTO_BAND = "auto"
#: median energy [value in the file] below which a unit-less energy column is taken as keV
KEV_LOOKING_MEDIAN = 200.0


@dataclass
class EventFile:
    """The events of one file (or one region of it) after all cuts.

    Attributes
    ----------
    obsreg_id : str
        Identifier: ``OBS_ID`` (or the file stem), ``{OBS_ID}_{n}`` for a region.
    time : ndarray, (n_events,) float64
        Event times [s] in the mission's time system, TIMEZERO applied, sorted.
    energy : ndarray, (n_events,) float32
        Photon energies [eV].
    meta : dict
        At least telescope, instrument, obsid, exposure [s], tstart, tstop [s],
        n_events, path, energy_source; plus exposure_source, ontime [s], the
        per-cut event counts (n_raw, n_outside_gti, n_bad_energy, n_outside_band,
        n_outside_region), band, region, gti_extensions, timezero, object, mission.
    """

    obsreg_id: str
    time: np.ndarray
    energy: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)
    #: merged good-time intervals ``(start, stop)`` [s] of this file or region (its CCDs),
    #: None when the file has no GTIs
    good_times: tuple[np.ndarray, np.ndarray] | None = None
    #: relative expected rate in each good-time interval (source + its share of the field's
    #: background light curve, :mod:`serendip.io.background`); None: constant
    gti_weight: np.ndarray | None = None

    @property
    def n_events(self) -> int:
        """Number of events in the file."""
        return len(self.time)


def file_stem(path: str | Path) -> str:
    """File name without ``.gz`` and its FITS suffix (``obs.evt.gz`` -> ``obs``)."""
    name = Path(path).name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    return name.rsplit(".", 1)[0] if "." in name else name


def _check_band(band) -> tuple[float, float] | str | None:
    """Validate a band [eV]: ``None`` (all energies), ``"auto"`` (the mission's) or (low, high).

    An astropy Quantity pair (``(0.5, 7) * u.keV``) is converted to eV."""
    if band is None:
        return None
    if isinstance(band, str):
        if band.strip().lower() in (AUTO_BAND, "mission", "default"):
            return AUTO_BAND
        raise InputError(None, f"band must be (low_eV, high_eV), 'auto' or None, got {band!r}")
    if hasattr(band, "unit") or any(hasattr(b, "unit") for b in band):
        import astropy.units as u

        band = [float(u.Quantity(b).to_value(u.eV, equivalencies=u.spectral())) for b in band]
    try:
        lo, hi = (float(b) for b in band)
    except (TypeError, ValueError) as exc:
        raise InputError(None, f"band must be (low_eV, high_eV), got {band!r}") from exc
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 <= lo < hi):
        raise InputError(None, f"band must satisfy 0 <= low < high (eV), got {band!r}")
    return lo, hi


def _check_gain(gain) -> tuple[float, float] | None:
    if gain is None:
        return None
    try:
        per, off = (float(g) for g in gain)
    except (TypeError, ValueError) as exc:
        raise InputError(None, f"gain must be (ev_per_channel, offset_ev), got {gain!r}") from exc
    if not (np.isfinite(per) and np.isfinite(off) and per > 0):
        raise InputError(
            None, f"gain must have ev_per_channel > 0 and a finite offset, got {gain!r}"
        )
    return per, off


# ---------------------------------------------------------------- opening
def _open_fits(path: Path) -> FitsFile:
    """Read ``path`` (plain or gzipped FITS) into memory and split it into HDUs.

    Only headers are parsed here; columns are read later, straight from the bytes.
    """
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a folder, not an event file")
    size = path.stat().st_size
    if size == 0:
        raise InputError(path, "empty file (0 bytes)")
    with open(path, "rb") as fh:
        head = fh.read(80)
    if head[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(path.read_bytes())
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(
                path, f"gzip data is corrupt or truncated ({type(exc).__name__}: {exc})"
            ) from exc
        if not data:
            raise InputError(path, "gzip file decompresses to 0 bytes")
        head = data[:80]
    elif head.startswith(b"SIMPLE  ="):
        data = path.read_bytes()
    else:
        data = b""
    if not head.startswith(b"SIMPLE  ="):
        raise InputError(path, f"not a FITS file (starts with {head[:24]!r}, expected 'SIMPLE  =')")
    try:
        return FitsFile.open_bytes(data)
    except Exception as exc:  # noqa: BLE001 - astropy raises many kinds; all mean an unreadable file
        extra = (
            " (file size is not a multiple of 2880 bytes: truncated?)" if len(data) % 2880 else ""
        )
        raise InputError(
            path, f"cannot be opened as FITS: {type(exc).__name__}: {exc}{extra}"
        ) from exc


def _hduclas1(h: HDUInfo) -> str:
    return str(h.header.get("HDUCLAS1", "") or "").strip().upper()


def _find_events_hdu(ff: FitsFile) -> int | None:
    tables = [h for h in ff.hdus if h.kind == "bintable"]
    for h in tables:
        if h.name in EVENT_EXTNAMES or _hduclas1(h) in ("EVENTS", "EVENT"):
            return h.index
    for h in tables:
        if (
            is_gti_hdu(h)
            or _hduclas1(h) in _NOT_EVENTS_CLASSES
            or h.name in ("RATE", "EBOUNDS", "SPECTRUM")
        ):
            continue
        if any(n.upper() == "TIME" for n in ff.names(h.index)):
            return h.index
    return None


def _no_events_reason(ff: FitsFile, nbytes: int) -> str:
    desc = []
    for h in ff.hdus:
        clas = _hduclas1(h)
        desc.append(f"{h.index}:{h.name or h.kind}" + (f"({clas})" if clas else ""))
        if h.kind == "bintable" and (clas == "LIGHTCURVE" or h.name == "RATE"):
            return (
                f"binned light curve (extension {h.name}, HDUCLAS1={clas or 'n/a'}), not an event list; "
                "serendip ingests photon event lists"
            )
    if nbytes % 2880 or not ff.complete:
        return f"truncated: no complete events extension and the size ({nbytes} bytes) is not a multiple of 2880"
    return f"no events extension (EVENTS, or a table with a TIME column); extensions: {', '.join(desc)}"


def _numeric_column(
    reader: FitsFile, ext: int, col: str, path, what: str, dtype=np.float64
) -> np.ndarray:
    try:
        arr = reader.column(ext, col)
    except Exception as exc:  # noqa: BLE001 - truncated data shows up here as reshape errors
        raise InputError(
            path, f"cannot read column {col!r}: {type(exc).__name__}: {exc} (truncated file?)"
        ) from exc
    if arr.ndim != 1:
        raise InputError(
            path, f"{what} column {col!r} is not one value per event (shape {arr.shape})"
        )
    if arr.dtype.kind not in "iuf":
        raise InputError(path, f"{what} column {col!r} is not numeric (dtype {arr.dtype})")
    return arr.astype(dtype, copy=False)


def _timezero(header, path) -> float:
    """TIMEZERO [s] of one extension (TIMEZERO, else TIMEZERI + TIMEZERF, else 0)."""
    try:
        if "TIMEZERO" in header:
            tz = float(header["TIMEZERO"])
        else:
            tz = float(header.get("TIMEZERI", 0) or 0) + float(header.get("TIMEZERF", 0.0) or 0.0)
    except (TypeError, ValueError) as exc:
        raise InputError(
            path, f"TIMEZERO keyword is not a number ({header.get('TIMEZERO')!r})"
        ) from exc
    if not np.isfinite(tz):
        raise InputError(path, f"TIMEZERO keyword is not a finite number ({tz!r})")
    return tz


def _float_key(headers, key) -> float | None:
    for h in headers:
        if key in h:
            try:
                v = float(h[key])
            except (TypeError, ValueError):
                continue
            if np.isfinite(v):
                return v
    return None


def _str_key(headers, key) -> str | None:
    for h in headers:
        v = h.get(key)
        if v is not None and str(v).strip():
            return str(v).strip()
    return None


# ---------------------------------------------------------------- energy
def _energy_from_columns(
    ext: int, reader: FitsFile, names, mission: Mission, gain, path
) -> tuple[np.ndarray, str]:
    """Photon energies [eV] (float32) and a text saying where they came from."""
    ecol = find_column(names, "ENERGY")
    if ecol is not None:
        unit = reader.unit(ext, ecol)
        note = ""
        if not unit:
            unit, note = _guess_energy_unit(reader.column(ext, ecol), ecol, mission, path)
        scale = energy_unit_scale(unit)
        if scale is None:
            raise InputError(
                path,
                f"energy column {ecol!r} has unsupported unit {unit!r} (expected eV, keV or MeV)",
            )
        values = _numeric_column(reader, ext, ecol, path, "energy")
        src = f"{ecol} column [{unit}]" + ("" if scale == 1.0 else f" x {scale:g}") + note
        return (values * scale).astype(np.float32), src

    chan_col = find_column(names, *mission.channel_columns, "PI", "PHA", "CHANNEL")
    if chan_col is None:
        raise InputError(
            path,
            f"no energy information: neither an ENERGY nor a PI/PHA column (columns: {names[:30]})",
        )
    chan = _numeric_column(reader, ext, chan_col, path, "channel")

    if gain is not None:
        src = describe_gain(gain, chan_col.upper()) + " (user gain)"
        return (chan * gain[0] + gain[1]).astype(np.float32), src

    eb = _ebounds(reader, path)
    if eb is not None:
        channels, e_mid_ev = eb
        pos = np.searchsorted(channels, chan)
        posc = np.clip(pos, 0, len(channels) - 1)
        ok = (pos < len(channels)) & (channels[posc] == chan)
        energy = np.where(ok, e_mid_ev[posc], np.nan).astype(np.float32)
        return energy, f"{chan_col.upper()} via EBOUNDS (channel mid-energy)"

    if mission.gain is not None and chan_col.upper() in mission.channel_columns:
        return (chan * mission.gain[0] + mission.gain[1]).astype(np.float32), describe_gain(
            mission.gain, chan_col.upper()
        )

    tel = _str_key([reader.header(ext), reader.header(0)], "TELESCOP") or "?"
    ins = _str_key([reader.header(ext), reader.header(0)], "INSTRUME") or "?"
    why = f": {mission.no_gain_reason}" if mission.no_gain_reason else ""
    raise InputError(
        path,
        f"only a {chan_col!r} channel column, with no known gain for TELESCOP={tel!r} INSTRUME={ins!r} "
        f"and no EBOUNDS extension{why}; supply one as gain=(ev_per_channel, offset_ev) "
        "(CLI: --gain EV_PER_CHANNEL OFFSET_EV)",
    )


def _guess_energy_unit(values, ecol: str, mission: Mission, path) -> tuple[str, str]:
    """Unit of an energy column without ``TUNIT``: the mission's, unless the values look like
    keV (median below :data:`KEV_LOOKING_MEDIAN`) where the mission says eV or nothing; every
    guess is a notice."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    med = float(np.median(v)) if len(v) else float("nan")
    default = mission.energy_unit
    if default not in (None, "eV"):
        unit, how = default, f"the {mission.name} convention"
        sev = "info"
    elif np.isfinite(med) and med < KEV_LOOKING_MEDIAN:
        unit, how, sev = "keV", f"its values look like keV (median {med:.4g})", "warning"
    elif default is not None:
        unit, how, sev = default, f"the {mission.name} convention (median {med:.4g})", "info"
    elif np.isfinite(med):
        unit, how, sev = "eV", f"its values look like eV (median {med:.4g})", "warning"
    else:
        raise InputError(path, f"energy column {ecol!r} has no unit (TUNIT) and no finite value")
    notice("ingest", "energy_unit_guessed",
           f"energy column {ecol!r} has no unit (TUNIT); taken as {unit} because of {how}",
           source=path, count=len(v), total=len(values), severity=sev)
    return unit, f" (no TUNIT; {unit} from {how})"


def _ebounds(ff: FitsFile, path) -> tuple[np.ndarray, np.ndarray] | None:
    """(sorted channels, mid energies [eV]) of an EBOUNDS extension, or None."""
    for h in ff.hdus[1:]:
        if h.name != "EBOUNDS" or h.kind != "bintable":
            continue
        names = ff.names(h.index)
        c, lo, hi = (
            find_column(names, "CHANNEL"),
            find_column(names, "E_MIN"),
            find_column(names, "E_MAX"),
        )
        if c is None or lo is None or hi is None:
            raise InputError(path, f"EBOUNDS extension lacks CHANNEL/E_MIN/E_MAX (has {names})")
        unit = ff.unit(h.index, lo) or "keV"
        scale = energy_unit_scale(unit)
        if scale is None:
            raise InputError(path, f"EBOUNDS E_MIN has unsupported unit {unit!r}")
        ch = np.asarray(ff.column(h.index, c), dtype=np.int64)
        e_lo = np.asarray(ff.column(h.index, lo), dtype=np.float64)
        e_hi = np.asarray(ff.column(h.index, hi), dtype=np.float64)
        order = np.argsort(ch)
        return ch[order], (0.5 * (e_lo + e_hi) * scale)[order]
    return None


# ---------------------------------------------------------------- raw events
@dataclass
class RawEvents:
    """One event file after GTI filtering, before band and region cuts (internal).

    Arrays are (n,) and time-sorted: ``time`` [s] float64, ``energy`` [eV] float32
    (may hold NaN where a channel had no energy), ``x``/``y`` physical pixels or None,
    ``ccd`` int or None.
    """

    path: str
    time: np.ndarray
    energy: np.ndarray
    x: np.ndarray | None
    y: np.ndarray | None
    ccd: np.ndarray | None
    gtis: GTISet
    wcs: Any  # astropy WCS of x/y (serendip.io.regions.event_wcs) or None
    header: dict[str, Any]
    _index: PositionIndex | None = None
    _gti_cache: dict = field(default_factory=dict)
    #: optional raw columns for the artefact diagnostics (:data:`AUX_COLUMNS`), (n,) each
    aux: dict[str, np.ndarray] = field(default_factory=dict)

    def good_times(self, ccds: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """Merged GTIs [s] of a set of CCDs (None: all), cached: many regions share one set."""
        key = None if ccds is None else tuple(int(c) for c in ccds)
        if key not in self._gti_cache:
            self._gti_cache[key] = self.gtis.intervals(ccds)
        return self._gti_cache[key]

    # -- exposure of a set of CCDs (None: all CCDs with events)
    def exposure(self, ccds: np.ndarray | None = None) -> tuple[float, float | None, str]:
        """(exposure [s], ontime [s] or None, how it was obtained)."""
        h = self.header
        key = ("ontime", None if ccds is None else tuple(int(c) for c in ccds))
        if key not in self._gti_cache:
            iv = self.good_times(ccds)
            self._gti_cache[key] = None if iv is None else total_length(iv)
        ontime = self._gti_cache[key]
        deadc, dsrc = h["deadc"], h["deadc_source"]
        if ontime is not None and ontime > 0:
            if deadc is not None:
                return (
                    ontime * deadc,
                    ontime,
                    f"GTIs ({ontime:.1f} s) x dead-time factor {deadc:.4f} ({dsrc})",
                )
            return ontime, ontime, f"GTIs ({ontime:.1f} s)"
        for key in ("EXPOSURE", "LIVETIME", "ONTIME"):
            if h.get(key) is not None and h[key] > 0:
                return float(h[key]), None, f"{key} keyword"
        if h["tstart"] is not None and h["tstop"] is not None and h["tstop"] > h["tstart"]:
            return h["tstop"] - h["tstart"], None, "TSTOP - TSTART (no GTIs or EXPOSURE keyword)"
        span = float(self.time[-1] - self.time[0]) if len(self.time) > 1 else 0.0
        return span, None, "event time span (no GTIs, EXPOSURE or TSTART/TSTOP)"

    def _make(
        self, idx: np.ndarray | None, obsreg_id: str, counts: dict, band, region_desc,
        ccds: np.ndarray | None = None, radec: tuple[float, float] | None = None,
    ) -> EventFile:
        """An EventFile of rows ``idx``; ``ccds`` (the region's CCDs, for its GTIs) and
        ``radec`` (its position) when the caller computed them for many regions at once."""
        time = self.time if idx is None else self.time[idx]
        energy = self.energy if idx is None else self.energy[idx]
        if ccds is None and self.ccd is not None and self.gtis.per_ccd and region_desc is not None and len(time):
            ccds = np.flatnonzero(np.bincount(self.ccd[idx] - self.ccd.min()) > 0) + self.ccd.min()
        if ccds is not None and not len(ccds):
            ccds = None
        exposure, ontime, exp_src = self.exposure(ccds)
        h = self.header
        ra, dec = h["target_radec"] if radec is None else radec
        good = self.good_times(ccds)
        tstart, tstop = h["tstart"], h["tstop"]
        bary = h.get("barycentre")
        if bary is not None and radec is not None and np.isfinite(ra) and np.isfinite(dec):
            # the file was barycentred for its target; move to this source's own direction
            def shift(t):
                t = np.asarray(t, dtype=np.float64)
                return t + bary.difference(t + h["time_origin"], *h["target_radec"], ra, dec)

            time = shift(time)
            good = None if good is None else (shift(good[0]), shift(good[1]))
            tstart = None if tstart is None else float(shift(tstart))
            tstop = None if tstop is None else float(shift(tstop))
        meta = {
            "telescope": h["telescope"],
            "instrument": h["instrument"],
            "obsid": h["obsid"],
            "object": h["object"],
            "mission": h["mission"],
            "exposure": float(exposure),
            "exposure_source": exp_src,
            "ontime": ontime,
            "tstart": tstart
            if tstart is not None
            else (float(time[0]) if len(time) else np.nan),
            "tstop": tstop
            if tstop is not None
            else (float(time[-1]) if len(time) else np.nan),
            "n_events": int(len(time)),
            "ra": ra,
            "dec": dec,
            "path": self.path,
            "energy_source": h["energy_source"],
            "band": None if band is None else tuple(band),
            "region": region_desc,
            "gti_extensions": list(self.gtis.extensions),
            "timezero": h["timezero"],
            "timesys": h["timesys"],
            "timeref": h["timeref"],
            "mjdref": h["mjdref"],
            "time_origin": h["time_origin"],
            "time_correction": h["time_correction"],
            "imaging": h["imaging"],
            "has_energy": h["has_energy"],
            "mode": h["mode"],
            "n_quality": h["n_quality"],
            "n_flare_gti": h.get("n_flare_gti", 0),
            "flare_gti_decision": "field" if h.get("n_flare_gti", 0) else "",
            "time_sorted_on_read": h["time_sorted_on_read"],
            "n_raw": h["n_raw"],
            "n_nan_time": h["n_nan_time"],
            "n_duplicates": h["n_duplicates"],
            "n_outside_gti": h["n_outside_gti"],
            **counts,
        }
        return EventFile(obsreg_id, time, energy, meta, good)

    def resolve_band(self, band) -> tuple[float, float] | None:
        """The band [eV] to apply: ``"auto"`` -> the mission's standard band (or None)."""
        band = _check_band(band)
        if not self.header["has_energy"]:
            if band not in (AUTO_BAND, None):
                raise InputError(self.path, f"{self.header['mission']} {self.header['instrument']} "
                                 "has no usable energy resolution, so an energy band cannot be "
                                 "applied; ingest it with the automatic band or none")
            return None
        if band == AUTO_BAND:
            return self.header["mission_band"]
        return band

    def _band_text(self, band) -> str:
        if band is None:
            return "all energies"
        text = f"{format_energy(band[0])}-{format_energy(band[1])}"
        if band == self.header["mission_band"]:
            text += f" ({self.header['mission']} standard band)"
        return text

    def _finite_energy(self) -> np.ndarray:
        """Events with a usable energy (every event of a file without energies)."""
        if not self.header["has_energy"]:
            return np.ones(len(self.energy), bool)
        return np.isfinite(self.energy)

    def _band_mask(self, band) -> np.ndarray:
        finite = self._finite_energy()
        if band is None:
            return finite
        return finite & (self.energy >= band[0]) & (self.energy <= band[1])

    def _note_band_cut(self, band, n_bad: int, n_out: int, n_in: int, what: str = "") -> None:
        """Notices for the energy cuts of the whole file (or of all its regions together)."""
        n = n_bad + n_out + n_in
        if n_bad:
            notice("ingest", "bad_energy", f"{n_bad:,} of {n:,} events{what} have no valid energy "
                   "(NaN, or a channel outside EBOUNDS) and were dropped",
                   source=self.path, count=n_bad, total=n,
                   severity="warning" if n_bad > LARGE_CUT_FRACTION * n else "info")
        if band is None and self.header["mission_band"] is None:
            notice("ingest", "no_standard_band", f"no standard band is known for TELESCOP="
                   f"{self.header['telescope']!r} INSTRUME={self.header['instrument']!r}: every "
                   "energy kept (give a band to cut)", source=self.path, count=0, total=n, severity="info")
        if band is None:
            return
        large = n_out + n_bad > LARGE_CUT_FRACTION * n
        notice("ingest", "band_cut",
               f"band {self._band_text(band)} kept {n_in:,} of {n:,} events{what}"
               + (f": {n_out + n_bad:,} ({100 * (n_out + n_bad) / max(n, 1):.0f}%) removed" if large else ""),
               source=self.path, count=n_out + n_bad, total=n, severity="warning" if large else "info")

    def cut(
        self, band=AUTO_BAND, region: SourceRegion | None = None, obsreg_id: str | None = None
    ) -> EventFile:
        """Apply the band [eV] (``"auto"``: the mission's) and optional region; raise when no
        event is left."""
        band = self.resolve_band(band)
        if region is None:
            in_band = self._band_mask(band)
            bad = int(np.count_nonzero(~self._finite_energy()))
            n_in = int(in_band.sum())
            counts = {"n_bad_energy": bad, "n_outside_band": len(in_band) - n_in - bad,
                      "n_outside_region": 0}
            self._note_band_cut(band, bad, counts["n_outside_band"], n_in)
            oid = obsreg_id or self.header["default_id"]
            ef = self._make(np.flatnonzero(in_band), oid, counts, band, None)
            ef.meta["artefacts"] = self.artefacts([np.arange(len(self.time))], np.array([np.nan]),
                                                  [oid])[0]
            fl = self.header.get("flares")
            if fl is not None and len(fl.start) and self.header.get("flare_screen") == "auto":
                from serendip.io.flares import report_file

                report_file(fl, "auto", 0, ef.n_events, self.path)
        else:
            ef = self.cut_regions(
                [region], band=band, keep_empty=True, obsreg_ids=[obsreg_id] if obsreg_id else None
            )[0]
        if ef.n_events == 0:
            raise InputError(self.path, zero_events_reason(ef.meta))
        return ef

    def artefacts(self, members: list[np.ndarray], half_pix: np.ndarray, ids: list[str]) -> list[dict]:
        """Artefact diagnostics of each source (rows of :func:`serendip.io.artefacts.measure_artefacts`,
        every energy of its region), as one dict per source; the counts-per-frame time series of
        each (:func:`serendip.io.artefacts.pileup_series`, without ``obsreg_id``) is under the
        dict's ``"_pileup_series"`` key (absent for an instrument without frames)."""
        from serendip.io.artefacts import measure_artefacts
        from serendip.io.regions import arcsec_per_pixel

        scale = arcsec_per_pixel(self.wcs) if self.wcs is not None else None
        series: list = []
        tab = measure_artefacts(self.time, self.ccd, self.aux, self.header, members, half_pix, ids,
                                scale, self.good_times(None), series_out=series)
        rows = tab.to_dict("records")
        if series and len(series[0]) and rows:
            per = series[0].drop(columns="obsreg_id")
            nb = len(per) // len(rows)
            for k, r in enumerate(rows):
                r["_pileup_series"] = per.iloc[k * nb:(k + 1) * nb].reset_index(drop=True)
        return rows

    def dither_curves(self, members: list[np.ndarray]) -> list:
        """Relative exposure curve of each source from the dither path (or None), from its
        events' chip positions (:func:`serendip.io.dither_exposure.dither_curves`); a notice
        counts the sources corrected and those that could not be."""
        from serendip.io.artefacts import dither_pattern
        from serendip.io.dither_exposure import dither_curves, note_curves

        h = self.header
        mjd = (h["mjdref"] + h["tstart"] / 86400.0
               if h.get("mjdref") is not None and h.get("tstart") is not None else None)
        pattern = dither_pattern(str(h.get("telescope", "")), str(h.get("instrument", "")), mjd)
        curves, counts = dither_curves(self.time, self.ccd, self.aux, h, members,
                                       self.good_times(None), pattern)
        note_curves(counts, pattern, self.path)
        return curves

    def pixel_regions(self, regions) -> PixelRegions:
        """Regions (list of SourceRegion, a SourceList or PixelRegions) in this file's pixels."""
        from serendip.io.sourcelists import SourceList

        h = self.header
        if h.get("imaging") == "none":
            raise InputError(self.path, f"{h['mission']} {h['instrument']} is not an imaging "
                             "instrument (mission registry), so a region or source list cannot be "
                             "applied; ingest the file whole")
        if self.x is None or self.y is None:
            raise InputError(self.path, "no x/y position columns, so a region cannot be applied")
        if h.get("imaging") == "1d":
            notice("ingest", "one_dimensional_mode", f"{h['mission']} {h['mode'] or h['instrument']} "
                   "images in one dimension only (positions along the readout are collapsed): a "
                   "region selects along the imaged direction, the other extent is not meaningful",
                   source=self.path, count=0, total=0, severity="warning")
        if isinstance(regions, PixelRegions):
            return regions
        if isinstance(regions, SourceList):
            return regions.to_pixels(self.wcs, self.path)
        if isinstance(regions, SourceRegion):
            regions = [regions]
        return compile_regions(list(regions), self.wcs, self.header["image_offset"], self.path)

    def _ccd_sets(self, members: list[np.ndarray]) -> list[np.ndarray | None]:
        """The CCDs each region's events fall on (for per-CCD GTIs), for all regions at once."""
        if self.ccd is None or not self.gtis.per_ccd or not members:
            return [None] * len(members)
        sizes = np.array([len(m) for m in members])
        owner = np.repeat(np.arange(len(members)), sizes)
        allidx = np.concatenate(members) if sizes.sum() else np.zeros(0, np.int64)
        c0 = int(self.ccd.min()) if len(self.ccd) else 0
        span = int(self.ccd.max()) - c0 + 1 if len(self.ccd) else 1
        pairs = sorted_unique(owner * span + (self.ccd[allidx] - c0))
        who, ccd = pairs // span, pairs % span + c0
        bounds = np.searchsorted(who, np.arange(len(members) + 1))
        return [ccd[bounds[k] : bounds[k + 1]] if bounds[k + 1] > bounds[k] else None for k in range(len(members))]

    def _background_template(self, bmem, usable: np.ndarray, areas: np.ndarray):
        """The field's background excess light curve from the background regions
        (:func:`serendip.io.background.field_excess`): ``(edges, excess)``."""
        from serendip.io.background import field_excess

        good = self.good_times(None)
        idx = [i[usable[i]] for i in bmem]
        if good is None or not idx:
            return np.zeros(0), np.zeros(0)
        n = np.array([len(i) for i in idx])
        flat = np.concatenate(idx) if n.sum() else np.zeros(0, np.int64)
        w = np.repeat(1.0 / (np.maximum(areas, 1e-9) * len(idx)), n)
        return field_excess(self.time[flat], w, len(np.unique(flat)), good[0], good[1], self.path)

    @staticmethod
    def _apply_template(ef: EventFile, template, flares, area: float, screen: bool):
        """Give ``ef`` its expected-rate template as weighted GTIs and screen the field's
        background flares out of it (:mod:`serendip.io.background`).
        Returns (events screened out, 1 if the source kept a flare interval as its own)."""
        from serendip.io.background import screen_flare, weighted_intervals

        start, stop, w = weighted_intervals(*ef.good_times, *template, area, ef.n_events)
        n_cut, own = 0, 0
        if screen and len(flares[0]):
            keep, start2, stop2, w2, n_cut = screen_flare(ef.time, start, stop, w, flares)
            own, n_cut = int(n_cut < 0), max(n_cut, 0)
            if len(start2) < len(start):
                ef.time, ef.energy = ef.time[keep], ef.energy[keep]
                ef.meta["n_events"] = int(len(ef.time))
                ef.meta["n_background_flare"] = int(n_cut)
                start, stop, w = start2, stop2, w2
        if not np.allclose(w, 1.0) or len(start) != len(ef.good_times[0]):
            ef.good_times, ef.gti_weight = (start, stop), w
        return n_cut, own

    @staticmethod
    def _apply_mission_flares(ef: EventFile, flares) -> tuple[int, str]:
        """Cut the mission's flare GTIs (:class:`serendip.io.flares.FlareGTIs`) from one
        source unless it flares itself then (:func:`serendip.io.background.screen_flare`).
        Returns (events removed, decision: ``"cut"``, ``"exempt"`` or ``"outside"``)."""
        from serendip.io.background import screen_flare
        from serendip.io.flares import split_at

        start, stop = ef.good_times
        w = np.ones(len(start)) if ef.gti_weight is None else ef.gti_weight
        start, stop, w = split_at(start, stop, w, np.concatenate([flares.start, flares.stop]))
        keep, s2, e2, w2, n_cut = screen_flare(ef.time, start, stop, w, (flares.start, flares.stop))
        if n_cut < 0:
            ef.meta["flare_gti_decision"] = "exempt"
            return 0, "exempt"
        if len(s2) == len(start):
            ef.meta["flare_gti_decision"] = "outside"
            return 0, "outside"
        ef.time, ef.energy = ef.time[keep], ef.energy[keep]
        ef.meta["n_events"] = int(len(ef.time))
        ef.meta["n_flare_gti"] = int(n_cut)
        ef.meta["flare_gti_decision"] = "cut"
        ef.good_times = (s2, e2)
        ef.gti_weight = None if np.allclose(w2, 1.0) else w2
        return int(n_cut), "cut"

    def cut_regions(
        self,
        regions,
        band=AUTO_BAND,
        keep_empty: bool = True,
        obsreg_ids=None,
        screen: bool = True,
    ):
        """One :class:`EventFile` per source region (see :func:`extract_regions`).

        ``regions``: a list of :class:`~serendip.io.regions.SourceRegion`, a
        :class:`~serendip.io.sourcelists.SourceList` or compiled
        :class:`~serendip.io.regions.PixelRegions`. Background regions (source lists give
        each source an annulus) are counted in the band, leaving out the events of every
        source, into ``meta`` (``bkg_counts``, ``bkg_area_pix``, ``src_area_pix``). From the
        background regions the field's background light curve gives each source an
        expected-rate template (``gti_weight``), and with ``screen`` the intervals of a
        significant background flare are removed from every source that does not flare
        itself then (:mod:`serendip.io.background`), with a notice giving the counts.
        """
        band = self.resolve_band(band)
        pr = self.pixel_regions(regions)
        if self._index is None:
            self._index = PositionIndex(self.x, self.y, row_height=default_row_height(pr))
        members = select(pr, self.x, self.y, self._index)
        in_band = self._band_mask(band)
        finite = self._finite_energy()
        bkg_counts = bkg_area = None
        if pr.background is not None:
            in_any = np.zeros(len(self.x), bool)
            for idx in members:
                in_any[idx] = True
            bmem = select(pr.background, self.x, self.y, self._index)
            bkg_counts = np.array([np.count_nonzero(in_band[i] & ~in_any[i]) for i in bmem], np.int64)
            bkg_area = pr.background.areas()
            template = self._background_template(bmem, in_band & ~in_any, bkg_area)
            from serendip.io.background import flare_intervals

            flares = flare_intervals(*template)
        tot_screened = n_screened_src = n_own_flare = 0
        mission_fl = self.header.get("flares")
        if mission_fl is None or not len(mission_fl.start) or self.header.get("flare_screen") != "auto":
            mission_fl = None
        fl_removed, fl_sources, fl_exempt = 0, 0, []
        src_area = pr.areas()
        boxes = pr.bboxes()
        first = np.full(pr.n_sources, -1)
        inc_rows = np.flatnonzero(pr.include)
        first[pr.src[inc_rows][::-1]] = inc_rows[::-1]  # first include shape of each source
        cx = np.where(first >= 0, pr.cx[np.maximum(first, 0)], np.nan)
        cy = np.where(first >= 0, pr.cy[np.maximum(first, 0)], np.nan)
        half = np.zeros(pr.n_sources)
        np.maximum.at(half, pr.src, np.maximum(boxes[:, 1] - boxes[:, 0], boxes[:, 3] - boxes[:, 2]) / 2)
        ra = np.full(pr.n_sources, self.header["target_radec"][0])
        dec = np.full(pr.n_sources, self.header["target_radec"][1])
        if self.wcs is not None and pr.n_sources:
            ra, dec = (np.asarray(v, float) for v in self.wcs.pixel_to_world_values(cx, cy))
        ccd_sets = self._ccd_sets(members)
        out = []
        n_all = len(self.time)
        tot_bad = tot_out = tot_in = 0
        stem = self.header["obsid_or_stem"]
        oids = [str(obsreg_ids[k]) if obsreg_ids is not None
                else f"{stem}_{pr.names[k] if pr.names[k] not in (None, '') else k + 1}"
                for k in range(len(members))]
        artefacts = self.artefacts(members, half, oids)
        dither = self.dither_curves(members)
        for k, idx in enumerate(members):
            sel = in_band[idx]
            keep = idx[sel]
            bad = int(len(idx) - np.count_nonzero(finite[idx]))
            counts = {
                "n_bad_energy": bad,
                "n_outside_band": int(len(idx) - len(keep) - bad),
                "n_outside_region": int(n_all - len(idx)),
                "region_x": float(cx[k]),
                "region_y": float(cy[k]),
                "region_radius_pix": float(half[k]),
                "src_area_pix": float(src_area[k]),
            }
            if bkg_counts is not None:
                counts["bkg_counts"] = int(bkg_counts[k])
                counts["bkg_area_pix"] = float(bkg_area[k])
                # the annulus's own events in the band (other sources' left out), for the
                # candidate's own-background common-mode test (serendip.catalog.common_mode)
                b = bmem[k]
                counts["bkg_time"] = self.time[b[in_band[b] & ~in_any[b]]]
            tot_bad += bad
            tot_out += counts["n_outside_band"]
            tot_in += len(keep)
            ef = self._make(keep, oids[k], counts, band, pr.descriptions[k], ccd_sets[k],
                            (float(ra[k]), float(dec[k])))
            ef.meta["artefacts"] = artefacts[k]
            if dither[k] is not None:
                ef.meta["dither_curve"] = dither[k]
            if bkg_counts is not None and ef.good_times is not None and len(template[0]):
                n_screened, n_kept_flare = self._apply_template(ef, template, flares,
                                                                float(src_area[k]), screen)
                tot_screened += n_screened
                n_screened_src += n_screened > 0
                n_own_flare += n_kept_flare
            if mission_fl is not None and ef.good_times is not None:
                n_fl_cut, decision = self._apply_mission_flares(ef, mission_fl)
                fl_removed += n_fl_cut
                fl_sources += decision == "cut"
                if decision == "exempt":
                    fl_exempt.append(ef.obsreg_id)
                    notice("ingest", "flare_gti_exempt", f"{ef.obsreg_id} keeps the mission flare "
                           "intervals: its own counts there are significantly above its expected "
                           "rate (a real source flare is not cut)", source=ef.obsreg_id,
                           count=0, total=ef.n_events, severity="info")
            if ef.n_events or keep_empty:
                out.append(ef)
        if bkg_counts is not None and len(flares[0]):
            n_fl = len(flares[0])
            dur = float(np.sum(flares[1] - flares[0]))
            if screen:
                notice("ingest", "background_flare_screened",
                       f"background-flare screening: {n_fl} interval{'s' if n_fl != 1 else ''} "
                       f"({dur:.0f} s) of significant field background excess removed from "
                       f"{n_screened_src:,} sources' good time ({tot_screened:,} events); "
                       f"{n_own_flare:,} source{'s' if n_own_flare != 1 else ''} kept them because "
                       "their own counts there exceed the background's share (a real flare is never "
                       "cut)", source=self.path, count=tot_screened, total=n_all)
        if mission_fl is not None:
            from serendip.io.flares import report_file

            report_file(mission_fl, "auto", fl_removed, n_all, self.path, fl_sources, fl_exempt)
        n_regions = len(members)
        what = f" inside {n_regions:,} region{'s' if n_regions != 1 else ''}"
        self._note_band_cut(band, tot_bad, tot_out, tot_in, what)
        n_inside = tot_bad + tot_out + tot_in
        if n_all:
            notice("ingest", "region_cut",
                   f"{n_regions:,} region{'s' if n_regions != 1 else ''} hold {n_inside:,} of {n_all:,} "
                   f"events; {n_all - n_inside:,} outside" + (" every region" if n_regions > 1 else " the region")
                   + " (events in overlapping regions counted once per region)",
                   source=self.path, count=max(n_all - n_inside, 0), total=n_all, severity="info")
        return out


def zero_events_reason(meta: dict) -> str:
    """Why an EventFile is empty, from its cut counts."""
    band = meta.get("band")
    parts = [f"{meta.get('n_raw', 0)} read"]
    if meta.get("n_nan_time"):
        parts.append(f"{meta['n_nan_time']} with NaN time")
    if meta.get("n_duplicates"):
        parts.append(f"{meta['n_duplicates']} duplicates")
    parts += [
        f"{meta.get('n_outside_gti', 0)} outside GTIs",
        f"{meta.get('n_bad_energy', 0)} without a valid energy",
        f"{meta.get('n_outside_band', 0)} outside "
        + ("the band" if band is None else f"{band[0]:g}-{band[1]:g} eV"),
    ]
    if meta.get("region"):
        parts.append(f"{meta.get('n_outside_region', 0)} outside {meta['region']}")
    return "zero events after cuts (" + ", ".join(parts) + ")"


def load_events(path: str | Path, gain=None, quality: bool = True, barycentre: bool = True,
                flare_screen: str = "auto") -> RawEvents:
    """Read, validate and GTI-filter one event file (no band or region cut yet).

    ``quality``: apply the instrument's standard event screening (the mission registry's
    ``quality`` rules, counted in a notice); ``barycentre``: correct times measured at the
    spacecraft (``TIMEREF`` other than ``SOLARSYSTEM``) to the solar-system barycentre when
    the file gives a position and ``MJDREF`` (:mod:`serendip.io.timesys`; stated in a notice
    and in ``meta["time_correction"]``); ``flare_screen``: the mission's standard flare
    screening, ``"auto"`` (per source, never cutting a real source flare), ``"field"`` (every
    event) or ``"off"`` (:mod:`serendip.io.flares`)."""
    from serendip.io.flares import check_mode

    path = Path(path)
    gain = _check_gain(gain)
    flare_screen = check_mode(flare_screen)
    try:
        return _load_events(path, gain, quality, barycentre, flare_screen)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - never a bare traceback for a bad file
        raise InputError(path, f"could not be read: {type(exc).__name__}: {exc}") from exc


def _load_events(path: Path, gain, quality: bool = True, barycentre: bool = True,
                 flare_screen: str = "auto") -> RawEvents:
    reader = _open_fits(path)
    nbytes = len(reader.buf)
    with reader:
        ext = _find_events_hdu(reader)
        if ext is None:
            raise InputError(path, _no_events_reason(reader, nbytes))
        hdu = reader.hdus[ext]
        hdr, prim = reader.header(ext), reader.header(0)
        need = reader.data_end(ext)
        if need > nbytes:
            raise InputError(
                path,
                f"truncated: extension {hdu.name} needs {need} bytes of data but the file has only {nbytes}",
            )
        nrows = int(hdr.get("NAXIS2", 0))
        ename = f"{hdu.name or 'extension'}[{ext}]"
        if nrows == 0:
            raise InputError(path, f"events extension {ename} has no rows (0 events)")
        names = reader.names(ext)
        tcol = find_column(names, "TIME")
        if tcol is None:
            raise InputError(
                path, f"no TIME column in events extension {ename} (columns: {names[:30]})"
            )
        unit = str(hdr.get("TIMEUNIT", reader.unit(ext, tcol) or "s") or "s").strip().lower()
        if unit not in _TIME_UNITS_S:
            raise InputError(
                path, f"time unit {unit!r} is not supported (event times must be in seconds)"
            )
        time = _numeric_column(reader, ext, tcol, path, "TIME")
        tz = _timezero(hdr if ("TIMEZERO" in hdr or "TIMEZERI" in hdr) else prim, path)
        time = time + tz if tz else time.copy()

        headers = [hdr, prim]
        telescope = _str_key(headers, "TELESCOP") or "unknown"
        instrument = _str_key(headers, "INSTRUME") or "unknown"
        modes = {k: _str_key(headers, k) for k in MODE_KEYWORDS}
        mission = identify_mission(telescope, instrument, _str_key(headers, "DETNAM"), modes)
        has_energy = mission.energy_resolution or gain is not None
        if has_energy:
            energy, energy_source = _energy_from_columns(ext, reader, names, mission, gain, path)
        else:  # never invent energies (HRC): NaN, no band cut, representations adapt
            energy = np.full(len(time), np.nan, dtype=np.float32)
            energy_source = (f"none: {mission.name} {instrument} has no usable energy resolution "
                             "(energies not invented)")
            notice("ingest", "no_energy_resolution", f"{mission.name} {instrument} has no usable "
                   "energy resolution: energies are left empty (NaN), no band is cut, and "
                   "representations that need energies use time alone", source=path,
                   count=len(time), total=len(time), severity="info")
        tsys = read_time_system(headers, mission)
        if tsys.origin:
            time = time - tsys.origin
            notice("ingest", "time_origin", f"times are relative to {tsys.origin_keyword} = "
                   f"{tsys.origin:.6f} s (mission seconds = time + {tsys.origin:.6f})",
                   source=path, count=0, total=len(time), severity="info")
        time_file = time  # file order, for the flare light curve
        xcol, ycol = find_column(names, "X"), find_column(names, "Y")
        x = y = None
        if xcol is not None and ycol is not None:
            x = _numeric_column(reader, ext, xcol, path, "x")
            y = _numeric_column(reader, ext, ycol, path, "y")
        ccol = find_column(names, "CCD_ID", "CCDNR")
        ccd = _numeric_column(reader, ext, ccol, path, "CCD", dtype=np.int64) if ccol else None
        aux, chip_range = _aux_columns(reader, ext, names, path)

        n_file_rows = len(time)
        keep, n_nan_time, n_duplicates = _hygiene(reader, ext, path, tcol, time, energy, has_energy)
        n_quality = 0
        qkeep = _quality_mask(reader, ext, names, mission, instrument, path) if quality else None
        if qkeep is not None:
            before = keep if keep is not None else np.ones(n_file_rows, bool)
            keep = before & qkeep
            n_quality = int(np.count_nonzero(before)) - int(np.count_nonzero(keep))
            large = n_quality > LARGE_CUT_FRACTION * n_file_rows
            notice("ingest", "quality_cut", f"{mission.name} standard event screening "
                   f"({mission.describe_quality()}) removed {n_quality:,} of {n_file_rows:,} events",
                   source=path, count=n_quality, total=n_file_rows,
                   severity="warning" if large else "info")
        if keep is not None:
            time, energy = time[keep], energy[keep]
            x = None if x is None else x[keep]
            y = None if y is None else y[keep]
            ccd = None if ccd is None else ccd[keep]
            aux = {k: v[keep] for k, v in aux.items()}

        sorted_on_read = False
        if len(time) > 1 and np.any(np.diff(time) < 0):
            perm = np.argsort(time, kind="stable")
            time, energy = time[perm], energy[perm]
            x = None if x is None else x[perm]
            y = None if y is None else y[perm]
            ccd = None if ccd is None else ccd[perm]
            aux = {k: v[perm] for k, v in aux.items()}
            sorted_on_read = True

        gtis = read_gtis(reader, path, lambda h: _timezero(h, path) - tsys.origin,
                         exclude=mission.flare_extension)
        flares = None
        if flare_screen != "off":
            from serendip.io.flares import mission_flares, note_unscreened

            note_unscreened(mission, path)
            flares = mission_flares(reader, ext, names, mission, time_file,
                                    gtis.intervals(None), gtis.extensions, path,
                                    lambda h: _timezero(h, path) - tsys.origin)
            if flares is not None and not len(flares.start):
                notice("ingest", "flare_gti", f"{flares.origin}: no flare interval in "
                       f"{flares.good_s:.0f} s good time", source=path, count=0,
                       total=n_file_rows, severity="info")
        n_raw = len(time)
        if not gtis.empty:
            good = gtis.mask(time, ccd)
            if not good.all():
                time, energy = time[good], energy[good]
                x = None if x is None else x[good]
                y = None if y is None else y[good]
                ccd = None if ccd is None else ccd[good]
                aux = {k: v[good] for k, v in aux.items()}
        n_flare = 0
        if flares is not None and flare_screen == "field" and len(flares.start):
            from serendip.io.flares import report_file
            from serendip.io.gti import in_intervals

            bad = in_intervals(time, (flares.start, flares.stop))
            n_flare = int(bad.sum())
            n_before = len(time)
            time, energy = time[~bad], energy[~bad]
            x = None if x is None else x[~bad]
            y = None if y is None else y[~bad]
            ccd = None if ccd is None else ccd[~bad]
            aux = {k: v[~bad] for k, v in aux.items()}
            if gtis.empty and len(time_file):
                fin = time_file[np.isfinite(time_file)]
                gtis = GTISet((np.array([fin.min()]), np.array([fin.max()])), {}, ["event span"])
            gtis = gtis.minus((flares.start, flares.stop))
            report_file(flares, "field", n_flare, n_before, path)
        n_outside_gti = n_raw - len(time) - n_flare
        n_raw = n_file_rows
        if n_outside_gti:
            large = n_outside_gti > LARGE_CUT_FRACTION * n_raw
            notice("ingest", "gti_cut", f"good-time intervals ({', '.join(gtis.extensions)}) removed "
                   f"{n_outside_gti:,} of {n_raw:,} events", source=path, count=n_outside_gti,
                   total=n_raw, severity="warning" if large else "info")

        tstart, tstop = _float_key(headers, "TSTART"), _float_key(headers, "TSTOP")
        tstart = None if tstart is None else tstart + tz - tsys.origin
        tstop = None if tstop is None else tstop + tz - tsys.origin
        deadc, deadc_src = _float_key(headers, "DEADC"), "DEADC"
        if deadc is None:
            deadc, deadc_src = _float_key(headers, "DTCOR"), "DTCOR"
        if deadc is None:
            live, on = _float_key(headers, "LIVETIME"), _float_key(headers, "ONTIME")
            if live and on and 0 < live <= on:
                deadc, deadc_src = live / on, "LIVETIME/ONTIME"
        if deadc is not None and not (0 < deadc <= 1):
            deadc = None
        if deadc == 1.0:
            deadc = None
        obsid = _str_key(headers, "OBS_ID") or _str_key(headers, "OBSID")
        target = _target_radec(headers)
        bary, correction = None, ""
        if barycentre:
            bary, correction = _barycentre_plan(path, tsys, target, time, gtis, tstart, tstop)
        if bary is not None:
            def shift(t, _b=bary, _o=tsys.origin, _p=target):
                t = np.asarray(t, dtype=np.float64)
                return t + _b.correction(t + _o, *_p)

            time = shift(time)
            gtis = gtis.mapped(shift)
            flares = None if flares is None else flares.mapped(shift)
            tstart = None if tstart is None else float(shift(tstart))
            tstop = None if tstop is None else float(shift(tstop))
        mode_key = mission.mode_keyword or next((k for k in MODE_KEYWORDS if modes.get(k)), "")
        header = {
            "telescope": telescope,
            "instrument": instrument,
            "mission": mission.name,
            "mission_band": mission.band_ev,
            "mission_entry": mission,
            "obsid": obsid or "",
            "obsid_or_stem": obsid or file_stem(path),
            # an OBSREGID keyword (serendip's simulated files, per-region extractions) wins
            "default_id": _str_key(headers, "OBSREGID") or obsid or file_stem(path),
            "object": _str_key(headers, "OBJECT") or "",
            "tstart": tstart,
            "tstop": tstop,
            "EXPOSURE": _float_key(headers, "EXPOSURE"),
            "LIVETIME": _float_key(headers, "LIVETIME"),
            "ONTIME": _float_key(headers, "ONTIME"),
            "deadc": deadc,
            "deadc_source": deadc_src,
            "energy_source": energy_source,
            "timezero": tz,
            "timesys": "TDB" if bary is not None else tsys.timesys,
            "timeref": "SOLARSYSTEM" if bary is not None else tsys.timeref,
            "mjdref": tsys.mjdref,
            "time_origin": tsys.origin,
            "time_correction": correction,
            "barycentre": bary,
            "imaging": mission.imaging,
            "has_energy": has_energy,
            "mode": modes.get(mode_key) or "",
            "n_quality": n_quality,
            "flares": flares,
            "flare_screen": flare_screen,
            "n_flare_gti": n_flare,
            "time_sorted_on_read": sorted_on_read,
            "n_raw": n_raw,
            "n_outside_gti": n_outside_gti,
            "n_nan_time": n_nan_time,
            "n_duplicates": n_duplicates,
            "events_extension": ename,
            "image_offset": _image_offset(hdr, xcol, ycol),
            "target_radec": target,
            "frame_s": _frame_time(headers),
            "chip_range": chip_range,
        }
        wcs = event_wcs(hdr, xcol, ycol) if xcol is not None and ycol is not None else None
        return RawEvents(str(path), time, energy, x, y, ccd, gtis, wcs, header, aux=aux)


#: optional raw columns read for the artefact diagnostics (:mod:`serendip.io.artefacts`):
#: {key: column names tried}
AUX_COLUMNS = {"chipx": ("CHIPX",), "chipy": ("CHIPY",), "expno": ("EXPNO",),
               "prior": ("PRIOR",), "deadtime": ("DEADTIME",)}


def _aux_columns(reader: FitsFile, ext: int, names, path) -> tuple[dict[str, np.ndarray], tuple | None]:
    """The :data:`AUX_COLUMNS` the file has (float64), and the chip x range ``(TLMIN, TLMAX)``
    of ``chipx`` [chip pixel] when the header gives it."""
    aux = {}
    for key, cols in AUX_COLUMNS.items():
        col = find_column(names, *cols)
        if col is not None:
            try:
                aux[key] = _numeric_column(reader, ext, col, path, key)
            except InputError:  # an optional column that cannot be read: diagnostics go without it
                continue
    chip_range = None
    col = find_column(names, "CHIPX")
    if col is not None:
        h = reader.header(ext)
        i = [str(h.get(f"TTYPE{k}", "")).strip() for k in range(1, int(h.get("TFIELDS", 0) or 0) + 1)]
        if col in i:
            lo, hi = h.get(f"TLMIN{i.index(col) + 1}"), h.get(f"TLMAX{i.index(col) + 1}")
            try:
                chip_range = (float(lo), float(hi)) if lo is not None and hi is not None else None
            except (TypeError, ValueError):
                chip_range = None
    return aux, chip_range


def _frame_time(headers) -> float | None:
    """Frame time [s] of a framed detector: ``TIMEDEL``, ``FRAMETIM``, ``EXPTIME`` or XMM's
    ``FRMTIME`` [ms]; None when absent or not in (0, 100] s."""
    for key, scale in (("TIMEDEL", 1.0), ("FRAMETIM", 1.0), ("EXPTIME", 1.0), ("FRMTIME", 1e-3)):
        v = _float_key(headers, key)
        if v is not None and 0 < v * scale <= 100.0:
            return v * scale
    return None


def _target_radec(headers) -> tuple[float, float]:
    """(ra, dec) [deg] the observation points at (``RA_TARG``/``DEC_TARG``, ``RA_OBJ``/``DEC_OBJ``,
    ``RA_NOM``/``DEC_NOM``), NaN when the header has none."""
    for a, b in (("RA_TARG", "DEC_TARG"), ("RA_OBJ", "DEC_OBJ"), ("RA_NOM", "DEC_NOM"), ("RA_PNT", "DEC_PNT")):
        ra, dec = _float_key(headers, a), _float_key(headers, b)
        if ra is not None and dec is not None and -90 <= dec <= 90:
            return ra, dec
    return float("nan"), float("nan")


def _quality_mask(reader: FitsFile, ext: int, names, mission: Mission, instrument: str, path):
    """Rows (n,) bool kept by the mission's standard screening, in file order; None when the
    mission has none or the file lacks every column it uses (a notice names the missing)."""
    if not mission.quality:
        return None
    keep, missing = None, []
    for cut in mission.quality:
        col = find_column(names, cut.column)
        if col is None:
            missing.append(str(cut))
            continue
        raw = reader.bit_column(ext, col)
        if raw is None:
            raw = reader.column(ext, col)
        ok = cut.keep(raw)
        keep = ok if keep is None else keep & ok
    if missing:
        notice("ingest", "quality_column_missing", f"{mission.name} {instrument} screening "
               f"rule{'s' if len(missing) > 1 else ''} {'; '.join(missing)} not applied: the file "
               "has no such column (a level-2 file is usually screened already)",
               source=path, count=0, total=0, severity="info")
    return keep


def _barycentre_plan(path, tsys: TimeSystem, target, time, gtis, tstart, tstop):
    """``(Barycentre or None, text)``: whether and how the file's times are barycentred.

    Corrected only when ``TIMEREF`` says the times are not barycentric, and ``MJDREF``, a
    known time scale and a position are known; every other case is stated in a notice."""
    from serendip.io.timesys import _SCALES, GEOCENTRE_NOTE

    if tsys.barycentred:
        return None, ""
    if not tsys.timeref:
        notice("ingest", "timeref_missing", "no TIMEREF keyword: times are taken as they are "
               "(not barycentred by serendip)", source=path, count=0, total=0, severity="info")
        return None, ""
    why = ""
    if tsys.mjdref is None:
        why = "no MJDREF"
    elif tsys.timesys.upper() not in _SCALES:
        why = f"unknown TIMESYS {tsys.timesys!r}"
    elif not np.all(np.isfinite(target)):
        why = "no source or pointing position (RA_TARG/RA_OBJ/RA_NOM)"
    if why:
        notice("ingest", "not_barycentred", f"times are at TIMEREF={tsys.timeref} and cannot be "
               f"barycentred ({why}): cross-mission times may differ by up to 500 s",
               source=path, count=len(time), total=len(time), severity="warning")
        return None, ""
    span = [float(time.min()), float(time.max())] if len(time) else []
    for iv in ([gtis.common] if gtis.common is not None else []) + list(gtis.per_ccd.values()):
        if len(iv[0]):
            span += [float(iv[0][0]), float(iv[1][-1])]
    span += [v for v in (tstart, tstop) if v is not None]
    lo, hi = min(span) + tsys.origin, max(span) + tsys.origin
    bary = Barycentre(lo, hi, tsys.mjdref, tsys.timesys)
    dt = bary.correction(np.array([lo, hi]), *target)
    text = (f"barycentred by serendip (TIMEREF={tsys.timeref}, {tsys.timesys} -> TDB) for RA, Dec "
            f"= {target[0]:.5f}, {target[1]:.5f} deg (each source's own position where cut by "
            f"regions); correction {dt.min():+.3f} to {dt.max():+.3f} s; {GEOCENTRE_NOTE}")
    notice("ingest", "barycentred", text, source=path, count=len(time), total=len(time),
           severity="info")
    return bary, text


def _image_offset(hdr, xcol, ycol) -> tuple[float, float]:
    """(x, y) to add to DS9 image pixels to get physical ones: ``TLMIN - 0.5`` (0 without TLMIN)."""
    names = [str(hdr.get(f"TTYPE{i}", "")).strip() for i in range(1, int(hdr.get("TFIELDS", 0) or 0) + 1)]
    out = []
    for col in (xcol, ycol):
        v = hdr.get(f"TLMIN{names.index(col) + 1}") if col in names else None
        try:
            out.append(float(v) - 0.5 if v is not None else 0.0)
        except (TypeError, ValueError):
            out.append(0.0)
    return out[0], out[1]


def _hygiene(reader: FitsFile, ext: int, path, tcol: str, time, energy, has_energy: bool = True):
    """(rows to keep or None when all stay, n NaN-time rows, n duplicate rows) after dropping
    NaN/inf times and exact duplicate rows (counted, noticed). Raises when NaN times or NaN
    energies exceed :data:`MAX_NAN_FRACTION` of the rows (NaN energies are dropped by the band
    cut, counted as ``n_bad_energy``)."""
    n = len(time)
    bad_t = ~np.isfinite(time)
    nan_e = np.isnan(energy)  # NaN in an energy column (channels outside EBOUNDS are counted later)
    drop = np.zeros(n, bool)
    n_bad_t = int(bad_t.sum())
    if n_bad_t:
        if n_bad_t > MAX_NAN_FRACTION * n:
            raise InputError(path, f"{n_bad_t:,} of {n:,} events have NaN/inf TIME in column {tcol!r} "
                             f"(more than {MAX_NAN_FRACTION:.0%}: the file is rejected)")
        notice("ingest", "nan_time", f"{n_bad_t:,} of {n:,} events have NaN/inf TIME and were dropped",
               source=path, count=n_bad_t, total=n)
        drop |= bad_t
    if has_energy and nan_e.sum() > MAX_NAN_FRACTION * n:
        raise InputError(path, f"{int(nan_e.sum()):,} of {n:,} events have NaN energy "
                         f"(more than {MAX_NAN_FRACTION:.0%}: the file is rejected)")
    dup = _duplicate_rows(reader, ext, time)
    n_dup = int((dup & ~drop).sum())
    if n_dup:
        notice("ingest", "duplicate_events", f"{n_dup:,} of {n:,} events are exact duplicates of an "
               "earlier row (every column equal) and were dropped", source=path, count=n_dup, total=n)
        drop |= dup
    return (~drop if drop.any() else None), n_bad_t, n_dup


def _duplicate_rows(reader: FitsFile, ext: int, time: np.ndarray) -> np.ndarray:
    """Mask of rows whose bytes equal an earlier row's (only rows sharing a TIME are compared)."""
    import pandas as pd

    n = len(time)
    cand = np.flatnonzero(pd.Series(time).duplicated(keep=False).to_numpy())
    if not len(cand):
        return np.zeros(n, bool)
    h = reader.hdus[ext]
    width = int(h.header.get("NAXIS1", 0) or 0)
    out = np.zeros(n, bool)
    if h.kind == "bintable" and width and h.data_offset + n * width <= len(reader.buf):
        rows = np.ndarray((n,), dtype=f"S{width}", buffer=reader.buf, offset=h.data_offset)
        # fixed-width rows: dropping trailing NUL bytes (as numpy's S dtype does) keeps them distinct
        dup = pd.Series(rows[cand]).duplicated(keep="first").to_numpy()
    else:  # rows not addressable as bytes: compare the time values alone is too weak; skip
        return out
    out[cand[dup]] = True
    return out


def read_event_file(
    path: str | Path,
    band: tuple[float, float] | str | None = AUTO_BAND,
    region: SourceRegion | None = None,
    gain: tuple[float, float] | None = None,
    obsreg_id: str | None = None,
    quality: bool = True,
    barycentre: bool = True,
) -> EventFile:
    """Read one event file into an :class:`EventFile`.

    Parameters
    ----------
    path : str or Path
        FITS event file, optionally gzipped.
    band : (float, float), "auto" or None
        Energy band [eV] (or a Quantity pair), inclusive at both ends; ``"auto"`` (default)
        the mission's standard band (:data:`serendip.io.missions.MISSIONS`); ``None`` keeps
        every energy.
    region : SourceRegion or None
        Keep only events inside this region (sky regions use the file's x/y WCS).
    gain : (float, float) or None
        ``(ev_per_channel, offset_ev)`` for a channel column (PI, else PHA); overrides
        the mission's gain and an EBOUNDS table, never an ENERGY column.
    obsreg_id : str or None
        Identifier to use; default the ``OBSREGID`` keyword, else ``OBS_ID`` (or the file stem), ``{OBS_ID}_1`` with a region.
    quality : bool
        Apply the instrument's standard event screening (mission registry; counted).
    barycentre : bool
        Barycentre times measured at the spacecraft when a position is known (stated).

    Raises
    ------
    InputError
        For any file that cannot be used, with the reason; including when no event is
        left after the GTI, band and region cuts.
    """
    raw = load_events(path, gain=gain, quality=quality, barycentre=barycentre)
    try:
        return raw.cut(band=band, region=region, obsreg_id=obsreg_id)
    except InputError as exc:
        if exc.path is None:
            raise InputError(path, exc.problem) from exc
        raise


def extract_regions(path, regions, band=AUTO_BAND, gain=None, keep_empty: bool = True):
    """Cut many regions from one event file, reading it once.

    Parameters
    ----------
    path : str or Path
        Event file (FITS, optionally gzipped) with ``x``/``y`` columns.
    regions : list of SourceRegion, or a SourceList
        The regions (sky regions need the file's WCS); a
        :class:`~serendip.io.sourcelists.SourceList` also gives each source a background.
    band : (float, float), "auto" or None
        Energy band [eV], inclusive; ``"auto"`` the mission's; ``None`` keeps all energies.
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
    raw = load_events(path, gain=gain)
    return raw.cut_regions(regions, band=band, keep_empty=keep_empty)
