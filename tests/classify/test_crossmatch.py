"""Crossmatch correctness and the SIMBAD type mapping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.catalog.crossmatch import crossmatch, label_with_classes
from serendip.catalog.simbad_types import MAPPING_VERSION, map_otypes, unmapped
from serendip.errors import InputError


def test_best_match_within_radius_keeps_all_rows():
    dec0 = 60.0
    cosd = np.cos(np.radians(dec0))
    src = pd.DataFrame(
        {
            "name": ["a", "b", "c", "d"],
            "ra": [10.0, 20.0, 30.0, 359.99995],
            "dec": [dec0, dec0, dec0, 0.0],
        }
    )
    lab = pd.DataFrame(
        {
            # a: two candidates at 0.8" and 0.3" (RA offsets scaled by cos dec) -> the nearer wins
            # b: only one at 1.5" -> no match at 1"; c: none; d: across RA = 0 at 0.36"
            "ra": [
                10.0 + 0.8 / 3600 / cosd,
                10.0 + 0.3 / 3600 / cosd,
                20.0 + 1.5 / 3600 / cosd,
                0.00005,
            ],
            "dec": [dec0, dec0, dec0, 0.0],
            "main_type": ["QSO", "TTau*", "HMXB", "Or*"],
        }
    )
    m = crossmatch(src, lab, 1.0)
    assert len(m) == 4 and m["name"].tolist() == ["a", "b", "c", "d"]
    got = [None if pd.isna(v) else v for v in m["match_main_type"]]
    assert got == ["TTau*", None, None, "Or*"]
    np.testing.assert_allclose(m["match_sep_arcsec"].iloc[[0, 3]], [0.3, 0.36], atol=1e-3)
    assert m["match_index"].tolist() == [1, -1, -1, 3]
    assert np.isnan(m["match_sep_arcsec"].iloc[1])
    wide = crossmatch(src, lab, 2.0)
    assert wide["match_main_type"].tolist()[:2] == ["TTau*", "HMXB"]


def test_crossmatch_bad_input_is_clear():
    src = pd.DataFrame({"ra": [1.0, np.nan], "dec": [0.0, 0.0]})
    lab = pd.DataFrame({"ra": [1.0], "dec": [0.0], "main_type": ["QSO"]})
    with pytest.raises(InputError, match="1 row"):
        crossmatch(src, lab, sources_name="mine.csv")
    with pytest.raises(InputError, match="no column 'dec'"):
        crossmatch(pd.DataFrame({"ra": [1.0]}), lab)


def test_simbad_mapping_old_and_new_names():
    old = ["TTau*", "Orion_V*", "Seyfert_1", "HMXB", "LMXB", "CataclyV*", "Pulsar", "QSO"]
    new = [
        "TTauri*",
        "OrionV*",
        "Seyfert1",
        "HighMassXBin",
        "LowMassXBin",
        "CataclyV*",
        "Pulsar",
        "QSO",
    ]
    short = ["TT*", "Or*", "Sy1", "HXB", "LXB", "CV*", "Psr", "QSO"]
    fine = ["TTau*", "Orion_V*", "Seyfert_1", "HMXB", "LMXB", "CV", "NS", "QSO"]
    for names in (old, new, short):
        assert list(map_otypes(names)) == fine
    assert list(map_otypes(short, "muwclass")) == [
        "YSO",
        "YSO",
        "AGN",
        "HMXB",
        "LMXB",
        "CV",
        "NS",
        "AGN",
    ]
    assert list(map_otypes(short + ["XB*"], "grouped")) == [
        "YSO",
        "YSO",
        "AGN",
        "XRB",
        "XRB",
        "STAR_CV_NS",
        "STAR_CV_NS",
        "AGN",
        "XRB",
    ]
    assert list(map_otypes(["Star", "X", None, "Galaxy"])) == [None, None, None, None]
    assert unmapped(["Star", "X", "Galaxy", "QSO"]) == ["Galaxy"]
    out = label_with_classes(pd.DataFrame({"main_type": ["Y*O", "Star"]}))
    assert (
        out["label"].iloc[0] == "YSO"
        and pd.isna(out["label"].iloc[1])
        and out.attrs["simbad_mapping_version"] == MAPPING_VERSION
    )


def test_simbad_labels_parses_answer_and_reports_failure(monkeypatch):
    """SIMBAD itself is offline here: astroquery's query is replaced by a canned answer / an error."""
    from astropy.table import Table
    from astroquery.simbad import SimbadClass

    from serendip.catalog.crossmatch import simbad_labels

    def answer(self, coords, radius=None, **kw):
        assert abs(radius.to_value("arcsec") - 1.0) < 1e-9 and len(coords) == 2
        return Table(
            {
                "main_id": ["V* X Ori", "QSO B0000"],
                "ra": [83.1, 10.0],
                "dec": [-5.1, 1.0],
                "otype": ["TT*", "QSO"],
            }
        )

    monkeypatch.setattr(SimbadClass, "add_votable_fields", lambda self, *f: None)
    monkeypatch.setattr(SimbadClass, "query_region", answer)
    src = pd.DataFrame({"ra": [83.1, 10.0], "dec": [-5.1, 1.0]})
    lab = simbad_labels(src)
    assert lab["main_type"].tolist() == ["TT*", "QSO"]
    m = label_with_classes(crossmatch(src, lab, columns=["main_type"]), "match_main_type")
    assert m["label"].tolist() == ["TTau*", "QSO"]

    def down(self, *a, **kw):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(SimbadClass, "query_region", down)
    with pytest.raises(InputError, match="SIMBAD: query failed"):
        simbad_labels(src)


