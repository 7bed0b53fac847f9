"""Each mission's standard background-flare screening: where its flare GTIs come from and where
they apply.

* XMM-Newton EPIC: a flare-GTI extension in the file (EXTNAME with ``FLARE``) is used as it
  is; a file with only ``STDGTI`` gets the SAS recipe (the registry's
  :class:`~serendip.io.missions.FlareRecipe`: single-event ``PATTERN = 0``, ``FLAG = 0``
  light curve of the whole field, pn 10-12 keV / MOS > 10 keV, 100 s bins, good where the
  rate is at most 0.4 / 0.35 ct/s); a file with a further plain GTI extension (already
  filtered by the user) is applied as the file says and reported, the recipe not re-run.
* eROSITA: the eSASS ``flaregti`` output, extension ``FLAREGTI``.
* NICER: cleaned (``cl``) files carry the nicerl2 screening in their GTIs; an unfiltered
  (``ufa``/``uf``) file is said to be unscreened.

The flare GTIs are bad time for every source of the field at once, so a source flaring in
the same interval would be cut with the background. ``flare_screen`` chooses:

* ``"auto"`` (default): per source, where a region or source list cuts the file: each source
  loses the flare intervals unless its own counts there are significantly above its
  expected-rate template (:func:`serendip.io.background.screen_flare`; a real flare is
  never cut); a whole file is not cut (the flare time is reported).
* ``"field"``: the standard screening as the mission's software applies it: flare intervals
  removed from every event of the file.
* ``"off"``: neither read nor computed (a flare-GTI extension is ignored).

Every case is reported in notices: screened time [s], fraction of the good time, events
removed, and each source's decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from serendip.errors import InputError
from serendip.io.gti import (
    Intervals,
    find_column,
    flare_extensions,
    in_intervals,
    intersect_intervals,
    merge_intervals,
    read_interval_extension,
    subtract_intervals,
)
from serendip.notices import notice

#: the values of ``flare_screen`` (ingest, config ``input.flare_screen``, CLI ``--flare-screen``)
FLARE_SCREEN_MODES = ("auto", "field", "off")
#: NICER file names of unfiltered (not nicerl2-screened) event files
_NICER_UNSCREENED = re.compile(r"(_ufa?|ufa)(\.evt|\.fits|_|$)", re.I)


@dataclass
class FlareGTIs:
    """The mission flare screening of one file: ``start``, ``stop`` (k,) [s] merged bad
    (flaring) intervals inside the file's good time; ``origin`` where they come from;
    ``good_s`` [s] the good time they were found in."""

    start: np.ndarray
    stop: np.ndarray
    origin: str
    good_s: float

    @property
    def duration(self) -> float:
        """Flaring time [s]."""
        return float(np.sum(self.stop - self.start))

    @property
    def fraction(self) -> float:
        """Flaring time as a fraction of the good time."""
        return self.duration / self.good_s if self.good_s > 0 else 0.0

    def mapped(self, func) -> FlareGTIs:
        """The same intervals with boundaries mapped by an increasing ``func`` (barycentring)."""
        s, e = merge_intervals(func(self.start), func(self.stop))
        return FlareGTIs(s, e, self.origin, self.good_s)


def check_mode(mode: str) -> str:
    """``mode`` lower-cased when it is one of :data:`FLARE_SCREEN_MODES`, else an error."""
    m = str(mode).strip().lower()
    if m not in FLARE_SCREEN_MODES:
        raise InputError("flare_screen", f"must be one of {', '.join(FLARE_SCREEN_MODES)}, got {mode!r}")
    return m


def recipe_flares(time: np.ndarray, selected: np.ndarray, good: Intervals, bin_s: float,
                  max_rate: float) -> Intervals:
    """Flare intervals of a high-energy light curve: ``time`` (n,) [s] of every event,
    ``selected`` (n,) bool the events of the recipe's light curve, ``good`` the merged good
    time; bins of ``bin_s`` [s] from the first good time whose rate (selected counts per good
    second in the bin) exceeds ``max_rate`` [ct/s], intersected with ``good``."""
    g0, g1 = good
    if not len(g0):
        return np.zeros(0), np.zeros(0)
    t0, t1 = float(g0[0]), float(g1[-1])
    n_bins = max(1, int(np.ceil((t1 - t0) / bin_s)))
    edges = t0 + bin_s * np.arange(n_bins + 1)
    before = np.clip(np.minimum(edges[:, None], g1[None, :]) - g0[None, :], 0, None).sum(1)
    live = np.diff(before)
    t = time[selected & in_intervals(time, good)]
    counts = np.bincount(np.clip(((t - t0) // bin_s).astype(np.int64), 0, n_bins - 1),
                         minlength=n_bins)
    rate = counts / np.where(live > 0, live, np.inf)
    bad = (live > 0) & (rate > max_rate)
    return intersect_intervals((edges[:-1][bad], edges[1:][bad]), (g0, g1))


def mission_flares(reader, ext: int, names, mission, time: np.ndarray, good: Intervals | None,
                   gti_names: list[str], path, timezero_of) -> FlareGTIs | None:
    """The mission's flare GTIs of one file (module docstring), or None when it has none.

    ``time`` (n,) [s] every event in file order (NaN allowed); ``good`` the file's merged
    good time (None: none given, the event span is used); ``gti_names`` the GTI extensions
    already applied; ``timezero_of(header)`` the time offset of an extension."""
    finite = time[np.isfinite(time)]
    if good is None:
        if not len(finite):
            return None
        good = (np.array([finite.min()]), np.array([finite.max()]))
    good_s = float(np.sum(good[1] - good[0]))
    exts = flare_extensions(reader, mission.flare_extension)
    if exts:
        parts = [read_interval_extension(reader, h, path, timezero_of) for h in exts]
        flare_good = parts[0]
        for p in parts[1:]:
            flare_good = intersect_intervals(flare_good, p)
        bad = subtract_intervals(good, flare_good) if len(flare_good[0]) else good
        what = ", ".join(f"{h.name or 'extension'}[{h.index}]" for h in exts)
        return FlareGTIs(*bad, f"flare GTI extension {what} of the file", good_s)
    recipe = mission.flare_recipe
    if recipe is None:
        return None
    extra = [n for n in gti_names if not re.match(r"STDGTI", n, flags=re.I)]
    if extra:
        notice("ingest", "flare_gti_in_file", f"the file carries GTI extension(s) {', '.join(extra)} "
               "beyond STDGTI (e.g. a user's flare GTI): applied to every event as the file gives "
               f"them; the {mission.name} flare recipe is not run again", source=path, count=0,
               total=0, severity="info")
        return None
    pcol = find_column(names, "PI")
    if pcol is None:
        notice("ingest", "flare_recipe_unavailable", f"{mission.name} flare recipe not run: the "
               "file has no PI column", source=path, count=0, total=0, severity="warning")
        return None
    pi = np.asarray(reader.column(ext, pcol), dtype=np.float64)
    lo, hi = recipe.band_ev
    sel = (pi >= lo) if hi is None else (pi >= lo) & (pi <= hi)
    missing = []
    for col, rule in (("PATTERN", lambda a: a <= recipe.pattern_max),
                      ("FLAG", (lambda a: a == 0) if recipe.flag_zero else None)):
        if rule is None:
            continue
        c = find_column(names, col)
        if c is None:
            missing.append(col)
            continue
        sel &= rule(np.asarray(reader.column(ext, c)).reshape(len(pi), -1)[:, 0])
    if missing:
        notice("ingest", "flare_recipe_column_missing", f"{mission.name} flare recipe run without "
               f"{'/'.join(missing)} (no such column): its light curve holds more event types",
               source=path, count=0, total=0, severity="info")
    with np.errstate(invalid="ignore"):
        bad = recipe_flares(np.where(np.isfinite(time), time, -np.inf), sel, merge_intervals(*good),
                            recipe.bin_s, recipe.max_rate)
    has_std = any(re.match(r"STDGTI", n, flags=re.I) for n in gti_names)
    origin = (f"{mission.name} SAS recipe on the file ({'STDGTI only' if has_std else 'no GTI'} "
              f"given): {recipe}")
    return FlareGTIs(*bad, origin, good_s)


def note_unscreened(mission, path) -> None:
    """A notice when a NICER-like file (registry ``flare_note``) is an unfiltered one."""
    from pathlib import Path

    if mission.flare_note and _NICER_UNSCREENED.search(Path(str(path)).name):
        notice("ingest", "unscreened_events", f"{Path(str(path)).name} looks like an unfiltered "
               f"{mission.name} event file (ufa/uf): {mission.flare_note}, so this one has no "
               "standard screening (background flares included); use the cleaned file",
               source=str(path), count=0, total=0, severity="warning")


def report_file(flares: FlareGTIs, mode: str, n_removed: int, n_events: int, path,
                n_cut_sources: int = -1, exempt: list[str] | None = None) -> None:
    """The file's notice: screened time, fraction of good time, events removed and, per
    source, who kept the flare intervals (``exempt``) and who lost them."""
    dur, frac, k = flares.duration, flares.fraction, len(flares.start)
    head = (f"{flares.origin}: {k} flare interval{'s' if k != 1 else ''}, {dur:.0f} s "
            f"({100 * frac:.1f}% of {flares.good_s:.0f} s good time)")
    if mode == "field":
        text = f"{head} removed from every event (flare_screen=field): {n_removed:,} events cut"
    elif n_cut_sources < 0:
        text = (f"{head}; not applied to the whole file (flare_screen=auto: it could cut a real "
                "source flare; a source list applies it per source, flare_screen=field to every "
                "event)")
    else:
        ex = exempt or []
        text = (f"{head} applied per source: {n_removed:,} events cut from {n_cut_sources:,} "
                f"source{'s' if n_cut_sources != 1 else ''}; {len(ex)} kept them (own significant "
                "excess then: a real flare is never cut)"
                + (f": {', '.join(ex[:10])}{' ...' if len(ex) > 10 else ''}" if ex else ""))
    notice("ingest", "flare_gti", text, source=str(path), count=int(n_removed),
           total=int(n_events), severity="warning" if frac > 0.2 else "info")


def split_at(start: np.ndarray, stop: np.ndarray, weight: np.ndarray, cuts: np.ndarray):
    """Weighted intervals split at the times ``cuts`` [s] (each piece keeps its weight)."""
    if not len(start) or not len(cuts):
        return start, stop, weight
    c = np.unique(cuts)
    inner = c[(c > start.min()) & (c < stop.max())]
    if not len(inner):
        return start, stop, weight
    pts = np.unique(np.concatenate([start, stop, inner]))
    lo, hi = pts[:-1], pts[1:]
    mid = 0.5 * (lo + hi)
    k = np.searchsorted(stop, mid, side="left")
    kk = np.minimum(k, len(start) - 1)
    inside = (k < len(start)) & (mid >= start[kk])
    return lo[inside], hi[inside], weight[kk[inside]]
