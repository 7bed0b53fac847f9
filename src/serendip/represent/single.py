"""One source's representation from its photon arrays: the notebook form of the batch functions.

:func:`et_map`, :func:`etdt_cube` and :func:`dedt_map` take one event list (``time`` [s],
``energy`` [eV]) and return its representation, by calling the vectorised whole-table
functions (:func:`serendip.represent.maps.et_maps`, ...) on a one-file
:class:`~serendip.io.eventset.EventSet`, so a map made here equals the one a run makes.
"""

from __future__ import annotations

import numpy as np

from serendip.io.eventset import EventSet

__all__ = ["et_map", "etdt_cube", "dedt_map"]


def _one(time, energy) -> EventSet:
    t = np.asarray(time, dtype=np.float64).ravel()
    e = np.asarray(energy, dtype=np.float64).ravel()
    if t.shape != e.shape:
        from serendip.errors import InputError

        raise InputError(None, f"time {t.shape} and energy {e.shape} must have the same length")
    order = np.argsort(t, kind="stable")
    return EventSet.from_arrays({"source": (t[order], e[order])})


def et_map(time, energy, **kwargs) -> np.ndarray:
    """The E-t map of one event list.

    Parameters
    ----------
    time, energy : array-like, shape (n_events,)
        Arrival times [s] and energies [eV] (any order; sorted here).
    **kwargs
        Settings of :func:`serendip.represent.maps.et_maps` (``t_bins``, ``e_bins``, ...).

    Returns
    -------
    ndarray, shape (t_bins, e_bins)
        The map (24 x 16 by default), as the run computes it.
    """
    from serendip.represent.maps import et_maps

    return np.asarray(et_maps(_one(time, energy), **kwargs))[0]


def etdt_cube(time, energy, **kwargs) -> np.ndarray:
    """The E-t-dt cube of one event list, dense.

    Parameters
    ----------
    time, energy : array-like, shape (n_events,)
        Arrival times [s] and energies [eV].
    **kwargs
        Settings of :func:`serendip.represent.maps.etdt_cubes`.

    Returns
    -------
    ndarray, shape (t_bins, e_bins, dt_bins)
        The cube (24 x 16 x 16 by default).
    """
    from serendip.represent.maps import etdt_cubes

    cubes = etdt_cubes(_one(time, energy), **kwargs)
    dense = cubes.toarray() if hasattr(cubes, "toarray") else np.asarray(cubes)
    return dense[0]


def dedt_map(time, energy, **kwargs) -> np.ndarray:
    """The dE-dt map of one event list (energy change against waiting time).

    Parameters
    ----------
    time, energy : array-like, shape (n_events,)
        Arrival times [s] and energies [eV].
    **kwargs
        Settings of :func:`serendip.represent.dedt.dedt_maps`.

    Returns
    -------
    ndarray
        The map of :func:`serendip.represent.dedt.dedt_maps` for this one file.
    """
    from serendip.represent.dedt import dedt_maps

    return np.asarray(dedt_maps(_one(time, energy), **kwargs))[0]
