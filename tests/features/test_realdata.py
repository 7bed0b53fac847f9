"""Shipped encoders on real photons: Chandra ACIS ObsID 754 cut into source-sized regions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.features import extract_features, load_default_encoder
from serendip.io.eventset import EventSet

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def regions(real_data):
    from astropy.io import fits

    path = real_data / "chandra_acis_obsid754_msh1552" / "msh1552_acis_evt2_filtered.fits.gz"
    with fits.open(path) as hdul:
        d = hdul["EVENTS"].data
        t, e, x, y = (np.asarray(d[c], dtype=np.float64) for c in ("time", "energy", "x", "y"))
    keep = (e >= 500) & (e <= 7000)
    cell = 40.0  # sky pixels (~20 arcsec): 'source-sized' regions
    ix = np.floor((x[keep] - x[keep].min()) / cell).astype(np.int64)
    iy = np.floor((y[keep] - y[keep].min()) / cell).astype(np.int64)
    ids = np.char.add(np.char.add("r", ix.astype(str)), np.char.add("_", iy.astype(str)))
    df = pd.DataFrame({"obsreg_id": ids, "time": t[keep], "energy": e[keep]})
    ev = EventSet.from_frame(df, source=path)
    big = np.flatnonzero(ev.counts >= 30)[:300]
    return ev.select(big)


def test_default_encoders_on_real_regions(regions):
    ev = regions
    assert ev.n_files >= 100
    for case, d in (("2D-AE", 12), ("3D-AE", 24), ("deepsets", 16), ("serendip", 32)):
        res = extract_features(case, events=ev)
        assert res.features.shape == (ev.n_files, d) and np.isfinite(res.features).all()
    # DeepSets codes do not depend on the order of the real photons within a region
    ds = load_default_encoder("deepsets")
    rng = np.random.default_rng(0)
    order = np.lexsort((rng.random(ev.n_events), ev.file_index))
    shuffled = EventSet(ev.obsreg_id, ev.offsets, ev.time[order], ev.energy[order])
    np.testing.assert_allclose(ds.transform(shuffled), ds.transform(ev), rtol=1e-4, atol=1e-4)
