"""The FastAPI application of ``serendip explore`` (HTTP API described in the module docs).

Security: the only files served are the whitelisted page files of ``serendip/app/static`` and
plotly's own ``plotly.min.js``; source ids from the browser are looked up in the run's id
index and never used as paths; exports are written by the server to a temporary file in
``RUN_DIR/explore/`` under a name it chooses; nothing is loaded with pickle.

Endpoints (all JSON unless stated; tables are columnar):
``GET /``, ``GET /source/{id}`` (the page, opening that source: a deep link), ``GET /static/{name}``, ``GET /api/meta``, ``GET /api/points`` (cached, gzip),
``GET /api/xy`` (binary: x, y, cluster, score as little-endian float32, for the first paint),
``GET /api/source/{id}``, ``GET /api/etmap/{id}`` (E-t map only),
``GET /api/etmaps?ids=a,b,...`` (E-t maps of up to 64 sources in one request: neighbour thumbnails),
``GET /api/analogs/{id}?k=``, ``GET /api/candidates?order=&limit=&include_labelled=``,
``POST /api/labels``, ``GET /api/labels``, ``POST /api/notes``, ``GET /api/notes``,
``POST /api/unlabel``, ``POST /api/undo``, ``POST /api/review-state``, ``GET /api/learning-curve``,
``GET /api/search?q=&radius_arcsec=``, ``GET /api/events/{id}?format=fits|csv``, ``POST /api/rerank``,
``GET /api/catalog?cls=&min_prob=&min_det=``, ``POST /api/export``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from fastapi import Body, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field, field_validator
from starlette.background import BackgroundTask

from serendip.app.labels import LabelStore
from serendip.app.review import (
    Reviewer,
    available_strategies,
    discovery_curve,
    static_curve,
    warm_up,
)
from serendip.app.rundata import LABEL_BASE, RunData, _nan_none, _round
from serendip.app.security import LOOPBACK_HOSTS, MAX_BODY, SecurityMiddleware
from serendip.app.sourceview import fap_text, iso_dates
from serendip.errors import InputError
from serendip.io.atomic import atomic_path
from serendip.io.tables import write_table
from serendip.io.units import COLUMN_UNITS, UNIT_NOTES, with_units
from serendip.layout import RunLayout

STATIC_DIR = Path(__file__).parent / "static"
STATIC_FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "plotly.min.js": "text/javascript; charset=utf-8",
}
EXPORT_EXT = {"csv": "csv", "votable": "vot", "fits": "fits"}
MAX_NOTE = 4000
MAX_K = 200
MAX_IDS = 1_000_000  # ids in one request
#: the one distance the app shows between two sources, and its definition
DISTANCE_DEFINITION = {
    "name": "feature distance",
    "definition": "Euclidean distance between two sources in the run's feature space, each "
    "feature centred on its median and divided by its inter-quartile range / 1.349 (the "
    "candidate catalogue's d= and nearest_known_distance use the same distance)",
}
ET_CACHE = 20_000  # E-t maps kept by the server (~3 kB each)
MAX_ET_IDS = 64  # sources in one /api/etmaps request
POINTS_VERSION = "points-2"  # bump when the /api/points layout changes (invalidates caches)


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _static_path(name: str) -> Path:
    return _plotly_js() if name == "plotly.min.js" else STATIC_DIR / name


class LabelIn(BaseModel):
    """Request body of a label: ``obsreg_id``, ``label`` and an optional ``note``."""

    obsreg_id: str = Field(max_length=200)
    label: str = Field(max_length=200)
    note: str = Field(default="", max_length=MAX_NOTE)


class NoteIn(BaseModel):
    """Request body of a note on one source (``obsreg_id``, ``note``)."""

    obsreg_id: str = Field(max_length=200)
    note: str = Field(default="", max_length=MAX_NOTE)


class IdIn(BaseModel):
    """Request body naming one source (``obsreg_id``)."""

    obsreg_id: str = Field(max_length=200)


class ReviewStateIn(BaseModel):
    """Request body choosing the review order: ``active`` or ``static``."""

    order: Literal["active", "static"]


class ExportIn(BaseModel):
    """Request body of an export: labels or a selection, as CSV, VOTable or FITS."""

    what: Literal["labels", "selection"]
    format: Literal["csv", "votable", "fits"]
    ids: list[str] = Field(default_factory=list, max_length=MAX_IDS)

    @field_validator("ids")
    @classmethod
    def _unique(cls, ids: list[str]) -> list[str]:
        """Each id once, in first-seen order (a request repeating ids cannot grow the file)."""
        return list(dict.fromkeys(ids))


class ExplorerState:
    """What one app instance holds: the run data, the label store, the reviewer, caches."""

    def __init__(self, run_dir: Path, strategy: str):
        self.data = RunData(run_dir)
        self.explore_dir = self.data.run_dir / "explore"
        self.labels = LabelStore(self.explore_dir / "labels.sqlite")
        self.reviewer = Reviewer(self.data, strategy)
        self.label_choices = list(LABEL_BASE) + [
            t for t in self.data.known_types() if t not in LABEL_BASE
        ]
        self.review_path = self.explore_dir / "review.json"
        self._points: tuple[bytes, bytes] | None = None
        self._points_lock = threading.Lock()
        self.points_seconds = 0.0
        self._xy: bytes | None = None
        self._et_maps: dict[int, dict | None] = {}  # row -> E-t map, computed once and served

    def et_map(self, row: int) -> dict | None:
        """E-t map of ``row`` (:meth:`RunData.et_map`), cached: thumbnails are asked again and
        again as neighbours of other sources (at most ET_CACHE maps are kept)."""
        if row not in self._et_maps:
            if len(self._et_maps) >= ET_CACHE:
                self._et_maps.pop(next(iter(self._et_maps)))
            self._et_maps[row] = self.data.et_map(row)
        return self._et_maps[row]

    def xy(self) -> bytes:
        """Body of /api/xy: the embedding coordinates, cluster and score of every source as
        four little-endian float32 arrays of ``n`` values one after the other (``x``, ``y``,
        ``cluster``, ``score``; NaN where missing), in the row order of /api/points.

        16 bytes per source (1.6 MB at 100,000 sources, no parsing): what the page needs to
        draw the embedding before the full columns (ids, known types, colour columns) arrive.
        """
        if self._xy is None:
            d = self.data
            cols = [d.x, d.y, np.asarray(d.cluster, np.float64), d.score]
            self._xy = np.concatenate([np.asarray(c, "<f4") for c in cols]).tobytes()
        return self._xy

    # ------------------------------------------------------------ points cache
    def points(self) -> tuple[bytes, bytes]:
        """(JSON bytes, gzip bytes) of /api/points, built once.

        The gzip bytes are also cached in ``RUN_DIR/explore/points-<key>.json.gz``, keyed on the
        size and modification time of every input table, so a restart serves them at once
        (building them takes ~1.5 s at 100,000 sources, mostly float formatting).
        """
        with self._points_lock:
            if self._points is None:
                t0 = time.perf_counter()
                cache = self.explore_dir / f"points-{self._points_key()}.json.gz"
                zipped = None
                if cache.is_file():
                    try:
                        zipped = cache.read_bytes()
                        body = gzip.decompress(zipped)
                    except (OSError, EOFError):  # damaged cache: rebuild it
                        zipped = None
                if zipped is None:
                    body = json.dumps(self._points_dict(), separators=(",", ":")).encode()
                    zipped = gzip.compress(body, compresslevel=1)
                    for old in self.explore_dir.glob("points-*.json.gz"):
                        _unlink(str(old))
                    with atomic_path(cache) as tmp:
                        tmp.write_bytes(zipped)
                self._points = (body, zipped)
                self.points_seconds = time.perf_counter() - t0
            return self._points

    def _points_key(self) -> str:
        """Hash of the inputs of /api/points: table paths, sizes, mtimes, and the layout version."""
        parts = [POINTS_VERSION, str(sorted(self.data.colour_columns()))]
        for path in self.data.input_paths():
            st = path.stat()
            parts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def _points_dict(self) -> dict:
        d = self.data
        kt = d.known_type.copy()
        kt[kt == ""] = None
        out = {
            "obsreg_id": d.ids.astype(str).tolist(),
            "x": _nan_none(_round(d.x)),
            "y": _nan_none(_round(d.y)),
            "cluster": d.cluster.astype(int).tolist(),
            "known_type": kt.tolist(),
            "score": _nan_none(_round(d.score)),
            "rank": np.asarray(d.rank).astype(int).tolist(),
        }
        sky = d.sky()
        if sky is not None:  # for the candidate table (6 decimals: 4 mas in dec)
            out["ra"] = _nan_none(np.round(sky[0], 6))
            out["dec"] = _nan_none(np.round(sky[1], 6))
        for name, (kind, values) in d.colour_columns().items():
            if name in out:
                continue
            if kind == "numeric":
                out[name] = _nan_none(_round(values))
            else:
                out[name] = np.asarray(values, dtype=object).tolist()
        return out

    # ---------------------------------------------------------- review state
    def review_order(self) -> str:
        """The review order the user last chose ("static" until one was chosen), kept in
        RUN_DIR/explore/review.json so a restart comes back to the active-learning order."""
        try:
            order = json.loads(self.review_path.read_text()).get("order", "static")
        except (OSError, ValueError, AttributeError):
            return "static"
        return order if order in ("active", "static") else "static"

    def set_review_order(self, order: str) -> None:
        """Store the review order (``active`` / ``static``) in the run's explore folder."""
        self.explore_dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.review_path) as tmp:
            tmp.write_text(json.dumps({"order": order, "strategy": self.reviewer.strategy}))

    # --------------------------------------------------------------- helpers
    def row(self, obsreg_id: str) -> int:
        """Row number of ``obsreg_id``; an unknown id is an HTTP 404."""
        try:
            return self.data.row_of(obsreg_id)
        except KeyError:
            raise HTTPException(404, f"unknown obsreg_id {obsreg_id!r}") from None

    def neighbour_rows(self, row: int, k: int) -> list[dict]:
        """The ``k`` nearest neighbours of ``row`` in feature space, one dict each (obsreg_id,
        feature_distance, known_type, score, rank, x, ...)."""
        d = self.data
        idx, dist = d.neighbours(row, k)
        dist, score = _round(dist), _round(d.score[idx])
        return [
            {
                "obsreg_id": str(d.ids[i]),
                "feature_distance": float(dist[j]),
                "known_type": d.known_type[i] or None,
                "score": float(score[j]),
                "rank": int(d.rank[i]),
                "x": float(d.x[i]),
                "y": float(d.y[i]),
            }
            for j, i in enumerate(idx)  # k rows (<= 200), not per source
        ]

    def latest_labels(self) -> pd.DataFrame:
        """The latest label of every labelled source (a DataFrame, one row per source)."""
        return self.labels.latest()


