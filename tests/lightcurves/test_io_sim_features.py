"""Light-curve tables, the simulator, per-band features and the padded sequence form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.errors import InputError
from serendip.io.lightcurves import (
    band_wavelength_nm,
    mag_to_flux,
    read_lightcurves,
    standardize_lightcurves,
)
from serendip.represent.lc_features import lightcurve_features
from serendip.represent.lc_sequences import lightcurve_sequences, pad_sequences
from serendip.simulate.optical import (
    ANOMALY_CLASSES,
    CLASSES,
    COMMON_CLASSES,
    simulate_anomaly_setting,
    simulate_lightcurves,
)


def _raw():
    return pd.DataFrame(
        {
            "oid": ["b", "a", "a", "a", "b"],
            "mjd": [5.0, 3.0, 1.0, 2.0, 4.0],
            "filter": ["g", "r", "g", "r", "r"],
            "magpsf": [18.0, 18.5, 19.0, 18.7, 17.9],
            "sigmapsf": [0.1, 0.1, 0.2, 0.1, 0.05],
        }
    )


def test_read_csv_with_aliases_sorts_and_converts(tmp_path):
    p = tmp_path / "lc.csv"
    _raw().to_csv(p, index=False)
    t = read_lightcurves(p)
    assert list(t.columns)[:5] == ["object_id", "time", "band", "mag", "mag_err"]
    assert list(t.columns)[5:] == ["flux_type", "is_upper_limit", "limit_flux", "calib_group",
                                   "zeropoint", "mag_system"]
    assert (t["flux_type"] == "total").all() and not t["is_upper_limit"].any()
    assert t["object_id"].tolist() == ["a", "a", "a", "b", "b"]
    assert t["time"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    f = read_lightcurves(p, to_flux=True)
    assert f.attrs["kind"] == "flux"
    flux, err = mag_to_flux(19.0, 0.2)
    assert f["flux"].iloc[0] == pytest.approx(flux) and f["flux_err"].iloc[0] == pytest.approx(err)
    assert flux == pytest.approx(10 ** (-0.4 * (19.0 - 23.9)))
    # parquet round trip gives the same table
    q = tmp_path / "lc.parquet"
    _raw().to_parquet(q)
    pd.testing.assert_frame_equal(read_lightcurves(q), t)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.drop(columns=["sigmapsf"]), "missing light-curve column"),
        (lambda d: d.drop(columns=["magpsf"]), "no flux or mag"),
        (lambda d: d.assign(magpsf=np.nan), "no usable light-curve rows"),
    ],
)
def test_bad_tables_raise_input_error_naming_the_file(tmp_path, mutate, message):
    p = tmp_path / "bad.csv"
    mutate(_raw()).to_csv(p, index=False)
    with pytest.raises(InputError, match=message) as info:
        read_lightcurves(p)
    assert info.value.path == str(p)


def test_missing_column_error_lists_the_users_columns():
    df = pd.DataFrame({"ID": ["a"], "MJD": [1.0], "Mag": [18.0]})
    with pytest.raises(InputError) as info:
        standardize_lightcurves(df, "crts.csv")
    msg = str(info.value)
    assert "['ID', 'MJD', 'Mag']" in msg and "mag_err" in msg and "magerr" in msg
    assert "object_id" not in msg.split("the table has")[1]


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: d.assign(magpsf=[18.0, np.nan, 1, 2, 3]), "drop_nan"),
        (lambda d: d.assign(mjd=["x", 3.0, 1.0, 2.0, 4.0]), "drop_nan"),
        (lambda d: d.assign(filter=["g", "r", "q", "r", "r"]), "drop_unknown_band"),
        (lambda d: d.assign(sigmapsf=[0.1, 0.0, 0.1, 0.1, 0.1]), "drop_nonpositive_err"),
        (lambda d: d.assign(sigmapsf=[0.1, -1.0, 0.1, 0.1, 0.1]), "drop_nonpositive_err"),
        (lambda d: d.assign(oid=["b", None, "a", "a", "b"]), "drop_no_id"),
        (lambda d: d.assign(mjd=[5.0, 3.0, 3.0, 3.0, 4.0]), "drop_duplicate"),
    ],
)
def test_bad_rows_are_dropped_and_counted_per_reason(mutate, code):
    from serendip.notices import NoticeLog

    with NoticeLog() as log:
        t = standardize_lightcurves(mutate(_raw()), "bad.csv")
    recs = [r for r in log.records if r.code.startswith("drop_")]
    assert [r.code for r in recs] == [code]
    assert recs[0].count == 5 - len(t) and recs[0].total == 5 and recs[0].source == "bad.csv"
    with pytest.raises(InputError, match="bad"):
        standardize_lightcurves(mutate(_raw()), "bad.csv", strict=True)


def test_crts_columns_one_default_band_stated(tmp_path):
    from serendip.notices import NoticeLog

    p = tmp_path / "crts.csv"
    pd.DataFrame(
        {"ID": [7, 7, 8], "MJD": [3.0, 1.0, 2.0], "Mag": [17.0, 17.1, 18.0],
         "Magerr": [0.05, 0.05, 0.1]}
    ).to_csv(p, index=False)  # fmt: skip
    with NoticeLog() as log:
        t = read_lightcurves(p)
    assert t["object_id"].tolist() == ["7", "7", "8"] and t["time"].tolist() == [1.0, 3.0, 2.0]
    assert set(t["band"]) == {"V"} and t.attrs["kind"] == "mag"
    assert [r.code for r in log.records] == ["default_band"]
    assert set(read_lightcurves(p, default_band="r")["band"]) == {"r"}


def test_plain_flux_table_and_ztf_band_spellings():
    df = pd.DataFrame(
        {"Id": ["a"] * 4, "Time": [1.0, 2.0, 3.0, 4.0], "FLUX": [1.0, -2.0, 3.0, 4.0],
         "Err": [0.1] * 4, "Band": ["ZTF g", "ZTF_r", "zi", "g"]}
    )  # fmt: skip
    t = standardize_lightcurves(df)
    assert t["band"].tolist() == ["g", "r", "i", "g"] and t.attrs["kind"] == "flux"
    assert t["flux"].tolist() == [1.0, -2.0, 3.0, 4.0]


def test_ztf_forced_photometry_header_and_zeropoint(tmp_path):
    p = tmp_path / "ZTF99x_bl.csv"
    p.write_text(
        "#name=ZTF99abc\n#ra=1.0\n,ampl_corr,ampl_err_corr,filter,obsmjd,magzp\n"
        "0,100.0,10.0,ZTF g,58000.5,23.9\n1,100.0,10.0,ZTF r,58001.5,26.4\n"
    )
    t = read_lightcurves(p)
    assert t["object_id"].tolist() == ["ZTF99abc"] * 2 and t["band"].tolist() == ["g", "r"]
    assert t["flux"].to_numpy() == pytest.approx([100.0, 10.0])
    assert t["flux_err"].to_numpy() == pytest.approx([10.0, 1.0])


REAL_LC = {
    "ztf_forcedphot_bts_tde_ztfparsnip/ZTF19aapreis_bl.csv.gz": ("flux", 1, {"g", "r"}),
    "alerce_lc_classifier_examples/30_sne_detections_corr.csv.gz": ("flux", 30, {"g", "r"}),
    "lightcurve_testdata_ztf_snia_sdss_rrlyr/sdss_s82_rrlyrae_lightcurves.csv.gz":
        ("mag", 483, {"u", "g", "r", "i", "z"}),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(REAL_LC))
def test_real_survey_tables_read_without_renaming(real_data, name):
    from serendip.notices import NoticeLog

    path = real_data / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    kind, n_obj, bands = REAL_LC[name]
    with NoticeLog() as log:
        t = read_lightcurves(path)
    assert t.attrs["kind"] == kind and t["object_id"].nunique() == n_obj
    assert bands <= set(t["band"])
    raw = pd.read_csv(path, comment="#") if "forcedphot" not in name else None
    dropped = sum(r.count for r in log.records if r.code.startswith("drop_"))
    if raw is not None:
        assert len(t) + dropped == len(raw)
    assert not t.duplicated(["object_id", "band", "time"]).any()


def test_band_wavelengths_and_ztf_fid():
    assert np.allclose(band_wavelength_nm(["g", "r", "R"]), [475.0, 630.0, 658.0])
    t = standardize_lightcurves(
        pd.DataFrame(
            {
                "object_id": [1, 1],
                "time": [0, 1],
                "fid": [1, 2],
                "flux": [1.0, 2.0],
                "flux_err": [0.1, 0.1],
            }
        )
    )
    assert t["band"].tolist() == ["g", "r"]
    with pytest.raises(InputError):
        band_wavelength_nm(["nope"])


def test_simulator_deterministic_labelled_and_all_classes():
    a, ma = simulate_lightcurves(6, seed=3, n_days=80)
    b, mb = simulate_lightcurves(6, seed=3, n_days=80)
    c, _ = simulate_lightcurves(6, seed=4, n_days=80)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(ma, mb)
    assert not np.allclose(a["flux"].to_numpy()[:100], c["flux"].to_numpy()[:100])
    assert set(ma["label"]) == set(CLASSES) and (ma["label"].value_counts() == 6).all()
    assert set(a["object_id"]) == set(ma["object_id"])
    assert set(a["band"]) == {"g", "r"}
    assert (a["flux_err"] > 0).all() and a["time"].between(0, 80).all()
    assert (a.groupby("object_id").size() >= 10).all()
    # transients are at z > 0, Galactic variables at z = 0
    z = ma.set_index("label")["redshift"]
    assert (z.loc[["SNIa", "SLSN"]] > 0).all() and (z.loc[["RRL", "EB"]] == 0).all()
    with pytest.raises(ValueError):
        simulate_lightcurves({"Unicorn": 3})


def test_simulated_classes_differ_physically():
    lc, meta = simulate_lightcurves(
        {"RRL": 30, "CEP": 30, "LPV": 30, "SNIa": 30}, seed=1, n_days=150
    )
    feats = lightcurve_features(lc).join(meta.set_index("object_id")["label"])
    per = feats.groupby("label")["r_periodogram_period_0"].median()
    # periods: RR Lyrae < 1 d (aliased by the nightly cadence), Cepheids 3-40 d, Miras 150-450 d
    assert per["RRL"] < per["CEP"] < 60 < per["LPV"]
    # a supernova rises from nothing: its weighted-mean flux is far below its amplitude
    ratio = (feats["r_amplitude"] / feats["r_weighted_mean"].abs()).groupby(feats["label"]).median()
    assert ratio["SNIa"] > ratio["RRL"]


def test_anomaly_setting_prevalence():
    _, meta = simulate_anomaly_setting(50, 0.005, seed=0, n_days=40)
    counts = meta["label"].value_counts()
    assert all(counts[c] == 50 for c in COMMON_CLASSES)
    n_anom = sum(counts.get(c, 0) for c in ANOMALY_CLASSES)
    assert n_anom >= len(ANOMALY_CLASSES) and n_anom / len(meta) < 0.02


def test_features_one_row_per_object_nan_when_too_few_points():
    lc, meta = simulate_lightcurves(5, ["SNIa", "RRL"], seed=2, n_days=60)
    # object with only 2 g points
    extra = pd.DataFrame(
        {
            "object_id": "tiny",
            "time": [1.0, 2.0, 3.0],
            "band": ["g", "g", "r"],
            "flux": [1.0, 2.0, 3.0],
            "flux_err": [0.1, 0.1, 0.1],
        }
    )
    lc = standardize_lightcurves(pd.concat([lc, extra]))
    f = lightcurve_features(lc)
    assert f.shape[0] == 11 and set(f.index) == set(meta["object_id"]) | {"tiny"}
    assert f.columns[0].startswith("g_") and "g_r_mean_mag_diff" in f.columns
    assert f.loc["tiny"].filter(like="g_amplitude").isna().all()
    assert f.drop(index="tiny").notna().all().all()
    # the amplitude matches a direct computation (half the range, per light-curve's definition)
    one = lc[(lc.object_id == meta.object_id[0]) & (lc.band == "r")]["flux"]
    assert f.loc[meta.object_id[0], "r_amplitude"] == pytest.approx(0.5 * (one.max() - one.min()))


def test_sequences_shape_mask_scaling_and_causality():
    lc, meta = simulate_lightcurves(3, ["SNIa", "CEP"], seed=0, n_days=60)
    s = lightcurve_sequences(lc, max_len=64, context=meta)
    n_obs = lc.groupby("object_id").size().reindex(s.object_ids).to_numpy()
    assert s.X.shape == (6, 64, 4) and s.X.dtype == np.float32 and s.context.shape == (6, 2)
    assert np.array_equal(s.lengths, np.minimum(n_obs, 64))
    assert np.all(s.X[:, 0, 1] == 0)  # time since the first observation
    assert np.all(np.isin(s.X[s.mask][:, 0], np.float32([0.475, 0.63])))
    assert np.all(s.X[~s.mask] == 0)
    assert np.all(np.diff(np.where(s.mask, 1, 0), axis=1) <= 0)  # mask is a prefix
    # a prefix of the table is a prefix of the sequence (nothing depends on later points)
    first = lc[lc.object_id == s.object_ids[0]]
    sp = lightcurve_sequences(first.iloc[:10], max_len=64)
    assert np.allclose(sp.X[0, :10], s.X[0, :10])
    assert pad_sequences(s.X[:, :10], 20).shape == (6, 20, 4)
    with pytest.raises(InputError, match="host context"):
        lightcurve_sequences(lc, context=meta.iloc[:2])
