"""Which mission wrote an event file, and how its channels become energies [eV].

Each :class:`Mission` knows how to turn its PI channel column into photon energy
(``E [eV] = channel * ev_per_channel + offset_ev``) and which unit an energy column
has when the file does not say. Missions are recognised from the ``TELESCOP`` and
``INSTRUME`` header keywords.

Gains used (the standard, time-independent conversions of each mission's PI column):

=============  ================================  ===========================
mission        channel column                    energy
=============  ================================  ===========================
Chandra        ``energy`` [eV] (fallback ``pi``)  PI x 14.6 eV
XMM-Newton     ``PI``                            PI is already in eV
eROSITA        ``PI``                            PI is already in eV
NICER          ``PI``                            PI x 10 eV
NuSTAR         ``PI``                            PI x 40 eV + 1.6 keV
Swift-XRT      ``PI``                            PI x 10 eV
Suzaku-XIS     ``PI``                            PI x 3.65 eV
RXTE           ``PHA``                           no fixed gain (rejected)
=============  ================================  ===========================
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Mission:
    """How one mission's event files encode energy.

    Attributes
    ----------
    name : str
        Human-readable mission name (``"Chandra"``, ``"NuSTAR"``...).
    telescope : str
        Regular expression matched (case-insensitive) against ``TELESCOP``.
    instrument : str
        Regular expression matched (case-insensitive) against ``INSTRUME``; ``""`` = any.
    gain : tuple of (float, float) or None
        ``(ev_per_channel, offset_ev)`` for the ``PI`` column; ``None`` when the mission
        has no fixed gain.
    channel_columns : tuple of str
        Channel columns the gain applies to, in order of preference.
    energy_unit : str or None
        Unit assumed for an energy column without ``TUNIT`` (``"eV"`` for Chandra).
    no_gain_reason : str
        Why a channel-only file of this mission cannot be converted (used in errors).
    """

    name: str
    telescope: str
    instrument: str = ""
    gain: tuple[float, float] | None = None
    channel_columns: tuple[str, ...] = ("PI",)
    energy_unit: str | None = None
    no_gain_reason: str = ""

    def matches(self, telescope: str, instrument: str) -> bool:
        if not re.fullmatch(self.telescope, telescope.strip(), flags=re.I):
            return False
        return not self.instrument or bool(
            re.fullmatch(self.instrument, instrument.strip(), flags=re.I)
        )


MISSIONS: tuple[Mission, ...] = (
    Mission(
        "Chandra", r"CHANDRA|AXAF", gain=(14.6, 0.0), channel_columns=("PI",), energy_unit="eV"
    ),
    Mission("XMM-Newton", r"XMM(-NEWTON)?", gain=(1.0, 0.0)),
    Mission("eROSITA", r"EROSITA|SRG(/EROSITA)?", gain=(1.0, 0.0)),
    Mission("NICER", r"NICER", gain=(10.0, 0.0)),
    Mission("NuSTAR", r"NUSTAR", gain=(40.0, 1600.0)),
    Mission("Swift-XRT", r"SWIFT", r"XRT", gain=(10.0, 0.0)),
    Mission("Suzaku-XIS", r"SUZAKU|ASTRO-E2", r"XIS.*", gain=(3.65, 0.0)),
    Mission(
        "RXTE",
        r"XTE|RXTE",
        gain=None,
        channel_columns=("PHA", "PI"),
        no_gain_reason="RXTE/PCA PHA channels have a time- and detector-dependent gain (no fixed eV per channel)",
    ),
    Mission(
        "AstroSat",
        r"ASTROSAT",
        gain=None,
        channel_columns=("PI", "PHA", "CHANNEL"),
        energy_unit="keV",
        no_gain_reason="AstroSat channel columns have a detector-dependent gain",
    ),
)

UNKNOWN = Mission("unknown", r".*", gain=None, channel_columns=("PI", "PHA"))


def identify_mission(telescope: str | None, instrument: str | None) -> Mission:
    """The :class:`Mission` matching ``TELESCOP`` / ``INSTRUME``, or ``UNKNOWN``."""
    tel = (telescope or "").strip()
    ins = (instrument or "").strip()
    for mission in MISSIONS:
        if mission.matches(tel, ins):
            return mission
    return UNKNOWN


ENERGY_UNITS_EV = {
    "ev": 1.0,
    "electronvolt": 1.0,
    "kev": 1e3,
    "kiloelectronvolt": 1e3,
    "mev": 1e6,
    "megaelectronvolt": 1e6,
}


def energy_unit_scale(unit: str | None) -> float | None:
    """Factor turning values in ``unit`` into eV (``None`` when the unit is unknown)."""
    if unit is None:
        return None
    key = unit.strip().lower().replace(" ", "")
    return ENERGY_UNITS_EV.get(key)


def describe_gain(gain: tuple[float, float], column: str) -> str:
    """Text such as ``"PI x 14.6 eV"`` or ``"PI x 40 eV + 1600 eV"`` for ``energy_source``."""
    per, off = gain
    text = f"{column} x {per:g} eV"
    if per == 1.0 and off == 0.0:
        text = f"{column} [eV]"
    elif off:
        text += f" + {off:g} eV"
    return text
