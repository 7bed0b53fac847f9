"""Which mission wrote an event file: its standard science band and how channels become energies [eV].

:data:`MISSIONS` is the one table of mission knowledge: each :class:`Mission` row says how
its PI channel column becomes photon energy (``E [eV] = channel * ev_per_channel +
offset_ev``), which unit an energy column has when the file does not say, and the
mission's standard science band with its reference. Rows are recognised from the
``TELESCOP``, ``INSTRUME``, (Fermi GBM) ``DETNAM`` and mode keywords (Swift ``DATAMODE``:
WT and PC), first match wins; :func:`mission_table` renders the table for the docs. A band
given by the user always wins over the mission's; files of an unknown mission keep every
energy (stated in a notice).

Each row also holds what the instrument can and cannot do and how its files are screened and
timed: the standard event screening (:class:`QualityCut` rules: Chandra ACIS ``status = 0``
and grades 0,2,3,4,6; XMM pn ``PATTERN <= 4``, MOS ``PATTERN <= 12``, ``FLAG = 0``; Swift XRT
grades 0-12 in PC and 0-2 in WT mode; eROSITA ``FLAG & 0xC00FFF30 = 0``), applied at ingest
unless switched off; ``imaging`` (``"2d"``, ``"1d"`` for Swift WT, ``"none"`` for NICER,
RXTE, GBM, LAXPC); ``energy_resolution`` (False for HRC: energies never invented); the
``MJDREF``/``TIMESYS`` assumed when a header lacks them and GBM's ``TRIGTIME`` origin
(:mod:`serendip.io.timesys`); and which data are survey-mode (eROSITA ``OBS_MODE``, Swift
snapshot sequences) and need an exposure curve (:mod:`serendip.io.exposure`); and the
standard background-flare screening (:class:`FlareRecipe`: the XMM-Newton SAS recipe, pn
10-12 keV / MOS > 10 keV single events in 100 s bins, good at <= 0.4 / 0.35 ct/s; the flare-GTI
extension, eSASS ``FLAREGTI``; NICER's nicerl2 screening in cleaned files), applied by
:mod:`serendip.io.flares`.

=======================  ====================  ========================  ==========================================
mission / instrument     channel -> energy     standard band             reference for the band
=======================  ====================  ========================  ==========================================
Chandra ACIS             ENERGY [eV]; PI x14.6  0.5-7 keV                 CSC broad band (Evans et al. 2010, ApJS 189, 37)
Chandra HRC              none (no resolution)  0.1-10 keV                CSC wide band (Evans et al. 2010)
XMM-Newton EPIC pn/MOS   PI [eV]               0.2-12 keV                4XMM bands 1-5 (Webb et al. 2020, A&A 641, A136)
Swift XRT                PI x 10 eV            0.3-10 keV                2SXPS total band (Evans et al. 2020, ApJS 247, 54)
eROSITA                  PI [eV]               0.2-2.3 keV               eRASS1 main band (Merloni et al. 2024, A&A 682, A34)
NICER XTI                PI x 10 eV            0.3-12 keV                NICER XTI (Gendreau et al. 2016, SPIE 9905)
NuSTAR FPMA/B            PI x 40 eV + 1.6 keV  3-79 keV                  Harrison et al. 2013, ApJ 770, 103
RXTE PCA                 no fixed gain         2-60 keV                  Jahoda et al. 2006, ApJS 163, 401
Einstein Probe WXT       ENERGY column         0.5-4 keV                 Yuan et al. 2022 (EP WXT design band)
Einstein Probe FXT       ENERGY column         0.3-10 keV                Chen et al. 2020, SPIE 11444 (EP FXT)
Fermi GBM NaI            EBOUNDS               8 keV-1 MeV               Meegan et al. 2009, ApJ 702, 791
Fermi GBM BGO            EBOUNDS               200 keV-40 MeV            Meegan et al. 2009
Fermi LAT                ENERGY [MeV]          100 MeV-300 GeV           Atwood et al. 2009, ApJ 697, 1071
Suzaku XIS               PI x 3.65 eV          0.2-12 keV                Koyama et al. 2007, PASJ 59, S23
AstroSat LAXPC           ENERGY column         3-80 keV                  Antia et al. 2017, ApJS 231, 10
=======================  ====================  ========================  ==========================================
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
    #: standard science band (low, high) [eV]; None keeps every energy
    band_ev: tuple[float, float] | None = None
    #: where the band comes from
    band_reference: str = ""
    #: regular expression matched against ``DETNAM`` (``""`` = any)
    detector: str = ""
    #: regular expression matched against the value of :attr:`mode_keyword` (``""`` = any mode)
    mode: str = ""
    #: header keyword naming the instrument mode (Swift ``DATAMODE``, XMM ``SUBMODE``...)
    mode_keyword: str = ""
    #: ``"2d"`` imaging, ``"1d"`` one-dimensional (Swift XRT WT), ``"none"`` non-imaging
    imaging: str = "2d"
    #: False: no usable energy resolution (HRC); energies are never invented for such files
    energy_resolution: bool = True
    #: the instrument's standard event screening, applied at ingest unless switched off
    quality: tuple[QualityCut, ...] = ()
    #: where the screening comes from
    quality_reference: str = ""
    #: time system and MJD reference [d] assumed when the header lacks ``TIMESYS``/``MJDREF``
    timesys: str = "TT"
    mjdref: float | None = None
    #: header keyword of a time origin subtracted from event times (GBM ``TRIGTIME``)
    time_origin: str = ""
    #: regular expression on ``OBS_MODE`` marking survey/scan data (eROSITA ``SURVEY``/``SCAN``)
    survey_mode: str = ""
    #: > 0: good time in groups separated by gaps longer than this [s] is a sequence of
    #: snapshots with different pointings (Swift)
    snapshot_gap_s: float = 0.0
    #: the mission's standard background-flare screening recipe (XMM EPIC high-energy light
    #: curve), computed at ingest when the file carries no flare GTIs (:mod:`serendip.io.flares`)
    flare_recipe: FlareRecipe | None = None
    #: regular expression on the EXTNAME of a GTI extension holding the mission's flare GTIs
    #: (eSASS ``FLAREGTI``); such an extension is applied as flare screening, not as plain GTIs
    flare_extension: str = ""
    #: how the mission's standard flare screening is already in the files (NICER cleaned files)
    flare_note: str = ""
    #: out-of-time events per readout mode: ``((mode regex, fraction), ...)``, matched against the
    #: mode keyword's value, first match wins; the first entry is the full-frame value, used
    #: (and said to be) when the file's mode is unknown. The fraction of a source's events
    #: registered during the readout and so smeared along its readout column (XMM pn 6.3% in
    #: full frame); empty: the instrument has none worth stating
    out_of_time: tuple[tuple[str, float], ...] = ()
    #: where the out-of-time fractions come from
    out_of_time_reference: str = ""

    def matches(
        self, telescope: str, instrument: str, detector: str = "", mode: str | None = None
    ) -> bool:
        """True when the header's TELESCOP / INSTRUME (and DETNAM, mode) match this mission.

        ``mode``: the value of :attr:`mode_keyword` in the header (None: not known, so a row
        that needs a mode does not match)."""
        if not re.fullmatch(self.telescope, telescope.strip(), flags=re.I):
            return False
        if self.instrument and not re.fullmatch(self.instrument, instrument.strip(), flags=re.I):
            return False
        if self.mode and (mode is None or not re.fullmatch(self.mode, mode.strip(), flags=re.I)):
            return False
        return not self.detector or bool(re.fullmatch(self.detector, detector.strip(), flags=re.I))

    def oot_fraction(self, mode: str | None) -> tuple[float, str]:
        """``(fraction, mode it applies to)`` of out-of-time events for a file in ``mode``
        (:attr:`out_of_time`); an unknown or unmatched mode gets the first (full-frame) entry
        and says so; ``(0.0, "")`` for an instrument without them."""
        if not self.out_of_time:
            return 0.0, ""
        for pattern, frac in self.out_of_time:
            if mode and re.fullmatch(pattern, mode.strip(), flags=re.I):
                return frac, mode.strip()
        return self.out_of_time[0][1], (f"mode {mode.strip()!r} not in the registry: "
                                        if mode and mode.strip() else "mode unknown: ") + "full-frame value"

    def describe_quality(self) -> str:
        """``"status = 0; GRADE in 0,2,3,4,6 (reference)"`` or ``"none"``."""
        if not self.quality:
            return "none"
        return "; ".join(map(str, self.quality)) + (f" ({self.quality_reference})" if self.quality_reference else "")

    def describe_flares(self) -> str:
        """The mission's standard flare screening in words, or ``"none"``."""
        parts = []
        if self.flare_extension:
            parts.append(f"flare GTI extension {self.flare_extension!s}")
        if self.flare_recipe is not None:
            parts.append(f"else recipe: {self.flare_recipe}" if parts else str(self.flare_recipe))
        if self.flare_note:
            parts.append(self.flare_note)
        return "; ".join(parts) or "none"

    def describe_band(self) -> str:
        """``"0.5-7 keV (CSC broad band ...)"`` or ``"all energies"``."""
        if self.band_ev is None:
            return "all energies"
        return f"{format_energy(self.band_ev[0])}-{format_energy(self.band_ev[1])} ({self.band_reference})"


