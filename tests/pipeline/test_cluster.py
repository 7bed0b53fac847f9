"""Clustering: DBSCAN/HDBSCAN label convention (0 = noise) and per-cluster summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.cluster import (
    cluster_embedding,
    cluster_summary,
    dbscan_labels,
    hdbscan_labels,
    known_types_for,
    relabel_by_size,
)
from serendip.errors import InputError


def _embedding(seed: int = 0):
    rng = np.random.default_rng(seed)
    big = rng.normal([0, 0], 1.0, size=(300, 2))
    small = rng.normal([30, 30], 1.0, size=(100, 2))
    far = np.array([[100.0, -100.0], [-100.0, 100.0], [100.0, 100.0]])  # isolated points
    return np.vstack([small, big, far]), np.r_[np.full(100, 2), np.full(300, 1), np.zeros(3, int)]


def test_dbscan_reference_defaults_noise_is_zero_and_sizes_ordered():
    Y, truth = _embedding()
    lab = dbscan_labels(Y)  # eps 2.5, min_samples 25
    assert lab.dtype == np.int64 and lab.shape == (403,)
    assert np.all(lab[-3:] == 0)  # isolated points are noise
    assert set(np.unique(lab)) == {0, 1, 2}
    # 1 = the largest cluster even though the small blob comes first in the input
    assert np.mean(lab[100:400] == 1) > 0.95 and np.mean(lab[:100] == 2) > 0.95
    # a min_samples larger than any cluster leaves only noise
    assert np.all(dbscan_labels(Y, eps=0.01, min_samples=5) == 0)


def test_hdbscan_and_dispatch():
    Y, truth = _embedding(1)
    lab = hdbscan_labels(Y, min_cluster_size=25)
    assert np.all(lab[-3:] == 0)
    assert np.mean(lab[100:400] == 1) > 0.9 and np.mean(lab[:100] == 2) > 0.9
    np.testing.assert_array_equal(
        cluster_embedding(Y, "dbscan", eps=2.5, min_samples=25), dbscan_labels(Y)
    )
    with pytest.raises(InputError, match="unknown clustering method"):
        cluster_embedding(Y, "kmeans")
    with pytest.raises(InputError, match="NaN"):
        dbscan_labels(np.array([[0.0, np.nan]]))


def test_relabel_by_size():
    raw = np.array([-1, 0, 1, 1, 1, 2, 2, -1])
    np.testing.assert_array_equal(relabel_by_size(raw), [0, 3, 1, 1, 1, 2, 2, 0])
    np.testing.assert_array_equal(relabel_by_size(np.array([-1, -1])), [0, 0])


def test_summary_counts_known_types_and_medians():
    labels = np.array([0, 0, 1, 1, 1, 1, 2, 2, 2])
    ids = np.array([f"f{i}" for i in range(9)])
    known = pd.DataFrame(
        {
            "obsreg_id": ["f2", "f3", "f4", "f6", "f0", "zz"],
            "type": ["flare", "flare", "dip", "dip", "flare", "dip"],
        }
    )
    kt = known_types_for(ids, known)
    assert list(kt) == ["flare", "", "flare", "flare", "dip", "", "dip", "", ""]
    feats = pd.DataFrame({"counts": [1, 3, 10, 20, 30, 40, 5, 6, 7], "name": list("abcdefghi")})
    s = cluster_summary(labels, kt, feats)
    assert list(s["cluster"]) == [0, 1, 2]
    assert list(s["size"]) == [2, 4, 3]
    assert list(s["known_flare"]) == [1, 2, 0]
    assert list(s["known_dip"]) == [0, 1, 1]
    assert list(s["n_known"]) == [1, 3, 1]
    assert list(s["dominant_known_type"]) == ["flare", "flare", "dip"]
    assert list(s["median_counts"]) == [2.0, 25.0, 6.0]
    assert "median_name" not in s.columns
    np.testing.assert_allclose(s["known_fraction"], [0.5, 0.75, 1 / 3])


def test_summary_without_known_and_length_checks():
    s = cluster_summary(np.array([1, 1, 0]))
    assert list(s["n_known"]) == [0, 0] and list(s["dominant_known_type"]) == ["", ""]
    with pytest.raises(InputError, match="known_types has 2 entries"):
        cluster_summary(np.array([1, 1, 0]), ["flare", ""])
    with pytest.raises(InputError, match="features has 1 rows"):
        cluster_summary(np.array([1, 1, 0]), None, pd.DataFrame({"a": [1]}))
