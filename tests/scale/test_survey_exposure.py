"""Survey-mode input through the chunked paths: the exposure curves given to ``serendip batch``
and to chunked ``serendip ingest`` reach every chunk's ingest (the same good-time weights as
in process), and without them the survey files are refused there too."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from serendip.errors import InputError
from serendip.io.ingest import ingest, read_ingest
from serendip.scale import run_batch
from serendip.scale.verbs import ingest_chunked

HEADER = {"TELESCOP": "eROSITA", "INSTRUME": "TM1", "OBS_MODE": "SURVEY"}


def _scan(rng, t0):
    """Six 40 s passes 4 h apart, parabolic vignetting; (events, good time, curve)."""
    lo, hi, frac = [], [], []
    for p in range(6):
        c = t0 + 2000.0 + p * 14400.0
        edges = np.arange(c - 20.0, c + 20.0 + 1e-9, 2.0)
        mid = 0.5 * (edges[:-1] + edges[1:])
        lo += list(edges[:-1])
        hi += list(edges[1:])
        frac += list(rng.uniform(0.4, 1.0) * np.clip(1 - ((mid - c) / 20.0) ** 2, 0, None))
    lo, hi, frac = map(np.asarray, (lo, hi, frac))
    n = rng.poisson(3.0 * frac * (hi - lo))
    t = np.sort(np.concatenate([rng.uniform(a, b, k) for a, b, k in zip(lo, hi, n, strict=True)]))
    return t, pd.DataFrame({"start": lo, "stop": hi, "fracexp": frac})


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    d = tmp_path_factory.mktemp("survey")
    rng = np.random.default_rng(3)
    curves = []
    for k in range(4):
        t0 = 6.0e8 + k * 1e5
        t, c = _scan(rng, t0)
        ev = fits.BinTableHDU.from_columns([fits.Column("TIME", "D", unit="s", array=t),
                                            fits.Column("PI", "J", array=np.full(len(t), 1000))],
                                           name="EVENTS")
        ev.header.update({**HEADER, "OBSREGID": f"scan{k}"})
        g = fits.BinTableHDU.from_columns([fits.Column("START", "D", array=[t0]),
                                           fits.Column("STOP", "D", array=[t0 + 86400.0])], name="GTI")
        fits.HDUList([fits.PrimaryHDU(), ev, g]).writeto(d / f"scan{k}.fits")
        curves.append(c.assign(obsreg_id=f"scan{k}"))
    curve_path = d.parent / f"{d.name}_curves.parquet"
    pd.concat(curves, ignore_index=True).to_parquet(curve_path)
    return d, curve_path


def test_chunked_ingest_takes_exposure_curves(survey, tmp_path):
    d, curves = survey
    ref = ingest([d], exposure=str(curves), progress=False, barycentre=False)
    assert ref.n_ok == 4
    paths, summary = ingest_chunked([d], tmp_path / "c", chunk_size=2, scheduler="none",
                                    progress=False, exposure=str(curves), barycentre=False)
    assert summary["chunks"] == 2
    got = read_ingest(tmp_path / "c")
    assert list(got.files["obsreg_id"]) == list(ref.files["obsreg_id"])
    pd.testing.assert_frame_equal(got.gtis.reset_index(drop=True),
                                  ref.gtis[got.gtis.columns].reset_index(drop=True))
    assert got.gtis["weight"].std() > 0.1  # the curves are the template, not a flat rate
    # without curves each chunk refuses the survey files, naming what is missing
    _, bare = ingest_chunked([d], tmp_path / "bare", chunk_size=2, scheduler="none",
                             progress=False, barycentre=False)
    fails = pd.read_csv(tmp_path / "bare" / "failures.csv")
    assert bare["n_files"] == 0 and len(fails) == 4
    assert fails["reason"].str.contains("exposure curve").all()


def test_batch_takes_exposure_curves(survey, tmp_path):
    d, curves = survey
    small = dict(n_estimators=10, max_samples=4, n_fit=4)
    res = run_batch([d], tmp_path / "b", scheduler="none", chunk_size=2, progress=False,
                    exposure=str(curves), **small)
    assert res.summary["n_files"] == 4 and len(res.scores) == 4
    with pytest.raises(InputError, match="no event file could be ingested"):
        run_batch([d], tmp_path / "none", scheduler="none", chunk_size=2, progress=False, **small)
    fails = pd.read_csv(tmp_path / "none" / "failures.csv")
    assert fails["reason"].str.contains("exposure curve").all()
    with pytest.raises(InputError, match="exposure-curve file"):
        run_batch([d], tmp_path / "x", scheduler="none", exposure=str(tmp_path / "nope.parquet"), **small)
