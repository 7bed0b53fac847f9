"""Regression tests for reader bugs found while building the corpus and fuzzing (< 2 s)."""

from __future__ import annotations

import importlib.util
import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from serendip.classify.inputs import read_catalog
from serendip.errors import ConfigError, InputError, ModelFileError
from serendip.io.eventfile import read_event_file
from serendip.io.lightcurves import standardize_lightcurves
from serendip.io.modelfile import load_model, save_model
from serendip.pipeline import load_config


def _maker():
    path = Path(__file__).resolve().parents[1] / "data" / "broken_events" / "make_broken.py"
    spec = importlib.util.spec_from_file_location("serendip_fix_make_broken", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


MAKER = _maker()  # tests/data/broken_events/make_broken.py, executed once


def _set_card(data: bytes, key: str, text: str) -> bytes:
    k = key.ljust(8).encode()
    for pos in range(0, len(data), 80):
        if data[pos : pos + 8] == k:
            card = (key.ljust(8) + "= " + text.rjust(20)).ljust(80).encode()
            return data[:pos] + card + data[pos + 80 :]
    raise KeyError(key)


@pytest.mark.parametrize("value", ["1E400", "NAN", "-1E400"])
@pytest.mark.parametrize("gti", [True, None])
def test_non_finite_timezero_is_an_input_error(tmp_path, value, gti):
    """Was: accepted with inf/NaN event times (no GTIs) or 'all events outside GTIs'."""
    buf = io.BytesIO()
    MAKER.event_hdul(n=30, gti=gti, header={"EXPOSURE": 900.0}).writeto(buf)
    p = tmp_path / "tz.fits"
    p.write_bytes(_set_card(buf.getvalue(), "TIMEZERO", value))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InputError, match="TIMEZERO keyword is not a finite number") as info:
            read_event_file(p)
    assert info.value.path == str(p)


def test_catalog_name_nan_is_not_the_string_nan(tmp_path):
    """Was: an empty name cell became the source name 'nan'."""
    p = tmp_path / "c.csv"
    pd.DataFrame({"name": ["a", None], "flux_aper_s": [1.0, 2.0]}).to_csv(p, index=False)
    with pytest.raises(InputError, match="no source name"):
        read_catalog(p)


def test_catalog_text_and_inf_in_flux_columns(tmp_path):
    """Was: 'bright' silently became NaN, inf fluxes silently became NaN features."""
    base = {"name": ["a", "b"], "flux_aper_s": [1e-14, 2e-14], "flux_aper_m": [1e-14, 1e-14]}
    p = tmp_path / "t.csv"
    pd.DataFrame({**base, "flux_aper_h": ["bright", "1e-14"]}).to_csv(p, index=False)
    with pytest.raises(InputError, match="'flux_aper_h' has 1 non-numeric"):
        read_catalog(p, feature_set="xray")
    pd.DataFrame({**base, "flux_aper_h": [np.inf, 1e-14]}).to_parquet(p.with_suffix(".parquet"))
    with pytest.raises(InputError, match="infinite"):
        read_catalog(p.with_suffix(".parquet"), feature_set="xray")
    # empty cells and NaN stay allowed (missing measurements)
    pd.DataFrame({**base, "flux_aper_h": [None, 1e-14]}).to_csv(p, index=False)
    assert len(read_catalog(p, feature_set="xray")) == 2


def test_light_curve_duplicates_and_missing_ids():
    lc = pd.DataFrame(
        {"object_id": ["a", "a"], "time": [1.0, 1.0], "band": ["g", "g"]}
        | {"mag": [18.0, 18.1], "mag_err": [0.1, 0.1]}
    )
    assert len(standardize_lightcurves(lc, "lc.csv")) == 1  # the repeat is dropped, counted
    with pytest.raises(InputError, match="repeated"):
        standardize_lightcurves(lc, "lc.csv", strict=True)
    # the same time in two bands is fine
    ok = standardize_lightcurves(lc.assign(band=["g", "r"]), "lc.csv")
    assert len(ok) == 2
    with pytest.raises(InputError, match="no object id"):
        standardize_lightcurves(
            lc.assign(object_id=["a", None], time=[1.0, 2.0]), "lc.csv", strict=True
        )