@dataclass(frozen=True)
class QualityCut:
    """One rule of an instrument's standard event screening (kept events satisfy it).

    ``rule``: ``"le"`` (column <= values[0]), ``"in"`` (column in values), ``"zero"``
    (column == 0; for a bit column every bit 0), ``"mask"`` (column & values[0] == 0).
    A file without the column is not screened by the rule (stated in a notice)."""

    column: str
    rule: str
    values: tuple[int, ...] = ()

    def __str__(self) -> str:
        if self.rule == "le":
            return f"{self.column} <= {self.values[0]}"
        if self.rule == "in":
            return f"{self.column} in {','.join(map(str, self.values))}"
        if self.rule == "mask":
            return f"{self.column} & {self.values[0]:#x} = 0"
        return f"{self.column} = 0"

    def keep(self, column):
        """Mask (n,) of the events kept; ``column`` (n,) integers or (n, k) bits/bytes."""
        import numpy as np

        a = np.asarray(column)
        if a.ndim > 1:  # bit (X) or byte columns: every bit zero
            return ~a.reshape(len(a), -1).astype(bool).any(axis=1)
        if self.rule == "le":
            return a <= self.values[0]
        if self.rule == "in":
            return np.isin(a, np.asarray(self.values))
        if self.rule == "mask":
            return (a.astype(np.int64) & int(self.values[0])) == 0
        return a == 0


