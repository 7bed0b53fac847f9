"""Write simulated sources as Chandra level-2-like FITS event files (one file per source).

Layout (what :func:`serendip.io.eventfile.read_event_file` reads):

* primary HDU: no data; ``TELESCOP``, ``INSTRUME``, ``OBS_ID``, ``OBJECT``, ``CREATOR``;
* ``EVENTS`` binary table, one row per photon, time-sorted, lower-case columns
  ``time`` (D, s), ``energy`` (E, eV), ``pi`` (J, chan: channel i covers [(i-1), i) x 14.6 eV),
  ``x``, ``y`` (E, sky pixel; source photons scattered by a 0.8-pixel Gaussian PSF around
  the source, background photons uniform in a 6-pixel circle), ``ccd_id`` (I);
  header ``TELESCOP=CHANDRA``, ``INSTRUME=ACIS``, ``OBS_ID``, ``TSTART``, ``TSTOP``,
  ``EXPOSURE``, ``ONTIME``, ``LIVETIME``, ``MJDREF=50814``, ``TIMEZERO=0``, ``TIMESYS=TT``,
  ``TIMEUNIT=s``, ``OBSREGID`` (the simulated ``obsreg_id``);
* ``GTI`` binary table (``START``, ``STOP`` in s) with ``CCD_ID`` of the source's chip.

Writing is one file per source (unavoidably a loop over files); the columns of all
selected files are prepared in one vectorised pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from astropy.io import fits

from serendip.io.atomic import atomic_path
from serendip.simulate.response import energy_to_pi

MJDREF_CHANDRA = 50814.0
PSF_SIGMA_PIX = 0.8
BKG_RADIUS_PIX = 6.0


def _file_name(obsreg_id: str) -> str:
    return f"{obsreg_id}_evt2.fits"


def write_fits_events(
    population,
    out_dir: str | Path,
    index: Sequence[int] | np.ndarray | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> list[Path]:
    """Write one FITS event file per source of ``population`` into ``out_dir``.

    Parameters
    ----------
    population : :class:`~serendip.simulate.Population`.
    out_dir : folder (created if needed); files are named ``<obsreg_id>_evt2.fits``.
    index : positions of the sources to write (default all).
    progress : optional callback, called with the number of files written so far.

    Returns the paths written, in ``index`` order.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ev, src = population.events, population.sources
    index = np.arange(ev.n_files) if index is None else np.asarray(index, dtype=np.int64)
    sub = ev.select(index)
    comp = population.component
    # component of the selected events, gathered with the same positions as EventSet.select
    counts = ev.counts[index]
    within = np.arange(sub.n_events, dtype=np.int64) - np.repeat(sub.offsets[:-1], counts)
    comp_sel = comp[np.repeat(ev.offsets[index], counts) + within]

    rng = np.random.default_rng(np.random.SeedSequence([int(population.seed), 2]))
    file_of = np.repeat(np.arange(len(index)), counts)
    x0 = src["x"].to_numpy()[index][file_of]
    y0 = src["y"].to_numpy()[index][file_of]
    is_bkg = comp_sel == 1
    r = BKG_RADIUS_PIX * np.sqrt(rng.random(sub.n_events))
    phi = rng.uniform(0, 2 * np.pi, sub.n_events)
    gx, gy = rng.normal(0, PSF_SIGMA_PIX, (2, sub.n_events))
    x = np.where(is_bkg, x0 + r * np.cos(phi), x0 + gx).astype(np.float32)
    y = np.where(is_bkg, y0 + r * np.sin(phi), y0 + gy).astype(np.float32)
    pi = energy_to_pi(sub.energy)

    paths = []
    for j, i in enumerate(index):
        row = src.iloc[int(i)]
        a, b = sub.offsets[j], sub.offsets[j + 1]
        ccd = int(row["ccd_id"])
        cols = [
            fits.Column("time", "D", unit="s", array=sub.time[a:b]),
            fits.Column("energy", "E", unit="eV", array=sub.energy[a:b]),
            fits.Column("pi", "J", unit="chan", array=pi[a:b]),
            fits.Column("x", "E", unit="pixel", array=x[a:b]),
            fits.Column("y", "E", unit="pixel", array=y[a:b]),
            fits.Column("ccd_id", "I", array=np.full(b - a, ccd, dtype=np.int16)),
        ]
        tstart, tstop, expo = float(row["tstart"]), float(row["tstop"]), float(row["exposure"])
        common = [
            ("TELESCOP", "CHANDRA", "simulated by serendip"),
            ("INSTRUME", "ACIS", "ACIS-I"),
            ("OBS_ID", str(int(row["obsid"])), "simulated observation id"),
            ("OBJECT", str(row["obsreg_id"]), "simulated source"),
            ("OBSREGID", str(row["obsreg_id"]), "obsreg_id of the simulated source"),
            ("CREATOR", "serendip.simulate", ""),
        ]
        timing = [
            ("TSTART", tstart, "[s] start time"),
            ("TSTOP", tstop, "[s] stop time"),
            ("EXPOSURE", expo, "[s] exposure"),
            ("ONTIME", tstop - tstart, "[s] sum of GTIs"),
            ("LIVETIME", expo, "[s] live time"),
            ("MJDREF", MJDREF_CHANDRA, "MJD of time zero (1998-01-01 TT)"),
            ("TIMEZERO", 0.0, "[s] time offset"),
            ("TIMESYS", "TT", ""),
            ("TIMEUNIT", "s", ""),
            ("TIMEREF", "LOCAL", ""),
        ]
        primary = fits.PrimaryHDU()
        for k, v, c in common:
            primary.header[k] = (v, c)
        events = fits.BinTableHDU.from_columns(cols, name="EVENTS")
        for k, v, c in common + timing:
            events.header[k] = (v, c)
        events.header["HDUCLASS"] = "OGIP"
        events.header["HDUCLAS1"] = "EVENTS"
        gti = fits.BinTableHDU.from_columns(
            [
                fits.Column("START", "D", unit="s", array=np.array([tstart])),
                fits.Column("STOP", "D", unit="s", array=np.array([tstop])),
            ],
            name="GTI",
        )
        gti.header["CCD_ID"] = (ccd, "chip of this GTI")
        gti.header["HDUCLASS"] = "OGIP"
        gti.header["HDUCLAS1"] = "GTI"
        for k, v, c in timing[:2] + timing[5:7]:
            gti.header[k] = (v, c)
        path = out / _file_name(str(row["obsreg_id"]))
        with atomic_path(path) as tmp:
            fits.HDUList([primary, events, gti]).writeto(tmp, overwrite=True)
        paths.append(path)
        if progress is not None:
            progress(j + 1)
    return paths
