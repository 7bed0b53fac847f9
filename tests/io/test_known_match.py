"""Known transients are matched to ingested sources by OBSID_REGION, name or position; the
unmatched ones are written out and counted. The run configuration's region / sources keys
reach ingest (input stage only)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from serendip.catalog.known import match_known_transients, read_known_list
from serendip.notices import NoticeLog
from serendip.pipeline.config import load_config
from serendip.pipeline.runner import run_pipeline


def _files():
    return pd.DataFrame({
        "obsreg_id": ["23022_122", "754_1", "754_2", "10027"],
        "object": ["", "G320.4-1.2", "G320.4-1.2", "M82"],
        "ra": [np.nan, 228.48134, 228.44547, 148.97],
        "dec": [np.nan, -59.13577, -59.01405, 69.68],
    })


def test_match_by_id_name_and_position(tmp_path):
    known = tmp_path / "k.csv"
    pd.DataFrame({
        "obsreg_id": ["23022_0122", "", "", "999_1"],
        "name": ["XRT 200515", "M 82", "somewhere", ""],
        "ra_deg": [np.nan, np.nan, 228.44547 + 2.0 / 3600 / np.cos(np.deg2rad(59.014)), np.nan],
        "dec_deg": [np.nan, np.nan, -59.01405, np.nan],
        "klass": ["FXT", "ULX", "flare", "dip"],
    }).to_csv(known, index=False)
    kl = read_known_list(known)
    with NoticeLog() as log:
        matched, unmatched = match_known_transients(kl, _files(), radius_arcsec=3.0, source=str(known))
    assert matched.set_index("obsreg_id")["match"].to_dict() == {
        "23022_122": "obsreg_id", "10027": "name", "754_2": "position"}
    assert matched.set_index("obsreg_id").loc["754_2", "sep_arcsec"] == pytest.approx(2.0, abs=0.05)
    assert list(unmatched["obsreg_id"]) == ["999_1"]
    (n,) = [r for r in log.records if r.code == "known_unmatched"]
    assert (n.count, n.total) == (1, 4) and "1 of 4 known transients match no ingested source" in n.message
    # a tighter radius loses the positional match, and says so
    with NoticeLog():
        _, unmatched = match_known_transients(kl, _files(), radius_arcsec=1.0)
    assert len(unmatched) == 2


def test_bonafide_list_against_one_ingested_source(real_data):
    kl = read_known_list(real_data / "known_xray_transients" / "dillmann2025_bonafide_transients.json")
    with NoticeLog() as log:
        matched, unmatched = match_known_transients(kl, _files())
    assert list(matched["obsreg_id"]) == ["23022_122"] and len(unmatched) == len(kl) - 1
    (n,) = [r for r in log.records if r.code == "known_unmatched"]
    assert f"{len(kl) - 1} of {len(kl)} known transients match no ingested source" in n.message


def test_run_config_sources_and_known_list(tmp_path, fitsmaker):
    rng = np.random.default_rng(2)
    hd = fitsmaker.event_hdul(n=4000, seed=2)
    hd[1].data["x"] = rng.uniform(4000, 4200, 4000)
    hd[1].data["y"] = rng.uniform(4000, 4200, 4000)
    ev = tmp_path / "obs.fits"
    hd.writeto(ev)
    t = fits.BinTableHDU.from_columns([
        fits.Column("X", "D", array=[4050.0, 4150.0]), fits.Column("Y", "D", array=[4050.0, 4150.0]),
        fits.Column("R", "2D", array=np.full((2, 2), 12.0)), fits.Column("ROTANG", "D", array=[0.0, 0.0]),
        fits.Column("COMPONENT", "J", array=[3, 8])], name="SRCLIST")
    fits.HDUList([fits.PrimaryHDU(), t]).writeto(tmp_path / "srclist.fits")
    (tmp_path / "known.json").write_text(json.dumps({"Known Flares": ["9999_8", "1_1"]}))
    cfg = load_config(overrides={"input": {
        "simulate": False, "paths": [str(ev)], "sources": str(tmp_path / "srclist.fits"),
        "known_transients": str(tmp_path / "known.json")}})
    assert cfg["input"]["band_ev"] == []  # each mission's band
    run_pipeline(cfg, tmp_path / "run", progress=False, stop_after="input")
    files = pd.read_parquet(tmp_path / "run" / "files.parquet")
    assert list(files["obsreg_id"]) == ["9999_3", "9999_8"]
    assert len(pd.read_parquet(tmp_path / "run" / "regions.parquet")) == 2
    assert list(pd.read_csv(tmp_path / "run" / "known_transients.csv")["obsreg_id"]) == ["9999_8"]
    assert list(pd.read_csv(tmp_path / "run" / "known_unmatched.csv")["obsreg_id"]) == ["1_1"]
    w = pd.read_csv(tmp_path / "run" / "warnings.csv")
    assert "known_unmatched" in set(w["code"]) and "region_cut" in set(w["code"])
    with pytest.raises(Exception, match="region or input.sources, not both"):
        load_config(overrides={"input": {"simulate": False, "paths": [str(ev)], "region": "x",
                                         "sources": str(tmp_path / "srclist.fits")}})
