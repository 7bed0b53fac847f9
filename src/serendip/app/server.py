"""The FastAPI application of ``serendip explore`` (HTTP API described in the module docs).

Security: the only files served are the whitelisted page files of ``serendip/app/static`` and
plotly's own ``plotly.min.js``; source ids from the browser are looked up in the run's id
index and never used as paths; exports are written by the server to a temporary file in
``RUN_DIR/explore/`` under a name it chooses; nothing is loaded with pickle.

Endpoints (all JSON unless stated; tables are columnar):
``GET /``, ``GET /static/{name}``, ``GET /api/meta``, ``GET /api/points`` (cached, gzip),
``GET /api/source/{id}``, ``GET /api/etmap/{id}`` (E-t map only, for neighbour thumbnails),
``GET /api/analogs/{id}?k=``, ``GET /api/candidates?order=&limit=&include_labelled=``,
``POST /api/labels``, ``GET /api/labels``, ``POST /api/rerank``,
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
from serendip.app.review import Reviewer, available_strategies, discovery_curve, warm_up
from serendip.app.rundata import LABEL_BASE, RunData, _nan_none, _round
from serendip.app.security import LOOPBACK_HOSTS, MAX_BODY, SecurityMiddleware
from serendip.errors import InputError
from serendip.io.atomic import atomic_path
from serendip.io.tables import write_table

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
POINTS_VERSION = "points-1"  # bump when the /api/points layout changes (invalidates caches)


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _static_path(name: str) -> Path:
    return _plotly_js() if name == "plotly.min.js" else STATIC_DIR / name


class LabelIn(BaseModel):
    obsreg_id: str = Field(max_length=200)
    label: str = Field(max_length=200)
    note: str = Field(default="", max_length=MAX_NOTE)


class ExportIn(BaseModel):
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
        self._points: tuple[bytes, bytes] | None = None
        self._points_lock = threading.Lock()
        self.points_seconds = 0.0

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
        for name, (kind, values) in d.colour_columns().items():
            if name in out:
                continue
            if kind == "numeric":
                out[name] = _nan_none(_round(values))
            else:
                out[name] = np.asarray(values, dtype=object).tolist()
        return out

    # --------------------------------------------------------------- helpers
    def row(self, obsreg_id: str) -> int:
        try:
            return self.data.row_of(obsreg_id)
        except KeyError:
            raise HTTPException(404, f"unknown obsreg_id {obsreg_id!r}") from None

    def neighbour_rows(self, row: int, k: int) -> list[dict]:
        d = self.data
        idx, dist = d.neighbours(row, k)
        dist, score = _round(dist), _round(d.score[idx])
        return [
            {
                "obsreg_id": str(d.ids[i]),
                "distance": float(dist[j]),
                "known_type": d.known_type[i] or None,
                "score": float(score[j]),
                "rank": int(d.rank[i]),
                "x": float(d.x[i]),
                "y": float(d.y[i]),
            }
            for j, i in enumerate(idx)  # k rows (<= 200), not per source
        ]

    def latest_labels(self) -> pd.DataFrame:
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
            "has_events": (d.run_dir / "events.parquet").is_file() and d.kind != "classification",
            "class_names": d.class_names,
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

    @app.get("/api/source/{obsreg_id}")
    def source(obsreg_id: str) -> dict:
        row = state.row(obsreg_id)
        d = state.data
        return {
            "obsreg_id": str(d.ids[row]),
            "properties": d.properties(row),
            "features": d.event_feature_row(row),
            "et_map": d.et_map(row),
            "lightcurve": d.lightcurve(row),
            "neighbours": state.neighbour_rows(row, 8),
        }

    @app.get("/api/etmap/{obsreg_id}")
    def etmap(obsreg_id: str) -> dict:
        row = state.row(obsreg_id)
        return {"obsreg_id": str(state.data.ids[row]), "et_map": state.data.et_map(row)}

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
        return {
            "order": order,
            "strategy": state.reviewer.strategy,
            "n_unlabelled": int(d.n - ok.sum()),
            "rows": [
                {
                    "obsreg_id": str(d.ids[i]),
                    "rank": int(d.rank[i]),
                    "score": float(d.score[i]),
                    "active_score": float(act[i]),
                    "reason": str(d.reasons[i]),
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
        state.labels.add(str(state.data.ids[row]), item.label, item.note)
        return {"ok": True, "n_labels": state.labels.n_labelled()}

    @app.get("/api/labels")
    def get_labels() -> dict:
        latest = state.latest_labels()
        return {
            "rows": [
                {"obsreg_id": r.obsreg_id, "label": r.label, "note": r.note, "time": r.time}
                for r in latest.itertuples(index=False)  # one row per labelled source
            ]
        }

    @app.post("/api/rerank")
    def rerank() -> dict:
        latest = state.latest_labels()
        t0 = time.perf_counter()
        state.reviewer.rerank(latest)
        return {
            "ok": True,
            "n_labels": len(latest),
            "strategy": state.reviewer.strategy,
            "seconds": round(time.perf_counter() - t0, 4),
            "curve": discovery_curve(latest),
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
        if item.what == "labels":
            table = state.latest_labels()
            rows = d.rows_of(table["obsreg_id"].tolist()) if len(table) else np.zeros(0, int)
            ok = rows >= 0
            table = table.loc[ok].reset_index(drop=True)
            rows = rows[ok]
            table["score"] = d.score[rows]
            table["rank"] = np.asarray(d.rank)[rows]
            table["known_type"] = d.known_type[rows].astype(str)
        else:
            if not item.ids:
                raise HTTPException(422, "the selection is empty")
            rows = d.rows_of(item.ids)
            if (rows < 0).any():
                bad = item.ids[int(np.flatnonzero(rows < 0)[0])]
                raise HTTPException(404, f"unknown obsreg_id {bad!r} in the selection")
            d.wait_details()
            table = d.candidates.iloc[rows].reset_index(drop=True)
            table.insert(1, "x", d.x[rows])
            table.insert(2, "y", d.y[rows])
        table = _text_filled(table)
        ext = EXPORT_EXT[item.format]
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
            }[item.format],
            filename=f"serendip-{item.what}.{ext}",
            background=BackgroundTask(_unlink, tmp),
        )

    return app


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
