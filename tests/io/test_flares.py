"""Each mission's standard flare screening: XMM SAS recipe, eROSITA FLAREGTI, NICER ufa notice,
applied per source (a source flaring itself is exempt), to the field, or off; all reported."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from serendip.errors import InputError
from serendip.io.eventfile import extract_regions, load_events, read_event_file
from serendip.io.regions import SourceRegion
from serendip.notices import NoticeLog

T0 = 1.0e8  # mission seconds of the first good time
FLARE = (6000.0, 7000.0)  # soft-proton flare [s after T0]
A, B, R = (500.0, 500.0), (1500.0, 1500.0), 40.0  # constant source A, flaring source B [pixel]


def _events(rng, n, t_lo, t_hi, pi_lo, pi_hi, xy=None, pattern=0, flag=0):
    t = rng.uniform(t_lo, t_hi, n)
    if xy is None:
        x, y = rng.uniform(0, 2000, n), rng.uniform(0, 2000, n)
    else:
        r, a = R * 0.8 * np.sqrt(rng.uniform(0, 1, n)), rng.uniform(0, 2 * np.pi, n)
        x, y = xy[0] + r * np.cos(a), xy[1] + r * np.sin(a)
    return dict(t=t, x=x, y=y, pi=rng.integers(pi_lo, pi_hi, n),
                pattern=np.full(n, pattern), flag=np.full(n, flag))


def _write(path, parts, telescope="XMM", instrument="EPN", gtis=(("STDGTI", [(0.0, 1e4)]),)):
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    cols = [fits.Column("TIME", "D", array=T0 + cat["t"]), fits.Column("X", "E", array=cat["x"]),
            fits.Column("Y", "E", array=cat["y"]), fits.Column("PI", "J", array=cat["pi"]),
            fits.Column("PATTERN", "I", array=cat["pattern"]),
            fits.Column("FLAG", "J", array=cat["flag"])]
    ev = fits.BinTableHDU.from_columns(cols, name="EVENTS")
    ev.header.update(TELESCOP=telescope, INSTRUME=instrument, OBS_ID="0123456789")
    hdus = [fits.PrimaryHDU(), ev]
    for name, iv in gtis:
        g = fits.BinTableHDU.from_columns(
            [fits.Column("START", "D", array=[T0 + a for a, _ in iv]),
             fits.Column("STOP", "D", array=[T0 + b for _, b in iv])], name=name)
        g.header["HDUCLAS1"] = "GTI"
        hdus.append(g)
    fits.HDUList(hdus).writeto(path, overwrite=True)
    return path


@pytest.fixture
def pn(tmp_path):
    """pn field over 10 ks: 10-12 keV single events at 0.1 ct/s with a 2 ct/s soft-proton flare
    in 6-7 ks (plus a soft background flare); 10-12 keV PATTERN=3 and FLAG!=0 bursts that the
    recipe must ignore; constant source A; source B flaring in the same interval."""
    rng = np.random.default_rng(19)
    parts = [
        _events(rng, 1000, 0, 1e4, 10000, 12000),
        _events(rng, 2000, *FLARE, 10000, 12000),
        _events(rng, 3000, 2000, 3000, 10000, 12000, pattern=3),
        _events(rng, 3000, 4000, 5000, 10000, 12000, flag=4),
        _events(rng, 10000, 0, 1e4, 500, 2000),
        _events(rng, 5000, *FLARE, 500, 2000),
        _events(rng, 2000, 0, 1e4, 1000, 3000, xy=A),
        _events(rng, 2000, 0, 1e4, 1000, 3000, xy=B),
        _events(rng, 600, *FLARE, 1000, 3000, xy=B),
    ]
    return _write(tmp_path / "pn.fits", parts)


def _regions():
    return [SourceRegion.physical(*A, R, name="A"), SourceRegion.physical(*B, R, name="B")]


def _in_flare(t):
    return (t >= T0 + FLARE[0]) & (t <= T0 + FLARE[1])


def test_xmm_recipe_finds_the_soft_proton_flare_only(pn):
    raw = load_events(pn)
    fl = raw.header["flares"]
    np.testing.assert_allclose(fl.start, [T0 + FLARE[0]])
    np.testing.assert_allclose(fl.stop, [T0 + FLARE[1]])
    assert "STDGTI only" in fl.origin and "0.4 ct/s" in fl.origin
    assert fl.fraction == pytest.approx(0.1)
    assert load_events(pn, flare_screen="off").header["flares"] is None
    with pytest.raises(InputError, match="flare_screen"):
        load_events(pn, flare_screen="sometimes")


def test_flaring_source_is_exempt_constant_source_is_cut(pn):
    with NoticeLog() as log:
        a, b = extract_regions(pn, _regions(), band=None)
    assert a.meta["flare_gti_decision"] == "cut" and b.meta["flare_gti_decision"] == "exempt"
    assert not _in_flare(a.time).any() and a.meta["n_flare_gti"] > 150
    assert float(np.sum(a.good_times[1] - a.good_times[0])) == pytest.approx(9000.0)
    assert _in_flare(b.time).sum() > 700  # the 600-count flare and its 200 quiescent counts stay
    assert float(np.sum(b.good_times[1] - b.good_times[0])) == pytest.approx(1e4)
    df = log.to_frame()
    row = df[df.code == "flare_gti"].iloc[0]
    assert row["count"] == a.meta["n_flare_gti"] and "1 kept them" in row["message"]
    assert "10.0% of 10000 s" in row["message"] and "1 source;" in row["message"]
    ex = df[df.code == "flare_gti_exempt"]
    assert list(ex["source"]) == [b.obsreg_id]


def test_whole_file_is_reported_not_cut_unless_field(pn):
    with NoticeLog() as log:
        whole = read_event_file(pn, band=None)
    assert _in_flare(whole.time).sum() > 7000
    msg = log.to_frame().query("code == 'flare_gti'")["message"].iloc[0]
    assert "not applied to the whole file" in msg
    with NoticeLog() as log:
        raw = load_events(pn, flare_screen="field")
    assert not _in_flare(raw.time).any()
    assert raw.gtis.ontime() == pytest.approx(9000.0)
    row = log.to_frame().query("code == 'flare_gti'").iloc[0]
    assert row["count"] == raw.header["n_flare_gti"] > 7000 and "every event" in row["message"]


def test_erosita_flaregti_extension_is_the_flare_screening(tmp_path):
    rng = np.random.default_rng(3)
    parts = [_events(rng, 3000, 0, 1e4, 300, 2000, xy=A), _events(rng, 2000, 0, 1e4, 300, 2000)]
    p = _write(tmp_path / "em01_tm0.fits", parts, telescope="eROSITA", instrument="TM0",
               gtis=(("GTI", [(0.0, 1e4)]), ("FLAREGTI", [(0.0, 5000.0), (6000.0, 1e4)])))
    raw = load_events(p)
    assert raw.gtis.ontime() == pytest.approx(1e4)  # FLAREGTI is not a plain GTI here
    assert "FLAREGTI" in raw.header["flares"].origin
    np.testing.assert_allclose(raw.header["flares"].start, [T0 + 5000.0])
    (a,) = extract_regions(p, [SourceRegion.physical(*A, R)], band=None)
    assert a.meta["flare_gti_decision"] == "cut"
    assert not ((a.time > T0 + 5000) & (a.time < T0 + 6000)).any()
    field = load_events(p, flare_screen="field")
    assert field.gtis.ontime() == pytest.approx(9000.0)


def test_xmm_user_gti_is_reported_and_nicer_ufa_is_unscreened(tmp_path):
    rng = np.random.default_rng(4)
    parts = [_events(rng, 500, 0, 1e4, 10000, 12000)]
    p = _write(tmp_path / "user.fits", parts,
               gtis=(("STDGTI", [(0.0, 1e4)]), ("GTI", [(0.0, 8000.0)])))
    with NoticeLog() as log:
        raw = load_events(p)
    assert raw.header["flares"] is None
    assert "GTI[3]" in log.to_frame().query("code == 'flare_gti_in_file'")["message"].iloc[0]
    q = _write(tmp_path / "ni1234567890_0mpu7_ufa.evt", parts, telescope="NICER", instrument="XTI",
               gtis=(("GTI", [(0.0, 1e4)]),))
    with NoticeLog() as log:
        load_events(q)
    assert "unscreened_events" in set(log.to_frame()["code"])


def test_mission_table_states_the_flare_screening():
    from serendip.io.missions import mission_table

    t = mission_table().set_index("mission")
    assert "0.4 ct/s" in t.loc["XMM-Newton", "flare_screening"].iloc[0]
    assert "FLAREGTI" in t.loc["eROSITA", "flare_screening"]
    assert "nicerl2" in t.loc["NICER", "flare_screening"]


def test_ingest_reports_each_source_and_switches_off(pn):
    from serendip.io.ingest import ingest

    res = ingest([pn], region=_regions(), band=None, progress=False)
    f = res.files.set_index("obsreg_id")
    assert list(f["flare_gti_decision"]) == ["cut", "exempt"]
    assert int(f["n_flare_gti"].iloc[0]) > 150 and int(f["n_flare_gti"].iloc[1]) == 0
    off = ingest([pn], region=_regions(), band=None, progress=False, flare_screen="off")
    g = off.files.set_index("obsreg_id")
    assert list(g["flare_gti_decision"]) == ["", ""]
    assert int(g["n_events"].iloc[0]) == int(f["n_events"].iloc[0]) + int(f["n_flare_gti"].iloc[0])
