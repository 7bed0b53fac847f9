"""What each survey's light-curve table means: one registry of formats, read as data.

A light-curve table is recognised by the columns it has (:data:`LC_FORMATS`, checked in
order; the first whose signature is present wins, ``plain`` last). The format says what the
flux is (``difference`` flux on a difference image, or ``total`` flux of the object), its
unit and zero point, the photometric system, which column holds the limiting magnitude of
a non-detection, which columns make a calibration group (ZTF field, CCD quadrant and
filter), which quality cuts are applied, and whether forced photometry gets a baseline per
calibration group (:mod:`serendip.io.lc_baseline`). The column *names* are matched through
the one alias table, :data:`serendip.io.lightcurves.COLUMN_ALIASES`.

Times become MJD through :data:`TIME_CONVENTIONS` (by the name of the time column) or, for
Kepler/K2/TESS FITS light curves, through the ``BJDREFI + BJDREFF`` header keywords:
``MJD = TIME + BJDREFI + BJDREFF - 2400000.5`` (BKJD = BJD - 2454833, BTJD = BJD - 2457000).
Barycentric (BJD/HJD) times stay barycentric, only their origin moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: MJD = value + offset [days], by the lower-cased name of the time column
TIME_CONVENTIONS: dict[str, tuple[float, str]] = {
    "mjd": (0.0, "MJD"),
    "obsmjd": (0.0, "MJD"),
    "mjd_obs": (0.0, "MJD"),
    "time": (0.0, "MJD (as given)"),
    "t": (0.0, "MJD (as given)"),
    "midpointmjdtai": (0.0, "MJD (TAI; 37 s from UTC, not corrected)"),
    "midpointtai": (0.0, "MJD (TAI; 37 s from UTC, not corrected)"),
    "jd": (-2400000.5, "JD - 2400000.5"),
    "hjd": (-2400000.5, "heliocentric JD - 2400000.5 (stays heliocentric)"),
    "bjd": (-2400000.5, "barycentric JD - 2400000.5 (stays barycentric)"),
    "rjd": (-0.5, "reduced JD (JD - 2400000) - 0.5"),
    "bkjd": (2454833.0 - 2400000.5, "Kepler BKJD = BJD - 2454833, + 54832.5"),
    "btjd": (2457000.0 - 2400000.5, "TESS BTJD = BJD - 2457000, + 56999.5"),
}

#: A_band / E(B-V) for R_V = 3.1 (Schlafly & Finkbeiner 2011, Table 6: SDSS ugriz, Landolt
#: UBVRI, PS1 y; ZTF g/r/i take the SDSS values). A band not listed is not corrected (counted).
EXTINCTION_R: dict[str, float] = {
    "u": 4.239, "g": 3.303, "r": 2.285, "i": 1.698, "z": 1.263, "y": 1.077,
    "U": 4.334, "B": 3.626, "V": 2.742, "R": 2.169, "I": 1.505,
}  # fmt: skip


@dataclass(frozen=True)
class QualityCut:
    """Drop the rows where ``column`` is bad: ``rule`` is ``"nonzero"`` (any value but 0),
    ``"true"`` (a true flag) or ``"ge:<n>"`` (value >= n)."""

    column: str
    rule: str
    meaning: str


@dataclass(frozen=True)
class LightCurveFormat:
    """One survey's light-curve table (an entry of :data:`LC_FORMATS`)."""

    name: str
    description: str
    #: alternatives; each a tuple of lower-cased columns that must all be present
    signature: tuple[tuple[str, ...], ...]
    flux_type: str  # "difference" or "total"
    #: unit of the value column: "uJy", "nJy", "DN" (counts with a zero-point column),
    #: "mag" (magnitudes, converted to flux only for difference photometry or when asked),
    #: "e-/s" (Kepler/TESS, not absolutely calibrated), "" (unknown linear unit)
    unit: str
    mag_system: str  # "AB", "Vega", "instrumental", "AB (assumed)"
    zeropoint_column: str | None = None
    sign_column: str | None = None  # ZTF isdiffpos: sign of a difference magnitude
    limit_column: str | None = None  # limiting magnitude of a non-detection [mag]
    calib_columns: tuple[str, ...] = ()
    quality: tuple[QualityCut, ...] = ()
    baseline: bool = False  # forced photometry: subtract a baseline per calibration group
    default_band: str | None = None
    #: value aliases this format prefers (lower-cased), before the general alias table
    prefer: dict[str, tuple[str, ...]] = field(default_factory=dict)


