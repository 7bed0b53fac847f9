"""Generate the committed corpus of small broken event files (and the FITS builders the tests use).

Run from the repository root::

    python tests/data/broken_events/make_broken.py

Each file is broken in exactly one way; ``EXPECTED`` maps its name to a fragment of the
reason serendip must give. The builders (:func:`event_hdul`, :func:`write_events`) also
make good synthetic files in tests (Chandra-like layout, other missions' headers).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from astropy.io import fits

HERE = Path(__file__).resolve().parent

#: broken file name -> fragment of the InputError reason (asserted by tests/io/test_broken_files.py)
EXPECTED = {
    "not_fits.fits": "not a FITS file",
    "empty.fits": "empty file (0 bytes)",
    "truncated_data.fits": "truncated: extension EVENTS needs",
    "truncated_header.fits": "truncated: no complete events extension",
    "corrupt_gzip.fits.gz": "gzip data is corrupt or truncated",
    "truncated_gzip.evt.gz": "gzip data is corrupt or truncated",
    "image_only.fits": "no events extension",
    "no_time_column.fits": "no TIME column",
    "no_energy_column.fits": "no energy information",
    "unknown_energy_unit.fits": "unsupported unit 'furlong'",
    "energy_without_unit.fits": "has no unit (TUNIT) and no finite value",
    "zero_events_in_band.fits": "zero events after cuts (20 read, 0 outside GTIs, 0 without a valid energy, 20 outside",
    "all_outside_gti.fits": "zero events after cuts (20 read, 20 outside GTIs",
    "nan_times.fits": "15 of 20 events have NaN/inf TIME",
    "zero_rows.fits": "has no rows (0 events)",
    "unknown_gain.fits": "no known gain for TELESCOP='MYSAT'",
    "light_curve.fits": "binned light curve",
    "bad_gti.fits": "interval(s) with STOP < START",
    "string_time.fits": "is not numeric",
    "time_in_days.fits": "time unit 'd' is not supported",
    "bad_timezero.fits": "TIMEZERO keyword is not a number",
    "gti_without_columns.fits": "lacks START/STOP columns",
    "table_missing_column.csv": "missing column(s) ['energy']",
}


def event_hdul(
    n: int = 20,
    seed: int = 0,
    telescope: str | None = "CHANDRA",
    instrument: str | None = "ACIS",
    obs_id: str | None = "9999",
    energy: np.ndarray | None = None,
    energy_name: str | None = "energy",
    energy_unit: str | None = "eV",
    channel_name: str | None = "pi",
    time: np.ndarray | None = None,
    time_name: str = "time",
    t0: float = 1.0e8,
    duration: float = 1000.0,
    gti: list[tuple[float, float]] | None | bool = True,
    gti_ccd: int | None = 7,
    positions: bool = True,
    header: dict | None = None,
    extname: str = "EVENTS",
) -> fits.HDUList:
    """A small Chandra-like event file (lower-case columns, energy [eV], per-CCD GTI, sky WCS).

    ``gti=True`` covers [t0, t0 + duration]; a list gives explicit intervals; ``None``/``False``
    writes no GTI extension. Set a column name to ``None`` to leave the column out.
    """
    rng = np.random.default_rng(seed)
    if time is None:
        time = np.sort(t0 + rng.uniform(0, duration, n))
    n = len(time)
    if energy is None:
        energy = rng.uniform(600.0, 6500.0, n)
    cols = [fits.Column(time_name, "D", unit="s", array=np.asarray(time))]
    if positions:
        cols += [
            fits.Column(
                "ccd_id", "I", array=np.full(n, 7 if gti_ccd is None else gti_ccd, dtype=np.int16)
            ),
            fits.Column("x", "E", unit="pixel", array=4096.5 + rng.normal(0, 5, n)),
            fits.Column("y", "E", unit="pixel", array=4096.5 + rng.normal(0, 5, n)),
        ]
    if energy_name is not None:
        cols.append(
            fits.Column(
                energy_name, "E", unit=energy_unit, array=np.asarray(energy, dtype=np.float32)
            )
        )
    if channel_name is not None:
        cols.append(
            fits.Column(
                channel_name,
                "J",
                unit="chan",
                array=np.round(np.asarray(energy) / 14.6).astype(np.int32),
            )
        )
    ev = fits.BinTableHDU.from_columns(cols, name=extname)
    h = ev.header
    for key, val in (("TELESCOP", telescope), ("INSTRUME", instrument), ("OBS_ID", obs_id)):
        if val is not None:
            h[key] = val
    h["HDUCLAS1"] = "EVENTS"
    h["TSTART"], h["TSTOP"] = t0, t0 + duration
    h["TIMEZERO"] = 0.0
    h["TIMEUNIT"] = "s"
    if positions:
        names = [c.name for c in cols]
        for _axis, name, crval, cdelt, ctype in (
            (0, "x", 228.48, -0.000136667, "RA---TAN"),
            (1, "y", -59.13, 0.000136667, "DEC--TAN"),
        ):
            i = names.index(name) + 1
            h[f"TCTYP{i}"], h[f"TCRVL{i}"], h[f"TCRPX{i}"], h[f"TCDLT{i}"] = (
                ctype,
                crval,
                4096.5,
                cdelt,
            )
    for key, val in (header or {}).items():
        if val is None:
            h.remove(key, ignore_missing=True)
        else:
            h[key] = val
    hdus = [fits.PrimaryHDU(), ev]
    if gti is not None and gti is not False:
        iv = [(t0, t0 + duration)] if gti is True else gti
        g = fits.BinTableHDU.from_columns(
            [
                fits.Column(
                    "START", "D", unit="s", array=np.array([a for a, _ in iv], dtype=float)
                ),
                fits.Column("STOP", "D", unit="s", array=np.array([b for _, b in iv], dtype=float)),
            ],
            name="GTI",
        )
        if gti_ccd is not None:
            g.header["CCD_ID"] = gti_ccd
        hdus.append(g)
    return fits.HDUList(hdus)


def write_events(path: Path, gz: bool | None = None, **kwargs) -> Path:
    """Write :func:`event_hdul` (``**kwargs``) to ``path`` (gzipped when the name ends in .gz)."""
    path = Path(path)
    hdul = event_hdul(**kwargs)
    gz = path.name.endswith(".gz") if gz is None else gz
    if gz:
        import io

        buf = io.BytesIO()
        hdul.writeto(buf)
        path.write_bytes(gzip.compress(buf.getvalue(), mtime=0))
    else:
        hdul.writeto(path, overwrite=True)
    return path


def _bytes(hdul: fits.HDUList) -> bytes:
    import io

    buf = io.BytesIO()
    hdul.writeto(buf)
    return buf.getvalue()


def make_corpus(out: Path = HERE) -> list[Path]:
    """Write every broken file of ``EXPECTED`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    made = []

    def put(name: str, data: bytes) -> None:
        (out / name).write_bytes(data)
        made.append(out / name)

    good = _bytes(event_hdul())
    put("not_fits.fits", b"time,energy\n1.0,1000\n2.0,2000\n")
    put("empty.fits", b"")
    # header blocks complete, events data cut short
    put("truncated_data.fits", good[: 2880 * 3 + 100])
    # cut inside the events extension's header
    put("truncated_header.fits", good[: 2880 + 1000])
    gz = bytearray(gzip.compress(good, mtime=0))
    mid = len(gz) // 2
    gz[mid : mid + 40] = bytes((b ^ 0x5A) for b in gz[mid : mid + 40])
    put("corrupt_gzip.fits.gz", bytes(gz))
    put("truncated_gzip.evt.gz", gzip.compress(good, mtime=0)[: len(gz) // 2])
    put(
        "image_only.fits", _bytes(fits.HDUList([fits.PrimaryHDU(np.zeros((4, 4), dtype=np.int16))]))
    )
    put("no_time_column.fits", _bytes(event_hdul(time_name="tyme")))
    put("no_energy_column.fits", _bytes(event_hdul(energy_name=None, channel_name=None)))
    put("unknown_energy_unit.fits", _bytes(event_hdul(energy_unit="furlong")))
    put(
        "energy_without_unit.fits",
        _bytes(event_hdul(telescope="MYSAT", energy_unit=None, channel_name=None,
                          energy=np.full(20, np.nan))),
    )
    put("zero_events_in_band.fits", _bytes(event_hdul(energy=np.full(20, 9000.0))))
    put("all_outside_gti.fits", _bytes(event_hdul(gti=[(5.0e7, 5.0e7 + 100.0)])))
    t = np.sort(1.0e8 + np.random.default_rng(1).uniform(0, 1000, 20))
    t[1:16] = np.nan  # more than half: the file is rejected (a few NaN rows are only dropped)
    put("nan_times.fits", _bytes(event_hdul(time=t)))
    put("zero_rows.fits", _bytes(event_hdul(time=np.zeros(0), energy=np.zeros(0))))
    put(
        "unknown_gain.fits",
        _bytes(
            event_hdul(telescope="MYSAT", instrument="CAM", energy_name=None, channel_name="PI")
        ),
    )
    lc = fits.BinTableHDU.from_columns(
        [
            fits.Column("TIME", "D", unit="s", array=np.arange(10.0)),
            fits.Column("RATE", "E", unit="ct/s", array=np.ones(10)),
        ],
        name="RATE",
    )
    lc.header["HDUCLAS1"] = "LIGHTCURVE"
    put("light_curve.fits", _bytes(fits.HDUList([fits.PrimaryHDU(), lc])))
    put(
        "bad_gti.fits",
        _bytes(event_hdul(gti=[(1.0e8, 1.0e8 + 500.0), (1.0e8 + 900.0, 1.0e8 + 600.0)])),
    )
    ev = event_hdul()
    n = ev[1].header["NAXIS2"]
    cols = [fits.Column("time", "12A", array=np.array([f"{v:.2f}" for v in ev[1].data["time"]]))]
    cols += [c for c in ev[1].columns if c.name != "time"]
    st = fits.BinTableHDU.from_columns(cols, name="EVENTS", nrows=n)
    st.header["TELESCOP"], st.header["OBS_ID"] = "CHANDRA", "9999"
    put("string_time.fits", _bytes(fits.HDUList([fits.PrimaryHDU(), st])))
    put("time_in_days.fits", _bytes(event_hdul(header={"TIMEUNIT": "d"})))
    put("bad_timezero.fits", _bytes(event_hdul(header={"TIMEZERO": "soon"})))
    h = event_hdul()
    h[2] = fits.BinTableHDU.from_columns([fits.Column("BEGIN", "D", array=[1.0e8])], name="GTI")
    put("gti_without_columns.fits", _bytes(h))
    put("table_missing_column.csv", b"obsreg_id,time\n754_1,1.0\n754_1,2.0\n")
    return made


if __name__ == "__main__":
    files = make_corpus()
    print(f"wrote {len(files)} broken files to {HERE}")