@dataclass(frozen=True)
class FlareRecipe:
    """A standard background-flare screening: a single-event high-energy light curve of the
    whole field in ``bin_s`` bins; good time where its rate is at most ``max_rate``.

    ``band_ev``: (low, high) [eV] of ``PI``, high None = open; ``pattern_max``: largest
    ``PATTERN`` kept (0: single events); ``flag_zero``: ``FLAG = 0`` only."""

    band_ev: tuple[float, float | None]
    max_rate: float
    bin_s: float = 100.0
    pattern_max: int = 0
    flag_zero: bool = True
    reference: str = ""

    def __str__(self) -> str:
        lo, hi = self.band_ev
        band = f"PI {lo:g}-{hi:g} eV" if hi is not None else f"PI > {lo:g} eV"
        flag = ", FLAG = 0" if self.flag_zero else ""
        return (f"PATTERN <= {self.pattern_max}{flag}, {band}, {self.bin_s:g} s bins, good where "
                f"rate <= {self.max_rate:g} ct/s ({self.reference})")


def _grades(*g: int) -> tuple[int, ...]:
    return tuple(g)


def format_energy(ev: float) -> str:
    """``500 -> "0.5 keV"``, ``1e8 -> "100 MeV"``, ``5 -> "5 eV"``."""
    if ev >= 1e9:
        return f"{ev / 1e9:g} GeV"
    if ev >= 1e6:
        return f"{ev / 1e6:g} MeV"
    if ev >= 10.0:
        return f"{ev / 1e3:g} keV"
    return f"{ev:g} eV"


