"""inject_transients: adds the expected photons where the transient was put; dips thin softly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serendip.errors import InputError
from serendip.io import EventSet
from serendip.simulate import inject_transients, simulate_population
from serendip.simulate.timing import fred_integral


@pytest.fixture(scope="module")
def base():
    pop = simulate_population(
        120,
        seed=21,
        class_fractions={"steady": 1.0},
        counts_median=600.0,
        counts_min=300.0,
        counts_sigma_dex=0.2,
    )
    return pop.events, pop.files


def test_flare_adds_expected_photons_in_window(base):
    events, files = base
    targets = np.arange(0, 120, 2)
    out, truth = inject_transients(events, files, targets, "flare", counts=150.0, seed=1)
    assert out.n_files == events.n_files and list(out.obsreg_id) == list(events.obsreg_id)
    added = out.counts - events.counts
    assert (added[1::2] == 0).all()  # untouched files unchanged ...
    for i in (1, 33, 119):
        np.testing.assert_array_equal(out.events_of(i)[0], events.events_of(i)[0])
    np.testing.assert_array_equal(added[targets], truth["n_added"].to_numpy())
    # ... and targets gained Poisson(150) photons each
    assert abs(truth["n_added"].mean() - 150) < 5 * np.sqrt(150 / len(targets))
    assert 0.5 < truth["n_added"].var() / 150 < 1.6
    # the extra photons sit in the flare: count excess inside [t_peak - 3 rise, t_peak + 3 decay]
    tp, rise, decay = (
        truth["t_peak"].to_numpy(),
        truth["rise"].to_numpy(),
        truth["decay"].to_numpy(),
    )
    ts, te = truth["tstart"].to_numpy(), truth["tstop"].to_numpy()
    lo, hi = np.maximum(tp - 3 * rise, ts), np.minimum(tp + 3 * decay, te)

    def in_window(ev):
        sub = ev.select(targets)
        f = sub.file_index
        return np.bincount(f, (sub.time >= lo[f]) & (sub.time <= hi[f]), minlength=len(targets))

    excess = in_window(out) - in_window(events)
    frac = fred_integral(lo, hi, tp, rise, decay) / fred_integral(ts, te, tp, rise, decay)
    assert abs(excess.sum() - (150 * frac).sum()) < 5 * np.sqrt(150 * len(targets))
    assert excess.sum() > 0.85 * truth["n_added"].sum()
    sub = out.select(targets)
    assert sub.energy.min() >= 500 and sub.energy.max() < 7000
    assert all(np.all(np.diff(out.events_of(i)[0]) >= 0) for i in targets[:10])


def test_fxt_and_array_counts_and_fixed_parameters(base):
    events, files = base
    targets = np.array([3, 7, 11, 50])
    counts = np.array([0.0, 40.0, 400.0, 4000.0])
    out, truth = inject_transients(
        events, files, targets, "fxt", counts=counts, seed=2, duration=100.0, alpha=1.5
    )
    assert truth["n_added"].iloc[0] == 0
    assert abs(truth["n_added"].iloc[3] - 4000) < 5 * np.sqrt(4000)
    assert (truth["duration"] == 100.0).all() and (truth["alpha"] == 1.5).all()
    # most of an FXT's photons come within a few spike lengths of its onset
    sub = out.select(targets[3:])
    onset = truth["t_peak"].iloc[3] - truth["rise"].iloc[3]
    new = sub.counts[0] - events.counts[50]
    near = ((sub.time >= onset) & (sub.time < onset + 1000)).sum()
    assert near > 0.5 * new


def test_dip_removes_expected_soft_photons(base):
    events, files = base
    targets = np.arange(60, 120)
    out, truth = inject_transients(events, files, targets, "dip", counts=30.0, seed=3)
    assert truth["reachable"].all()
    removed = events.counts[targets] - out.counts[targets]
    np.testing.assert_array_equal(removed, truth["n_removed"].to_numpy())
    assert abs(removed.mean() - 30) < 5 * np.sqrt(30 / len(targets))
    assert (truth["nh_dip"] > 1e20).all()
    # removed photons are the soft ones: what is left inside the dip is harder
    before = events.select(targets).energy.mean()
    after = out.select(targets).energy.mean()
    assert after > before
    # asking for more than the window holds is flagged, not silently wrong
    _, t2 = inject_transients(events, files, targets[:3], "dip", counts=1e6, seed=3)
    assert not t2["reachable"].any()


def test_same_seed_same_injection_and_frame_snapping(base):
    events, files = base
    a, ta = inject_transients(
        events, files, [5, 6], "stellar_flare", counts=200.0, seed=9, frame_time=3.24104
    )
    b, tb = inject_transients(
        events, files, [5, 6], "stellar_flare", counts=200.0, seed=9, frame_time=3.24104
    )
    np.testing.assert_array_equal(a.time, b.time)
    pd.testing.assert_frame_equal(ta, tb)
    t, _ = a.events_of(5)
    ts = files["tstart"].iloc[5]
    frac = ((t - ts) / 3.24104) % 1.0
    assert np.allclose(
        frac, 0.5, atol=1e-4
    )  # simulated base events sit mid-frame: so do added ones


def test_bad_inputs_raise_clear_errors(base):
    events, files = base
    with pytest.raises(ValueError, match="kind"):
        inject_transients(events, files, [0], "supernova", 10)
    with pytest.raises(InputError, match="out of range"):
        inject_transients(events, files, [500], "flare", 10)
    with pytest.raises(InputError, match="tstart"):
        inject_transients(events, files.drop(columns="tstart"), [0], "flare", 10)
    with pytest.raises(InputError, match="no row"):
        inject_transients(events, files.iloc[1:], [0], "flare", 10)
    out, truth = inject_transients(events, files, [events.obsreg_id[4]], "flare", 10, seed=0)
    assert truth["file_index"].iloc[0] == 4


def _real_regions(path, n_regions=12, size=40.0):
    """Cut square source-sized regions out of the real ObsID 754 event file (no transients known)."""
    from astropy.io import fits

    with fits.open(path) as hdul:
        d = hdul["EVENTS"].data
        h = hdul["EVENTS"].header
        t, e, x, y = (np.asarray(d[c], dtype=np.float64) for c in ("time", "energy", "x", "y"))
        tstart, tstop = float(h["TSTART"]), float(h["TSTOP"])
    band = (e >= 500) & (e < 7000)
    t, e, x, y = t[band], e[band], x[band], y[band]
    cx = np.linspace(np.percentile(x, 20), np.percentile(x, 80), 4)
    cy = np.linspace(np.percentile(y, 20), np.percentile(y, 80), 3)
    per = {}
    for i, (a, b) in enumerate((a, b) for a in cx for b in cy):
        m = (np.abs(x - a) < size / 2) & (np.abs(y - b) < size / 2)
        per[f"754_{i + 1}"] = (t[m], e[m])
    ev = EventSet.from_arrays(per)
    files = pd.DataFrame({"obsreg_id": list(per), "tstart": tstart, "tstop": tstop})
    return ev, files


@pytest.mark.realdata
def test_inject_into_real_chandra_regions(real_data):
    path = real_data / "chandra_acis_obsid754_msh1552" / "msh1552_acis_evt2_filtered.fits.gz"
    if not path.exists():
        pytest.skip("ObsID 754 event file not present")
    events, files = _real_regions(path)
    assert events.n_events > 1000
    targets = np.arange(0, events.n_files, 2)
    out, truth = inject_transients(
        events, files, targets, "fxt", counts=60.0, seed=4, frame_time=3.24104
    )
    assert abs(truth["n_added"].sum() - 60 * len(targets)) < 5 * np.sqrt(60 * len(targets))
    untouched = np.arange(1, events.n_files, 2)
    for i in untouched:
        np.testing.assert_array_equal(out.events_of(i)[0], events.events_of(i)[0])
    # added photons land on the real file's frame grid: the phases of the real events
    t, _ = out.events_of(int(targets[0]))
    t0, _ = events.events_of(int(targets[0]))
    ts = files["tstart"].iloc[0]
    real_phases = np.unique(
        np.round(((t0 - ts) / 3.24104) % 1.0, 2)
    )  # one per CCD (read-out offsets)
    new = np.setdiff1d(t, t0)
    assert len(new) > 0
    new_phase = ((new - ts) / 3.24104) % 1.0
    gap = np.abs(new_phase[:, None] - real_phases[None, :])
    assert (np.minimum(gap, 1 - gap).min(axis=1) < 0.02).all()