def create_app(
    run_dir: str | Path,
    *,
    strategy: str = "default",
    allowed_hosts: list[str] | None = None,
    token: str | None = None,
    max_body: int = MAX_BODY,
) -> FastAPI:
    """The explorer app over ``run_dir`` (raises InputError for a bad run directory).

    ``strategy``: active-learning strategy (see :func:`serendip.app.review.available_strategies`),
    "default" for the ranker's default. ``allowed_hosts``: values of the HTTP Host header
    accepted (default: the loopback names, which stops DNS-rebinding pages from reaching a
    server bound to 127.0.0.1; ``["*"]`` accepts any). ``token``: access token every request
    must carry (None: none); ``max_body``: largest request body, bytes. Writes must be
    same-origin JSON; see :mod:`serendip.app.security`.
    """
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    state = ExplorerState(Path(run_dir), strategy)
    app = FastAPI(title="serendip explore", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SecurityMiddleware, token=token, max_body=max_body)
    app.add_middleware(
        TrustedHostMiddleware, allowed_hosts=allowed_hosts or [*LOOPBACK_HOSTS, "testserver"]
    )

    @app.middleware("http")
    async def _security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    app.state.explorer = state

    def _prepare() -> None:
        # the points first (the page waits for them; other Python work would slow them down
        # through the GIL), then the wide tables and the events, then the active ranker
        try:
            state.xy()  # the first drawing's columns (milliseconds), then the full columns
            state.points()
        finally:
            state.data.start_loading()
        if state.reviewer.strategy != "static":
            warm_up()

    threading.Thread(target=_prepare, name="serendip-prepare", daemon=True).start()

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    # ----------------------------------------------------------------- page
    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type=STATIC_FILES["index.html"])

    @app.get("/source/{obsreg_id}", include_in_schema=False)
    def source_page(obsreg_id: str) -> FileResponse:
        # a deep link: the same page, which opens the source named in its path (404 when the
        # run has no such source; the page then says so)
        known = state.data.index.get_indexer([obsreg_id])[0] >= 0
        return FileResponse(
            STATIC_DIR / "index.html",
            media_type=STATIC_FILES["index.html"],
            status_code=200 if known else 404,
        )

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        if name not in STATIC_FILES:
            raise HTTPException(404, "no such file")
        path = _static_path(name)
        if not path.is_file():
            raise HTTPException(404, "no such file")
        headers = {"Cache-Control": "public, max-age=86400"} if name == "plotly.min.js" else None
        return FileResponse(path, media_type=STATIC_FILES[name], headers=headers)

    # ----------------------------------------------------------------- data
    @app.get("/api/meta")
    def meta() -> dict:
        d = state.data
        return {
            "run": d.run_dir.resolve().name,
            "n_sources": d.n,
            "kind": d.kind,
            "colour_by": [{"name": k, "type": v[0]} for k, v in d.colour_columns().items()],
            "label_choices": state.label_choices,
            "strategies": available_strategies(),
            "strategy": state.reviewer.strategy,
            "has_truth": d.has_truth,
            "n_labels": state.labels.n_labelled(),
            "has_events": RunLayout(d.run_dir).events.is_file() and d.kind != "classification",
            "class_names": d.class_names,
            "review_order": state.review_order(),
            "units": COLUMN_UNITS,
            "unit_notes": UNIT_NOTES,
            "truth_columns": d.truth_columns(),
            "distance": DISTANCE_DEFINITION,
            "provenance": d.provenance(),
        }

    @app.get("/api/points")
    def points(request: Request) -> Response:
        body, zipped = state.points()
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(
                zipped,
                media_type="application/json",
                headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
            )
        return Response(body, media_type="application/json")

    @app.get("/api/xy")
    def xy() -> Response:
        return Response(
            state.xy(),
            media_type="application/octet-stream",
            headers={"X-Serendip-Columns": "x,y,cluster,score", "X-Serendip-N": str(state.data.n)},
        )

    @app.get("/api/source/{obsreg_id}")
    def source(obsreg_id: str) -> dict:
        row = state.row(obsreg_id)
        d = state.data
        props = d.properties(row)
        truth = {k: props.pop(k) for k in list(props) if k.startswith("true_")}
        features = d.event_feature_row(row)
        return {
            "obsreg_id": str(d.ids[row]),
            "properties": props,
            "truth": truth,
            "features": features,
            "position": d.position(row),
            "score_terms": d.score_terms(row),
            "significance": d.significance(row),
            **d.source_view(row),
            "neighbours": state.neighbour_rows(row, 8),
        }

    @app.get("/api/events/{obsreg_id}")
    def events(obsreg_id: str, format: Literal["csv", "fits"] = "csv") -> FileResponse:
        row = state.row(obsreg_id)
        d = state.data
        table = d.events_table(row)
        table.insert(0, "obsreg_id", str(d.ids[row]))
        with_units(table, meta=d.provenance_keywords())
        name = f"{_safe_name(str(d.ids[row]))}-events.{format}"
        return _file_response(state, table, format, name)

    @app.get("/api/search")
    def search(
        q: str = Query("", max_length=200),
        radius_arcsec: float = Query(10.0, gt=0.0, le=36000.0),
        limit: int = Query(50, ge=1, le=500),
    ) -> dict:
        try:
            return state.data.search(q, radius_arcsec, limit)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None

    @app.get("/api/etmap/{obsreg_id}")
    def etmap(obsreg_id: str) -> dict:
        row = state.row(obsreg_id)
        return {"obsreg_id": str(state.data.ids[row]), "et_map": state.et_map(row)}

    @app.get("/api/etmaps")
    def etmaps(ids: str = Query(..., max_length=64 * 210)) -> dict:
        names = list(dict.fromkeys(i for i in ids.split(",") if i))
        if len(names) > MAX_ET_IDS:
            raise HTTPException(422, f"at most {MAX_ET_IDS} ids per request, got {len(names)}")
        rows = {name: state.row(name) for name in names}  # an unknown id is a 404
        return {"maps": {name: state.et_map(row) for name, row in rows.items()}}

    @app.get("/api/analogs/{obsreg_id}")
    def analogs(obsreg_id: str, k: int = Query(10, ge=1, le=MAX_K)) -> dict:
        row = state.row(obsreg_id)
        return {"query": str(state.data.ids[row]), "neighbours": state.neighbour_rows(row, k)}

    # --------------------------------------------------------------- review
    @app.get("/api/candidates")
    def candidates(
        order: Literal["active", "static"] = "static",
        limit: int = Query(200, ge=1, le=100_000),
        include_labelled: int = Query(0, ge=0, le=1),
    ) -> dict:
        d = state.data
        latest = state.latest_labels()
        if order == "active" and state.reviewer.fitted_labels < 0 and len(latest):
            state.reviewer.rerank(latest)  # first use after a restart: refit from stored labels
        rows = state.reviewer.order(order)
        lab_rows = d.rows_of(latest["obsreg_id"].tolist()) if len(latest) else np.zeros(0, int)
        label = np.full(d.n, None, dtype=object)
        note = np.full(d.n, None, dtype=object)
        ok = lab_rows >= 0
        label[lab_rows[ok]] = latest["label"].to_numpy(dtype=object)[ok]
        note[lab_rows[ok]] = latest["note"].to_numpy(dtype=object)[ok]
        if not include_labelled:
            rows = rows[label[rows] == None]  # noqa: E711 - elementwise comparison
        rows = rows[:limit]
        act = state.reviewer.active_score
        sig = d.significance_columns()
        return {
            "order": order,
            "strategy": state.reviewer.strategy,
            "n_total": int(d.n),
            "n_labelled": int(ok.sum()),
            "n_unlabelled": int(d.n - ok.sum()),
            "rows": [
                {
                    "obsreg_id": str(d.ids[i]),
                    "rank": int(d.rank[i]),
                    "score": float(d.score[i]),
                    "active_score": float(act[i]),
                    "reason": readable_reason(str(d.reasons[i]), sig, i),
                    "fap": None if sig is None else _finite_or_none(sig["fap"][i]),
                    "label": label[i],
                    "note": note[i],
                    "known_type": d.known_type[i] or None,
                }
                for i in rows  # at most ``limit`` rows
            ],
        }

    @app.post("/api/labels")
    def add_label(item: LabelIn) -> dict:
        row = state.row(item.obsreg_id)
        if item.label not in state.label_choices:
            raise HTTPException(
                422, f"unknown label {item.label!r}; choose one of {state.label_choices}"
            )
        oid = str(state.data.ids[row])
        state.labels.add(oid, item.label, item.note)
        state.labels.set_note(oid, item.note)
        return {"ok": True, "n_labels": state.labels.n_labelled()}

    @app.post("/api/notes")
    def add_note(item: NoteIn) -> dict:
        row = state.row(item.obsreg_id)
        state.labels.set_note(str(state.data.ids[row]), item.note)
        return {"ok": True, "n_notes": len(state.labels.notes())}

    @app.get("/api/notes")
    def get_notes() -> dict:
        n = state.labels.notes()
        return {
            "rows": [
                {"obsreg_id": r.obsreg_id, "note": r.note, "time": r.time}
                for r in n.itertuples(index=False)
            ]
        }

    @app.post("/api/unlabel")
    def unlabel(item: IdIn) -> dict:
        row = state.row(item.obsreg_id)
        state.labels.unlabel(str(state.data.ids[row]))
        return {"ok": True, "n_labels": state.labels.n_labelled()}

    @app.post("/api/undo")
    def undo() -> dict:
        undone = state.labels.undo()
        return {"ok": True, "undone": undone, "n_labels": state.labels.n_labelled()}

    @app.post("/api/review-state")
    def review_state(item: ReviewStateIn) -> dict:
        state.set_review_order(item.order)
        return {"ok": True, "order": item.order}

    @app.get("/api/labels")
    def get_labels() -> dict:
        latest = state.latest_labels()
        return {
            "rows": [
                {"obsreg_id": r.obsreg_id, "label": r.label, "note": r.note, "time": r.time}
                for r in latest.itertuples(index=False)  # one row per labelled source
            ]
        }

    @app.get("/api/learning-curve")
    def learning_curve() -> dict:
        # interesting found vs inspected so far and the static ranking's curve (no refit)
        latest = state.latest_labels()
        return {
            "strategy": state.reviewer.strategy,
            "n_labels": len(latest),
            "curve": discovery_curve(latest),
            "static_curve": static_curve(state.data, latest),
        }

    @app.post("/api/rerank")
    def rerank() -> dict:
        latest = state.latest_labels()
        t0 = time.perf_counter()
        state.reviewer.rerank(latest)
        state.set_review_order("active")
        return {
            "ok": True,
            "n_labels": len(latest),
            "strategy": state.reviewer.strategy,
            "seconds": round(time.perf_counter() - t0, 4),
            "curve": discovery_curve(latest),
            "static_curve": static_curve(state.data, latest),
        }

    # ------------------------------------------------------------- catalogue
    @app.get("/api/catalog")
    def catalog(
        cls: str = "",
        min_prob: float = Query(0.0, ge=0.0, le=1.0),
        min_det: int = Query(0, ge=0),
    ) -> dict:
        d = state.data
        if d.detections is None:
            raise HTTPException(404, "this run has no classification results")
        det = d.detections
        keep = (det["p_class"].to_numpy(np.float64) >= min_prob) & (
            det["n_det"].to_numpy() >= min_det
        )
        if cls:
            if cls not in d.class_names:
                raise HTTPException(422, f"unknown class {cls!r}; classes: {d.class_names}")
            keep &= det["class"].astype(str).to_numpy() == cls
        sub = det.loc[keep]
        numeric = [c for c in sub.columns if pd.api.types.is_numeric_dtype(sub[c])]
        columns = {}
        for c in sub.columns:
            if c in numeric:
                columns[c] = _nan_none(_round(sub[c].to_numpy(np.float64)))
            else:
                v = sub[c].astype(object).where(sub[c].notna(), None).to_numpy(dtype=object)
                columns[c] = [None if x is None else str(x) for x in v]  # noqa: C416
        return {
            "classes": d.class_names,
            "n_total": len(det),
            "n": int(keep.sum()),
            "numeric": numeric,
            "columns": columns,
        }

    # ----------------------------------------------------------------- export
    @app.post("/api/export")
    def export(item: ExportIn = Body(...)) -> FileResponse:
        d = state.data
        latest = state.latest_labels()
        if item.what == "labels":
            ids = latest["obsreg_id"].tolist()
            notes = state.labels.notes()
            ids += [i for i in notes["obsreg_id"].tolist() if i not in set(ids)]  # notes only
            rows = d.rows_of(ids) if ids else np.zeros(0, int)
            rows = rows[rows >= 0]
        else:
            if not item.ids:
                raise HTTPException(422, "the selection is empty")
            rows = d.rows_of(item.ids)
            if (rows < 0).any():
                bad = item.ids[int(np.flatnonzero(rows < 0)[0])]
                raise HTTPException(404, f"unknown obsreg_id {bad!r} in the selection")
        table = export_table(state, rows, latest, full=item.what == "selection")
        name = f"serendip-{item.what}.{EXPORT_EXT[item.format]}"
        return _file_response(state, table, item.format, name)

    return app


