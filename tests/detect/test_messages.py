"""Messages that say what is really wrong (issue 15, item 11)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.detect.scoring import feature_matrix
from serendip.errors import InputError


def _table(n=50):
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])


def test_an_empty_table_is_called_empty_not_non_numeric():
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in "abc"})  # as a header-only CSV reads
    with pytest.raises(InputError, match="no rows") as err:
        feature_matrix(empty, ["a", "b", "c"], "empty.csv")
    assert "not numeric" not in str(err.value) and "empty.csv" in str(err.value)


def test_a_huge_finite_value_is_not_called_non_finite():
    df = _table()
    df.loc[7, "b"] = 1e300
    with pytest.raises(InputError) as err:
        feature_matrix(df, ["a", "b", "c"], "big.csv")
    msg = str(err.value)
    assert "non-finite" not in msg and "'b'" in msg and "1e+300" in msg and "row 7" in msg


def test_detectors_refuse_out_of_range_values_by_name():
    from serendip.detect import IForest

    X = _table().to_numpy().copy()
    X[3, 1] = -1e300
    with pytest.raises(InputError, match="finite but out of range"):
        IForest(n_estimators=10).fit(X)


def test_private_classes_are_not_offered_as_detectors():
    from serendip.evaluate.detectors import available_serendip_detectors, make_detector

    names = available_serendip_detectors()
    assert names and not [n for n in names if n.startswith("_") or "._" in n], names
    for private in ("_Deep", "_Scaled", "detect._Deep", "detect._Scaled"):
        with pytest.raises(Exception) as err:
            make_detector(private)
        assert "_Deep" not in str(err.value).split("unknown detector")[-1].split(";", 1)[-1]
