"""Cost of the per-source artefact diagnostics at ingest (issue 19, items 2 and 4).

The real ObsID 754 evt2 (258k events) is cut into a 20 x 20 grid of 8 px sources (as the
real-sky acceptance check does) and ingested ``--repeats`` times with the diagnostics
(:func:`serendip.io.artefacts.measure_artefacts`: chip-edge distance, dither power, afterglow
chains, streaks, counts per frame, dead time) and, as the same-process baseline, with them
replaced by an empty table. Reports the median (min-max) wall time of each and the time spent
in the diagnostics.

    python benchmarks/bench_artefacts.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

EVT2 = "chandra_acis_obsid754_msh1552/msh1552_acis_evt2_filtered.fits.gz"


def _source_list(evt2: Path, out: Path) -> Path:
    from astropy.io import fits

    with fits.open(evt2) as h:
        x, y = h["EVENTS"].data["x"], h["EVENTS"].data["y"]
        x0, x1 = np.percentile(x, [10, 90])
        y0, y1 = np.percentile(y, [10, 90])
    gx, gy = np.meshgrid(np.linspace(x0, x1, 20), np.linspace(y0, y1, 20))
    gx, gy = gx.ravel(), gy.ravel()
    n = len(gx)
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns([
        fits.Column("X", "D", unit="pixel", array=gx), fits.Column("Y", "D", unit="pixel", array=gy),
        fits.Column("R", "2D", unit="pixel", array=np.full((n, 2), 8.0)),
        fits.Column("ROTANG", "D", unit="deg", array=np.zeros(n)),
        fits.Column("COMPONENT", "J", array=np.arange(1, n + 1))], name="SRCLIST")]).writeto(out)
    return out


def main() -> None:
    import serendip.io.artefacts as art
    from serendip.io.ingest import ingest
    from serendip.notices import NoticeLog
    from serendip.paths import real_data_dir

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    real = real_data_dir()
    if real is None:
        sys.exit("needs the real data folder (../shared/data/real or SERENDIP_REAL_DATA)")
    evt2 = real / EVT2
    measure = art.measure_artefacts
    spent: list[float] = []

    def timed(*a, **k):
        t0 = time.perf_counter()
        out = measure(*a, **k)
        spent.append(time.perf_counter() - t0)
        return out

    def stub(time_, ccd, aux, header, members, half, ids, *a, **k):
        return art.empty_artefacts().reindex(range(len(ids))).assign(obsreg_id=list(ids))

    with tempfile.TemporaryDirectory() as tmp:
        lst = _source_list(evt2, Path(tmp) / "src.fits")
        walls = {"with diagnostics": [], "baseline (diagnostics stubbed)": []}
        diag = []
        for _ in range(args.repeats):  # interleaved, so both see the same load
            for name, fn in (("with diagnostics", timed), ("baseline (diagnostics stubbed)", stub)):
                art.measure_artefacts = fn
                spent.clear()
                t0 = time.perf_counter()
                with NoticeLog():
                    res = ingest([evt2], sources=lst, progress=False)
                walls[name].append(time.perf_counter() - t0)
                if fn is timed:
                    diag.append(sum(spent))
                    n_src = len(res.artefacts)
        art.measure_artefacts = measure
    med = {k: float(np.median(v)) for k, v in walls.items()}
    lines = [
        f"Ingest of the real ObsID 754 evt2 (258,419 events) cut into a 20 x 20 grid of 8 px "
        f"sources ({n_src} with events), {args.repeats} interleaved repeats, median (min-max) "
        "wall time. The baseline replaces the diagnostics by an empty table, same process. "
        "Load: the shared 2-core machine, other jobs running.",
        "",
        "| variant | ingest [s] | diagnostics [s] | per source [ms] |",
        "|---|---|---|---|",
    ]
    for name, v in walls.items():
        d = f"{np.median(diag):.2f} ({min(diag):.2f}-{max(diag):.2f})" if "with" in name else "-"
        per = f"{1e3 * np.median(diag) / max(n_src, 1):.2f}" if "with" in name else "-"
        lines.append(f"| {name} | {med[name]:.2f} ({min(v):.2f}-{max(v):.2f}) | {d} | {per} |")
    lines += ["", f"Ratio with / without: {med['with diagnostics'] / med['baseline (diagnostics stubbed)']:.2f}x."]
    body = "\n".join(lines)
    print(body)
    write_section("artefacts", "Artefact diagnostics at ingest (issue 19)", body)


if __name__ == "__main__":
    main()
