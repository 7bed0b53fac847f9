"""The light-curve Python API on rows in any order and on NaN (issue 15, item 12)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.errors import InputError
from serendip.represent.lc_features import lightcurve_features
from serendip.represent.lc_sequences import lightcurve_sequences
from serendip.simulate.optical import simulate_lightcurves


@pytest.fixture(scope="module")
def lc() -> pd.DataFrame:
    table, _ = simulate_lightcurves({"SNIa": 3, "RRL": 3}, seed=5, n_days=60)
    return table


def _shuffled(table: pd.DataFrame) -> pd.DataFrame:
    return table.sample(frac=1.0, random_state=1).reset_index(drop=True)


def test_sequences_of_shuffled_rows_group_by_object(lc):
    """It returned 603 objects instead of 6."""
    ref = lightcurve_sequences(lc)
    got = lightcurve_sequences(_shuffled(lc))
    assert len(got.object_ids) == lc["object_id"].nunique() == 6
    np.testing.assert_array_equal(got.object_ids, ref.object_ids)
    np.testing.assert_array_equal(got.X, ref.X)


def test_features_of_shuffled_rows_equal_the_sorted_ones(lc):
    """It raised a Rust PanicException (not an Exception) on unsorted times."""
    ref = lightcurve_features(lc, n_jobs=1)
    got = lightcurve_features(_shuffled(lc), n_jobs=1)
    pd.testing.assert_frame_equal(got, ref)


@pytest.mark.parametrize("func", [lightcurve_features, lightcurve_sequences])
@pytest.mark.parametrize("col", ["time", "flux", "flux_err"])
def test_nan_values_are_an_input_error(lc, func, col):
    bad = lc.copy()
    bad.loc[bad.index[7], col] = np.nan
    with pytest.raises(InputError, match=f"column '{col}'"):
        func(bad)


def test_a_panic_of_the_feature_code_is_an_input_error(lc, monkeypatch):
    class PanicException(BaseException):
        pass

    class Exploding:
        names = ["mean"]

        def many(self, *a, **k):
            raise PanicException("index out of bounds")

    with pytest.raises(InputError, match="index out of bounds"):
        lightcurve_features(lc, extractor=Exploding())


@pytest.mark.parametrize("func", [lightcurve_features, lightcurve_sequences])
def test_nan_band_is_an_input_error_not_an_attribute_error(lc, func):
    """score_lightcurves raised a bare AttributeError on a NaN band (issue 17)."""
    bad = lc.astype({"band": object})
    bad.loc[bad.index[3], "band"] = np.nan
    with pytest.raises(InputError, match="no band"):
        func(bad)
