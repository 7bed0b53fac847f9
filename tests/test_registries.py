"""One registry per concept: the registry type, the feature cases and the detectors."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import pytest

from serendip.errors import InputError
from serendip.registry import Registry, UnknownNameError


@dataclass(frozen=True)
class _Thing:
    name: str
    description: str = ""


def test_registry_lookup_errors_and_table():
    reg = Registry("thing", [_Thing("alpha", "first"), _Thing("Beta", "second")])
    assert reg["ALPHA"].name == "alpha" and "beta" in reg and reg.names() == ["alpha", "Beta"]
    with pytest.raises(UnknownNameError) as exc:
        reg["alpah"]
    msg = str(exc.value)
    assert "did you mean 'alpha'" in msg and "alpha, Beta" in msg
    assert isinstance(exc.value, InputError) and isinstance(exc.value, KeyError)
    assert reg.get("nope") is None  # Mapping.get catches the KeyError
    with pytest.raises(ValueError, match="already registered"):
        reg.register(_Thing("BETA"))
    table = reg.table()
    assert table.splitlines()[1].split() == ["name", "description"] and "second" in table


def test_feature_cases_columns_match_extraction():
    from serendip.features import FEATURE_CASES
    from serendip.features.event_block import EVENT_BLOCK

    assert FEATURE_CASES["events"].n_columns == len(EVENT_BLOCK) == 16
    assert FEATURE_CASES["serendip"].n_columns == 32
    assert FEATURE_CASES["2d-pca"].columns()[:2] == ["pca_00", "pca_01"]
    assert FEATURE_CASES["3D-PCA"].columns(5) == [f"pca_{i:02d}" for i in range(5)]


def test_detector_registry_is_the_one_list():
    import serendip.detect as D
    from serendip.detect.base import BaseDetector
    from serendip.detect.registry import DETECTORS, detector_class_by_kind, make_detector

    for entry in DETECTORS.values():
        klass = entry.load_class()
        assert issubclass(klass, BaseDetector) and klass.kind == entry.kind
        assert not entry.class_name.startswith("_")
        assert bool(getattr(klass, "needs_labels", False)) == entry.needs_labels
        assert getattr(D, entry.class_name) is klass  # exported by serendip.detect
        assert detector_class_by_kind(entry.kind) is klass
    # every public detector class of serendip.detect is in the registry
    public = {
        n
        for n in D.__all__
        if isinstance(getattr(D, n), type)
        and issubclass(getattr(D, n), BaseDetector)
        and n != "BaseDetector"
    }
    assert public == {e.class_name for e in DETECTORS.values()}
    with pytest.raises(UnknownNameError, match="did you mean 'iforest'"):
        make_detector("iforrest")
    assert type(make_detector("IForest", n_estimators=10)).__name__ == "IForest"


def test_registries_import_nothing_heavy():
    code = (
        "import sys; import serendip.detect.registry, serendip.features.registry; "
        "print(sorted(m for m in ('torch', 'sklearn', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