_CSC = "CSC 2 broad band, Evans et al. 2010, ApJS 189, 37"
_GBM = "GBM, Meegan et al. 2009, ApJ 702, 791"
_XMM_BAND = dict(band_ev=(200.0, 12000.0), band_reference="4XMM bands 1-5, Webb et al. 2020, A&A 641, A136")
_XMM_TIME = dict(mode_keyword="SUBMODE", mjdref=50814.0)
_XMM_Q = "XMM-Newton SAS threads: PATTERN and FLAG == 0 (the strict selection; #XMMEA_EP/EM is looser)"
_XMM_FLARE_REF = ("XMM-Newton SAS threads, 'filter EPIC event files for flaring particle "
                  "background'")
_XMM_FLARE_EXT = r"FLARE.*|.*FLARE"
_XMM_OOT_REF = "XMM-Newton Users Handbook, EPIC readout modes (out-of-time event fractions)"
#: XMM EPIC out-of-time fractions per SUBMODE (Users Handbook): pn full frame 6.3%, extended
#: full frame 2.3%, large window 0.16%, small window 1.1%; timing and burst modes read out
#: continuously (no separate out-of-time events); MOS full frame 0.35%
_PN_OOT = ((r"PrimeFullWindow|FullFrame|FF", 0.063), (r"PrimeFullWindowExtended|ExtendedFullFrame|EFF", 0.023),
           (r"PrimeLargeWindow|LargeWindow|LW", 0.0016), (r"PrimeSmallWindow|SmallWindow|SW", 0.011),
           (r"FastTiming|FastBurst|Timing|Burst", 0.0))
_MOS_OOT = ((r"PrimeFullWindow|FullFrame|FF", 0.0035), (r"Prime.*", 0.0035), (r"Fast.*|Timing", 0.0))
_SWIFT = dict(gain=(10.0, 0.0), band_ev=(300.0, 10000.0), mode_keyword="DATAMODE",
              band_reference="2SXPS total band, Evans et al. 2020, ApJS 247, 54",
              mjdref=51910.00074287037, snapshot_gap_s=600.0,
              quality_reference="Swift XRT user's guide: grades 0-12 (PC), 0-2 (WT)")
