"""Feature cases by name: shapes, arrays vs events, saved models by path, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.errors import InputError
from serendip.features import (
    CASES,
    ConvAutoencoder,
    DeepSetsEncoder,
    DenseAutoencoder,
    PCAFeatures,
    event_block,
    extract_features,
)


def test_reference_cases_are_registered():
    assert {"2D-PCA", "3D-PCA", "2D-AE", "3D-AE", "deepsets", "serendip"} <= set(CASES)
    assert CASES["2D-PCA"].n_components == 15 and not CASES["2D-PCA"].normalize
    assert CASES["3D-PCA"].n_components == 22 and CASES["3D-PCA"].representation == "etdt"
    assert CASES["2D-AE"].normalize and CASES["3D-AE"].normalize


def test_pca_cases_from_events_and_arrays(small_events, raw_maps, tmp_path):
    ev, _ = small_events
    # raw_maps are the reference's input: compare with maps="reference"
    r2 = extract_features("2D-PCA", events=ev, chunk_files=70, maps="reference")  # chunked
    assert r2.features.shape == (ev.n_files, 15) and r2.columns[0] == "pca_00"
    r2a = extract_features("2D-PCA", arrays=raw_maps)
    np.testing.assert_allclose(r2a.features, r2.features, rtol=1e-5, atol=1e-4)
    # the default count-aware input: the same as deviance maps given as arrays
    from serendip.represent.deviance import deviance_maps

    rd = extract_features("2D-PCA", events=ev, chunk_files=70)
    assert rd.settings["maps"] == "deviance" and rd.scores["map_deviance"].shape == (ev.n_files,)
    rda = extract_features("2D-PCA", arrays=deviance_maps(raw_maps))
    np.testing.assert_allclose(np.abs(rda.features), np.abs(rd.features), rtol=1e-4, atol=1e-3)
    assert not rda.scores  # arrays carry no map score
    assert r2a.obsreg_id is None
    df = r2.to_frame()
    assert (
        list(df.columns[:2]) == ["obsreg_id", "pca_00"]
        and df["obsreg_id"].iloc[3] == ev.obsreg_id[3]
    )
    # a saved PCA given by path reproduces the features without refitting
    path = r2.model.save(tmp_path / "pca.safetensors")
    again = extract_features(
        "2D-PCA", events=ev.select(np.arange(10)), model=path, maps="reference"
    )
    np.testing.assert_allclose(again.features, r2.features[:10], rtol=1e-6, atol=1e-5)
    r3 = extract_features("3D-PCA", events=ev, chunk_files=100, n_components=5)
    assert r3.features.shape == (ev.n_files, 5)
    assert isinstance(r3.model, PCAFeatures) and r3.model.input_shape_ == (24, 16, 16)


def test_encoder_cases_with_given_models(small_events, norm_maps):
    ev, _ = small_events
    conv = ConvAutoencoder(epochs=1, batch_size=128).fit(norm_maps)  # reference (min-max) maps
    r = extract_features("2D-AE", events=ev, model=conv, maps="reference")
    np.testing.assert_allclose(r.features, conv.transform(norm_maps), rtol=1e-5, atol=1e-5)
    from serendip.represent import etdt_cubes

    cubes = etdt_cubes(ev, normalize=True)
    dense = DenseAutoencoder(epochs=1, batch_size=128).fit(cubes)
    r3 = extract_features("3D-AE", arrays=cubes, model=dense)
    assert r3.features.shape == (ev.n_files, 24) and r3.columns[-1] == "ae_23"
    ds = DeepSetsEncoder(epochs=1, width=16, latent_dim=6).fit(ev)
    rd = extract_features("deepsets", events=ev, model=ds)
    assert rd.features.shape == (ev.n_files, 6)
    rs = extract_features("serendip", events=ev, model=ds)
    assert rs.features.shape == (ev.n_files, 6 + 16)
    np.testing.assert_array_equal(rs.features[:, :6], rd.features)
    assert rs.columns[6] == "ev_log_counts"


def test_event_block_is_fixed_and_finite(small_events):
    from serendip.represent import event_features

    ev, labels = small_events
    table = event_features(ev)
    block, names = event_block(table)
    assert block.shape == (ev.n_files, 16) and len(names) == 16
    assert np.isfinite(block).all() and np.abs(block).max() <= 5
    # the same file gives the same row whatever else is in the table (no fitting)
    sub, _ = event_block(table.iloc[[5, 9]].reset_index(drop=True))
    np.testing.assert_array_equal(sub, block[[5, 9]])
    # flares are more variable than steady files on the KS column
    ks = block[:, names.index("ev_ks_logp")]
    assert np.median(ks[labels == 1]) > np.median(ks[labels == 0]) + 0.5
    with pytest.raises(InputError, match="missing column"):
        event_block(pd.DataFrame({"n_events": [3]}))


def test_errors(small_events, raw_maps):
    ev, _ = small_events
    with pytest.raises(InputError, match="unknown feature case"):
        extract_features("4D-XYZ", events=ev)
    with pytest.raises(InputError, match="raw events"):
        extract_features("deepsets", arrays=raw_maps)
    with pytest.raises(InputError, match="needs events or precomputed arrays"):
        extract_features("2D-PCA")
    with pytest.raises(InputError, match="normalised"):
        extract_features(
            "2D-AE",
            arrays=raw_maps * 3 + 1,
            model=ConvAutoencoder(epochs=1).fit(raw_maps / raw_maps.max()),
        )
    with pytest.raises(InputError, match="model must be"):
        extract_features("2D-AE", arrays=raw_maps / raw_maps.max(), model=12)