LC_FORMATS: tuple[LightCurveFormat, ...] = (
    LightCurveFormat(
        "ztf_fpbot",
        "ZTF forced photometry from fpbot / ztfparsnip (`*_bl.csv`): ampl, ampl.err in DN "
        "at zero point magzp; the raw amplitude is used and a baseline is fitted here",
        (("ampl", "ampl.err", "magzp"),),
        "difference", "DN", "AB", zeropoint_column="magzp", limit_column="maglim",
        calib_columns=("fieldid", "ccdid", "qid", "filterid"),
        quality=(
            QualityCut("infobits", "ge:33554432", "IPAC infobits >= 2^25 (bad image)"),
            QualityCut("cloudy", "nonzero", "fpbot cloudy flag"),
        ),
        baseline=True, prefer={"flux": ("ampl",), "flux_err": ("ampl.err",)},
    ),
    LightCurveFormat(
        "ztf_fpbot_corrected",
        "ZTF forced photometry already baseline-corrected by its producer (ampl_corr, "
        "ampl_err_corr at zero point magzp, no raw ampl): used as it is",
        (("ampl_corr", "ampl_err_corr", "magzp"),),
        "difference", "DN", "AB", zeropoint_column="magzp", limit_column="maglim",
        calib_columns=("fieldid", "ccdid", "qid", "filterid"),
        prefer={"flux": ("ampl_corr",), "flux_err": ("ampl_err_corr",)},
    ),
    LightCurveFormat(
        "ztf_fps",
        "ZTF forced photometry from the IPAC service (forcediffimflux, forcediffimfluxunc "
        "in DN at zero point zpdiff, jd)",
        (("forcediffimflux", "forcediffimfluxunc", "zpdiff"),),
        "difference", "DN", "AB", zeropoint_column="zpdiff", limit_column="diffmaglim",
        calib_columns=("field", "ccdid", "qid", "filter"),
        quality=(
            QualityCut("infobitssci", "ge:33554432", "IPAC infobitssci >= 2^25 (bad image)"),
            QualityCut("procstatus", "nonzero", "IPAC procstatus not 0"),
        ),
        baseline=True,
    ),
    LightCurveFormat(
        "atlas_fp",
        "ATLAS forced photometry (MJD, m, dm, uJy, duJy, F, err, chi/N, mag5sig, Obs): "
        "difference flux in microJansky",
        (("ujy", "dujy", "f"),),
        "difference", "uJy", "AB", limit_column="mag5sig", calib_columns=("f", "obs"),
        quality=(QualityCut("err", "nonzero", "ATLAS err flag not 0"),),
        baseline=True, prefer={"flux": ("ujy",), "flux_err": ("dujy",)},
    ),
    LightCurveFormat(
        "rubin_dia",
        "Rubin/LSST DiaSource (diaObjectId, midpointMjdTai, psfFlux, psfFluxErr [nJy], band)",
        (("diaobjectid", "psfflux", "psffluxerr"),),
        "difference", "nJy", "AB", calib_columns=("band",),
    ),
    LightCurveFormat(
        "ztf_alert",
        "ZTF alerts / ALeRCE detections (objectId, mjd|jd, fid, magpsf, sigmapsf, isdiffpos) "
        "and non-detections (diffmaglim only: upper limits): difference magnitudes, signed by "
        "isdiffpos, turned into difference flux",
        (("magpsf", "fid"), ("diffmaglim", "fid")),
        "difference", "mag", "AB", sign_column="isdiffpos", limit_column="diffmaglim",
        calib_columns=("field", "rcid", "fid"),
        prefer={"mag": ("magpsf",), "mag_err": ("sigmapsf",)},
    ),
    LightCurveFormat(
        "kepler",
        "Kepler/K2 light-curve FITS (TIME [BKJD], PDCSAP_FLUX, PDCSAP_FLUX_ERR [e-/s], "
        "SAP_QUALITY)",
        (("pdcsap_flux", "sap_quality"),),
        "total", "e-/s", "instrumental", quality=(QualityCut("sap_quality", "nonzero",
        "Kepler SAP_QUALITY bit set"),), default_band="Kp",
        prefer={"flux": ("pdcsap_flux",), "flux_err": ("pdcsap_flux_err",)},
    ),  # fmt: skip
    LightCurveFormat(
        "tess",
        "TESS light-curve FITS (TIME [BTJD], PDCSAP_FLUX, PDCSAP_FLUX_ERR [e-/s], QUALITY)",
        (("pdcsap_flux", "quality"),),
        "total", "e-/s", "instrumental",
        quality=(QualityCut("quality", "nonzero", "TESS QUALITY bit set"),), default_band="T",
        prefer={"flux": ("pdcsap_flux",), "flux_err": ("pdcsap_flux_err",)},
    ),  # fmt: skip
    LightCurveFormat(
        "crts",
        "Catalina (CRTS) export (MasterID|ID, Mag, Magerr, RA, Dec, MJD, Blend): unfiltered "
        "magnitudes calibrated to Johnson V (Vega)",
        (("masterid", "mag", "magerr"), ("blend", "mag", "magerr")),
        "total", "mag", "Vega", default_band="V",
        quality=(QualityCut("blend", "nonzero", "CRTS blend flag set"),),
    ),
    LightCurveFormat(
        "plain",
        "any table with id, time, mag|flux, err[, band] (the alias table); magnitudes are taken "
        "as AB when turned into microJansky",
        ((),),
        "total", "", "AB (assumed)",
    ),
)

