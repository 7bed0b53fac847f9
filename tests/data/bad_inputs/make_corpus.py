"""Generate the committed corpus of broken inputs other than event files.

Run from the repository root::

    python tests/data/bad_inputs/make_corpus.py

Every file is broken in one way. :data:`EXPECTED` maps its path (relative to this
folder) to ``(reader, error class, fragment of the message)``; the same index is
written to ``expected.toml``. ``tests/hardening/test_corpus.py`` checks that each file
fails in its reader with that error class and a message naming the file and holding
the fragment. The event-file corpus lives in ``tests/data/broken_events``.

Readers (see ``READERS`` in tests/hardening/test_corpus.py):

* ``catalog``      serendip.classify.inputs.read_catalog(path, feature_set="xray")
* ``known``        serendip.catalog.read_known_transients(path)
* ``table``        serendip.io.tables.read_table(path)
* ``lightcurves``  serendip.io.lightcurves.read_lightcurves(path)
* ``run_config``   serendip.pipeline.load_config(path)
* ``classify_config``  serendip.classify.pipeline.load_config(path)
* ``model``        serendip.io.modelfile.load_model(path, kind="corpus.Linear")
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
MODEL_KIND = "corpus.Linear"

#: path -> (reader, error class name, fragment of the message)
EXPECTED: dict[str, tuple[str, str, str]] = {
    # ------------------------------------------------ catalogue tables (CSC properties)
    "tables/catalog_missing_flux.csv": ("catalog", "InputError", "missing X-ray flux column"),
    "tables/catalog_no_name.csv": ("catalog", "InputError", "no source-name column"),
    "tables/catalog_header_only.csv": ("catalog", "InputError", "table has no rows"),
    "tables/catalog_empty.csv": ("catalog", "InputError", "empty file (0 bytes)"),
    "tables/catalog_text_in_flux.csv": (
        "catalog",
        "InputError",
        "column 'flux_aper_m' has 1 non-numeric value(s) (first 'bright'",
    ),
    "tables/catalog_inf_flux.parquet": (
        "catalog",
        "InputError",
        "column 'flux_aper_h' has 2 infinite value(s)",
    ),
    "tables/catalog_missing_names.csv": ("catalog", "InputError", "1 row(s) have no source name"),
    "tables/catalog_dec_out_of_range.csv": ("catalog", "InputError", "'dec' outside [-90, 90]"),
    "tables/catalog_truncated.parquet": ("catalog", "InputError", "cannot be read as parquet"),
    "tables/catalog_not_parquet.parquet": ("catalog", "InputError", "cannot be read as parquet"),
    "tables/catalog_string_flux.parquet": (
        "catalog",
        "InputError",
        "column 'flux_aper_s' has 1 non-numeric value(s) (first '1.2e-14 erg'",
    ),
    "tables/catalog_ragged.csv": ("catalog", "InputError", "cannot be read as csv"),
    "tables/catalog_flux_in_jansky.fits": (
        "catalog",
        "InputError",
        "column 'flux_aper_h' has unit 'Jy', which cannot be converted to erg / (s cm2)",
    ),
    "tables/catalog_unknown_unit.fits": (
        "catalog",
        "InputError",
        "column 'DEC' has unknown unit 'furlong'",
    ),
    "tables/catalog_binary.csv": ("catalog", "InputError", "cannot be read as csv"),
    "tables/catalog.xlsx": ("catalog", "InputError", "unknown table format"),
    "tables/known_no_type.csv": ("known", "InputError", "no type column"),
    "tables/known_bad_json.json": ("known", "InputError", "not valid JSON"),
    "tables/known_wrong_structure.json": ("known", "InputError", "expected a JSON object"),
    "tables/known_empty_ids.csv": ("known", "InputError", "lists no known transients"),
    "tables/known_not_parquet.parquet": ("known", "InputError", "cannot be read as parquet"),
    "tables/table_is_folder.parquet": ("table", "InputError", "is a folder, not a table"),
    # ------------------------------------------------ light curves (ZTF style)
    "lightcurves/missing_mjd.csv": ("lightcurves", "InputError", "column(s) ['time']"),
    "lightcurves/missing_magerr.csv": ("lightcurves", "InputError", "column(s) ['mag_err']"),
    "lightcurves/nan_mag.csv": (
        "lightcurves",
        "InputError",
        "NaN, infinite or non-numeric value in 'magpsf' (2)",
    ),
    "lightcurves/text_in_time.csv": (
        "lightcurves",
        "InputError",
        "NaN, infinite or non-numeric value in 'mjd' (1)",
    ),
    "lightcurves/inf_time.parquet": ("lightcurves", "InputError", "infinite or non-numeric value in 'mjd'"),
    "lightcurves/duplicated_times.csv": ("lightcurves", "InputError", "repeated (object, band, time) observation"),
    "lightcurves/bad_fid.csv": ("lightcurves", "InputError", "band not in"),
    "lightcurves/unknown_band.csv": ("lightcurves", "InputError", "rows bad: band not in"),
    "lightcurves/zero_magerr.csv": ("lightcurves", "InputError", "non-positive error in column 'sigmapsf'"),
    "lightcurves/no_flux_or_mag.csv": ("lightcurves", "InputError", "no flux or mag column"),
    "lightcurves/header_only.csv": ("lightcurves", "InputError", "table has no rows"),
    "lightcurves/missing_object_id.parquet": ("lightcurves", "InputError", "no object id in column"),
    # ------------------------------------------------ configurations
    "configs/run_syntax_error.toml": ("run_config", "ConfigError", "not valid TOML"),
    "configs/run_not_utf8.toml": ("run_config", "ConfigError", "not valid TOML"),
    "configs/run_unknown_key.toml": (
        "run_config",
        "ConfigError",
        "unknown setting input.n_source (did you mean 'n_sources'?)",
    ),
    "configs/run_unknown_section.toml": ("run_config", "ConfigError", "unknown section [plots]; known: input, features"),
    "configs/run_wrong_type.toml": (
        "run_config",
        "ConfigError",
        "wrong type for input.n_sources: must be an integer, got str 'many'",
    ),
    "configs/run_wrong_type_bool.toml": (
        "run_config",
        "ConfigError",
        "wrong type for input.simulate: must be true/false",
    ),
    "configs/run_section_not_table.toml": ("run_config", "ConfigError", "embed must be a table"),
    "configs/run_out_of_range.toml": ("run_config", "ConfigError", "input.known_fraction = 1.5 is out of range: must be within [0, 1]"),
    "configs/run_band_one_value.toml": ("run_config", "ConfigError", "input.band_ev: must be [low, high]"),
    "configs/run_negative_eps.toml": (
        "run_config",
        "ConfigError",
        "cluster.eps = -1.0 is out of range: must be > 0",
    ),
    "configs/run_missing_paths.toml": ("run_config", "ConfigError", "nothing to run on"),
    "configs/run_path_does_not_exist.toml": (
        "run_config",
        "ConfigError",
        "input.paths: no such file or folder 'does/not/exist.fits'",
    ),
    "configs/run_known_missing.toml": (
        "run_config",
        "ConfigError",
        "input.known_transients: no such file",
    ),
    "configs/classify_unknown_section.toml": (
        "classify_config",
        "ConfigError",
        "unknown section [modle]",
    ),
    "configs/classify_unknown_key.toml": (
        "classify_config",
        "ConfigError",
        "unknown setting model.knd (did you mean 'kind'?)",
    ),
    "configs/classify_no_input.toml": (
        "classify_config",
        "ConfigError",
        "needs an [input] section",
    ),
    "configs/classify_wrong_type.toml": (
        "classify_config",
        "ConfigError",
        "wrong type for labels.radius_arcsec",
    ),
    "configs/classify_bad_value.toml": (
        "classify_config",
        "ConfigError",
        "model.calibration = 'platt'",
    ),
    "configs/classify_missing_table.toml": (
        "classify_config",
        "ConfigError",
        "input.path: no such file 'nowhere.csv'",
    ),
    "configs/classify_bad_format.toml": ("classify_config", "ConfigError", "output.formats[0] = 'xlsx': unknown value; allowed: parquet"),
    "configs/classify_syntax_error.toml": ("classify_config", "ConfigError", "not valid TOML"),
    # ------------------------------------------------ model files
    "models/empty.safetensors": ("model", "ModelFileError", "empty file (0 bytes)"),
    "models/truncated.safetensors": ("model", "ModelFileError", "runs past the end of the file"),
    "models/truncated_header.safetensors": (
        "model",
        "ModelFileError",
        "header length 528 runs past the end",
    ),
    "models/header_not_json.safetensors": (
        "model",
        "ModelFileError",
        "header is not valid JSON (corrupted file)",
    ),
    "models/random_bytes.safetensors": ("model", "ModelFileError", "runs past the end"),
    "models/pickle.safetensors": ("model", "ModelFileError", "is a Python pickle"),
    "models/torch_zip.safetensors": ("model", "ModelFileError", "is a zip archive"),
    "models/not_serendip.safetensors": ("model", "ModelFileError", "no serendip metadata"),
    "models/wrong_kind.safetensors": (
        "model",
        "ModelFileError",
        "holds a 'detect.IForest' model, expected 'corpus.Linear'",
    ),
    "models/newer_version.safetensors": ("model", "ModelFileError", "format version 99 is newer"),
    "models/unsigned.safetensors": ("model", "ModelFileError", "no integrity digest"),
    "models/missing_tensor.safetensors": ("model", "ModelFileError", "missing tensor(s) ['bias']"),
    "models/extra_tensor.safetensors": (
        "model",
        "ModelFileError",
        "unexpected tensor(s) ['backdoor']",
    ),
    "models/shape_mismatch.safetensors": ("model", "ModelFileError", "(shape mismatch)"),
    "models/tampered_weights.safetensors": (
        "model",
        "ModelFileError",
        "tensor data do not match their SHA-256 digest",
    ),
    "models/tampered_settings.safetensors": (
        "model",
        "ModelFileError",
        "settings do not match their SHA-256 digest",
    ),
    "models/integrity_malformed.safetensors": (
        "model",
        "ModelFileError",
        "integrity entry is malformed",
    ),
    "models/bad_dtype.safetensors": ("model", "ModelFileError", "unsupported dtype 'C64'"),
}


# ---------------------------------------------------------------- tables
def _catalog(n: int = 6) -> pd.DataFrame:
    """A small valid CSC-like detection table (fluxes [erg cm^-2 s^-1], positions [deg])."""
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "name": [f"2CXO J0042{k:02d}.0+411600" for k in range(n)],
            "ra": np.round(10.5 + rng.random(n) * 0.1, 6),
            "dec": np.round(41.2 + rng.random(n) * 0.1, 6),
            "flux_aper_s": np.round(rng.random(n) * 1e-14, 20),
            "flux_aper_m": np.round(rng.random(n) * 1e-14, 20),
            "flux_aper_h": np.round(rng.random(n) * 1e-14, 20),
            "significance": np.round(3 + rng.random(n) * 10, 3),
        }
    )


def _fits_table(df: pd.DataFrame, path: Path, units: dict[str, str]) -> None:
    """``df`` as a FITS binary table with ``TUNITn`` = ``units`` (positions in deg otherwise)."""
    import warnings

    from astropy.io import fits

    cols = []
    for name in df.columns:
        v = df[name].to_numpy()
        if v.dtype == object:
            cols.append(fits.Column(name, "24A", array=v.astype(str)))
        else:
            unit = units.get(name, "deg" if name.lower() in ("ra", "dec") else None)
            cols.append(fits.Column(name, "D", unit=unit, array=v.astype(np.float64)))
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(buf)
    path.write_bytes(buf.getvalue())


def _tables(out: Path) -> None:
    d = out / "tables"
    d.mkdir(parents=True, exist_ok=True)
    cat = _catalog()
    cat.drop(columns=["flux_aper_m", "flux_aper_h"]).to_csv(
        d / "catalog_missing_flux.csv", index=False
    )
    cat.drop(columns=["name"]).to_csv(d / "catalog_no_name.csv", index=False)
    cat.head(0).to_csv(d / "catalog_header_only.csv", index=False)
    (d / "catalog_empty.csv").write_bytes(b"")
    c = cat.astype({"flux_aper_m": object})
    c.loc[2, "flux_aper_m"] = "bright"
    c.to_csv(d / "catalog_text_in_flux.csv", index=False)
    c = cat.copy()
    c.loc[[1, 4], "flux_aper_h"] = np.inf
    c.to_parquet(d / "catalog_inf_flux.parquet", index=False)
    c = cat.astype({"name": object})
    c.loc[3, "name"] = None
    c.to_csv(d / "catalog_missing_names.csv", index=False)
    c = cat.copy()
    c.loc[0, "dec"] = 123.4
    c.to_csv(d / "catalog_dec_out_of_range.csv", index=False)
    buf = io.BytesIO()
    cat.to_parquet(buf, index=False)
    good = buf.getvalue()
    (d / "catalog_truncated.parquet").write_bytes(good[: len(good) // 2])
    (d / "catalog_not_parquet.parquet").write_text(cat.to_csv(index=False))
    c = cat.astype({"flux_aper_s": str})
    c.loc[5, "flux_aper_s"] = "1.2e-14 erg"
    c.to_parquet(d / "catalog_string_flux.parquet", index=False)
    text = cat.to_csv(index=False).splitlines()
    text[3] += ",1.0,2.0"  # a row with two more fields than the header
    (d / "catalog_ragged.csv").write_text("\n".join(text) + "\n")
    _fits_table(cat, d / "catalog_flux_in_jansky.fits", {"flux_aper_h": "Jy"})
    _fits_table(
        cat.rename(columns={"dec": "DEC"}), d / "catalog_unknown_unit.fits", {"DEC": "furlong"}
    )
    rng = np.random.default_rng(7)
    (d / "catalog_binary.csv").write_bytes(
        b"\x89PNG\r\n\x1a\n" + rng.integers(0, 256, 600, dtype=np.uint8).tobytes()
    )
    (d / "catalog.xlsx").write_bytes(b"PK\x03\x04 not really a spreadsheet")
    pd.DataFrame({"obsreg_id": ["10996_5", "1234_2"]}).to_csv(d / "known_no_type.csv", index=False)
    (d / "known_bad_json.json").write_text('{"Known Flares": ["10996_5", "1234_2"')
    (d / "known_wrong_structure.json").write_text('["10996_5", "1234_2"]')
    pd.DataFrame({"obsreg_id": ["", " "], "type": ["flare", "dip"]}).to_csv(
        d / "known_empty_ids.csv", index=False
    )
    (d / "known_not_parquet.parquet").write_bytes(b"PAR1" + bytes(range(64)))
    folder = d / "table_is_folder.parquet"
    folder.mkdir(exist_ok=True)
    (folder / "README").write_text("a folder named like a table\n")


# ---------------------------------------------------------------- light curves
def _lightcurve() -> pd.DataFrame:
    """A valid ZTF-style long table (alert columns: oid, mjd, fid, magpsf, sigmapsf)."""
    return pd.DataFrame(
        {
            "oid": ["ZTF18aaa"] * 4 + ["ZTF19bbb"] * 3,
            "mjd": [58000.1, 58001.2, 58002.3, 58003.4, 58100.5, 58101.5, 58102.5],
            "fid": [1, 2, 1, 2, 1, 1, 2],
            "magpsf": [18.1, 18.3, 18.0, 18.4, 19.5, 19.6, 19.4],
            "sigmapsf": [0.05, 0.06, 0.05, 0.07, 0.1, 0.1, 0.12],
        }
    )


def _lightcurves(out: Path) -> None:
    d = out / "lightcurves"
    d.mkdir(parents=True, exist_ok=True)
    lc = _lightcurve()
    lc.drop(columns=["mjd"]).to_csv(d / "missing_mjd.csv", index=False)
    lc.drop(columns=["sigmapsf"]).to_csv(d / "missing_magerr.csv", index=False)
    lc.assign(magpsf=[18.1, np.nan, 18.0, 18.4, 19.5, np.nan, 19.4]).to_csv(
        d / "nan_mag.csv", index=False
    )
    c = lc.astype({"mjd": object})
    c.loc[2, "mjd"] = "yesterday"
    c.to_csv(d / "text_in_time.csv", index=False)
    lc.assign(mjd=lc["mjd"].where(lc.index != 4, np.inf)).to_parquet(
        d / "inf_time.parquet", index=False
    )
    pd.concat([lc, lc.iloc[[1]]]).to_csv(d / "duplicated_times.csv", index=False)
    lc.assign(fid=[1, 2, 7, 2, 1, 1, 2]).to_csv(d / "bad_fid.csv", index=False)
    lc.assign(fid=["g", "r", "zz", "r", "g", "g", "r"]).to_csv(d / "unknown_band.csv", index=False)
    lc.assign(sigmapsf=[0.05, 0.0, 0.05, 0.07, 0.1, 0.1, 0.12]).to_csv(
        d / "zero_magerr.csv", index=False
    )
    lc.drop(columns=["magpsf"]).to_csv(d / "no_flux_or_mag.csv", index=False)
    lc.head(0).to_csv(d / "header_only.csv", index=False)
    c = lc.astype({"oid": object})
    c.loc[6, "oid"] = None
    c.to_parquet(d / "missing_object_id.parquet", index=False)


# ---------------------------------------------------------------- configurations
CONFIGS = {
    "run_syntax_error.toml": "[input\nsimulate = true\n",
    "run_unknown_key.toml": "[input]\nn_source = 500\n",
    "run_unknown_section.toml": "[plots]\ndpi = 100\n",
    "run_wrong_type.toml": '[input]\nn_sources = "many"\n',
    "run_wrong_type_bool.toml": '[input]\nsimulate = "yes"\n',
    "run_section_not_table.toml": 'embed = "tsne"\n',
    "run_out_of_range.toml": "[input]\nknown_fraction = 1.5\n",
    "run_band_one_value.toml": "[input]\nband_ev = [500.0]\n",
    "run_negative_eps.toml": "[cluster]\neps = -1.0\n",
    "run_missing_paths.toml": "[input]\nsimulate = false\n",
    "run_path_does_not_exist.toml": (
        '[input]\nsimulate = false\npaths = ["does/not/exist.fits"]\n'
    ),
    "run_known_missing.toml": (
        '[input]\nsimulate = false\npaths = ["."]\nknown_transients = "no/such/known.json"\n'
    ),
    "classify_unknown_section.toml": '[input]\npath = "x.csv"\n[modle]\nkind = "boost"\n',
    "classify_unknown_key.toml": '[input]\npath = "x.csv"\n[model]\nknd = "boost"\n',
    "classify_no_input.toml": '[model]\nkind = "shipped"\n',
    "classify_wrong_type.toml": '[input]\npath = "x.csv"\n[labels]\nradius_arcsec = "1"\n',
    "classify_bad_value.toml": (
        '[input]\npath = "x.csv"\n[model]\nkind = "boost"\ncalibration = "platt"\n'
    ),
    "classify_missing_table.toml": '[input]\npath = "nowhere.csv"\n',
    "classify_bad_format.toml": '[input]\npath = "x.csv"\n[output]\nformats = ["xlsx"]\n',
    "classify_syntax_error.toml": '[input]\npath = "x.csv\n',
}


def _configs(out: Path) -> None:
    d = out / "configs"
    d.mkdir(parents=True, exist_ok=True)
    for name, text in CONFIGS.items():
        (d / name).write_text(text)
    (d / "run_not_utf8.toml").write_bytes(b"[input]\nseed = 1 # \xff\xfe caf\xe9\n")
    # the table the classify configs point at (valid; the configs are what is broken)
    _catalog().to_csv(d / "x.csv", index=False)


# ---------------------------------------------------------------- model files
def _model_arrays() -> dict[str, np.ndarray]:
    return {
        "weight": np.arange(12, dtype=np.float32).reshape(3, 4) / 10,
        "bias": np.array([0.5, -0.5, 0.25], dtype=np.float64),
    }


def _encode(tensors: dict[str, np.ndarray], meta: dict[str, str] | None) -> bytes:
    """safetensors bytes with sorted metadata (deterministic), as serendip writes them."""
    from serendip.io.modelfile import _safetensors_bytes

    return _safetensors_bytes(tensors, meta or {})


def _split(data: bytes) -> tuple[dict, bytes]:
    n = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _join(header: dict, payload: bytes) -> bytes:
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return len(h).to_bytes(8, "little") + h + payload


def _signed(tmp: Path, kind: str = MODEL_KIND, arrays=None, settings=None) -> bytes:
    from serendip.io.modelfile import save_model

    p = tmp / "_signed.safetensors"
    save_model(p, kind, _model_arrays() if arrays is None else arrays, settings or {"alpha": 1.0})
    data = p.read_bytes()
    p.unlink()
    return data


def _models(out: Path) -> None:
    d = out / "models"
    d.mkdir(parents=True, exist_ok=True)
    good = _signed(d)
    header, payload = _split(good)
    meta = header["__metadata__"]
    (d / "empty.safetensors").write_bytes(b"")
    (d / "truncated.safetensors").write_bytes(good[: len(good) - 20])
    (d / "truncated_header.safetensors").write_bytes(good[:200])
    broken = bytearray(good)
    broken[8:12] = b"#!{["
    (d / "header_not_json.safetensors").write_bytes(bytes(broken))
    rng = np.random.default_rng(11)
    (d / "random_bytes.safetensors").write_bytes(rng.integers(0, 256, 512, np.uint8).tobytes())
    # a real (harmless) pickle: a pickle can call any function when loaded, so serendip
    # must recognise it without ever unpickling it
    evil = pickle.dumps({"weight": [0.1, 0.2, 0.3], "bias": 0.5}, protocol=4)
    (d / "pickle.safetensors").write_bytes(evil)
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        info = zipfile.ZipInfo("archive/data.pkl", date_time=(2020, 1, 1, 0, 0, 0))
        z.writestr(info, pickle.dumps({"weight": [1, 2, 3]}, protocol=4))
    (d / "torch_zip.safetensors").write_bytes(zbuf.getvalue())
    (d / "not_serendip.safetensors").write_bytes(_encode(_model_arrays(), None))
    (d / "wrong_kind.safetensors").write_bytes(_signed(d, kind="detect.IForest"))
    h = {**header, "__metadata__": dict(meta)}
    s = json.loads(meta["serendip"])
    s["format_version"] = 99
    text = json.dumps(s)
    integ = json.loads(meta["serendip_integrity"])
    import hashlib

    integ["settings"] = hashlib.sha256(text.encode()).hexdigest()
    h["__metadata__"] = {"serendip": text, "serendip_integrity": json.dumps(integ)}
    (d / "newer_version.safetensors").write_bytes(_join(h, payload))
    (d / "unsigned.safetensors").write_bytes(
        _encode(_model_arrays(), {"serendip": meta["serendip"]})
    )
    arrays = _model_arrays()
    del arrays["bias"]
    (d / "missing_tensor.safetensors").write_bytes(_encode(arrays, meta))
    arrays = {**_model_arrays(), "backdoor": np.ones(4, dtype=np.float32)}
    (d / "extra_tensor.safetensors").write_bytes(_encode(arrays, meta))
    arrays = {**_model_arrays(), "weight": np.zeros((4, 3), dtype=np.float32)}
    (d / "shape_mismatch.safetensors").write_bytes(_encode(arrays, meta))
    arrays = _model_arrays()
    arrays["weight"][1, 2] += 1.0  # one weight changed, same shape and dtype
    (d / "tampered_weights.safetensors").write_bytes(_encode(arrays, meta))
    s = json.loads(meta["serendip"])
    s["settings"]["alpha"] = 1000.0
    h = {**header, "__metadata__": {**meta, "serendip": json.dumps(s)}}
    (d / "tampered_settings.safetensors").write_bytes(_join(h, payload))
    h = {**header, "__metadata__": {**meta, "serendip_integrity": "{not json"}}
    (d / "integrity_malformed.safetensors").write_bytes(_join(h, payload))
    h = json.loads(json.dumps(header))
    h["bias"]["dtype"] = "C64"
    (d / "bad_dtype.safetensors").write_bytes(_join(h, payload))


def make_corpus(out: Path = HERE) -> list[Path]:
    """Write every corpus file under ``out`` and ``out/expected.toml``; returns the paths."""
    import tomli_w

    out = Path(out)
    _tables(out)
    _lightcurves(out)
    _configs(out)
    _models(out)
    index = {
        "files": {
            name: {"reader": r, "error": e, "message": m}
            for name, (r, e, m) in sorted(EXPECTED.items())
        }
    }
    (out / "expected.toml").write_text(
        "# broken input -> reader, error class, fragment of the message "
        "(generated by make_corpus.py)\n" + tomli_w.dumps(index)
    )
    return [out / name for name in EXPECTED]


if __name__ == "__main__":
    paths = make_corpus()
    print(f"wrote {len(paths)} broken inputs under {HERE}")