_FERMI_MJDREF = 51910.00074287037
MISSIONS: tuple[Mission, ...] = (
    Mission("Chandra", r"CHANDRA|AXAF", r"HRC.*", gain=None, energy_unit="eV",
            no_gain_reason="HRC has almost no energy resolution and no fixed PI gain",
            band_ev=(100.0, 10000.0), band_reference="CSC 2 wide band, Evans et al. 2010, ApJS 189, 37",
            energy_resolution=False, mjdref=50814.0),
    Mission("Chandra", r"CHANDRA|AXAF", gain=(14.6, 0.0), channel_columns=("PI",), energy_unit="eV",
            band_ev=(500.0, 7000.0), band_reference=_CSC, mode_keyword="READMODE", mjdref=50814.0,
            quality=(QualityCut("STATUS", "zero"), QualityCut("GRADE", "in", _grades(0, 2, 3, 4, 6))),
            quality_reference="CIAO level-2 filter: status=0, ASCA grades 0,2,3,4,6",
            out_of_time=((r"TIMED|TE", 0.0128), (r"CONTINUOUS|CC", 0.0)),
            out_of_time_reference="Chandra POG: 40 us per row frame transfer, 1.3% of a 3.2 s "
                                  "full frame (the readout streak); CC mode reads continuously"),
    Mission("XMM-Newton", r"XMM(-NEWTON)?", r"EPN", gain=(1.0, 0.0), energy_unit="eV", **_XMM_BAND,
            **_XMM_TIME, quality=(QualityCut("PATTERN", "le", (4,)), QualityCut("FLAG", "zero")),
            quality_reference=_XMM_Q, flare_extension=_XMM_FLARE_EXT,
            flare_recipe=FlareRecipe((10000.0, 12000.0), 0.4, reference=_XMM_FLARE_REF),
            out_of_time=_PN_OOT, out_of_time_reference=_XMM_OOT_REF),
    Mission("XMM-Newton", r"XMM(-NEWTON)?", r"EMOS[12]", gain=(1.0, 0.0), energy_unit="eV", **_XMM_BAND,
            **_XMM_TIME, quality=(QualityCut("PATTERN", "le", (12,)), QualityCut("FLAG", "zero")),
            quality_reference=_XMM_Q, flare_extension=_XMM_FLARE_EXT,
            flare_recipe=FlareRecipe((10000.0, None), 0.35, reference=_XMM_FLARE_REF),
            out_of_time=_MOS_OOT, out_of_time_reference=_XMM_OOT_REF),
    Mission("XMM-Newton", r"XMM(-NEWTON)?", gain=(1.0, 0.0), energy_unit="eV", **_XMM_BAND, **_XMM_TIME),
    Mission("eROSITA", r"EROSITA|SRG(/EROSITA)?", gain=(1.0, 0.0), energy_unit="eV",
            band_ev=(200.0, 2300.0), band_reference="eRASS1 main band, Merloni et al. 2024, A&A 682, A34",
            mode_keyword="OBS_MODE", mjdref=51543.875, survey_mode=r"SURVEY|SCAN|SLEW",
            quality=(QualityCut("FLAG", "mask", (0xC00FFF30,)),),
            quality_reference="eSASS evtool flag=0xC00FFF30, Merloni et al. 2024",
            flare_extension=r"FLAREGTI.*"),
    Mission("NICER", r"NICER", gain=(10.0, 0.0), imaging="none", mjdref=56658.000777592593,
            flare_note="nicerl2 standard screening is in the GTIs of cleaned (cl) files",
            band_ev=(300.0, 12000.0), band_reference="NICER XTI, Gendreau et al. 2016, SPIE 9905"),
    Mission("NuSTAR", r"NUSTAR", gain=(40.0, 1600.0), mjdref=55197.00076601852,
            band_ev=(3000.0, 79000.0), band_reference="Harrison et al. 2013, ApJ 770, 103"),
    Mission("Swift-XRT", r"SWIFT", r"XRT", mode=r"WINDOWED|WT", imaging="1d", **_SWIFT,
            quality=(QualityCut("GRADE", "le", (2,)),)),
    Mission("Swift-XRT", r"SWIFT", r"XRT", mode=r"PHOTON|PC", **_SWIFT,
            quality=(QualityCut("GRADE", "le", (12,)),)),
    Mission("Swift-XRT", r"SWIFT", r"XRT", **_SWIFT),
    Mission("Einstein Probe WXT", r"EP|EINSTEIN.?PROBE", r"WXT.*", gain=None, energy_unit="keV",
            no_gain_reason="no fixed WXT PI gain is known to serendip; use the ENERGY column or --gain",
            band_ev=(500.0, 4000.0), band_reference="EP WXT, Yuan et al. 2022, Handbook of X-ray and Gamma-ray Astrophysics"),
    Mission("Einstein Probe FXT", r"EP|EINSTEIN.?PROBE", r"FXT.*", gain=None, energy_unit="keV",
            no_gain_reason="no fixed FXT PI gain is known to serendip; use the ENERGY column or --gain",
            band_ev=(300.0, 10000.0), band_reference="EP FXT, Chen et al. 2020, SPIE 11444"),
    Mission("Fermi GBM", r"GLAST|FERMI", r"GBM", detector=r"BGO.*", gain=None, channel_columns=("PHA",),
            no_gain_reason="GBM channels need the file's EBOUNDS extension",
            band_ev=(2.0e5, 4.0e7), band_reference=f"BGO detectors, {_GBM}",
            imaging="none", mjdref=_FERMI_MJDREF, time_origin="TRIGTIME"),
    Mission("Fermi GBM", r"GLAST|FERMI", r"GBM", gain=None, channel_columns=("PHA",),
            no_gain_reason="GBM channels need the file's EBOUNDS extension",
            band_ev=(8.0e3, 1.0e6), band_reference=f"NaI detectors, {_GBM}",
            imaging="none", mjdref=_FERMI_MJDREF, time_origin="TRIGTIME"),
    Mission("Fermi LAT", r"GLAST|FERMI", r"LAT", gain=None, energy_unit="MeV", mjdref=_FERMI_MJDREF,
            band_ev=(1.0e8, 3.0e11), band_reference="LAT, Atwood et al. 2009, ApJ 697, 1071"),
    Mission("Suzaku-XIS", r"SUZAKU|ASTRO-E2", r"XIS.*", gain=(3.65, 0.0), mjdref=51544.0,
            band_ev=(200.0, 12000.0), band_reference="XIS, Koyama et al. 2007, PASJ 59, S23"),
    Mission(
        "RXTE",
        r"XTE|RXTE",
        gain=None,
        channel_columns=("PHA", "PI"),
        no_gain_reason="RXTE/PCA PHA channels have a time- and detector-dependent gain (no fixed eV per channel)",
        band_ev=(2000.0, 60000.0), band_reference="PCA, Jahoda et al. 2006, ApJS 163, 401",
        imaging="none", mjdref=49353.000696574074,
    ),
    Mission(
        "AstroSat",
        r"ASTROSAT",
        gain=None,
        channel_columns=("PI", "PHA", "CHANNEL"),
        energy_unit="keV",
        no_gain_reason="AstroSat channel columns have a detector-dependent gain",
        band_ev=(3000.0, 80000.0), band_reference="LAXPC, Antia et al. 2017, ApJS 231, 10",
        imaging="none", mjdref=55197.0,
    ),
)

