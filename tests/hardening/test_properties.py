"""Property-based tests of the readers (issue 15, "What to build" 6): random VALID event files,
event tables, regions, light curves and catalogue tables round-trip through their readers;
random corruptions of them give :class:`InputError`, never another exception or a panic.
(tests/hardening/test_fuzz_readers.py damages fixed files byte by byte; this module builds
the inputs themselves at random.) Derandomized and bounded: a few seconds per test.
"""

from __future__ import annotations

import importlib.util
import io
import math
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serendip.classify.inputs import read_catalog
from serendip.errors import InputError
from serendip.io.eventfile import read_event_file
from serendip.io.lightcurves import read_lightcurves, standardize_lightcurves
from serendip.io.reference import read_event_table
from serendip.io.regions import parse_region, read_region_file
from serendip.notices import NoticeLog

PROPS = settings(
    max_examples=int(os.environ.get("SERENDIP_FUZZ_EXAMPLES", "40")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
BAND = (500.0, 7000.0)
finite = {"allow_nan": False, "allow_infinity": False}


def _maker():
    path = Path(__file__).resolve().parents[1] / "data" / "broken_events" / "make_broken.py"
    spec = importlib.util.spec_from_file_location("serendip_props_make_broken", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


MAKER = _maker()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("props")


def _only_input_errors(func, *args, **kwargs):
    """``func(...)``, or None when it raised InputError; any other exception fails the test."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return func(*args, **kwargs)
    except InputError:
        return None


# ------------------------------------------------------------------ event files (FITS)
@PROPS
@given(
    times=st.lists(st.floats(0.0, 999.0, **finite), min_size=1, max_size=60),
    energies=st.data(),
)
def test_random_event_files_round_trip(scratch, times, energies):
    n = len(times)
    e = np.asarray(energies.draw(st.lists(st.floats(100.0, 9900.0, **finite), min_size=n,
                                          max_size=n)))  # fmt: skip
    t = 1.0e8 + np.sort(np.asarray(times))
    p = scratch / "ev.fits"
    MAKER.event_hdul(time=t, energy=e).writeto(p, overwrite=True)
    ef = _only_input_errors(read_event_file, p, band=BAND)
    keep = (e >= BAND[0]) & (e <= BAND[1])
    if ef is None:  # refused only when nothing is left in the band
        assert not keep.any()
        return
    np.testing.assert_allclose(ef.time, t[keep])
    np.testing.assert_allclose(np.sort(ef.energy), np.sort(e[keep].astype(np.float32)), rtol=1e-6)


@PROPS
@given(
    n=st.integers(1, 50),
    seed=st.integers(0, 10_000),
    bad=st.sampled_from(["nan_time", "inf_energy", "unsorted", "kev", "empty_gti", "no_time"]),
)
def test_corrupted_event_files_are_input_errors(scratch, n, seed, bad):
    rng = np.random.default_rng(seed)
    t = np.sort(1.0e8 + rng.uniform(0, 1000, n))
    e = rng.uniform(600.0, 6500.0, n)
    kw = {}
    if bad == "nan_time":
        t[rng.integers(n)] = np.nan
    elif bad == "inf_energy":
        e[rng.integers(n)] = np.inf
    elif bad == "unsorted":
        t = t[::-1].copy()
    elif bad == "kev":
        e = e / 1000.0
    elif bad == "empty_gti":
        kw["gti"] = [(1.0e8 + 2000.0, 1.0e8 + 3000.0)]
    elif bad == "no_time":
        kw["time_name"] = "tyme"
    p = scratch / "bad.fits"
    MAKER.event_hdul(time=t, energy=e, **kw).writeto(p, overwrite=True)
    ef = _only_input_errors(read_event_file, p, band=BAND)
    if ef is not None:  # a reader may repair (sort, drop) but must keep its promises
        assert np.isfinite(ef.time).all() and np.all(np.diff(ef.time) >= 0)
        assert np.isfinite(ef.energy).all()
        assert ((ef.energy >= BAND[0]) & (ef.energy <= BAND[1])).all()


# ------------------------------------------------------------------ event tables
ids = st.sampled_from(["100_1", "100_2", "2001_7", "x_y"])


@PROPS
@given(
    rows=st.lists(
        st.tuples(ids, st.floats(0.0, 1e6, **finite), st.floats(500.0, 7000.0, **finite)),
        min_size=1, max_size=80,
    ),
    ext=st.sampled_from([".csv", ".parquet"]),
)  # fmt: skip
def test_random_event_tables_round_trip(scratch, rows, ext):
    df = pd.DataFrame(rows, columns=["obsreg_id", "time", "energy"])
    p = scratch / f"events{ext}"
    df.to_csv(p, index=False) if ext == ".csv" else df.to_parquet(p)
    with NoticeLog() as log:
        res = read_event_table(p, band=BAND)
    # exact duplicate rows are dropped and counted (issue 14), never kept silently
    n_dup = int(df.duplicated().sum())
    assert sum(r.count for r in log.records if "dup" in r.code) == n_dup
    df = df.drop_duplicates()
    ev = res.events
    assert list(ev.obsreg_id) == list(pd.unique(df["obsreg_id"]))
    for k, oid in enumerate(ev.obsreg_id):
        mine = df[df["obsreg_id"] == oid]
        got_t = ev.time[ev.offsets[k] : ev.offsets[k + 1]]
        np.testing.assert_allclose(got_t, np.sort(mine["time"].to_numpy()))
    assert res.files["n_events"].sum() == len(df)


@PROPS
@given(
    cells=st.lists(
        st.tuples(st.integers(0, 9), st.sampled_from(["time", "energy", "obsreg_id"]),
                  st.sampled_from(["abc", "", "nan", "inf", "-1", "1e999", "1,5", None])),
        min_size=1, max_size=4,
    )
)  # fmt: skip
def test_corrupted_event_tables_are_input_errors(scratch, cells):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {"obsreg_id": ["1_1"] * 5 + ["1_2"] * 5, "time": rng.uniform(0, 100, 10),
         "energy": rng.uniform(600, 6000, 10)}
    ).astype(object)  # fmt: skip
    for row, col, value in cells:
        df.loc[row, col] = value
    p = scratch / "bad_events.csv"
    df.to_csv(p, index=False)
    res = _only_input_errors(read_event_table, p, band=BAND)
    if res is not None:
        assert np.isfinite(res.events.time).all() and np.isfinite(res.events.energy).all()


# ------------------------------------------------------------------ regions
def _sexa(deg: float, hours: bool) -> str:
    v = deg / 15.0 if hours else deg
    sign = "-" if v < 0 else ""
    v = abs(v)
    d = int(v)
    m = int((v - d) * 60)
    s = (v - d - m / 60) * 3600
    return f"{sign}{d:02d}:{m:02d}:{s:09.6f}"


@PROPS
@given(
    ra=st.floats(0.0, 359.999, **finite),
    dec=st.floats(-89.999, 89.999, **finite),
    radius=st.floats(0.1, 3000.0, **finite),
    form=st.sampled_from(["plain", "sky", "ds9", "ds9_sexa", "ds9_arcmin", "file"]),
)
def test_random_regions_round_trip(scratch, ra, dec, radius, form):
    if form == "plain":
        r = parse_region(f'{ra!r},{dec!r},{radius!r}"')
    elif form == "sky":
        r = parse_region(f"sky:{ra!r},{dec!r},{radius!r}")
    elif form == "ds9":
        r = parse_region(f'fk5;circle({ra!r},{dec!r},{radius!r}")')
    elif form == "ds9_sexa":
        r = parse_region(f'icrs;circle({_sexa(ra, True)},{_sexa(dec, False)},{radius!r}")')
    elif form == "ds9_arcmin":
        r = parse_region(f"fk5;circle({ra!r},{dec!r},{radius / 60.0!r}')")
    else:
        p = scratch / "r.reg"
        p.write_text(
            f'# Region file\nglobal color=green\nfk5\ncircle({ra!r},{dec!r},{radius!r}") # text={{src}}\n'
        )
        (r,) = read_region_file(p)
        assert r.name == "src"
    assert math.isclose(r.ra, ra, abs_tol=1e-6) and math.isclose(r.dec, dec, abs_tol=1e-6)
    assert math.isclose(r.radius, radius, rel_tol=1e-9, abs_tol=1e-6)


@PROPS
@given(
    text=st.one_of(
        st.text(max_size=40),
        st.builds(
            lambda a, b, c, sep: f"fk5;circle({a}{sep}{b}{sep}{c})",
            *(st.sampled_from(["1", "-5", "nan", "inf", "1e999", "", "12:99:99", "x", '3"', "400"])
              for _ in range(3)),
            st.sampled_from([",", ";", " ", ",,"]),
        ),
    )
)  # fmt: skip
def test_corrupted_regions_are_input_errors(scratch, text):
    r = _only_input_errors(parse_region, text)
    if r is not None:  # whatever was accepted is a usable circle
        assert math.isfinite(r.radius) and r.radius > 0
        if r.ra is not None:
            assert 0 <= r.ra < 360 and -90 <= r.dec <= 90, r
    p = scratch / "bad.reg"
    p.write_text(text + "\n", errors="surrogateescape")
    regions = _only_input_errors(read_region_file, p)
    for r in regions or []:
        assert math.isfinite(r.radius) and r.radius > 0


# ------------------------------------------------------------------ light curves
@PROPS
@given(
    obs=st.lists(
        st.tuples(st.sampled_from(["ZTF1", "ZTF2", "obj 3"]), st.integers(0, 10_000),
                  st.sampled_from(["g", "r"]), st.floats(-1e4, 1e4, **finite),
                  st.floats(0.01, 100.0, **finite)),
        min_size=1, max_size=60, unique_by=lambda o: (o[0], o[1], o[2]),
    ),
    ext=st.sampled_from([".csv", ".parquet"]),
)  # fmt: skip
def test_random_light_curves_round_trip(scratch, obs, ext):
    df = pd.DataFrame(obs, columns=["object_id", "time", "band", "flux", "flux_err"])
    df["time"] = 58000.0 + df["time"] / 10.0
    p = scratch / f"lc{ext}"
    df.to_csv(p, index=False) if ext == ".csv" else df.to_parquet(p)
    out = read_lightcurves(p)
    assert len(out) == len(df)
    key = ["object_id", "time", "band"]
    a = out.sort_values(key).reset_index(drop=True)
    b = df.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[key + ["flux", "flux_err"]], b, check_dtype=False)
    # sorted by object and time, as every consumer expects
    assert out.equals(out.sort_values(["object_id", "time"], kind="stable").reset_index(drop=True))


@PROPS
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 11), st.sampled_from(["time", "flux", "flux_err", "band",
                                                       "object_id"]),
                  st.sampled_from(["abc", None, "nan", "-1", "0", "inf", "zz", ""])),
        min_size=1, max_size=3,
    )
)  # fmt: skip
def test_corrupted_light_curves_are_input_errors(edits):
    df = pd.DataFrame(
        {"object_id": ["a"] * 6 + ["b"] * 6, "time": list(range(6)) * 2,
         "band": ["g", "r"] * 6, "flux": np.linspace(1, 2, 12), "flux_err": [0.1] * 12}
    ).astype(object)  # fmt: skip
    for row, col, value in edits:
        df.loc[row, col] = value
    out = _only_input_errors(standardize_lightcurves, df, "edited.csv")
    if out is not None:
        for c in ("time", "flux", "flux_err"):
            assert np.isfinite(out[c].to_numpy(dtype=float)).all()
        assert (out["flux_err"] > 0).all()


# ------------------------------------------------------------------ catalogue tables
CATALOGUE_COLUMNS = ("flux_aper_s", "flux_aper_m", "flux_aper_h", "var_intra_prob_b")


@PROPS
@given(
    rows=st.lists(
        st.tuples(*(st.one_of(st.none(), st.floats(1e-18, 1e-10, **finite)) for _ in range(3)),
                  st.floats(0.0, 1.0, **finite)),
        min_size=1, max_size=40,
    ),
    ext=st.sampled_from([".csv", ".parquet", ".fits"]),
)  # fmt: skip
def test_random_catalogues_round_trip(scratch, rows, ext):
    from serendip.io.tables import write_table

    df = pd.DataFrame(rows, columns=list(CATALOGUE_COLUMNS)).astype(np.float64)
    df.insert(0, "name", [f"2CXO J{k:06d}" for k in range(len(df))])
    p = scratch / f"cat{ext}"
    write_table(df, p)
    out = read_catalog(p, feature_set="xray")
    assert out["name"].astype(str).str.strip().tolist() == df["name"].tolist()
    for c in CATALOGUE_COLUMNS:
        np.testing.assert_allclose(out[c].to_numpy(float), df[c].to_numpy(float), rtol=1e-12)


@PROPS
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 7), st.sampled_from(list(CATALOGUE_COLUMNS) + ["name"]),
                  st.sampled_from(["abc", "1.2.3", "inf", "-inf", "", None, "TRUE"])),
        min_size=1, max_size=3,
    ),
    drop=st.sampled_from([None, "name", "flux_aper_s"]),
)  # fmt: skip
def test_corrupted_catalogues_are_input_errors(scratch, edits, drop):
    rng = np.random.default_rng(3)
    df = pd.DataFrame(rng.uniform(1e-16, 1e-14, (8, 4)), columns=list(CATALOGUE_COLUMNS))
    df.insert(0, "name", [f"2CXO J{k:06d}" for k in range(8)])
    df = df.astype(object)
    for row, col, value in edits:
        df.loc[row, col] = value
    if drop:
        df = df.drop(columns=[drop])
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    p = scratch / "badcat.csv"
    p.write_text(buf.getvalue())
    out = _only_input_errors(read_catalog, p, feature_set="xray")
    if out is not None:
        for c in CATALOGUE_COLUMNS:
            if c in out.columns:
                v = pd.to_numeric(out[c], errors="coerce").to_numpy(float)
                assert not np.isinf(v).any()
