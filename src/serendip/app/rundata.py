"""Everything the explorer shows, loaded once from a run directory.

A *pipeline* run directory (``serendip run`` / ``serendip demo``) holds ``embedding.parquet``,
``candidates.parquet`` and ``files.parquet`` (required) and, optionally,
``clusters.parquet``, ``known_transients.csv``, ``sources.parquet`` (the simulation's truth),
``stages/features/features.parquet``, ``stages/represent/event_features.parquet`` and
``events.parquet``. Classification results of ``serendip classify --out DIR``
(``detections.parquet`` + ``sources.parquet``) are read from ``RUN_DIR/classify/`` or
``RUN_DIR/classification/`` (kind "both"), or from ``RUN_DIR`` itself when it holds no
pipeline run (kind "classification": the points are the classified detections, placed by
two hardness ratios).

Every table is aligned to one row order (the embedding's, or the detections'), with an
``obsreg_id -> row`` index; all per-source arrays are numpy columns (no per-row Python
work). Events are read lazily in a background thread started by :meth:`RunData.start_loading`.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.tables import read_table
from serendip.layout import RunLayout

#: numeric properties offered for colouring (when present), besides score and anomaly_score
COLOUR_PROPERTIES = (
    "n_events",
    "rate",
    "hard_hm",
    "hard_ms",
    "burst_sig",
    "excess_variance",
)
CLASSIFY_DIRS = ("classify", "classification")
#: the candidate score's terms: (column, name, meaning); score = the largest
SCORE_TERMS = (
    ("anomaly_percentile", "anomaly", "fraction of sources with an anomaly score at or below"),
    ("nn_score", "analog of a known transient", "1 - 0.02 r / (k + 1) for the r-th neighbour"),
    ("cluster_score", "cluster of known flares/dips", "0.95 + 0.05 x anomaly percentile"),
    ("significance_score", "burst", "percentile of the burst scan statistic burst_sig when >= 3"),
)
LABEL_BASE = ("interesting", "not interesting", "artefact")
ET_T_BINS, ET_E_BINS = 24, 16
BAND_EV = (500.0, 7000.0)


def _read(path: Path, what: str, columns: list[str] | None = None) -> pd.DataFrame:
    """read_table with an explanation of what the file is for."""
    try:
        df = read_table(path, columns=columns)
    except InputError as exc:
        raise InputError(path, f"{what} cannot be used: {exc.problem}") from exc
    if "obsreg_id" in df.columns:
        df["obsreg_id"] = df["obsreg_id"].astype(str)
    return df


def _schema(path: Path, what: str, required: list[str] | None = None) -> list[str]:
    """Column names of a Parquet table (metadata only); InputError when unreadable or lacking ``required``."""
    import pyarrow.parquet as pq

    try:
        names = list(pq.read_schema(path).names)
    except Exception as exc:  # noqa: BLE001 - any reader failure becomes a clear InputError
        raise InputError(
            path, f"{what} cannot be read as Parquet: {type(exc).__name__}: {exc}"
        ) from exc
    missing = [c for c in required or [] if c not in names]
    if missing:
        raise InputError(path, f"malformed {what}: no {missing[0]!r} column; found {names[:20]}")
    return names


def _align(df: pd.DataFrame, index: pd.Index, path: Path, *, strict: bool) -> pd.DataFrame:
    """Rows of ``df`` in the order of ``index`` (by obsreg_id), (len(index),) rows.

    Sources ``df`` lacks raise an InputError if ``strict``, else get NaN / None.
    """
    if "obsreg_id" not in df.columns:
        raise InputError(path, f"has no obsreg_id column; found {list(df.columns)[:20]}")
    ids = pd.Index(df["obsreg_id"].to_numpy(dtype=object))
    if not ids.is_unique:
        raise InputError(path, f"obsreg_id {ids[ids.duplicated()][0]!r} appears more than once")
    if ids.equals(index):  # already in the run's order
        return df.reset_index(drop=True)
    pos = ids.get_indexer(index)
    absent = pos < 0
    if strict and absent.any():
        raise InputError(
            path,
            f"lacks {int(absent.sum())} of the run's sources (e.g. {index[absent][0]!r}); "
            "the run directory is inconsistent: rerun `serendip run`",
        )
    if not absent.any():
        return df.iloc[pos].reset_index(drop=True)
    cols = {}
    for c in df.columns:  # one pass per column, not per row
        if c == "obsreg_id":
            cols[c] = np.asarray(index, dtype=object)
        elif pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]):
            v = df[c].to_numpy(np.float64)
            cols[c] = np.where(absent, np.nan, v[np.where(absent, 0, pos)] if len(v) else np.nan)
        else:
            v = df[c].to_numpy(dtype=object)
            out = np.full(len(index), None, dtype=object)
            out[~absent] = v[pos[~absent]]
            cols[c] = out
    return pd.DataFrame(cols)


class RunData:
    """The tables of one run directory, aligned to one source order.

    Attributes
    ----------
    run_dir : the directory.
    kind : "pipeline", "classification" or "both".
    ids : (n,) str obsreg_id of every source (the embedding's order).
    index : pandas Index over ``ids`` (``index.get_indexer`` maps ids to rows).
    x, y : (n,) float64 embedding coordinates.
    cluster : (n,) int64 cluster label (0 = noise).
    known_type : (n,) object, "" when not a known transient.
    score, rank : (n,) static candidate score (higher = more interesting) and rank (1 = best).
    candidates : DataFrame aligned to ``ids`` (the candidate catalogue row of every source).
    files, event_features, truth, classes : aligned DataFrames or None.
    features : (n, d) float64 feature matrix (standardised copy in ``features_std``, the space
        of the analog search).
    """

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.layout = RunLayout(self.run_dir)  # the run's file names (serendip.layout)
        if not self.run_dir.is_dir():
            raise InputError(self.run_dir, "no such run directory")
        d = self.run_dir
        self.class_dir = next(
            (d / s for s in CLASSIFY_DIRS if (d / s / "detections.parquet").is_file()), None
        )
        has_pipeline = self.layout.embedding.is_file()
        if not has_pipeline and self.class_dir is None and (d / "detections.parquet").is_file():
            self.class_dir = d
        if not has_pipeline and self.class_dir is None:
            raise InputError(
                d,
                "not a serendip run directory: embedding.parquet missing; run `serendip run` "
                "first (or `serendip classify --out DIR` for classification results)",
            )
        self.kind = (
            "both"
            if has_pipeline and self.class_dir
            else "pipeline"
            if has_pipeline
            else "classification"
        )
        self._events = None
        self._events_error: InputError | None = None
        self._events_done = threading.Event()
        self._gtis: dict | None = None
        self._sky: tuple | None = None
        self._event_columns: list[str] | None = None
        self._row_index = None  # see _file_index (read once, for the direct event reads)
        self._row_index_lock = threading.Lock()
        self._details_error: InputError | None = None
        self._details_done = threading.Event()
        self._loader: threading.Thread | None = None
        self.files = self.event_features = self.truth = self.classes = None
        self.detections = self.class_sources = None
        self._truth_label = None
        self.class_names: list[str] = []
        if has_pipeline:
            self._load_pipeline()
        else:
            self._load_classification_only()
            self._build_knn()
            self._details_done.set()
        if self.class_dir is not None and has_pipeline:
            self._load_classification_joined()

    # ---------------------------------------------------------------- loading
    def _load_pipeline(self) -> None:
        """What the points need, read now; the wide tables are checked here (schema only)
        and read by :meth:`_load_details` in the background."""
        L = self.layout
        epath = L.embedding
        emb = _read(epath, "the embedding", ["obsreg_id", "x", "y"])
        if len(emb) == 0:
            raise InputError(epath, "has no rows")
        self.ids = emb["obsreg_id"].to_numpy(dtype=object)
        self.index = pd.Index(self.ids)
        if not self.index.is_unique:
            raise InputError(epath, "obsreg_id values are not unique")
        self.x = emb["x"].to_numpy(np.float64)
        self.y = emb["y"].to_numpy(np.float64)
        n = len(self.ids)
        cpath = L.candidates
        if not cpath.is_file():
            raise InputError(
                cpath, "missing: the candidate catalogue is needed; rerun `serendip run`"
            )
        cnames = _schema(cpath, "the candidate catalogue", ["obsreg_id", "rank", "score"])
        wanted = ["obsreg_id", "rank", "score", "anomaly_score", "reasons", "cluster", "ra", "dec"]
        wanted += [c for c in COLOUR_PROPERTIES if c not in wanted]
        cand = _read(cpath, "the candidate catalogue", [c for c in wanted if c in cnames])
        self.candidates = _align(cand, self.index, cpath, strict=True)
        self.score = self.candidates["score"].to_numpy(np.float64)
        self.rank = self.candidates["rank"].to_numpy(np.int64)
        self.anomaly_score = (
            self.candidates["anomaly_score"].to_numpy(np.float64)
            if "anomaly_score" in self.candidates
            else self.score
        )
        self.reasons = (
            self.candidates["reasons"].fillna("").astype(str).to_numpy(dtype=object)
            if "reasons" in self.candidates
            else np.full(n, "", dtype=object)
        )
        fpath = L.files
        if not fpath.is_file():
            raise InputError(fpath, "missing: the per-file table is needed; rerun `serendip run`")
        self._files_columns = _schema(fpath, "the per-file table", ["obsreg_id"])
        clpath = L.clusters
        if clpath.is_file():
            cl = _read(clpath, "the cluster labels", ["obsreg_id", "cluster"])
            self.cluster = _align(cl, self.index, clpath, strict=True)["cluster"].to_numpy(np.int64)
        elif "cluster" in self.candidates:
            self.cluster = self.candidates["cluster"].fillna(0).to_numpy(np.int64)
        else:
            self.cluster = np.zeros(n, np.int64)
        kt = np.full(n, "", dtype=object)
        kpath = L.known
        if kpath.is_file():
            known = _read(kpath, "the known-transient list")
            if len(known):
                if "type" not in known.columns or "obsreg_id" not in known.columns:
                    raise InputError(kpath, "needs columns obsreg_id and type")
                known = known.drop_duplicates("obsreg_id", keep="first")
                pos = self.index.get_indexer(known["obsreg_id"].to_numpy(dtype=object))
                ok = pos >= 0
                kt[pos[ok]] = known["type"].fillna("").astype(str).to_numpy(dtype=object)[ok]
        self.known_type = kt
        spath = L.sources
        if spath.is_file() and {"obsreg_id", "label"} <= set(
            _schema(spath, "the simulation truth")
        ):
            lab = _align(
                _read(spath, "the simulation truth", ["obsreg_id", "label"]),
                self.index,
                spath,
                strict=False,
            )
            self._truth_label = lab["label"].fillna("").astype(str).to_numpy(dtype=object)
        self._detail_paths = {
            "candidates": cpath,
            "files": fpath,
            "event_features": L.event_features,
            "truth": spath if self._truth_label is not None else None,
            "features": L.features,
        }
        for key in ("event_features", "features"):
            if self._detail_paths[key].is_file():
                _schema(self._detail_paths[key], f"the {key.replace('_', ' ')}", ["obsreg_id"])

    def _load_details(self) -> None:
        """The wide per-source tables and the standardised feature matrix (background)."""
        p = self._detail_paths
        cand = _align(
            _read(p["candidates"], "the candidate catalogue"),
            self.index,
            p["candidates"],
            strict=True,
        )
        files = _align(
            _read(p["files"], "the per-file table"), self.index, p["files"], strict=False
        )
        ef = None
        if p["event_features"].is_file():
            ef = _read(p["event_features"], "the event features")
            ef = _align(ef, self.index, p["event_features"], strict=False)
        truth = None
        if p["truth"] is not None:
            truth = _align(
                _read(p["truth"], "the simulation truth"), self.index, p["truth"], strict=False
            )
        if p["features"].is_file():
            feats = _align(
                _read(p["features"], "the feature table"), self.index, p["features"], strict=True
            )
            X = feats.drop(columns=["obsreg_id"]).select_dtypes("number").to_numpy(np.float64)
        elif ef is not None:
            X = ef.drop(columns=["obsreg_id"]).select_dtypes("number").to_numpy(np.float64)
        else:
            X = np.stack([self.x, self.y], axis=1)
        self.features = X
        self._build_knn()
        self.files, self.event_features, self.truth = files, ef, truth
        self.candidates = cand

    def _read_classification(self) -> None:
        cdir = self.class_dir
        dpath = cdir / "detections.parquet"
        det = _read(dpath, "the classified detections")
        for col in ("class", "p_class"):
            if col not in det.columns:
                raise InputError(dpath, f"malformed classification table: no {col!r} column")
        self.class_names = [c[2:] for c in det.columns if c.startswith("p_") and c != "p_class"]
        if "obsreg_id" not in det.columns:
            if {"obsid", "region_id"} <= set(det.columns):
                det["obsreg_id"] = det["obsid"].astype(str) + "_" + det["region_id"].astype(str)
            else:
                det["obsreg_id"] = np.arange(len(det)).astype(str)
        if "name" in det.columns:
            det["n_det"] = det.groupby("name")["name"].transform("size").to_numpy(np.int64)
        else:
            det["n_det"] = 1
        self.detections = det
        spath = cdir / "sources.parquet"
        if spath.is_file():
            self.class_sources = _read(spath, "the classified sources")

    def _load_classification_joined(self) -> None:
        self._read_classification()
        det = self.detections.drop_duplicates("obsreg_id", keep="first")
        cols = ["obsreg_id", "class", "p_class"] + [f"p_{c}" for c in self.class_names]
        self.classes = _align(
            det[cols], self.index, self.class_dir / "detections.parquet", strict=False
        )

    def _load_classification_only(self) -> None:
        self._read_classification()
        det = self.detections
        dpath = self.class_dir / "detections.parquet"
        if det["obsreg_id"].duplicated().any():
            det = det.assign(
                obsreg_id=det["obsreg_id"] + "#" + det.groupby("obsreg_id").cumcount().astype(str)
            )
            det["obsreg_id"] = det["obsreg_id"].str.replace("#0$", "", regex=True)
            self.detections = det
        self.ids = det["obsreg_id"].to_numpy(dtype=object)
        self.index = pd.Index(self.ids)
        n = len(det)
        if n == 0:
            raise InputError(dpath, "has no rows")
        xcol, ycol = next(
            ((a, b) for a, b in (("hr_hm", "hr_ms"), ("hard_hm", "hard_ms")) if {a, b} <= set(det)),
            (None, None),
        )
        num = det.select_dtypes("number")
        if xcol is None:
            if num.shape[1] < 2:
                raise InputError(dpath, "needs two numeric columns to place the detections")
            xcol, ycol = num.columns[:2]
        self.x = det[xcol].to_numpy(np.float64)
        self.y = det[ycol].to_numpy(np.float64)
        self.score = det["p_class"].to_numpy(np.float64)
        order = np.lexsort((self.ids.astype(str), -np.nan_to_num(self.score, nan=-1)))
        self.rank = np.empty(n, np.int64)
        self.rank[order] = np.arange(1, n + 1)
        self.anomaly_score = self.score
        self.reasons = ("class " + det["class"].astype(str)).to_numpy(dtype=object)
        self.cluster = (
            det["cluster"].to_numpy(np.int64) if "cluster" in det else np.zeros(n, np.int64)
        )
        self.known_type = np.full(n, "", dtype=object)
        self.candidates = det.reset_index(drop=True)
        cols = ["obsreg_id", "class", "p_class"] + [f"p_{c}" for c in self.class_names]
        self.classes = det[cols].reset_index(drop=True)
        feats = num.drop(
            columns=[
                c
                for c in num.columns
                if c.startswith("p_") or c in ("obsid", "obi", "region_id", "cluster", "n_det")
            ]
        )
        self.features = feats.to_numpy(np.float64)

    def _build_knn(self) -> None:
        """Standardise the feature matrix for analogs as the candidate catalogue does
        (:func:`serendip.catalog.neighbours.robust_standardize`: median, IQR / 1.349), so the
        app's "feature distance" is the catalogue's ``d=`` / ``nearest_known_distance``.
        Missing values (none in a pipeline's feature table) are set to the column median."""
        from serendip.catalog.neighbours import robust_standardize

        X = np.asarray(self.features, dtype=np.float64)
        X = np.where(np.isfinite(X), X, np.nan)
        X = X[:, ~np.isnan(X).all(axis=0)]  # columns with no value carry no information
        if X.shape[1] == 0:
            X = np.stack([self.x, self.y], axis=1)
        med = np.nanmedian(X, axis=0)
        X = np.where(np.isnan(X), med, X)
        self.features_std = np.ascontiguousarray(robust_standardize(X))

    # --------------------------------------------------------------- accessors
    @property
    def n(self) -> int:
        """Number of sources (rows) in the run."""
        return len(self.ids)

    def row_of(self, obsreg_id: str) -> int:
        """Row of ``obsreg_id``; KeyError when the run has no such source."""
        pos = self.index.get_indexer([str(obsreg_id)])[0]
        if pos < 0:
            raise KeyError(obsreg_id)
        return int(pos)

    def rows_of(self, ids) -> np.ndarray:
        """Rows of many ids (-1 for unknown ones), (m,) int64."""
        return self.index.get_indexer(pd.Index([str(i) for i in ids])).astype(np.int64)

    @property
    def has_truth(self) -> bool:
        """True when the run holds simulated truth labels."""
        return self._truth_label is not None

    def truth_label(self) -> np.ndarray | None:
        """(n,) simulated class of every source ("" where unknown), or None for a real run."""
        return self._truth_label

    def input_paths(self) -> list[Path]:
        """The tables the points are made of (for cache keys)."""
        L = self.layout
        paths = [L.embedding, L.candidates, L.clusters, L.known, L.sources]
        paths = [p for p in paths if p.is_file()]
        if self.class_dir is not None:
            paths.append(self.class_dir / "detections.parquet")
        return paths

    def truth_columns(self) -> list[str]:
        """Columns that reveal the simulation's truth (hidden while labelling unless asked)."""
        return ["true_label"] if self.has_truth else []

    def provenance(self) -> dict:
        """serendip version and configuration hash of the run (config.toml's SHA-256)."""
        from serendip import __version__
        from serendip.io.units import config_file_hash

        sha = config_file_hash(self.layout.config)
        return {"serendip_version": __version__, "config_hash": sha}

    def provenance_keywords(self) -> dict:
        """:meth:`provenance` as FITS header keywords (SERENDIP, CFGHASH, RUN)."""
        p = self.provenance()
        return {"SERENDIP": p["serendip_version"], "CFGHASH": p["config_hash"]}

    def sky(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(ra, dec) [deg] of every source, or None when the run has no sky positions."""
        if self._sky is None:
            self._sky = (None,)
            for frame in (self.candidates, self.files):
                if frame is not None and {"ra", "dec"} <= set(frame.columns):
                    self._sky = (
                        frame["ra"].to_numpy(np.float64),
                        frame["dec"].to_numpy(np.float64),
                    )
                    break
        if self._sky[0] is None and not self._details_done.is_set():
            self._sky = None  # the wide tables may still bring them: look again later
            return None
        return None if self._sky[0] is None else self._sky

    def position(self, row: int) -> dict | None:
        """RA/Dec [deg] (decimal and sexagesimal) of ``row`` with links to the archive's page
        of its observation, SIMBAD and NED (10 arcsec cone); None without a position."""
        sky = self.sky()
        if sky is None or not np.isfinite(sky[0][row]) or not np.isfinite(sky[1][row]):
            return None
        ra, dec = float(sky[0][row]), float(sky[1][row])
        from astropy import units as u
        from astropy.coordinates import SkyCoord

        c = SkyCoord(ra * u.deg, dec * u.deg, frame="icrs")
        hms = c.ra.to_string(unit=u.hourangle, sep=":", precision=2, pad=True)
        dms = c.dec.to_string(unit=u.deg, sep=":", precision=1, alwayssign=True, pad=True)
        coo = f"{ra:.6f}%20{dec:+.6f}"
        links = {
            "SIMBAD": "https://simbad.cds.unistra.fr/simbad/sim-coo?Coord="
            f"{coo}&CooFrame=ICRS&Radius=10&Radius.unit=arcsec",
            "NED": "https://ned.ipac.caltech.edu/conesearch?search_type=Near%20Position%20Search"
            f"&coordinates={ra:.6f}d%20{dec:+.6f}d&radius=0.1667&in_csys=Equatorial&in_equinox=J2000",
        }
        archive = self._archive_link(row)
        if archive:
            links = {**archive, **links}
        return {
            "ra": ra,
            "dec": dec,
            "ra_hms": hms,
            "dec_dms": dms,
            "frame": "ICRS",
            "links": links,
        }

    def _archive_link(self, row: int) -> dict:
        f = self.files if self.files is not None else self.candidates
        if f is None or "obsid" not in f.columns:
            return {}
        tel = str(f["telescope"].iloc[row]).upper() if "telescope" in f.columns else "CHANDRA"
        try:
            obsid = int(f["obsid"].iloc[row])
        except (TypeError, ValueError):
            return {}
        if tel == "CHANDRA":
            return {
                "Chandra archive": "https://cda.harvard.edu/chaser/startViewer.do?"
                f"menuItem=details&obsid={obsid}"
            }
        if tel.startswith("XMM"):
            return {"XMM-Newton archive": f"https://nxsa.esac.esa.int/nxsa-web/#obsid={obsid:010d}"}
        return {}

    def score_terms(self, row: int) -> list[dict] | None:
        """The candidate score's terms for ``row`` (score = the largest; see
        :mod:`serendip.catalog.candidates`), each with its value and whether it decides."""
        c = self.candidates
        if c is None or "score" not in c.columns:
            return None
        terms = []
        for col, name, what in SCORE_TERMS:
            if col in c.columns:
                v = _float(c[col].iloc[row])
                terms.append({"term": name, "column": col, "value": v, "meaning": what})
        if not terms:
            return None
        score = _float(c["score"].iloc[row])
        for t in terms:
            t["decides"] = bool(np.isfinite(t["value"]) and abs(t["value"] - score) < 1e-12)
        return terms

    def _significance_table(self) -> pd.DataFrame | None:
        """The significance stage's table aligned with the rows (read once), or None."""
        if not hasattr(self, "_sig_table"):
            path = self.layout.significance
            self._sig_table = (
                _align(_read(path, "the empirical significances"), self.index, path, strict=False)
                if path.is_file() else None
            )
        return self._sig_table

    def significance_columns(self) -> dict[str, np.ndarray] | None:
        """Row-aligned arrays ``fap``, ``sigma`` and each term's ``fap_<t>`` / ``sigma_<t>``
        of the significance table, or None when the run has none."""
        t = self._significance_table()
        if t is None:
            return None
        cols = [c for c in t.columns if c in ("fap", "sigma") or (
            c.startswith(("fap_", "sigma_")) and not c.endswith(("_lo", "_hi", "_tail")))]
        return {c: t[c].to_numpy(np.float64) for c in cols}

    def significance(self, row: int) -> dict:
        """Empirical false-alarm probabilities of ``row`` (:mod:`serendip.catalog.significance`):
        ``{"calibrated": True, "all": {...}, "terms": {term: {...}}}`` with ``fap``, its
        68 % interval ``fap_lo`` / ``fap_hi``, ``sigma``, ``at_floor`` (no scrambled file reached
        it: the FAP is the scrambles' floor) and the extrapolated ``fap_tail`` / ``sigma_tail``;
        ``{"calibrated": False, "why": ...}`` when the run has no calibration (then no
        probability is shown for any term)."""
        t = self._significance_table()
        if t is None:
            return {"calibrated": False,
                    "why": "this run has no significance stage output (significance.n_scrambles "
                           "= 0, a light-curve run, or an older run): no probability is shown"}
        r = t.iloc[row]
        if not np.isfinite(_float(r.get("fap", np.nan))):
            return {"calibrated": False, "why": "this source is not in the significance table"}

        def entry(prefix: str) -> dict:
            out = {k: _float(r.get(f"{prefix}{k}", np.nan)) for k in ("", "_lo", "_hi")}
            e = {"fap": out[""], "fap_lo": out["_lo"], "fap_hi": out["_hi"]}
            return e

        terms = {}
        for c in t.columns:
            if c.startswith("stat_"):
                name = c[5:]
                e = entry(f"fap_{name}")
                e["sigma"] = _float(r.get(f"sigma_{name}", np.nan))
                e["statistic"] = _float(r[c])
                if f"fap_{name}_tail" in t.columns:
                    e["fap_tail"] = _float(r[f"fap_{name}_tail"])
                terms[name] = e
        allterms = entry("fap")
        allterms.update(
            sigma=_float(r["sigma"]), best_term=str(r.get("best_term", "")),
            at_floor=bool(r.get("at_floor", False)),
            fap_tail=_float(r.get("fap_tail", np.nan)), sigma_tail=_float(r.get("sigma_tail", np.nan)),
            above_threshold=bool(r.get("above_threshold", False)),
            n_null=int(r.get("n_null", 0)),
        )
        return {"calibrated": True, "all": allterms, "terms": terms}

    def search(self, q: str, radius_arcsec: float = 10.0, limit: int = 50) -> dict:
        """Sources matching ``q``: an obsreg_id (exact, then prefix), a name (substring of a
        ``name`` column), or a position "RA Dec" (degrees or sexagesimal) within
        ``radius_arcsec``. Returns {"kind", "rows": [{obsreg_id, rank, score, [sep_arcsec]}]}."""
        q = (q or "").strip()
        if not q:
            return {"kind": "empty", "rows": []}
        coord = _parse_coordinates(q)
        if coord is not None:
            sky = self.sky()
            if sky is None:
                raise ValueError("this run has no sky positions to search by coordinates")
            ra, dec = np.radians(sky[0]), np.radians(sky[1])
            r0, d0 = np.radians(coord[0]), np.radians(coord[1])
            hav = (
                np.sin((dec - d0) / 2) ** 2 + np.cos(dec) * np.cos(d0) * np.sin((ra - r0) / 2) ** 2
            )
            sep = np.degrees(2 * np.arcsin(np.sqrt(np.clip(hav, 0, 1)))) * 3600.0
            hit = np.flatnonzero(sep <= radius_arcsec)
            hit = hit[np.argsort(sep[hit], kind="stable")][:limit]
            return {
                "kind": "position",
                "ra": coord[0],
                "dec": coord[1],
                "radius_arcsec": radius_arcsec,
                "rows": [self._hit(i, sep_arcsec=float(sep[i])) for i in hit],
            }
        ids = self.ids.astype(str)
        exact = np.flatnonzero(ids == q)
        if len(exact):
            return {"kind": "id", "rows": [self._hit(i) for i in exact[:limit]]}
        low = q.lower()
        pref = np.flatnonzero(np.char.startswith(np.char.lower(ids.astype("U")), low))
        names = self._names()
        by_name = np.zeros(0, np.int64)
        if names is not None:
            by_name = np.flatnonzero(np.char.find(np.char.lower(names), low) >= 0)
        rows = np.unique(np.concatenate([pref, by_name]))
        rows = rows[np.argsort(np.asarray(self.rank)[rows], kind="stable")][:limit]
        return {"kind": "text", "rows": [self._hit(i) for i in rows]}

    def _names(self) -> np.ndarray | None:
        for frame in (self.candidates, self.detections):
            if frame is not None and "name" in frame.columns and len(frame) == self.n:
                return frame["name"].fillna("").astype(str).to_numpy().astype("U")
        return None

    def _hit(self, i: int, **extra) -> dict:
        out = {
            "obsreg_id": str(self.ids[i]),
            "rank": int(self.rank[i]),
            "score": _float(self.score[i]),
        }
        names = self._names()
        if names is not None:
            out["name"] = str(names[i])
        out.update(extra)
        return out

    def known_types(self) -> list[str]:
        """Distinct known-transient types of the run (sorted), offered as labels."""
        return sorted({t for t in self.known_type if t})

    def colour_columns(self) -> dict[str, tuple[str, np.ndarray]]:
        """``{name: ("numeric"|"categorical", (n,) values)}`` offered for colouring the points."""
        out: dict[str, tuple[str, np.ndarray]] = {
            "cluster": ("categorical", self.cluster.astype(str).astype(object)),
            "known_type": ("categorical", self.known_type),
            "score": ("numeric", self.score),
            "anomaly_score": ("numeric", self.anomaly_score),
        }
        truth = self.truth_label()
        if truth is not None:
            out["true_label"] = ("categorical", truth)
        src = self.candidates
        for name in COLOUR_PROPERTIES:
            if name in src.columns and pd.api.types.is_numeric_dtype(src[name]):
                out[name] = ("numeric", src[name].to_numpy(np.float64))
        sig = self.significance_columns()
        if sig is not None:  # calibrated: the empirical FAP (all terms) and its sigma
            out["fap_empirical"] = ("numeric", sig["fap"])
            out["sigma_empirical"] = ("numeric", sig["sigma"])
        if self.classes is not None:
            out["class"] = (
                "categorical",
                self.classes["class"].fillna("").astype(str).to_numpy(dtype=object),
            )
            out["p_class"] = ("numeric", self.classes["p_class"].to_numpy(np.float64))
            for c in self.class_names:
                out[f"p_{c}"] = ("numeric", self.classes[f"p_{c}"].to_numpy(np.float64))
        return out

    def properties(self, row: int) -> dict:
        """Files row + candidate row + class probabilities + truth of one source (JSON-ready).

        Simulation-truth columns are prefixed ``true_`` (``true_label`` = simulated class).
        """
        self.wait_details()
        props: dict = {}
        frames = (
            (self.files, ""),
            (self.candidates, ""),
            (self.classes, ""),
            (self.truth, "true_"),
        )
        for frame, prefix in frames:
            if frame is None:
                continue
            for k, v in frame.iloc[row].items():
                key = k if k == "obsreg_id" or not prefix else prefix + str(k)
                if key not in props:
                    props[key] = _jsonable(v)
        return props

    def event_feature_row(self, row: int) -> dict:
        """Event features of one row as a dict (column -> value); empty when the run has none."""
        self.wait_details()
        if self.event_features is None:
            return {}
        rec = self.event_features.iloc[row]
        return {k: _jsonable(v) for k, v in rec.items() if k != "obsreg_id"}

    # -------------------------------------------------------------- neighbours
    def neighbours(self, row: int, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest other sources of ``row`` in the standardised feature space.

        Exact brute-force search (one vectorised pass over the (n, d) matrix: ~10 ms at
        n = 100,000, d = 30, with no index to build and no scikit-learn import at startup).
        Returns (rows (k,) int64, Euclidean distances (k,) float64), nearest first; ties by row.
        """
        self.wait_details()
        k = int(max(1, min(k, self.n - 1)))
        diff = self.features_std - self.features_std[row]
        d2 = np.einsum("ij,ij->i", diff, diff)
        d2[row] = np.inf
        part = np.argpartition(d2, k - 1)[:k] if k < self.n else np.arange(self.n)
        idx = part[np.lexsort((part, d2[part]))]
        return idx.astype(np.int64), np.sqrt(d2[idx])

    # ------------------------------------------------------------------ events
    def start_loading(self) -> None:
        """Read the wide tables, then the events, in one background thread (once)."""
        if self._loader is not None:
            return
        path = self.layout.events

        def load() -> None:
            if not self._details_done.is_set():
                try:
                    self._load_details()
                except InputError as exc:
                    self._details_error = exc
                except Exception as exc:  # noqa: BLE001 - reported to the user on first use
                    self._details_error = InputError(self.run_dir, f"cannot load the run: {exc}")
                finally:
                    self._details_done.set()
            if self.kind == "classification" or not path.is_file():
                self._events_done.set()
                return
            from serendip.io.eventset import EventSet

            try:
                self._events = EventSet.read(path, order=[str(i) for i in self.ids])
            except InputError as exc:
                self._events_error = exc
            except Exception as exc:  # noqa: BLE001 - reported to the user on first use
                self._events_error = InputError(path, f"cannot read the events: {exc}")
            finally:
                self._events_done.set()

        self._loader = threading.Thread(target=load, name="serendip-load", daemon=True)
        self._loader.start()

    def wait_details(self, timeout: float | None = 300.0) -> None:
        """Wait for the wide tables and the feature matrix (starts loading if needed)."""
        self.start_loading()
        if not self._details_done.wait(timeout):
            raise InputError(self.run_dir, "the run's tables are still loading; retry")
        if self._details_error is not None:
            raise self._details_error

    def events(self, timeout: float | None = 300.0):
        """The run's EventSet (waits for the background load), or None without events.parquet."""
        self.start_loading()
        if not self._events_done.wait(timeout):
            raise InputError(self.layout.events, "events are still loading; retry")
        if self._events_error is not None:
            raise self._events_error
        return self._events

    def events_of(self, row: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(time [s], energy [eV]) of one source, or None when the run has no events.

        Once the background load has finished this is a view into the run's EventSet. Before
        that, the source's rows are read directly from events.parquet: its events are stored
        file after file in files.parquet's order, so ``n_events`` gives the row range and only
        the row groups holding it are read (~0.1 s at 100,000 sources instead of waiting for
        all events). The ids of the rows read are checked; any mismatch falls back to the full
        load.
        """
        if not self._events_done.is_set():
            direct = self._read_event_rows(str(self.ids[row]))
            if direct is not None:
                return direct
        ev = self.events()
        if ev is None:
            return None
        return ev.events_of(row)

    def _read_event_rows(self, obsreg_id: str) -> tuple[np.ndarray, np.ndarray] | None:
        path = self.layout.events
        if self.kind == "classification" or not path.is_file():
            return None
        try:
            import pyarrow.parquet as pq

            ids, ends, _ = self._file_index()
            if not ids.is_unique:
                return None
            i = ids.get_indexer([obsreg_id])[0]
            if i < 0:
                return None
            lo, hi = int(ends[i - 1]) if i else 0, int(ends[i])
            if hi == lo:
                return np.zeros(0, np.float64), np.zeros(0, np.float32)
            pf = pq.ParquetFile(path)
            if ends[-1] != pf.metadata.num_rows:
                return None
            sizes = [pf.metadata.row_group(g).num_rows for g in range(pf.num_row_groups)]
            starts = np.concatenate([[0], np.cumsum(sizes)])
            groups = list(
                range(np.searchsorted(starts, lo, "right") - 1, np.searchsorted(starts, hi, "left"))
            )
            table = pf.read_row_groups(groups, columns=["obsreg_id", "time", "energy"])
            a, b = lo - int(starts[groups[0]]), hi - int(starts[groups[0]])
            part = table.slice(a, b - a)
            if set(part.column("obsreg_id").to_pandas().astype(str).unique()) != {obsreg_id}:
                return None
            t = part.column("time").to_numpy().astype(np.float64)
            e = part.column("energy").to_numpy().astype(np.float32)
            order = np.argsort(t, kind="stable")
            return t[order], e[order]
        except Exception:  # noqa: BLE001 - the full load reports real problems
            return None

    def observation(self, row: int, t: np.ndarray | None = None) -> dict:
        """Time range of ``row``'s observation: ``t0``, ``t1`` [mission s] (files.parquet
        ``tstart``/``tstop``, else the first/last event), the GTIs ((m, 2) mission s, empty
        when the run has none) and the time zero (:func:`serendip.app.sourceview.time_zero`)."""
        from serendip.app.sourceview import time_zero

        t0, t1, tel, ref, tsys, origin = np.nan, np.nan, None, None, None, 0.0
        f = self.files
        if f is not None:
            if "tstart" in f.columns:
                t0 = _float(f["tstart"].iloc[row])
            if "tstop" in f.columns:
                t1 = _float(f["tstop"].iloc[row])
            if "telescope" in f.columns:
                tel = f["telescope"].iloc[row]
            if "mjdref" in f.columns:
                ref = _float(f["mjdref"].iloc[row])
            if "timesys" in f.columns:
                tsys = str(f["timesys"].iloc[row] or "")
            if "time_origin" in f.columns:
                origin = _float(f["time_origin"].iloc[row])
        elif self.kind != "classification":
            try:  # before the wide tables are loaded: the few columns read for direct reads
                ids, _, extra = self._file_index()
                i = ids.get_indexer([str(self.ids[row])])[0]
                if i >= 0:
                    t0, t1 = float(extra["tstart"][i]), float(extra["tstop"][i])
                    tel = extra["telescope"][i]
            except Exception:  # noqa: BLE001 - fall back to the events' own range
                pass
        if not np.isfinite(t0):
            t0 = float(t[0]) if t is not None and len(t) else 0.0
        if not np.isfinite(t1) or t1 <= t0:
            t1 = float(t[-1]) if t is not None and len(t) and t[-1] > t0 else t0 + 1.0
        return {
            "t0": t0,
            "t1": t1,
            "gtis": self.gtis_of(str(self.ids[row])),
            "time_zero": time_zero(t0, tel, ref, tsys, origin),
        }

    def gtis_of(self, obsreg_id: str) -> np.ndarray:
        """(m, 2) good-time intervals [mission s] of one source (RUN_DIR/gtis.parquet)."""
        if self._gtis is None:
            path = self.layout.gtis
            groups: dict = {}
            if path.is_file():
                g = _read(path, "the good-time intervals", ["obsreg_id", "start", "stop"])
                arr = g[["start", "stop"]].to_numpy(np.float64)
                for key, idx in g.groupby("obsreg_id").indices.items():
                    groups[str(key)] = arr[idx]
            self._gtis = groups
        return self._gtis.get(obsreg_id, np.zeros((0, 2)))

    def et_map(self, row: int) -> dict | None:
        """E-t map of one source over its whole observation (see :func:`sourceview.et_map`)."""
        from serendip.app.sourceview import et_map

        got = self.events_of(row)
        if got is None:
            return None
        t, e = got
        obs = self.observation(row, t)
        return et_map(t, e, obs["t0"], obs["t1"])

    def source_view(self, row: int) -> dict:
        """Everything the source view plots for ``row``: time zero, the fine-binned light curve
        with GTIs, the E-t map, the spectrum and (when the events have x/y) the sky image."""
        from serendip.app import sourceview as sv

        if self.layout.lightcurves.is_file() and not self.layout.events.is_file():
            return {"time_zero": None, "lightcurve": self.optical_view(row), "et_map": None,
                    "spectrum": None, "image": None}  # fmt: skip
        got = self.events_of(row)
        if got is None:
            return {"time_zero": None, "lightcurve": None, "et_map": None, "spectrum": None}
        t, e = got
        obs = self.observation(row, t)
        return {
            "time_zero": obs["time_zero"],
            "t_span_s": obs["t1"] - obs["t0"],
            "lightcurve": sv.fine_lightcurve(t, e, obs["t0"], obs["t1"], obs["gtis"]),
            "et_map": sv.et_map(t, e, obs["t0"], obs["t1"]),
            "spectrum": sv.spectrum(e),
            "image": self.sky_image(row),
        }

    def optical_view(self, row: int) -> dict:
        """A light-curve run's panel for ``row``: points per band with errors, upper limits,
        folded when periodic (:func:`serendip.represent.lc_view.lightcurve_view`)."""
        import pyarrow.parquet as pq

        from serendip.represent.lc_view import lightcurve_view

        tab = pq.read_table(
            self.layout.lightcurves, filters=[("object_id", "=", str(self.ids[row]))]
        ).to_pandas()
        unit = "uJy"
        if "zeropoint" in tab.columns and not np.isfinite(tab["zeropoint"]).any():
            unit = ""
        return lightcurve_view(tab, unit)

    def sky_image(self, row: int) -> dict | None:
        """Counts image of the source's events in sky pixels, when events.parquet has x, y."""
        from serendip.app.sourceview import sky_image

        path = self.layout.events
        if self.kind == "classification" or not path.is_file():
            return None
        if self._event_columns is None:
            import pyarrow.parquet as pq

            self._event_columns = list(pq.read_schema(path).names)
        if not {"x", "y"} <= set(self._event_columns):
            return None
        import pyarrow.parquet as pq

        tab = pq.read_table(
            path, columns=["x", "y"], filters=[("obsreg_id", "=", str(self.ids[row]))]
        )
        return sky_image(tab.column("x").to_numpy(), tab.column("y").to_numpy())

    def events_table(self, row: int) -> pd.DataFrame:
        """One source's events: time [s, mission time], energy [eV]; empty without events."""
        got = self.events_of(row)
        if got is None:
            return pd.DataFrame({"time": np.zeros(0), "energy": np.zeros(0)})
        t, e = got
        return pd.DataFrame(
            {"time": np.asarray(t, np.float64), "energy": np.asarray(e, np.float64)}
        )

    def _file_index(self) -> tuple[pd.Index, np.ndarray, np.ndarray]:
        """files.parquet's ids (in stored order), cumulative ``n_events`` and a dict of
        ``tstart``, ``tstop`` [s] and ``telescope`` arrays.

        Read once (three columns; the schema was checked at startup) for the source views
        served before the background load has finished.
        """
        with self._row_index_lock:
            if self._row_index is None:
                path = self.layout.files
                want = ("obsreg_id", "n_events", "tstart", "tstop", "telescope")
                cols = [c for c in want if c in self._files_columns]
                files = _read(path, "the per-file table", cols)
                ends = np.cumsum(files["n_events"].to_numpy(dtype=np.int64))
                nan = np.full(len(files), np.nan)
                extra = {
                    "tstart": files["tstart"].to_numpy(np.float64) if "tstart" in files else nan,
                    "tstop": files["tstop"].to_numpy(np.float64) if "tstop" in files else nan,
                    "telescope": files["telescope"].to_numpy(dtype=object)
                    if "telescope" in files
                    else np.full(len(files), None, dtype=object),
                }
                self._row_index = (pd.Index(files["obsreg_id"]), ends, extra)
            return self._row_index


# ------------------------------------------------------------------ helpers
def _round(x: np.ndarray, digits: int = 4) -> np.ndarray:
    """Round to ``digits`` significant digits (vectorised; NaN/inf and 0 kept)."""
    x = np.asarray(x, dtype=np.float64)
    out = x.copy()
    ok = np.isfinite(x) & (x != 0)
    if not ok.any():
        return out
    v = x[ok]
    k = (digits - 1) - np.floor(np.log10(np.abs(v))).astype(np.int64)
    pos = k >= 0
    r = np.empty_like(v)
    s = 10.0 ** k[pos]
    r[pos] = np.round(v[pos] * s) / s
    s = 10.0 ** (-k[~pos])
    r[~pos] = np.round(v[~pos] / s) * s
    out[ok] = r
    return out


def _nan_none(x: np.ndarray) -> list:
    """A list with NaN/inf as None (JSON null)."""
    x = np.asarray(x, dtype=np.float64)
    bad = ~np.isfinite(x)
    if not bad.any():
        return x.tolist()
    obj = x.astype(object)
    obj[bad] = None
    return obj.tolist()


def _parse_coordinates(q: str) -> tuple[float, float] | None:
    """(ra, dec) [deg] from "RA Dec" text (decimal degrees, or sexagesimal h:m:s d:m:s), else
    None when ``q`` does not look like a position."""
    import re

    parts = re.split(r"[,\s]+", q.strip())
    if len(parts) == 2:
        try:
            ra, dec = float(parts[0]), float(parts[1])
        except ValueError:
            ra = dec = None
        if ra is not None:
            if not (0.0 <= ra < 360.0 and -90.0 <= dec <= 90.0):
                raise ValueError(f"position out of range: RA {ra} (0-360), Dec {dec} (-90-90)")
            return ra, dec
    if not re.fullmatch(r"[0-9:hmsd.\s+\-,°'\"]+", q) or not re.search(r"[:hd]", q):
        return None
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    try:
        c = SkyCoord(q.replace(",", " "), unit=(u.hourangle, u.deg), frame="icrs")
    except Exception as exc:  # noqa: BLE001 - astropy's parser raises several types
        raise ValueError(f"cannot read {q!r} as a position: {exc}") from None
    return float(c.ra.deg), float(c.dec.deg)


def _float(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _jsonable(v):
    if v is None:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if np.isfinite(f) else None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if v is pd.NA or v is pd.NaT:
        return None
    return str(v) if not isinstance(v, (int, str)) else v