def test_probabilistic_crossmatch_estimates_false_matches_from_shifted_positions():
    """Simulated counterparts (60% of sources, 0.5 arcsec errors) among unrelated objects:
    the false-match fraction from shifted positions matches the truth, and true matches get
    higher match probabilities than chance ones."""
    from serendip.catalog.crossmatch import probabilistic_crossmatch

    rng = np.random.default_rng(0)
    n, m, sig = 1500, 30000, 0.5
    ra, dec = rng.uniform(10, 11, n), rng.uniform(-0.5, 0.5, n)
    has = rng.random(n) < 0.6
    off = rng.normal(0, sig / 3600, (n, 2))
    cat = pd.DataFrame(
        {
            "ra": np.r_[ra[has] + off[has, 0], rng.uniform(9.9, 11.1, m)],
            "dec": np.r_[dec[has] + off[has, 1], rng.uniform(-0.6, 0.6, m)],
            "truth": np.r_[np.flatnonzero(has), -np.ones(m, int)],
            "gmag": rng.uniform(10, 20, has.sum() + m),
        }
    )
    src = pd.DataFrame({"ra": ra, "dec": dec, "err": np.full(n, sig / np.sqrt(2))})
    out, info = probabilistic_crossmatch(
        src, cat, 3.0, sigma_sources="err", sigma_catalog=sig / np.sqrt(2)
    )
    hit = out["match_index"].to_numpy() >= 0
    true = (out["match_truth"].to_numpy() == np.arange(n)) & hit
    false_frac = 1 - true[hit].mean()
    assert info["n_matched"] == hit.sum() and len(out) == n  # every source kept
    assert abs(info["false_match_fraction"] - false_frac) < 0.03
    assert info["false_match_fraction_upper"] > info["false_match_fraction"]
    assert abs(info["true_counterpart_fraction"] - 0.6) < 0.05
    p = out["match_p_match"].to_numpy()
    assert p[true].mean() > p[hit & ~true].mean() + 0.3
    assert (p[~hit] == 0).all() and np.isnan(out["match_gmag"].to_numpy()[~hit]).all()
    with pytest.raises(InputError, match="position-error column"):
        probabilistic_crossmatch(src, cat, 3.0, sigma_sources="nope")
