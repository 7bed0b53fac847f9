"""Packages that can be called like their main function (``serendip.simulate(500)``).

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