def test_run_config_types_checked_before_use(tmp_path):
    """Was: n_sources = "many" gave a bare ValueError from int(); band_ev = [500] an unpacking error."""
    for text, msg in (
        ('[input]\nn_sources = "many"\n', "wrong type for input.n_sources"),
        ("[input]\nband_ev = [500.0]\n", r"input.band_ev: must be \[low, high\]"),
        ('[input]\nband_ev = ["a", "b"]\n', "wrong type for input.band_ev"),
        ("[embed]\nlearning_rate = 200.0\n", None),  # a number is fine for this one
        ('[embed]\nlearning_rate = "fast"\n', "embed.learning_rate.* must be a number or 'auto'"),
        ("[cluster]\nmin_samples = 2.5\n", "wrong type for cluster.min_samples"),
    ):
        p = tmp_path / "c.toml"
        p.write_text(text)
        if msg is None:
            assert load_config(p)["embed"]["learning_rate"] == 200.0
        else:
            with pytest.raises(ConfigError, match=msg):
                load_config(p)


def test_safetensors_header_length_starting_like_a_pickle(tmp_path):
    """A header of 0x380 bytes starts with b'\\x80\\x03' like a pickle: still a model."""
    for pad in range(400, 560):
        p = save_model(tmp_path / "m.safetensors", "t.K", {"w": np.ones(3)}, {"x": "y" * pad})
        data = p.read_bytes()
        if data[:2] == b"\x80\x03":
            break
    assert data[:2] == b"\x80\x03"  # header of 896 bytes (0x380)
    assert load_model(p)[2] == "t.K"
    p.write_bytes(data[:100])  # the same file truncated: truncated, not "a pickle"
    with pytest.raises(ModelFileError, match="runs past the end"):
        load_model(p)


def test_catalog_units_are_checked_and_converted(tmp_path):
    """Was: TUNITn ignored, so fluxes in W m^-2 or Jy were used as erg cm^-2 s^-1."""
    from astropy.table import Table

    t = Table(
        {
            "NAME": ["a", "b"],
            "RA": [1.0, 2.0],
            "DEC": [0.5, -0.25],
            "flux_aper_s": [1e-17, 2e-17],
            "flux_aper_m": [1e-14, 2e-14],
            "flux_aper_h": [1e-14, 2e-14],
        }
    )
    t["RA"].unit, t["DEC"].unit, t["flux_aper_s"].unit = "deg", "rad", "W m-2"
    p = tmp_path / "c.fits"
    t.write(p)
    cat = read_catalog(p, feature_set="xray")
    assert cat["flux_aper_s"].tolist() == pytest.approx([1e-14, 2e-14])  # 1 W m^-2 = 1e3 cgs
    assert cat["dec"].tolist() == pytest.approx(np.degrees([0.5, -0.25]).tolist())
    assert cat["flux_aper_m"].tolist() == [1e-14, 2e-14]


@pytest.mark.parametrize(
    ("tap", "message"),
    [
        ({"timeout_s": "soon"}, "timeout_s must be a positive number"),
        ({"timeout_s": 0}, "timeout_s must be a positive number"),
        ({"offline": "false"}, "offline must be true or false"),
        ({"url": 5}, "url and cache_dir must be strings"),
    ],
)
def test_tap_options_are_checked_before_the_query(tmp_path, tap, message):
    """Was: timeout_s = "soon" a bare ValueError; offline = "false" silently meant True."""
    from serendip.classify.inputs import load_catalog

    with pytest.raises(ConfigError, match=message) as info:
        load_catalog({"tap": {**tap, "cache_dir": str(tmp_path)}}, base=tmp_path)
    assert info.value.path == "input.tap"
