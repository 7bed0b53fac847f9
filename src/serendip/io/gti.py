"""Good time intervals (GTIs): reading, merging, intersecting and filtering events.

Intervals are pairs of arrays ``(start, stop)`` [s, float64], shape ``(n,)`` each.
Merged intervals are sorted, non-overlapping and non-empty. Event filtering is one
``np.searchsorted`` over the whole event table (no loop over events).

An event file may carry

* GTI extensions with a ``CCD_ID`` (Chandra) or ``CCDID`` (XMM ``STDGTInn``) keyword:
  per-CCD intervals, applied to the events of that CCD only;
* other GTI extensions (``GTI``, ``STDGTI``, ``GTI_FILT``, any ``HDUCLAS1 = 'GTI'``):
  all of them must hold (their intersection), applied to every event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from serendip.errors import InputError

Intervals = tuple[np.ndarray, np.ndarray]

_GTI_NAME = re.compile(r"^(STD)?GTI.*$", re.I)


def merge_intervals(start: np.ndarray, stop: np.ndarray) -> Intervals:
    """Sort and merge overlapping or touching intervals; drop empty ones."""
    start = np.asarray(start, dtype=np.float64).ravel()
    stop = np.asarray(stop, dtype=np.float64).ravel()
    keep = stop > start
    start, stop = start[keep], stop[keep]
    if len(start) == 0:
        return np.zeros(0), np.zeros(0)
    order = np.argsort(start, kind="stable")
    start, stop = start[order], stop[order]
    run_max = np.maximum.accumulate(stop)
    # a new merged interval begins where the start exceeds every earlier stop
    new = np.ones(len(start), dtype=bool)
    new[1:] = start[1:] > run_max[:-1]
    group = np.cumsum(new) - 1
    m_start = start[new]
    m_stop = np.zeros(len(m_start))
    np.maximum.at(m_stop, group, stop)
    m_stop = np.maximum(m_stop, m_start)
    return m_start, m_stop


def intersect_intervals(a: Intervals, b: Intervals) -> Intervals:
    """Intersection of two interval sets (both merged first)."""
    a0, a1 = merge_intervals(*a)
    b0, b1 = merge_intervals(*b)
    if len(a0) == 0 or len(b0) == 0:
        return np.zeros(0), np.zeros(0)
    # all boundary points; a point-midpoint is inside the intersection when inside both
    edges = np.unique(np.concatenate([a0, a1, b0, b1]))
    mid = 0.5 * (edges[:-1] + edges[1:])
    inside = in_intervals(mid, (a0, a1)) & in_intervals(mid, (b0, b1))
    return merge_intervals(edges[:-1][inside], edges[1:][inside])


def union_intervals(parts: list[Intervals]) -> Intervals:
    """Union of several interval sets."""
    if not parts:
        return np.zeros(0), np.zeros(0)
    return merge_intervals(
        np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    )


def total_length(intervals: Intervals) -> float:
    """Summed length [s] of merged intervals."""
    s, e = merge_intervals(*intervals)
    return float(np.sum(e - s))


def in_intervals(t: np.ndarray, intervals: Intervals) -> np.ndarray:
    """Boolean mask (n,): ``start <= t <= stop`` for some interval (intervals must be merged)."""
    start, stop = intervals
    t = np.asarray(t, dtype=np.float64)
    if len(start) == 0:
        return np.zeros(t.shape, dtype=bool)
    i = np.searchsorted(start, t, side="right") - 1
    ok = i >= 0
    ic = np.clip(i, 0, None)
    return ok & (t <= stop[ic])


def subtract_intervals(good: Intervals, bad: Intervals) -> Intervals:
    """``good`` minus ``bad`` (both (start, stop) [s])."""
    g0, g1 = merge_intervals(*good)
    b0, b1 = merge_intervals(*bad)
    if not len(g0) or not len(b0):
        return g0, g1
    edges = np.unique(np.concatenate([g0, g1, b0, b1]))
    mid = 0.5 * (edges[:-1] + edges[1:])
    keep = in_intervals(mid, (g0, g1)) & ~in_intervals(mid, (b0, b1))
    return merge_intervals(edges[:-1][keep], edges[1:][keep])



@dataclass
class GTISet:
    """The GTIs of one event file.

    Attributes
    ----------
    common : Intervals or None
        Intervals applied to every event (intersection of the non-CCD GTI extensions);
        ``None`` when the file has none.
    per_ccd : dict[int, Intervals]
        Intervals of each CCD (from extensions with a ``CCD_ID``/``CCDID`` keyword).
    extensions : list[str]
        Names of the extensions used, for the file's metadata.
    """

    common: Intervals | None = None
    per_ccd: dict[int, Intervals] = field(default_factory=dict)
    extensions: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when the set holds no intervals."""
        return self.common is None and not self.per_ccd

    def mask(self, time: np.ndarray, ccd: np.ndarray | None) -> np.ndarray:
        """Events inside the good times, (n,) bool. ``ccd`` is needed when per-CCD GTIs exist."""
        keep = np.ones(len(time), dtype=bool)
        if self.common is not None:
            keep &= in_intervals(time, self.common)
        if self.per_ccd:
            if ccd is None:
                # no CCD column: the union of the per-CCD intervals is the best available
                keep &= in_intervals(time, union_intervals(list(self.per_ccd.values())))
            else:
                ok = np.zeros(len(time), dtype=bool)
                for c, iv in self.per_ccd.items():  # a handful of CCDs, vectorised over events
                    on = ccd == c
                    ok[on] = in_intervals(time[on], iv)
                keep &= ok
        return keep

    def intervals(self, ccds: np.ndarray | None = None) -> Intervals | None:
        """Merged good-time intervals [s]: common GTIs, intersected with the union of the given
        CCDs' GTIs. ``ccds=None`` uses every CCD. ``None`` when there are no GTIs at all."""
        if self.empty:
            return None
        iv = self.common
        if self.per_ccd:
            keys = (
                list(self.per_ccd)
                if ccds is None
                else [int(c) for c in ccds if int(c) in self.per_ccd]
            )
            if not keys:
                keys = list(self.per_ccd)
            u = union_intervals([self.per_ccd[k] for k in keys])
            iv = u if iv is None else intersect_intervals(iv, u)
        return merge_intervals(*iv)

    def mapped(self, func) -> GTISet:
        """The same intervals with every boundary ``t`` replaced by ``func(t)`` (an increasing
        map of time, e.g. a barycentric correction or a change of origin)."""
        def one(iv: Intervals) -> Intervals:
            return merge_intervals(func(iv[0]), func(iv[1]))

        return GTISet(None if self.common is None else one(self.common),
                      {c: one(iv) for c, iv in self.per_ccd.items()}, list(self.extensions))

    def minus(self, bad: Intervals) -> GTISet:
        """The same set with the intervals ``bad`` removed from every CCD's good time (an
        empty set stays empty: give it its span as ``common`` first)."""
        b0, b1 = merge_intervals(*bad)
        if not len(b0) or self.empty:
            return self
        common = None if self.common is None else subtract_intervals(self.common, (b0, b1))
        per = {c: subtract_intervals(iv, (b0, b1)) for c, iv in self.per_ccd.items()}
        if common is None and not per:
            common = (np.zeros(0), np.zeros(0))
        return GTISet(common, per, list(self.extensions))

    def ontime(self, ccds: np.ndarray | None = None) -> float | None:
        """Good time [s] of :meth:`intervals`; ``None`` when there are no GTIs at all."""
        iv = self.intervals(ccds)
        return None if iv is None else total_length(iv)