#: header keywords that name an instrument mode (each registry row says which one it reads)
MODE_KEYWORDS = ("DATAMODE", "SUBMODE", "READMODE", "OBS_MODE")

UNKNOWN = Mission("unknown", r".*", gain=None, channel_columns=("PI", "PHA"))


def identify_mission(
    telescope: str | None,
    instrument: str | None,
    detector: str | None = None,
    modes: dict[str, str] | None = None,
) -> Mission:
    """The :class:`Mission` matching ``TELESCOP`` / ``INSTRUME`` / ``DETNAM`` (and the mode
    keywords ``modes``, e.g. ``{"DATAMODE": "WINDOWED"}``), or ``UNKNOWN``; first match wins,
    so a mode-specific row comes before the instrument's catch-all row."""
    tel = (telescope or "").strip()
    ins = (instrument or "").strip()
    det = (detector or "").strip()
    modes = {k.upper(): str(v) for k, v in (modes or {}).items() if v is not None}
    for mission in MISSIONS:
        if mission.matches(tel, ins, det, modes.get(mission.mode_keyword.upper())):
            return mission
    return UNKNOWN


def band_table_markdown() -> str:
    """The standard bands of :data:`MISSIONS` as a Markdown table (the README shows it)."""
    lines = ["| mission | INSTRUME | DETNAM | mode | standard band | event screening | reference |",
             "|---|---|---|---|---|---|---|"]
    for m in MISSIONS:
        band = "all energies" if m.band_ev is None else f"{format_energy(m.band_ev[0])} - {format_energy(m.band_ev[1])}"
        ins, det, mode = (p.replace("|", " / ").replace(".*", "*") or "any"
                          for p in (m.instrument, m.detector, m.mode))
        screen = "; ".join(map(str, m.quality)).replace("|", "/") or "none"
        lines.append(f"| {m.name} | {ins} | {det} | {mode} | {band} | {screen} | {m.band_reference} |")
    return "\n".join(lines)


def mission_table():
    """:data:`MISSIONS` as a DataFrame (mission, TELESCOP, INSTRUME, DETNAM patterns, band [eV],
    band reference, gain, mode, imaging, energy resolution, event screening, MJDREF [d], time
    origin keyword): what the docs show."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "mission": m.name,
                "telescop": m.telescope,
                "instrume": m.instrument or "any",
                "detnam": m.detector or "any",
                "band_low_ev": None if m.band_ev is None else m.band_ev[0],
                "band_high_ev": None if m.band_ev is None else m.band_ev[1],
                "band_reference": m.band_reference,
                "gain": "" if m.gain is None else describe_gain(m.gain, m.channel_columns[0]),
                "mode": m.mode or "any",
                "imaging": m.imaging,
                "energy_resolution": m.energy_resolution,
                "quality": m.describe_quality(),
                "flare_screening": m.describe_flares(),
                "out_of_time": "; ".join(f"{p.split('|')[0]} {f:.2%}" for p, f in m.out_of_time),
                "mjdref": m.mjdref,
                "time_origin": m.time_origin,
            }
            for m in MISSIONS
        ]
    )


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
