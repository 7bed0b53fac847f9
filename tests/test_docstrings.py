"""Every public object has a docstring: the names in ``serendip.__all__`` and in each stage
package's ``__all__``, and the public methods of the public classes (numpydoc style; what a
user reads with ``help()``)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import serendip

#: stage packages whose ``__all__`` is the public API (whatever exists is walked)
PACKAGES = sorted(
    m.name
    for m in pkgutil.iter_modules(serendip.__path__, "serendip.")
    if m.ispkg and m.name not in ("serendip.cli",)
)


def _public(module) -> list[tuple[str, object]]:
    out = []
    for name in getattr(module, "__all__", []):
        try:
            obj = getattr(module, name)
        except (AttributeError, ImportError):  # a lazy name whose optional dependency is absent
            continue
        out.append((f"{module.__name__}.{name}", obj))
    return out


def _documented(obj) -> bool:
    doc = obj.__doc__ if not isinstance(obj, property) else obj.fget.__doc__
    return bool(doc and doc.strip())


def public_objects() -> dict[str, object]:
    """Qualified name -> object for every public function, class and public method."""
    found: dict[str, object] = {}
    for mod_name in ["serendip", *PACKAGES]:
        module = importlib.import_module(mod_name)
        for _qual, obj in _public(module):
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # constants and registries are documented where they are defined
            if not getattr(obj, "__module__", "").startswith("serendip"):
                continue
            found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
            if inspect.isclass(obj):
                for name, member in vars(obj).items():
                    if name.startswith("_"):
                        continue
                    if isinstance(member, (staticmethod, classmethod)):
                        member = member.__func__
                    if inspect.isfunction(member) or isinstance(member, property):
                        found.setdefault(f"{obj.__module__}.{obj.__qualname__}.{name}", member)
    return found


def test_public_api_is_walked():
    objs = public_objects()
    assert len(objs) > 100
    assert "serendip.detect.base.BaseDetector.score_samples" in objs


@pytest.mark.parametrize("package", ["serendip", *PACKAGES])
def test_every_public_object_has_a_docstring(package):
    prefix = package + "."
    missing = sorted(
        q
        for q, obj in public_objects().items()
        if (q.startswith(prefix) or package == "serendip" and q.count(".") <= 2)
        and not _documented(obj)
    )
    assert not missing, f"{len(missing)} public objects without a docstring: {missing}"
