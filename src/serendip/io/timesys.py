"""Time systems of event files: reference epoch, time scale, barycentring and UTC display.

Event times in a file are seconds since ``MJDREF`` (``MJDREFI + MJDREFF``) on the ``TIMESYS``
scale (TT for most X-ray missions), plus ``TIMEZERO``, as seen at ``TIMEREF``: ``LOCAL`` (the
spacecraft) or ``SOLARSYSTEM`` (barycentred). :func:`read_time_system` collects these from
the header, falling back on the mission registry (:data:`serendip.io.missions.MISSIONS`)
for a missing ``MJDREF`` (stated in a notice).

:class:`Barycentre` corrects times seen at the spacecraft to the solar-system barycentre for a
source direction: Roemer delay ``r_earth(t) . n / c`` with astropy's built-in ephemeris
(the same sum :meth:`astropy.time.Time.light_travel_time` computes) plus TT -> TDB; the result
is TDB seconds since ``MJDREF`` (TDB), as ``barycorr``/``barycen`` write. Without orbit
files the observatory is placed at the geocentre: the error is the spacecraft's distance
from the geocentre over c, about 0.02 s in low Earth orbit (NICER, Swift, NuSTAR, Fermi) and
up to 0.5 s for the high orbits of Chandra and XMM-Newton. The correction is computed on a
grid of :data:`GRID_STEP_S` and interpolated (error below 1 microsecond).

:func:`utc_iso` turns mission seconds into UTC ISO strings for tables and the explorer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: grid step of the barycentric correction [s] (linear interpolation error < 1e-6 s)
GRID_STEP_S = 600.0
#: TIMEREF values that mean the times are already barycentred
BARYCENTRED_REFS = ("SOLARSYSTEM", "BARYCENTRIC", "BARYCENTER", "BARYCENTRE")
#: what the geocentre approximation costs, for the notices
GEOCENTRE_NOTE = ("observatory at the geocentre (no orbit file): error below about 0.02 s in "
                  "low Earth orbit, up to 0.5 s for Chandra's and XMM-Newton's high orbits")
_SCALES = {"TT": "tt", "TDB": "tdb", "UTC": "utc", "TAI": "tai", "TDT": "tt", "TCB": "tcb", "TCG": "tcg"}


@dataclass
class TimeSystem:
    """How one file's times are defined.

    Attributes
    ----------
    timesys : time scale of the times (``"TT"``, ``"TDB"``, ``"UTC"``...); ``""`` unknown.
    timeref : where they are measured (``"LOCAL"``, ``"SOLARSYSTEM"``...); ``""`` not said.
    mjdref : MJD [d] of time 0 on the ``timesys`` scale; None unknown.
    mjdref_source : ``"header"``, ``"mission registry"`` or ``""``.
    origin : [s] subtracted from the file's times (GBM ``TRIGTIME``: times relative to the
        trigger); add it back for mission seconds.
    origin_keyword : the keyword ``origin`` came from (``""`` none).
    """

    timesys: str = ""
    timeref: str = ""
    mjdref: float | None = None
    mjdref_source: str = ""
    origin: float = 0.0
    origin_keyword: str = ""

    @property
    def barycentred(self) -> bool:
        """True when ``TIMEREF`` says the times are at the solar-system barycentre."""
        return self.timeref.upper() in BARYCENTRED_REFS


def _float(headers, key):
    for h in headers:
        if key in h:
            try:
                v = float(h[key])
            except (TypeError, ValueError):
                continue
            if np.isfinite(v):
                return v
    return None


def _str(headers, key) -> str:
    for h in headers:
        v = h.get(key)
        if v is not None and str(v).strip():
            return str(v).strip()
    return ""


def read_time_system(headers, mission) -> TimeSystem:
    """The :class:`TimeSystem` of a file from its headers (events extension first), with
    the mission's ``MJDREF``/``TIMESYS`` where the header has none and its time origin
    keyword (``mission.time_origin``, GBM ``TRIGTIME``) when present."""
    mjdref = _float(headers, "MJDREF")
    if mjdref is None and _float(headers, "MJDREFI") is not None:
        mjdref = _float(headers, "MJDREFI") + (_float(headers, "MJDREFF") or 0.0)
    src = "header" if mjdref is not None else ""
    if mjdref is None and mission.mjdref is not None:
        mjdref, src = mission.mjdref, "mission registry"
    timesys = _str(headers, "TIMESYS").upper() or (mission.timesys if src else "")
    origin, okey = 0.0, ""
    if mission.time_origin:
        v = _float(headers, mission.time_origin)
        if v is not None:
            origin, okey = v, mission.time_origin
    return TimeSystem(timesys, _str(headers, "TIMEREF").upper(), mjdref, src, origin, okey)


def _scale(timesys: str) -> str:
    s = _SCALES.get(timesys.upper())
    if s is None:
        raise ValueError(f"time system {timesys!r} is not one of {', '.join(_SCALES)}")
    return s


def to_time(t, mjdref: float, timesys: str = "TT", origin: float = 0.0):
    """Mission seconds ``t`` (+ ``origin``) since ``mjdref`` on ``timesys`` as an astropy Time."""
    from astropy.time import Time, TimeDelta

    ref = Time(mjdref, format="mjd", scale=_scale(timesys))
    return ref + TimeDelta(np.asarray(t, dtype=np.float64) + origin, format="sec")


def utc_iso(t, mjdref: float | None, timesys: str = "TT", origin: float = 0.0) -> np.ndarray:
    """UTC ISO strings (``"2000-08-14T13:32:51.000"``) of mission seconds ``t`` (array);
    ``""`` where the time, ``mjdref`` or the time system is unknown or not finite."""
    t = np.atleast_1d(np.asarray(t, dtype=np.float64))
    out = np.full(t.shape, "", dtype=object)
    ok = np.isfinite(t)
    if mjdref is None or not np.isfinite(mjdref) or not ok.any() or timesys.upper() not in _SCALES:
        return out
    out[ok] = to_time(t[ok], mjdref, timesys, origin).utc.isot
    return out


def unit_vectors(ra_deg, dec_deg) -> np.ndarray:
    """(n, 3) ICRS unit vectors of directions [deg]."""
    ra, dec = np.radians(np.atleast_1d(ra_deg)), np.radians(np.atleast_1d(dec_deg))
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)


class Barycentre:
    """The barycentric correction over one file's time span, for any source direction.

    Parameters
    ----------
    t_min, t_max : [s] span of the times to correct (mission seconds).
    mjdref, timesys : the file's reference epoch [MJD] and time scale.
    """

    def __init__(self, t_min: float, t_max: float, mjdref: float, timesys: str = "TT"):
        from astropy.coordinates import get_body_barycentric
        from astropy.time import Time

        self.mjdref, self.timesys = float(mjdref), timesys
        n = max(2, int(np.ceil((t_max - t_min) / GRID_STEP_S)) + 1)
        pad = GRID_STEP_S
        self.grid = np.linspace(t_min - pad, t_max + pad, n + 2)
        local = to_time(self.grid, mjdref, timesys)
        tdb_ref = Time(mjdref, format="mjd", scale="tdb")
        # TDB seconds since MJDREF (TDB) of each grid time, before the light travel time
        self._tdb = (local.tdb - tdb_ref).sec
        pos = get_body_barycentric("earth", local.tdb).xyz.to_value("m")  # (3, n)
        self._pos_over_c = pos.T / 299792458.0  # (n, 3) [s]

    def delay(self, ra_deg: float, dec_deg: float) -> np.ndarray:
        """Roemer delay [s] on the grid for one direction (geocentre observer)."""
        return self._pos_over_c @ unit_vectors(ra_deg, dec_deg)[0]

    def correction(self, t, ra_deg: float, dec_deg: float) -> np.ndarray:
        """``dt`` [s] such that ``t + dt`` is TDB seconds since MJDREF at the barycentre."""
        dt = self._tdb + self.delay(ra_deg, dec_deg) - self.grid
        return np.interp(np.asarray(t, dtype=np.float64), self.grid, dt)

    def difference(self, t, ra_from: float, dec_from: float, ra_to: float, dec_to: float):
        """``dt`` [s] turning times barycentred for one direction into another's (Roemer
        delay difference; for sources away from the position a file was corrected for)."""
        d = self._pos_over_c @ (unit_vectors(ra_to, dec_to)[0] - unit_vectors(ra_from, dec_from)[0])
        return np.interp(np.asarray(t, dtype=np.float64), self.grid, d)