def export_table(
    state: ExplorerState, rows: np.ndarray, latest: pd.DataFrame, *, full: bool
) -> pd.DataFrame:
    """The rows ``rows`` of the run as an export table: obsreg_id, ra, dec [deg], label, note,
    label_time (ISO UTC), rank, score, known_type, embedding x/y, then (``full``) every
    candidate column; units and provenance (serendip version, configuration hash) in attrs."""
    d = state.data
    d.wait_details()
    rows = np.asarray(rows, dtype=np.int64)
    ids = d.ids[rows].astype(str)
    lab = latest.set_index("obsreg_id") if len(latest) else None
    notes = state.labels.notes().set_index("obsreg_id")
    out = pd.DataFrame({"obsreg_id": ids})
    sky = d.sky()
    if sky is not None:
        out["ra"] = sky[0][rows]
        out["dec"] = sky[1][rows]
    if lab is not None:
        got = lab.reindex(ids)
        out["label"] = got["label"].fillna("").to_numpy(dtype=object)
        out["label_time"] = [
            "" if not np.isfinite(t) else pd.Timestamp(t, unit="s", tz="UTC").isoformat()
            for t in got["time"].to_numpy(np.float64)  # one per exported row
        ]
    else:
        out["label"] = ""
        out["label_time"] = ""
    out["note"] = notes["note"].reindex(ids).fillna("").to_numpy(dtype=object)
    out["rank"] = np.asarray(d.rank)[rows]
    out["score"] = d.score[rows]
    out["known_type"] = d.known_type[rows].astype(str)
    out["embedding_x"] = d.x[rows]
    out["embedding_y"] = d.y[rows]
    if full and d.candidates is not None:
        cand = d.candidates.iloc[rows].reset_index(drop=True)
        extra = [c for c in cand.columns if c not in out.columns]
        out = pd.concat([out, cand[extra]], axis=1)
    if d.files is not None:
        f = d.files.iloc[rows].reset_index(drop=True)
        for c in ("obsid", "tstart", "tstop", "exposure"):
            if c in f.columns and c not in out.columns:
                out[c] = f[c].to_numpy()
        if "tstart" in out.columns:
            tel = f["telescope"].to_numpy() if "telescope" in f.columns else [None] * len(f)
            cols = {c: (f[c].to_numpy() if c in f.columns else None)
                    for c in ("mjdref", "timesys", "time_origin")}
            out["date_obs"] = iso_dates(out["tstart"].to_numpy(np.float64), tel, cols["mjdref"],
                                        cols["timesys"], cols["time_origin"])
    out = _text_filled(out)
    return with_units(out, meta=d.provenance_keywords())


