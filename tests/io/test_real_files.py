"""Real-data regression suite: every event file in ../shared/data/real goes through ingest with
the defaults; its id, mission band, event count and warnings are pinned, or its rejection
reason. The suite fails when a file starts being rejected, starts losing events, or a new file
appears that nobody looked at. Skips cleanly when the folder is absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from serendip.errors import InputError
from serendip.io.eventfile import EVENT_FILE_SUFFIXES, read_event_file
from serendip.io.ingest import ingest
from serendip.io.regions import SourceRegion
from serendip.notices import NoticeLog

OBS754 = "chandra_acis_obsid754_msh1552/msh1552_acis_evt2_filtered.fits.gz"
CHANDRA, NICER = (500.0, 7000.0), (300.0, 12000.0)
ASTROSAT, NUSTAR = (3000.0, 80000.0), (3000.0, 79000.0)

# path -> (obsreg_id, mission, band [eV], events kept, rows in the file, energy source,
#          warning codes (severity warning or error) the file raises)
GOOD = {
    OBS754: ("754", "Chandra", CHANDRA, 211067, 258419, "energy column [eV]", set()),
    "stingray_testdata/chandra_test.fits": ("10027", "Chandra", CHANDRA, 3820, 4612, "energy column [eV]", set()),
    "stingray_testdata/chandra_noener_test.fits": ("10027", "Chandra", CHANDRA, 3820, 4612, "PI x 14.6 eV", set()),
    "stingray_testdata/laxpc_file_read.fits": (
        "C07_014T01_9000005314", "AstroSat", ASTROSAT, 937, 1000, "Energy column [keV] x 1000", set()),
    "toa_extractor_testdata/nicer_test.evt.gz": ("1013010104", "NICER", NICER, 99506, 99699, "PI x 10 eV", set()),
    # 2,286 rows of this file are exact copies of the row before them (TIME and PI equal)
    "toa_extractor_testdata/nustar_test.evt.gz": (
        "10302001006", "NuSTAR", NUSTAR, 87446, 100000, "PI x 40 eV + 1600 eV", {"duplicate_events"}),
    "toa_extractor_testdata/astrosat_test.fits.gz": (
        "T01_052T01_9000000316", "AstroSat", ASTROSAT, 69113, 71493, "Energy column [keV] x 1000", set()),
    "pint_testdata/sgr1830kgfilt.evt.gz": ("2010101830", "NICER", NICER, 9255, 9369, "PI x 10 eV", set()),
    "pint_testdata/ngc300nicer_bary.evt.gz": ("1034200101", "NICER", NICER, 2408, 2408, "PI x 10 eV", set()),
    "pint_testdata/J0218_nicer_2070030405_cleanfilt_cut_bary.evt.gz": (
        "2070030405", "NICER", NICER, 3361, 3361, "PI x 10 eV", set()),
}
# path -> fragment of the rejection reason
_RXTE = "no known gain for TELESCOP='XTE' INSTRUME='PCA'"
_KEPLER = "time unit 'd' is not supported"
REJECTED = {
    "stingray_testdata/xte_test.evt.gz": _RXTE,
    "stingray_testdata/xte_gx_test.evt.gz": _RXTE,
    "pint_testdata/B1509_RXTE_short.fits.gz": _RXTE,
    "stingray_testdata/LightCurve_bexvar.fits": "binned light curve (extension RATE, HDUCLAS1=LIGHTCURVE)",
    "kepler_tess_altaipony/kplr010002792-2009259160929_llc.fits.gz": _KEPLER,
    "kepler_tess_altaipony/kplr010002792-2010174085026_llc.fits.gz": _KEPLER,
    "kepler_tess_altaipony/ktwo211117077-c04_llc.fits.gz": _KEPLER,
    "kepler_tess_altaipony/tess2018206045859-s0001-0000000358108509-0120-s_lc.fits.gz": _KEPLER,
}


def test_every_event_file_in_the_folder_is_pinned(real_data):
    found = {
        str(p.relative_to(real_data))
        for p in Path(real_data).rglob("*")
        if p.is_file() and p.name.lower().endswith(EVENT_FILE_SUFFIXES)
    }
    assert found == set(GOOD) | set(REJECTED), "new or missing event files: pin them in GOOD/REJECTED"


@pytest.mark.parametrize("rel", sorted(GOOD))
def test_real_file_ingests(real_data, rel):
    oid, mission, band, n, n_raw, src, codes = GOOD[rel]
    with NoticeLog() as log:
        ef = read_event_file(real_data / rel)
    m = ef.meta
    assert (ef.obsreg_id, m["mission"], m["band"], m["energy_source"]) == (oid, mission, band, src)
    assert (ef.n_events, m["n_raw"]) == (n, n_raw)
    assert {r.code for r in log.records if r.severity != "info"} == codes
    # no cut removed more than half of the file without a warning naming it
    if n < 0.5 * n_raw:
        assert any(r.count > 0.5 * r.total for r in log.records if r.severity == "warning")
    assert np.all(np.diff(ef.time) >= 0)
    assert ef.energy.min() >= band[0] and ef.energy.max() <= band[1]
    assert m["exposure"] > 0 and m["tstop"] > m["tstart"]
    assert ef.time[0] >= m["tstart"] - 1e-3 and ef.time[-1] <= m["tstop"] + 1e-3


@pytest.mark.parametrize("rel", sorted(REJECTED))
def test_real_file_rejected_with_reason(real_data, rel):
    with pytest.raises(InputError) as err:
        read_event_file(real_data / rel)
    assert REJECTED[rel] in err.value.problem
    assert err.value.path.endswith(rel)


def test_nustar_duplicates_are_exact_row_copies(real_data):
    """An independent count of the NuSTAR file's duplicate rows (astropy, all columns)."""
    import pandas as pd

    with fits.open(real_data / "toa_extractor_testdata/nustar_test.evt.gz") as h:
        d = h["EVENTS"].data
        df = pd.DataFrame({c: np.asarray(d[c]).astype(np.float64) for c in d.columns.names})
    with NoticeLog() as log:
        read_event_file(real_data / "toa_extractor_testdata/nustar_test.evt.gz")
    (dup,) = [r for r in log.records if r.code == "duplicate_events"]
    assert dup.count == int(df.duplicated().sum()) == 2286 and dup.total == 100000


