"""The native FITS reader agrees with astropy: HDU split, header values, every scalar column type."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pytest
from astropy.io import fits

from serendip.io.fitsraw import FitsFile, _parse_value, column_layout, parse_hdus


def _bytes(hdus) -> bytes:
    buf = io.BytesIO()
    fits.HDUList(hdus).writeto(buf)
    return buf.getvalue()


def _mixed_table(n=257):
    rng = np.random.default_rng(0)
    cols = [
        fits.Column("flags", "5X", array=np.zeros((n, 5), dtype=bool)),
        fits.Column("b", "B", array=rng.integers(0, 255, n).astype(np.uint8)),
        fits.Column("name", "7A", array=np.array(["abc"] * n)),
        fits.Column("i", "I", array=rng.integers(-30000, 30000, n).astype(np.int16)),
        fits.Column("u16", "I", bzero=32768, array=rng.integers(0, 65535, n).astype(np.uint16)),
        fits.Column("vec", "3E", array=rng.normal(size=(n, 3)).astype(np.float32)),
        fits.Column("j", "J", array=rng.integers(-(2**31), 2**31 - 1, n).astype(np.int32)),
        fits.Column("k", "K", array=rng.integers(-(2**40), 2**40, n)),
        fits.Column("e", "E", array=rng.normal(size=n).astype(np.float32)),
        fits.Column("d", "D", array=rng.normal(size=n) * 1e8),
    ]
    ev = fits.BinTableHDU.from_columns(cols, name="EVENTS")
    ev.header["OBJECT"] = "it's a 'quoted' name"
    ev.header["EXPOSURE"] = 1.5e4
    ev.header["FLAG"] = True
    ev.header["BIGINT"] = 2**40
    ev.header.add_comment("a comment")
    return ev


def test_columns_match_astropy_for_every_scalar_type():
    data = _bytes([fits.PrimaryHDU(np.zeros((3, 5), np.int16)), _mixed_table()])
    ff = FitsFile.open_bytes(data)
    ref = fits.open(io.BytesIO(data))
    assert [h.kind for h in ff.hdus] == ["primary", "bintable"] and ff.complete
    assert column_layout(ff.header(1)) is not None
    for name in ("b", "i", "u16", "j", "k", "e", "d", "vec"):
        got = ff.column(1, name)  # "vec" (3E) goes through the astropy fallback
        np.testing.assert_array_equal(got, np.asarray(ref[1].data[name]), err_msg=name)
        assert got.dtype.isnative
    h = ff.header(1)
    assert h["OBJECT"] == "it's a 'quoted' name" and h["EXPOSURE"] == 1.5e4
    assert h["FLAG"] is True and h["BIGINT"] == 2**40 and "COMMENT" not in h
    assert ff.names(1)[:3] == ["flags", "b", "name"]


def test_value_parser():
    assert _parse_value("'ACIS    '           / instrument") == "ACIS"
    assert _parse_value("                   1 / one") == 1
    assert _parse_value("   1.5D3") == 1500.0
    assert _parse_value("   T") is True
    assert _parse_value("   ") is None
    assert _parse_value("'O''Neil'") == "O'Neil"


def test_truncated_and_not_fits():
    data = _bytes([fits.PrimaryHDU(), _mixed_table()])
    hdus, complete = parse_hdus(data[: 2880 + 800])
    assert len(hdus) == 1 and not complete
    hdus, complete = parse_hdus(data[:-3000])  # data cut short: HDU listed, caller checks size
    assert (
        len(hdus) == 2 and complete and hdus[1].data_offset + hdus[1].data_size > len(data) - 3000
    )
    with pytest.raises((OSError, ValueError)):  # native parser refuses, astropy fallback too
        FitsFile.open_bytes(b"hello world" * 300)


def _real_files(real_data, corpus):
    files = sorted(
        p for p in real_data.rglob("*") if p.name.endswith((".fits", ".fits.gz", ".evt.gz"))
    )
    files += sorted(p for p in corpus.iterdir() if p.name.endswith((".fits", ".gz")))
    return files


def test_native_headers_and_offsets_equal_astropy_on_real_files(real_data, corpus):
    """Every real FITS file (events, light curves, Kepler/TESS) and the FITS-like corpus."""
    checked = 0
    for p in _real_files(real_data, corpus):
        raw = p.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError):
                continue
        if not raw.startswith(b"SIMPLE  ="):
            continue
        try:
            ref = FitsFile.from_astropy(raw)
        except Exception:  # noqa: BLE001 - files astropy cannot open are not compared
            continue
        hdus, complete = parse_hdus(raw)
        n = len(ref.hdus) if complete else len(hdus)
        assert len(hdus) == n, p
        for a, b in zip(hdus, ref.hdus[:n], strict=True):
            assert (a.kind, a.name, a.data_offset, a.data_size) == (
                b.kind,
                b.name,
                b.data_offset,
                b.data_size,
            ), p
            for key, val in b.header.items():
                if isinstance(val, (bool, int, float, str)) and key in a.header:
                    assert a.header[key] == val or (
                        val != val and a.header[key] != a.header[key]
                    ), (p, key)
            assert set(b.header) - set(a.header) <= {"HIERARCH"}, (p, set(b.header) - set(a.header))
        checked += 1
    assert checked >= 20


def test_fuzzed_files_give_input_errors_not_crashes_or_hangs(tmp_path, fitsmaker):
    """Random byte damage in headers and data: every read ends in an EventFile or an InputError."""
    from serendip.errors import InputError
    from serendip.io.eventfile import read_event_file

    good = _bytes(fitsmaker.event_hdul(n=50))
    rng = np.random.default_rng(11)
    outcomes = {"ok": 0, "error": 0}
    for trial in range(80):
        b = bytearray(good)
        if trial % 4 == 0:
            b = b[: int(rng.integers(1, len(b)))]
        else:
            # damage a header card value (digits, signs, quotes) or data bytes
            for pos in rng.integers(0, len(b), size=int(rng.integers(1, 6))):
                b[pos] = int(rng.choice(list(b"-0123456789'= XT&")))
        p = tmp_path / f"fuzz{trial}.fits"
        p.write_bytes(bytes(b))
        try:
            read_event_file(p, band=None)
            outcomes["ok"] += 1
        except InputError as exc:
            assert exc.path == str(p) and exc.problem
            outcomes["error"] += 1
    assert outcomes["error"] > 10


def test_negative_naxis_is_an_error_not_a_loop(tmp_path, fitsmaker):
    from serendip.errors import InputError
    from serendip.io.eventfile import read_event_file

    good = _bytes(fitsmaker.event_hdul(n=20))
    card = b"NAXIS2  =                   20"
    assert card in good
    bad = good.replace(card, b"NAXIS2  =                  -20", 1)
    p = tmp_path / "neg.fits"
    p.write_bytes(bad)
    with pytest.raises(InputError):
        read_event_file(p)
