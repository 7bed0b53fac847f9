"""Lazy packages: names imported on first use (PEP 562), and packages callable like their main
function (``serendip.simulate(500)``).

:func:`lazy_exports` gives a package the ``__getattr__`` / ``__dir__`` pair that imports each
public name from its submodule on first use, so importing the package stays cheap.

``serendip.simulate``, ``serendip.classify`` and ``serendip.evaluate`` are subpackages, so a
function of the same name in ``serendip`` would be replaced by the package as soon as it is
imported. :func:`make_callable` instead lets the package itself be called: the call goes to
the package's main function (imported on the first call), while attribute access works as for
any package.
"""

from __future__ import annotations

import sys
import types
from importlib import import_module


def make_callable(module_name: str, target: str) -> None:
    """Make the module ``module_name`` callable as ``"module:function"`` ``target``.

    The module's ``__call__`` has the target's docstring once it has been called or
    ``help(module.__call__)`` is asked for.
    """

    class CallableModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            mod, _, attr = target.partition(":")
            return getattr(import_module(mod), attr)(*args, **kwargs)

    CallableModule.__call__.__doc__ = f"Call :func:`{target.replace(':', '.')}`."
    CallableModule.__name__ = f"CallableModule[{target}]"
    sys.modules[module_name].__class__ = CallableModule


def lazy_exports(package: str, where: dict[str, str], namespace: dict):
    """PEP 562 hooks for ``package`` whose public names live in its submodules.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    where : dict
        Public name -> submodule (relative to ``package``) that defines it.
    namespace : dict
        The package's ``globals()``; each name is cached there on first use.

    Returns
    -------
    (__getattr__, __dir__)
        Assign them at module level: ``__getattr__, __dir__ = lazy_exports(__name__, _WHERE,
        globals())``.
    """

    def __getattr__(name: str):
        if name in where:
            value = getattr(import_module(f"{package}.{where[name]}"), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__