def _safe_name(text: str) -> str:
    """``text`` with anything but letters, digits, ``._-`` replaced by ``_`` (file names)."""
    import re

    return re.sub(r"[^A-Za-z0-9._-]", "_", text)[:100] or "source"


def _file_response(state: ExplorerState, table: pd.DataFrame, fmt: str, name: str) -> FileResponse:
    """``table`` written to a temporary file of RUN_DIR/explore/ (removed after sending)."""
    ext = EXPORT_EXT[fmt]
    state.explore_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="export-", suffix=f".{ext}", dir=state.explore_dir)
    os.close(fd)
    write_table(table, tmp)
    return FileResponse(
        tmp,
        media_type={
            "csv": "text/csv",
            "votable": "application/x-votable+xml",
            "fits": "application/fits",
        }[fmt],
        filename=name,
        background=BackgroundTask(_unlink, tmp),
    )


def readable_reason(reason: str, significance: dict | None = None, row: int = 0) -> str:
    """A candidate's reason with its burst scan statistic followed by the empirical
    false-alarm probability and sigma of the burst term (``significance``: the columns of
    :meth:`serendip.app.rundata.RunData.significance_columns`, ``row`` the candidate's row), or
    marked "not calibrated" when the run has none: no uncalibrated number is shown as a
    probability."""
    import re

    def repl(m: re.Match) -> str:
        if significance is not None and "fap_burst" in significance:
            p, z = significance["fap_burst"][row], significance["sigma_burst"][row]
            if np.isfinite(p):
                return f"{m.group(0)} (false-alarm probability {fap_text(p)}, {z:.1f} sigma, empirical)"
        return f"{m.group(0)} (not calibrated)"

    return re.sub(r"burst scan statistic [0-9.]+", repl, reason)


def _finite_or_none(v) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


def _text_filled(df: pd.DataFrame) -> pd.DataFrame:
    """Missing text as "" (FITS/VOTable have no null strings)."""
    out = df.copy()
    for c in out.columns:
        if not pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c]):
            out[c] = out[c].astype(object).where(out[c].notna(), "").astype(str)
    return out


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
