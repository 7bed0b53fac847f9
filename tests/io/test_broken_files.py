"""The committed corpus of broken files: each gives its own clear reason, none crashes a batch."""

from __future__ import annotations

import pytest

from serendip.errors import InputError
from serendip.io.eventfile import read_event_file
from serendip.io.ingest import ingest
from serendip.io.reference import read_event_table


def _load_maker():
    """tests/data/broken_events/make_broken.py, loaded by path (names are needed at collection)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "broken_events" / "make_broken.py"
    spec = importlib.util.spec_from_file_location("serendip_test_make_broken_b", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


maker = _load_maker()
NAMES = sorted(maker.EXPECTED)


def test_corpus_is_complete_and_diverse(corpus):
    present = {p.name for p in corpus.iterdir() if p.name != "make_broken.py" and p.is_file()}
    assert present == set(NAMES)
    assert len(set(maker.EXPECTED.values())) >= 12  # at least 12 distinct kinds of reason


@pytest.mark.parametrize("name", NAMES)
def test_broken_file_reason(corpus, name):
    path = corpus / name
    reader = read_event_table if name.endswith(".csv") else read_event_file
    with pytest.raises(InputError) as err:
        reader(path)
    assert maker.EXPECTED[name] in err.value.problem, err.value.problem
    assert err.value.path == str(path)
    assert str(err.value).startswith(str(path) + ": ")


def test_corpus_regenerates_identically(tmp_path, corpus):
    """The committed files are exactly what make_broken.py writes."""
    maker.make_corpus(tmp_path)
    for name in NAMES:
        assert (tmp_path / name).read_bytes() == (corpus / name).read_bytes(), name


def test_mixed_good_and_bad_inputs_proceed(tmp_path, corpus, fitsmaker):
    good_dir = tmp_path / "good"
    good_dir.mkdir()
    fitsmaker.write_events(good_dir / "a.fits", obs_id="100", seed=1)
    fitsmaker.write_events(good_dir / "b.evt.gz", obs_id="200", seed=2)
    csv_inputs = [corpus / n for n in NAMES if n.endswith(".csv")]
    res = ingest([corpus, good_dir, tmp_path / "nope.fits", *csv_inputs], progress=False)
    assert list(res.files["obsreg_id"]) == ["100", "200"]
    assert res.events.n_files == 2 and res.events.n_events == int(res.files["n_events"].sum())
    reasons = dict(zip(res.failures["file"], res.failures["reason"], strict=True))
    for name in NAMES:
        assert maker.EXPECTED[name] in reasons[str(corpus / name)]
    assert reasons[str(tmp_path / "nope.fits")] == "no such file or folder"
    assert len(res.failures) == len(NAMES) + 1