def test_rxte_reads_with_a_user_gain(real_data):
    ef = read_event_file(
        real_data / "stingray_testdata/xte_test.evt.gz", band=None, gain=(60.0, 0.0),
        barycentre=False,  # the raw times, to compare with the file's TIME + TIMEZERO
    )
    with fits.open(real_data / "stingray_testdata/xte_test.evt.gz") as h:
        tz = h[1].header["TIMEZERO"]
        t = h[1].data["TIME"] + tz
        gti = np.c_[h[2].data["Start"], h[2].data["Stop"]] + tz
        gti2 = np.c_[h[3].data["Start"], h[3].data["Stop"]] + tz
    # both GTI extensions must hold (intersection); TIMEZERO applied to events and GTIs
    keep = (t >= max(gti[0, 0], gti2[0, 0])) & (t <= min(gti[0, 1], gti2[0, 1]))
    np.testing.assert_allclose(ef.time, t[keep])
    assert ef.meta["n_outside_gti"] == int((~keep).sum()) > 0
    assert ef.meta["energy_source"] == "PHA x 60 eV (user gain)"


def test_obsid754_numbers_match_the_data_readme(real_data):
    """README: 258,419 events, 4 GTI extensions, EXPOSURE 18.9 ks over 19.2 ks (spacecraft
    clock: barycentring stretches the good time by the Earth's motion, < 1e-4)."""
    ef = read_event_file(real_data / OBS754, band=None, barycentre=False)
    bary = read_event_file(real_data / OBS754, band=None)
    assert bary.meta["ontime"] == pytest.approx(ef.meta["ontime"], rel=1e-4)
    assert bary.meta["ontime"] != ef.meta["ontime"]
    m = ef.meta
    assert m["n_raw"] == 258419 and ef.n_events == 258419 and m["n_outside_gti"] == 0
    assert len(m["gti_extensions"]) == 4
    assert m["exposure"] == pytest.approx(18940.29, abs=1.0)  # GTI time x DTCOR = EXPOSURE
    assert m["ontime"] == pytest.approx(19183.2, abs=1.0)
    assert m["tstop"] - m["tstart"] == pytest.approx(21074.5, abs=1.0)
    assert (m["obsid"], m["instrument"], m["object"]) == ("754", "ACIS", "G320.4-1.2")


def test_obsid754_region_at_the_pulsar(real_data):
    """A 5 arcsec circle on PSR B1509-58 (RA_TARG/DEC_TARG) holds a bright point source."""
    psr = SourceRegion.sky(228.481667, -59.135806, 5.0, name="psr")
    off = SourceRegion.sky(228.40, -59.20, 5.0, name="bkg")
    res = ingest([real_data / OBS754], region=[psr, off], progress=False)
    assert list(res.files["obsreg_id"]) == ["754_psr", "754_bkg"]
    n_psr, n_bkg = res.events.counts
    assert n_psr > 1000 and n_psr > 20 * n_bkg
    # both regions lie on ACIS-I CCDs with ~19.18 ks of GTI
    assert res.files["exposure"].iloc[0] == pytest.approx(18940.3, rel=1e-3)


def test_whole_real_folder_through_ingest(real_data):
    dirs = [real_data / d for d in ("stingray_testdata", "toa_extractor_testdata", "pint_testdata")]
    with NoticeLog() as log:
        res = ingest(dirs, progress=False)
    in_dirs = [k for k in GOOD if k.split("/")[0] in {d.name for d in dirs}]
    assert res.n_ok == len(in_dirs)
    assert sorted(res.files["obsreg_id"]) == sorted(
        ["10027", "10027.2", "C07_014T01_9000005314", "1013010104", "10302001006",
         "T01_052T01_9000000316", "2010101830", "1034200101", "2070030405"]
    )
    assert dict(zip(res.files["path"].map(lambda p: str(Path(p).relative_to(real_data))),
                    res.files["n_events"], strict=True)) == {k: GOOD[k][3] for k in in_dirs}
    reasons = dict(zip(res.failures["file"], res.failures["reason"], strict=True))
    for rel, frag in REJECTED.items():
        if rel.split("/")[0] in {d.name for d in dirs}:
            assert frag in reasons[str(real_data / rel)]
    assert {r.code for r in log.records} >= {"band_cut", "duplicate_events"}