#: format name -> format
FORMATS_BY_NAME: dict[str, LightCurveFormat] = {f.name: f for f in LC_FORMATS}


def detect_format(columns, hint: str | None = None) -> LightCurveFormat:
    """The format of a table with these column names (case-insensitive), or ``hint``'s.

    Raises ``KeyError`` for an unknown ``hint``.
    """
    if hint is not None:
        return FORMATS_BY_NAME[hint]
    low = {str(c).strip().lstrip("#").strip().lower() for c in columns}
    for fmt in LC_FORMATS:
        if any(set(sig) <= low for sig in fmt.signature):
            return fmt
    return FORMATS_BY_NAME["plain"]


def formats_markdown() -> str:
    """Markdown table of :data:`LC_FORMATS` (what the documentation shows)."""
    rows = [
        "| format | recognised by | flux | unit | system | limits | calibration group | "
        "quality cuts | baseline |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f in LC_FORMATS:
        sig = " or ".join("+".join(s) for s in f.signature if s) or "(fallback)"
        cuts = "; ".join(f"{q.column}: {q.meaning}" for q in f.quality) or "-"
        rows.append(
            f"| `{f.name}` | {sig} | {f.flux_type} | {f.unit or 'as given'} | {f.mag_system} "
            f"| {f.limit_column or '-'} | {', '.join(f.calib_columns) or '-'} | {cuts} | "
            f"{'per group' if f.baseline else '-'} |"
        )
    return "\n".join(rows)


def time_conventions_markdown() -> str:
    """Markdown table of :data:`TIME_CONVENTIONS`."""
    rows = ["| time column | MJD = value + | meaning |", "|---|---|---|"]
    rows += [f"| `{k}` | {off:+.1f} | {why} |" for k, (off, why) in TIME_CONVENTIONS.items()]
    return "\n".join(rows)
