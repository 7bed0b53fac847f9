"""An explicit, versioned mapping from SIMBAD object types to serendip source classes.

SIMBAD renamed its object types in 2022 (e.g. ``TTau*`` -> ``TTauri*`` with short code
``TT*``; ``Orion_V*`` -> ``OrionV*`` / ``Or*``; ``Seyfert_1`` -> ``Seyfert1`` / ``Sy1``).
Crossmatches made at different times carry different spellings, so every spelling
(old long name, new long name, short code) is listed here and maps to one class.

Two levels:

* ``fine``: AGN, Seyfert, QSO, Blazar, HMXB, LMXB, XRB, YSO, TTau, OrionV, CV, NS,
  HM-STAR, LM-STAR, STAR;
* ``muwclass``: the 8 classes of the MUWCLASS training set (AGN, CV, HM-STAR, HMXB,
  LM-STAR, LMXB, NS, YSO);
* ``grouped``: AGN, XRB, YSO, STAR_CV_NS (stars, cataclysmic variables, neutron stars).

Types that say nothing about the nature of an X-ray source (``Star``, ``X``, ``Radio``,
``IR``, ``gamma`` ...) map to ``None`` (UMLCAXS calls them "uks": unknown). A type not
in the table also maps to ``None``; :func:`unmapped` lists them so nothing is lost silently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAPPING_VERSION = "2026.11-1"
"""Version of the mapping below; written into every table that used it."""

# fine class -> every SIMBAD spelling (old long name, new long name, short code)
_FINE: dict[str, tuple[str, ...]] = {
    "QSO": ("QSO", "Quasar", "QSO_Candidate", "QSO?", "Q?"),
    "AGN": ("AGN", "AGN_Candidate", "AGN?", "LINER", "LIN", "RadioG", "rG", "Seyfert", "SyG"),
    "Seyfert_1": ("Seyfert_1", "Seyfert1", "Sy1"),
    "Seyfert_2": ("Seyfert_2", "Seyfert2", "Sy2"),
    "Blazar": (
        "Blazar",
        "Bla",
        "BLLac",
        "BLL",
        "Blazar_Candidate",
        "Bz?",
        "BLLac_Candidate",
        "BL?",
    ),
    "HMXB": ("HMXB", "HighMassXBin", "HXB", "HMXB?", "HX?", "HighMassXBin_Candidate"),
    "LMXB": ("LMXB", "LowMassXBin", "LXB", "LMXB?", "LX?", "LowMassXBin_Candidate"),
    "XB": ("XB", "XrayBin", "XB*", "XB?", "XrayBin_Candidate", "ULX", "UltraLuminousX", "ULX?"),
    "YSO": (
        "YSO",
        "YSO_Candidate",
        "Y*O",
        "Y*?",
        "Ae*",
        "Ae*_Candidate",
        "HerbigAe/Be",
        "Ae?",
        "outflow?",
    ),
    "TTau*": ("TTau*", "TTauri*", "TT*", "TTau*_Candidate", "TT?", "TTauri*_Candidate"),
    "Orion_V*": ("Orion_V*", "OrionV*", "Or*"),
    "CV": (
        "CataclyV*",
        "CV*",
        "CV",
        "Nova",
        "No*",
        "DwarfNova",
        "DN*",
        "NovaLike",
        "NL*",
        "CataclyV*_Candidate",
        "CV?",
        "Nova_Candidate",
        "No?",
        "Polar",
        "Intermediate_Polar",
    ),
    "NS": (
        "Pulsar",
        "Psr",
        "Neutron*",
        "N*",
        "Neutron*_Candidate",
        "N*?",
        "Magnetar",
        "Mag",
        "gammaPulsar",
        "gammaPsr",
        "XPulsar",
        "XPsr",
    ),
    "HM-STAR": (
        "WolfRayet*",
        "WR*",
        "WR*_Candidate",
        "WR?",
        "Be*",
        "Be*_Candidate",
        "Be?",
        "BlueSG",
        "BlueSG*",
        "BSG",
        "s*b",
        "OB*",
        "MassiveStar",
        "LBV*",
        "LBV",
        "BlueStraggler",
    ),
    "LM-STAR": (
        "Flare*",
        "Fl*",
        "RSCVn",
        "RS*",
        "BYDra",
        "BY*",
        "low-mass*",
        "LowMass*",
        "LM*",
        "BrownD*",
        "BD*",
        "MainSequence*",
        "MS*",
        "PM*",
        "HighPM*",
        "EB*",
        "EclBin",
        "SB*",
        "Spec.Binary",
        "RotV*",
        "Ro*",
        "Eruptive*",
        "Er*",
        "Emission-line*",
        "Em*",
        "WhiteDwarf",
        "WD*",
        "Variable*",
        "V*",
        "Pec*",
        "Giant",
        "RedGiantBranch*",
        "RGB*",
        "HorBranch*",
        "HB*",
        "Cepheid",
        "Ce*",
        "RRLyrae",
        "RR*",
        "delSctV*",
        "dS*",
        "gammaDorV*",
        "gD*",
        "SolarType*",
        "YellowSG*",
        "RedSG*",
        "RSG*",
        "AGB*",
    ),
}

# fine -> MUWCLASS class (the 8 classes of Yang et al. 2022)
_MUWCLASS: dict[str, str | None] = {
    "QSO": "AGN",
    "AGN": "AGN",
    "Seyfert_1": "AGN",
    "Seyfert_2": "AGN",
    "Blazar": "AGN",
    "HMXB": "HMXB",
    "LMXB": "LMXB",
    "XB": None,
    "YSO": "YSO",
    "TTau*": "YSO",
    "Orion_V*": "YSO",
    "CV": "CV",
    "NS": "NS",
    "HM-STAR": "HM-STAR",
    "LM-STAR": "LM-STAR",
}

# MUWCLASS class -> grouped class
GROUPED: dict[str, str] = {
    "AGN": "AGN",
    "HMXB": "XRB",
    "LMXB": "XRB",
    "XB": "XRB",
    "YSO": "YSO",
    "CV": "STAR_CV_NS",
    "NS": "STAR_CV_NS",
    "HM-STAR": "STAR_CV_NS",
    "LM-STAR": "STAR_CV_NS",
}
GROUPED_CLASSES = ("AGN", "XRB", "YSO", "STAR_CV_NS")

UMLCAXS_TYPES = (
    "QSO",
    "AGN",
    "Seyfert_1",
    "Seyfert_2",
    "HMXB",
    "LMXB",
    "XB",
    "YSO",
    "TTau*",
    "Orion_V*",
)
"""The 10 SIMBAD types UMLCAXS classifies into (old spellings, as in its tables)."""
UMLCAXS_GROUPED = {
    "QSO": "AGN",
    "AGN": "AGN",
    "Seyfert_1": "Seyfert",
    "Seyfert_2": "Seyfert",
    "HMXB": "XB",
    "LMXB": "XB",
    "XB": "XB",
    "YSO": "YSO",
    "TTau*": "YSO",
    "Orion_V*": "YSO",
}

UNINFORMATIVE = (
    "Star",
    "*",
    "X",
    "Radio",
    "Rad",
    "IR",
    "Blue",
    "UV",
    "gamma",
    "gam",
    "PartofG",
    "**",
    "Unknown",
    "?",
    "err",
)
"""Types that carry no class information (UMLCAXS's "uks")."""

_LOOKUP: dict[str, str] = {}
for _cls, _names in _FINE.items():
    for _n in _names:
        _LOOKUP[_n.lower()] = _cls


def _fine_one(otype: str) -> str | None:
    return _LOOKUP.get(str(otype).strip().lower())


def map_otypes(otypes, level: str = "fine") -> np.ndarray:
    """Map SIMBAD object types to classes, vectorised.

    Parameters
    ----------
    otypes : sequence of str, shape (n,); missing values (None/NaN) map to None.
    level : "fine", "umlcaxs" (same as fine), "muwclass" or "grouped".

    Returns
    -------
    (n,) object array of class names, None where the type is uninformative or unknown.
    """
    s = pd.Series(np.asarray(otypes, dtype=object))
    uniq = pd.unique(s.dropna().astype(str))
    table = {u: _fine_one(u) for u in uniq}
    if level in ("fine", "umlcaxs"):
        pass
    elif level == "muwclass":
        table = {u: (_MUWCLASS.get(c) if c else None) for u, c in table.items()}
    elif level == "grouped":
        table = {u: (GROUPED.get(_MUWCLASS.get(c) or "") if c else None) for u, c in table.items()}
        # generic X-ray binaries have no MUWCLASS class but are XRB when grouped
        table.update({u: "XRB" for u in uniq if _fine_one(u) == "XB"})
    else:
        raise ValueError(f"level must be 'fine', 'umlcaxs', 'muwclass' or 'grouped', not {level!r}")
    out = s.map(lambda v: table.get(str(v)) if v is not None and v == v else None)
    return out.to_numpy(dtype=object)


def group_classes(classes, mapping: dict[str, str] | None = None) -> np.ndarray:
    """Map fine/MUWCLASS class names to grouped classes (unknown names -> None)."""
    mapping = GROUPED if mapping is None else mapping
    s = pd.Series(np.asarray(classes, dtype=object))
    return s.map(lambda v: mapping.get(v)).to_numpy(dtype=object)


def unmapped(otypes) -> list[str]:
    """SIMBAD types in ``otypes`` that are neither mapped nor known to be uninformative."""
    known = {u.lower() for u in UNINFORMATIVE}
    vals = pd.unique(pd.Series(np.asarray(otypes, dtype=object)).dropna().astype(str))
    return sorted(v for v in vals if _fine_one(v) is None and v.strip().lower() not in known)


def all_spellings() -> dict[str, tuple[str, ...]]:
    """Fine class -> every SIMBAD spelling that maps to it (a copy)."""
    return dict(_FINE)


def is_candidate(otypes) -> np.ndarray:
    """(n,) bool: True where a SIMBAD type is a candidate (``..._Candidate`` or ending in
    ``?``, e.g. ``YSO_Candidate``, ``Y*?``, ``LX?``): the class is suspected, not established."""
    s = pd.Series(np.asarray(otypes, dtype=object))
    ok = s.notna().to_numpy()
    t = s.where(ok, "").astype(str).str.strip()
    return ok & (t.str.endswith("?") | t.str.lower().str.endswith("_candidate")).to_numpy()
