"""Hypothesis fuzzing of the readers: a damaged file gives a valid result or InputError.

Valid FITS event files (plain and gzipped), Parquet and CSV tables, light curves and
model files are damaged in memory -- bit flips, truncation at any offset, edited FITS
header cards, random bytes -- written to a scratch folder and read. The reader must
either return a result that keeps its promises (sorted finite times, finite energies in
the band, ...) or raise :class:`~serendip.errors.InputError` (ModelFileError for model
files): never IndexError, struct.error, OSError, UnicodeDecodeError, a numpy error...

Deterministic (``derandomize=True``) and bounded: 100-200 examples per reader, about
30 s in all on one core.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serendip.classify.inputs import read_catalog
from serendip.errors import InputError, ModelFileError
from serendip.io.eventfile import read_event_file
from serendip.io.lightcurves import read_lightcurves
from serendip.io.modelfile import load_model, save_model
from serendip.io.reference import read_event_table
from serendip.io.tables import read_table

FUZZ = settings(
    # SERENDIP_FUZZ_EXAMPLES raises it for a long local hunt; CI keeps 150 per reader
    max_examples=int(os.environ.get("SERENDIP_FUZZ_EXAMPLES", "150")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


def _maker():
    path = Path(__file__).resolve().parents[1] / "data" / "broken_events" / "make_broken.py"
    spec = importlib.util.spec_from_file_location("serendip_fuzz_make_broken", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


MAKER = _maker()  # tests/data/broken_events/make_broken.py, executed once


def _fits_bytes(**kwargs) -> bytes:
    buf = io.BytesIO()
    MAKER.event_hdul(n=40, seed=3, **kwargs).writeto(buf)
    return buf.getvalue()


def _cards(data: bytes) -> list[int]:
    """Byte offsets of the ``KEY = value`` header cards of every HDU of ``data``."""
    return [
        k
        for k in range(0, len(data), 80)
        if data[k : k + 8].strip()
        and data[k + 8 : k + 10] == b"= "
        and all(32 <= c < 127 for c in data[k : k + 80])
    ]


FITS = _fits_bytes()
FITS_GZ = gzip.compress(FITS, mtime=0)
#: the same events without GTIs (exposure from keywords) and with a PI column only
#: (energies from the Chandra gain), so edits reach those code paths too
BASES = [
    FITS,
    _fits_bytes(gti=None, header={"EXPOSURE": 950.0, "DEADC": 0.95}),
    _fits_bytes(energy_name=None, gti=[(1.0e8, 1.0e8 + 400.0), (1.0e8 + 500.0, 1.0e8 + 1000.0)]),
]
CARDS = [(b, k) for b, data in enumerate(BASES) for k in _cards(data)]
VALUES = [
    "0",
    "-1",
    "1",
    "2",
    "7",
    "40",
    "99999999999",
    "-99999999999",
    "1E400",
    "-1E400",
    "NAN",
    "1.5",
    "T",
    "F",
    "'1J      '",
    "'2D      '",
    "'X       '",
    "'PQ(3)   '",
    "'keV     '",
    "'d       '",
    "'EVENTS  '",
    "'GTI     '",
    "'        '",
    "''",
    "'",
    "'unterminated",
    "",
    "\x00\x00",
    "ÿ",
]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _check_events(path: Path) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ef = read_event_file(path, band=(500.0, 7000.0))
    except InputError as exc:
        assert exc.path == str(path), exc
        return
    assert ef.n_events > 0
    assert ef.time.dtype == np.float64 and ef.energy.dtype == np.float32
    assert np.isfinite(ef.time).all(), "non-finite event times accepted"
    assert np.all(np.diff(ef.time) >= 0), "times not sorted"
    assert np.isfinite(ef.energy).all() and (ef.energy >= 500).all() and (ef.energy <= 7000).all()
    assert np.isfinite(ef.meta["exposure"]) and ef.meta["exposure"] >= 0, ef.meta["exposure"]


@FUZZ
@given(
    base=st.sampled_from(range(len(BASES))),
    flips=st.lists(st.tuples(st.integers(0, len(FITS) - 1), st.integers(0, 7)), max_size=8),
)
def test_fits_bit_flips(scratch, base, flips):
    data = bytearray(BASES[base])
    for pos, bit in flips:
        data[pos % len(data)] ^= 1 << bit
    p = scratch / "flip.fits"
    p.write_bytes(bytes(data))
    _check_events(p)


@FUZZ
@given(
    cut=st.integers(0, len(FITS) - 1),
    gz=st.booleans(),
    tail=st.sampled_from([b"", b"\x00" * 7, b"garbage" * 3]),
)
def test_fits_truncation(scratch, cut, gz, tail):
    if gz:
        data, name = FITS_GZ[: cut % len(FITS_GZ)] + tail, "cut.fits.gz"
    else:
        data, name = FITS[:cut] + tail, "cut.fits"
    p = scratch / name
    p.write_bytes(data)
    _check_events(p)


@FUZZ
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(CARDS), st.sampled_from(VALUES)), min_size=1, max_size=3
    )
)
def test_fits_header_card_edits(scratch, edits):
    base = edits[0][0][0]
    data = bytearray(BASES[base])
    for (b, pos), value in edits:
        if b != base:
            continue
        card = (data[pos : pos + 10].decode("ascii") + value.rjust(20)).encode("latin-1")
        data[pos : pos + 80] = card[:80].ljust(80, b" ")
    p = scratch / "card.fits"
    p.write_bytes(bytes(data))
    _check_events(p)


# ---------------------------------------------------------------- tables
def _catalog() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 30
    return pd.DataFrame(
        {
            "name": [f"2CXO J00{k:04d}.0+000000" for k in range(n)],
            "ra": rng.uniform(0, 360, n),
            "dec": rng.uniform(-90, 90, n),
            "flux_aper_s": rng.uniform(0, 1e-14, n),
            "flux_aper_m": rng.uniform(0, 1e-14, n),
            "flux_aper_h": rng.uniform(0, 1e-14, n),
            "var_intra_prob_b": rng.uniform(0, 1, n),
        }
    )


CATALOG = _catalog()
_buf = io.BytesIO()
CATALOG.to_parquet(_buf, index=False)
PARQUET = _buf.getvalue()
CSV = CATALOG.to_csv(index=False).encode()
LC_CSV = (
    pd.DataFrame(
        {
            "oid": ["a"] * 6 + ["b"] * 6,
            "mjd": np.r_[np.arange(6.0), np.arange(6.0) + 0.5],
            "fid": [1, 2] * 6,
            "magpsf": np.linspace(17, 19, 12),
            "sigmapsf": np.full(12, 0.05),
        }
    )
    .to_csv(index=False)
    .encode()
)


_rng = np.random.default_rng(2)
EVENTS_CSV = (
    pd.DataFrame(
        {
            "obsreg_id": np.repeat(["754_1", "754_2", "9000_3"], 15),
            "time": np.round(np.sort(_rng.uniform(0, 500, 45)), 3),
            "energy": np.round(_rng.uniform(300, 8000, 45), 1),
        }
    )
    .to_csv(index=False)
    .encode()
)


def _mutate(base: bytes, cut: int, flips, junk: bytes) -> bytes:
    data = bytearray(base[: cut % (len(base) + 1)])
    for pos, value in flips:
        if data:
            data[pos % len(data)] = value
    return bytes(data) + junk


def _read_or_input_error(reader, path: Path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return reader(path)
    except InputError as exc:
        assert exc.path == str(path), exc
        return None


MUTATION = dict(
    cut=st.integers(0, 10**6),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6),
    junk=st.one_of(st.just(b""), st.binary(max_size=64)),
)


@FUZZ
@given(**MUTATION)
def test_parquet_tables(scratch, cut, flips, junk):
    p = scratch / "t.parquet"
    p.write_bytes(_mutate(PARQUET, cut, flips, junk))
    df = _read_or_input_error(read_table, p)
    assert df is None or isinstance(df, pd.DataFrame)
    cat = _read_or_input_error(lambda q: read_catalog(q, feature_set="xray"), p)
    if cat is not None:
        assert cat["name"].map(type).eq(str).all() and len(cat) > 0


@FUZZ
@given(**MUTATION)
def test_csv_catalogues(scratch, cut, flips, junk):
    p = scratch / "t.csv"
    p.write_bytes(_mutate(CSV, cut, flips, junk))
    cat = _read_or_input_error(lambda q: read_catalog(q, feature_set="xray"), p)
    if cat is not None:
        assert len(cat) > 0 and (cat["name"].str.len() > 0).all()
        for c in ("flux_aper_s", "flux_aper_m", "flux_aper_h"):
            if c in cat.columns:
                v = pd.to_numeric(cat[c], errors="coerce").to_numpy(dtype=float)
                assert not np.isinf(v).any()


@FUZZ
@given(**MUTATION)
def test_csv_light_curves(scratch, cut, flips, junk):
    p = scratch / "lc.csv"
    p.write_bytes(_mutate(LC_CSV, cut, flips, junk))
    lc = _read_or_input_error(read_lightcurves, p)
    if lc is not None:
        assert len(lc) > 0
        v = lc.attrs["kind"]  # ZTF fid + magpsf: signed difference flux [uJy]
        det = lc[~lc["is_upper_limit"]]
        for c in ("time", v, f"{v}_err"):
            assert np.isfinite(det[c].to_numpy()).all()
        assert (det[f"{v}_err"] > 0).all()
        assert not lc.duplicated(["object_id", "band", "time"]).any()


@FUZZ
@given(**MUTATION)
def test_csv_event_tables(scratch, cut, flips, junk):
    p = scratch / "ev.csv"
    p.write_bytes(_mutate(EVENTS_CSV, cut, flips, junk))
    res = _read_or_input_error(read_event_table, p)
    if res is not None:
        ev = res.events
        assert ev.n_files == len(res.files) > 0
        assert np.isfinite(ev.time).all() and np.isfinite(ev.energy).all()
        assert ((ev.energy >= 500) & (ev.energy <= 7000)).all()
        for k in range(ev.n_files):
            t = ev.time[ev.offsets[k] : ev.offsets[k + 1]]
            assert len(t) > 0 and np.all(np.diff(t) >= 0)


@FUZZ
@given(data=st.binary(max_size=400), ext=st.sampled_from([".csv", ".parquet", ".tsv", ".txt"]))
def test_random_bytes_as_tables(scratch, data, ext):
    p = scratch / f"r{ext}"
    p.write_bytes(data)
    _read_or_input_error(read_table, p)
    _read_or_input_error(read_lightcurves, p)


# ---------------------------------------------------------------- model files
def _model_bytes(tmp: Path) -> bytes:
    p = save_model(
        tmp / "m.safetensors",
        "fuzz.K",
        {"w": np.linspace(-1, 1, 24).reshape(4, 6), "i": np.arange(3, dtype=np.int64)},
        {"alpha": 0.5, "names": ["a", "b"]},
    )
    return p.read_bytes()


@FUZZ
@given(**MUTATION)
def test_model_files(scratch, cut, flips, junk):
    base = _model_bytes(scratch)
    data = _mutate(base, cut, flips, junk)
    p = scratch / "fuzz.safetensors"
    p.write_bytes(data)
    try:
        arrays, settings_, kind = load_model(p, "fuzz.K")
    except ModelFileError as exc:
        assert exc.path == str(p)
        return
    # accepted only when the content is exactly what was saved (junk after the data is
    # ignored by the format; everything else is covered by the digests)
    assert data[: len(base)] == base
    assert kind == "fuzz.K" and settings_ == {"alpha": 0.5, "names": ["a", "b"]}
    assert np.array_equal(arrays["w"], np.linspace(-1, 1, 24).reshape(4, 6))
