"""Every real event file in ../shared/data/real ingests, or is rejected with the stated reason."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from serendip.errors import InputError
from serendip.io.eventfile import read_event_file
from serendip.io.ingest import ingest
from serendip.io.regions import CircleRegion

OBS754 = "chandra_acis_obsid754_msh1552/msh1552_acis_evt2_filtered.fits.gz"

# path -> (obsreg_id, telescope, energy_source, events in 0.5-7 keV) for files that must ingest
GOOD = {
    OBS754: ("754", "CHANDRA", "energy column [eV]", 211067),
    "stingray_testdata/chandra_test.fits": ("10027", "CHANDRA", "energy column [eV]", 3820),
    "stingray_testdata/chandra_noener_test.fits": ("10027", "CHANDRA", "PI x 14.6 eV", 3820),
    "stingray_testdata/laxpc_file_read.fits": (
        "C07_014T01_9000005314",
        "ASTROSAT",
        "Energy column [keV] x 1000",
        471,
    ),
    "toa_extractor_testdata/nicer_test.evt.gz": ("1013010104", "NICER", "PI x 10 eV", 96990),
    "toa_extractor_testdata/nustar_test.evt.gz": (
        "10302001006",
        "NuSTAR",
        "PI x 40 eV + 1600 eV",
        62111,
    ),
    "toa_extractor_testdata/astrosat_test.fits.gz": (
        "T01_052T01_9000000316",
        "ASTROSAT",
        "Energy column [keV] x 1000",
        35388,
    ),
    "pint_testdata/sgr1830kgfilt.evt.gz": ("2010101830", "NICER", "PI x 10 eV", 9064),
    "pint_testdata/ngc300nicer_bary.evt.gz": ("1034200101", "NICER", "PI x 10 eV", 2281),
    "pint_testdata/J0218_nicer_2070030405_cleanfilt_cut_bary.evt.gz": (
        "2070030405",
        "NICER",
        "PI x 10 eV",
        3361,
    ),
}
# path -> fragment of the rejection reason
REJECTED = {
    "stingray_testdata/xte_test.evt.gz": "no known gain for TELESCOP='XTE' INSTRUME='PCA'",
    "stingray_testdata/xte_gx_test.evt.gz": "no known gain for TELESCOP='XTE' INSTRUME='PCA'",
    "pint_testdata/B1509_RXTE_short.fits.gz": "no known gain for TELESCOP='XTE' INSTRUME='PCA'",
    "stingray_testdata/LightCurve_bexvar.fits": "binned light curve (extension RATE, HDUCLAS1=LIGHTCURVE)",
}


@pytest.mark.parametrize("rel", sorted(GOOD))
def test_real_file_ingests(real_data, rel):
    oid, tel, src, n = GOOD[rel]
    ef = read_event_file(real_data / rel)
    assert (ef.obsreg_id, ef.meta["telescope"], ef.meta["energy_source"]) == (oid, tel, src)
    assert ef.n_events == n
    assert np.all(np.diff(ef.time) >= 0)
    assert ef.energy.min() >= 500.0 and ef.energy.max() <= 7000.0
    assert ef.meta["exposure"] > 0 and ef.meta["tstop"] > ef.meta["tstart"]
    assert ef.time[0] >= ef.meta["tstart"] - 1e-3 and ef.time[-1] <= ef.meta["tstop"] + 1e-3


@pytest.mark.parametrize("rel", sorted(REJECTED))
def test_real_file_rejected_with_reason(real_data, rel):
    with pytest.raises(InputError) as err:
        read_event_file(real_data / rel)
    assert REJECTED[rel] in err.value.problem
    assert err.value.path.endswith(rel)


def test_rxte_reads_with_a_user_gain(real_data):
    ef = read_event_file(
        real_data / "stingray_testdata/xte_test.evt.gz", band=None, gain=(60.0, 0.0)
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
    """README: 258,419 events, 4 GTI extensions, EXPOSURE 18.9 ks over 19.2 ks."""
    ef = read_event_file(real_data / OBS754, band=None)
    m = ef.meta
    assert m["n_raw"] == 258419 and ef.n_events == 258419 and m["n_outside_gti"] == 0
    assert len(m["gti_extensions"]) == 4
    assert m["exposure"] == pytest.approx(
        18940.29, abs=1.0
    )  # GTI time x DTCOR = the EXPOSURE keyword
    assert m["ontime"] == pytest.approx(19183.2, abs=1.0)
    assert m["tstop"] - m["tstart"] == pytest.approx(21074.5, abs=1.0)
    assert (m["obsid"], m["instrument"], m["object"]) == ("754", "ACIS", "G320.4-1.2")


def test_obsid754_region_at_the_pulsar(real_data):
    """A 5 arcsec circle on PSR B1509-58 (RA_TARG/DEC_TARG) holds a bright point source."""
    psr = CircleRegion.sky(228.481667, -59.135806, 5.0, name="psr")
    off = CircleRegion.sky(228.40, -59.20, 5.0, name="bkg")
    res = ingest([real_data / OBS754], region=[psr, off], progress=False)
    assert list(res.files["obsreg_id"]) == ["754_psr", "754_bkg"]
    n_psr, n_bkg = res.events.counts
    assert n_psr > 1000 and n_psr > 20 * n_bkg
    # both regions lie on ACIS-I CCDs with ~19.18 ks of GTI
    assert res.files["exposure"].iloc[0] == pytest.approx(18940.3, rel=1e-3)


def test_whole_real_folder_through_ingest(real_data):
    dirs = [real_data / d for d in ("stingray_testdata", "toa_extractor_testdata", "pint_testdata")]
    res = ingest(dirs, progress=False)
    assert res.n_ok == len(GOOD) - 1  # all but ObsID 754, which lives in another folder
    assert res.n_failed == len(REJECTED)
    assert sorted(res.files["obsreg_id"]) == sorted(
        [
            "10027",
            "10027.2",
            "C07_014T01_9000005314",
            "1013010104",
            "10302001006",
            "T01_052T01_9000000316",
            "2010101830",
            "1034200101",
            "2070030405",
        ]
    )
    reasons = dict(zip(res.failures["file"], res.failures["reason"], strict=True))
    for rel, frag in REJECTED.items():
        assert frag in reasons[str(real_data / rel)]