def find_column(names: list[str], *wanted: str) -> str | None:
    """The first of ``wanted`` among ``names``, matched case-insensitively (None if absent)."""
    low = {n.lower(): n for n in names}
    for w in wanted:
        if w.lower() in low:
            return low[w.lower()]
    return None


def is_gti_hdu(hdu) -> bool:
    """True for a binary-table HDU (:class:`~serendip.io.fitsraw.HDUInfo`) holding GTIs."""
    name = str(hdu.header.get("EXTNAME", "") or "").strip()
    clas = str(hdu.header.get("HDUCLAS1", "") or "").strip().upper()
    return hdu.kind == "bintable" and (bool(_GTI_NAME.match(name)) or clas == "GTI")


def _extname(hdu) -> str:
    return str(hdu.header.get("EXTNAME", "") or "").strip()


def read_interval_extension(ff, hdu, path, timezero_of) -> Intervals:
    """Merged ``(start, stop)`` [s] of one GTI extension (an :class:`HDUInfo` of ``ff``);
    malformed intervals raise :class:`InputError` naming ``path``."""
    k = hdu.index
    name = f"{hdu.name or 'extension'}[{k}]"
    cols = ff.names(k)
    c0, c1 = find_column(cols, "START"), find_column(cols, "STOP")
    if c0 is None or c1 is None:
        raise InputError(path, f"GTI extension {name} lacks START/STOP columns (has {cols})")
    try:
        start = np.asarray(ff.column(k, c0), dtype=np.float64)
        stop = np.asarray(ff.column(k, c1), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(path, f"GTI extension {name} has unreadable START/STOP: {exc}") from exc
    if not (np.all(np.isfinite(start)) and np.all(np.isfinite(stop))):
        raise InputError(path, f"GTI extension {name} has NaN/inf START or STOP values")
    bad = stop < start
    if bad.any():
        raise InputError(path, f"GTI extension {name} has {int(bad.sum())} interval(s) with STOP < START")
    tz = timezero_of(hdu.header)
    return merge_intervals(start + tz, stop + tz)


def flare_extensions(ff, pattern: str) -> list:
    """The binary-table HDUs whose EXTNAME fully matches ``pattern`` (case-insensitive): a
    mission's flare-GTI extensions (eSASS ``FLAREGTI``); none when ``pattern`` is empty."""
    if not pattern:
        return []
    return [h for h in ff.hdus[1:] if h.kind == "bintable"
            and re.fullmatch(pattern, _extname(h), flags=re.I)]


def read_gtis(ff, path, timezero_of, exclude: str = "") -> GTISet:
    """Read every GTI extension of a :class:`~serendip.io.fitsraw.FitsFile` into a :class:`GTISet`.

    ``timezero_of(header) -> float`` gives the TIMEZERO [s] to add to that extension's
    times. Extensions whose EXTNAME fully matches ``exclude`` (a mission's flare GTIs, read
    by :mod:`serendip.io.flares`) are left out. Malformed GTIs (no START/STOP, non-finite
    values, STOP < START) raise :class:`InputError` naming ``path``.
    """
    out = GTISet()
    common: list[Intervals] = []
    per_ccd: dict[int, list[Intervals]] = {}
    for hdu in ff.hdus[1:]:
        if not is_gti_hdu(hdu):
            continue
        if exclude and re.fullmatch(exclude, _extname(hdu), flags=re.I):
            continue
        k = hdu.index
        name = f"{hdu.name or 'extension'}[{k}]"
        header = hdu.header
        iv = read_interval_extension(ff, hdu, path, timezero_of)
        out.extensions.append(name)
        ccd_key = header.get("CCD_ID", header.get("CCDID"))
        if ccd_key is not None and str(ccd_key).strip().lstrip("-").isdigit():
            per_ccd.setdefault(int(ccd_key), []).append(iv)
        else:
            common.append(iv)
    if common:
        iv = common[0]
        for other in common[1:]:
            iv = intersect_intervals(iv, other)
        out.common = iv
    for c, parts in per_ccd.items():
        iv = parts[0]
        for other in parts[1:]:
            iv = intersect_intervals(iv, other)
        out.per_ccd[c] = iv
    return out
