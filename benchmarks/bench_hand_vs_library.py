"""Hand-written code against the standard library it replaces, in one process.

    python benchmarks/bench_hand_vs_library.py [--files 60] [--repeats 3]

Three measurements on simulated Chandra-like event files (``serendip.simulate``):

1. FITS writing (``simulate/fitsout.py``): fitsio, which serendip uses, against astropy,
   same headers and rows, one file at a time;
2. FITS reading (``io/fitsraw.py``): the hand-written reader against astropy, headers plus
   the ``time`` and ``energy`` columns of the EVENTS table, from the bytes in memory;
3. Bayesian blocks (``represent/bayesian_blocks.py``): the numba kernel against
   ``astropy.stats.bayesian_blocks(t, fitness="events", p0=0.05)``, same block edges.

Each figure is the median time per file over ``--repeats`` runs, with the spread (min-max);
the ratio library / serendip is what the docstrings quote. Writes the ``hand-vs-library``
section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _timed(fn, repeats: int, n: int) -> np.ndarray:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) / n * 1e3)
    return np.array(out)


def _astropy_write(path: Path, parts) -> None:
    from astropy.io import fits

    primary, events, ev_rows, gti, gti_rows = parts
    ph = fits.PrimaryHDU()
    for k, v, c in primary:
        ph.header[k] = (v, c)
    units = {"time": "s", "energy": "eV", "pi": "chan", "x": "pixel", "y": "pixel"}
    ev = fits.BinTableHDU(ev_rows, name="EVENTS")
    for i, name in enumerate(ev_rows.dtype.names, start=1):
        if name in units:
            ev.header[f"TUNIT{i}"] = units[name]
    for k, v, c in events:
        ev.header[k] = (v, c)
    g = fits.BinTableHDU(gti_rows, name="GTI")
    for k, v, c in gti:
        g.header[k] = (v, c)
    fits.HDUList([ph, ev, g]).writeto(path, overwrite=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=60, help="simulated files (default 60)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per figure (default 3)")
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = ap.parse_args(argv)

    from astropy.io import fits
    from astropy.stats import bayesian_blocks

    from serendip.io.fitsraw import FitsFile
    from serendip.represent.bayesian_blocks import bayesian_blocks_edges
    from serendip.simulate import simulate_population
    from serendip.simulate.fitsout import _file_parts, write_event_file, write_fits_events

    pop = simulate_population(args.files, seed=0)
    ev, src = pop.events, pop.sources
    n = ev.n_files
    rows = []

    # 1. writing: the same prepared parts through fitsio and through astropy
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = write_fits_events(pop, tmp / "ref")
        idx = np.arange(n)
        from serendip.simulate import fitsout as fo

        rec = np.empty(ev.n_events, dtype=fo._EVENT_DTYPE)
        for name in rec.dtype.names:
            rec[name] = 0
        rec["time"], rec["energy"] = ev.time, ev.energy
        ccd = src["ccd_id"].to_numpy().astype(np.int16)
        parts = list(
            _file_parts(
                idx,
                ev,
                rec,
                src["obsreg_id"].astype(str).to_numpy(),
                src["obsid"].to_numpy(),
                src["tstart"].to_numpy(),
                src["tstop"].to_numpy(),
                src["exposure"].to_numpy(),
                ccd,
            )
        )
        (tmp / "w").mkdir()

        def write_with(writer):
            def run():
                for j, p in enumerate(parts):
                    writer(tmp / "w" / f"{j}.fits", p)

            return run

        fio = _timed(write_with(write_event_file), args.repeats, n)
        ast = _timed(write_with(_astropy_write), args.repeats, n)
        rows.append(("FITS writing (simulate/fitsout.py)", "fitsio", fio, "astropy", ast))

        # 2. reading: headers + time and energy columns from bytes in memory
        blobs = [p.read_bytes() for p in paths]

        def read_raw():
            for b in blobs:
                f = FitsFile.open_bytes(b)
                k = next(i for i, h in enumerate(f.hdus) if h.header.get("EXTNAME") == "EVENTS")
                f.column(k, "time"), f.column(k, "energy")

        def read_astropy():
            import io

            for b in blobs:
                with fits.open(io.BytesIO(b), memmap=False) as h:
                    d = h["EVENTS"].data
                    np.asarray(d["time"]), np.asarray(d["energy"])
                    dict(h["EVENTS"].header)

        raw = _timed(read_raw, args.repeats, n)
        astr = _timed(read_astropy, args.repeats, n)
        rows.append(("FITS reading (io/fitsraw.py)", "fitsraw", raw, "astropy", astr))

    # 3. Bayesian blocks on every file's event times (same edges)
    times = [ev.time[ev.offsets[j] : ev.offsets[j + 1]] for j in range(n) if ev.counts[j] > 1]
    for t in times[:20]:
        np.testing.assert_allclose(
            bayesian_blocks_edges(t), bayesian_blocks(t, fitness="events", p0=0.05)
        )

    def bb_ours():
        for t in times:
            bayesian_blocks_edges(t)

    def bb_astropy():
        for t in times:
            bayesian_blocks(t, fitness="events", p0=0.05)

    bb_ours()  # numba compile outside the timing
    ours = _timed(bb_ours, args.repeats, len(times))
    theirs = _timed(bb_astropy, args.repeats, len(times))
    rows.append(("Bayesian blocks (represent/bayesian_blocks.py)", "serendip", ours, "astropy", theirs))

    lines = [
        f"{n} simulated files, {ev.n_events / n:.0f} events per file on average; "
        f"median ms per file over {args.repeats} runs (min-max).",
        "",
        "| task | serendip uses | ms/file | other | ms/file | other / used |",
        "|---|---|---|---|---|---|",
    ]
    for task, a_name, a, b_name, b in rows:
        lines.append(
            f"| {task} | {a_name} | {np.median(a):.3f} ({a.min():.3f}-{a.max():.3f}) | {b_name} | "
            f"{np.median(b):.3f} ({b.min():.3f}-{b.max():.3f}) | {np.median(b) / np.median(a):.1f}x |"
        )
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        from _report import write_section

        write_section("hand-vs-library", "Hand-written code against the libraries", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
