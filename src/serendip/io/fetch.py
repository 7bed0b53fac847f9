"""Fetch per-detection CSC data products (event files, light curves) into a local cache.

``fetch_products`` takes a table of detections (``obsid``, ``region_id``, optional ``obi``)
and downloads one product per detection and file type from a URL template, in
batches, with retries and back-off, resumably:

* cache layout: ``CACHE/<filetype>/<obsid>/<obsid>_<region_id>/`` holds the product files
  and a ``.complete`` marker written last (``serendip ingest CACHE/regevt`` reads the events); a detection with the marker is never fetched again,
  so an interrupted run picks up where it stopped without refetching;
* downloads go to ``*.part`` files renamed only when complete;
* a tar archive (the CSC service packs products in tar files) is unpacked safely
  (regular files only, base names only); any other answer is stored as it came;
* HTTP 404 is recorded as ``(detection, reason)`` without retrying; 5xx, timeouts and
  connection errors are retried ``retries`` times with exponential back-off;
* ``CACHE/manifest.parquet`` lists every detection: ``obsreg_id``, ``obsid``,
  ``region_id``, ``filetype``, ``status`` ("ok"/"cached"/"failed"), ``path``, ``reason``.

:func:`cached_events` turns the cached event files into the long event table
(``obsreg_id``, ``time`` [s], ``energy`` [eV]) that ``serendip ingest`` and
:class:`~serendip.io.EventSet` read.
"""

from __future__ import annotations

import io
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from serendip.errors import InputError
from serendip.io.tables import read_table, write_table

CSC_PRODUCT_URL = "https://cda.cfa.harvard.edu/csccli/retrieveFile?version=cur&obsid={obsid}&obi={obi}&region={region_id}&filetype={filetype}&catalog=csc2.1"
"""Default product URL template (placeholders ``obsid``, ``obi``, ``region_id``, ``filetype``).
Set ``url_template`` to another service or mirror; the tests use a local server."""

FILETYPES = ("regevt", "lc")
"""CSC per-detection product types: region event file, light curve."""


@dataclass
class FetchResult:
    """Outcome of one detection/file type."""

    obsreg_id: str
    obsid: int
    region_id: int
    filetype: str
    status: str
    path: str
    reason: str


def detection_dir(cache: Path, obsid: int, region_id: int, filetype: str = "regevt") -> Path:
    """``CACHE/<filetype>/<obsid>/<obsid>_<region_id>``: one folder per detection and product type."""
    return Path(cache) / filetype / f"{int(obsid)}" / f"{int(obsid)}_{int(region_id)}"


def _marker(d: Path, filetype: str) -> Path:
    return d / ".complete"


def _safe_extract(data: bytes, dest: Path) -> list[Path]:
    out = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for m in tar.getmembers():
            if not m.isfile():
                continue
            name = Path(m.name).name
            if not name or name.startswith("."):
                continue
            f = tar.extractfile(m)
            if f is None:
                continue
            target = dest / name
            tmp = target.with_name(target.name + ".part")
            tmp.write_bytes(f.read())
            tmp.replace(target)
            out.append(target)
    return out


def _filename(resp, filetype: str, obsid: int, region_id: int) -> str:
    cd = resp.headers.get("Content-Disposition", "")
    if "filename=" in cd:
        name = Path(cd.split("filename=")[-1].strip().strip('"')).name
        if name and not name.startswith("."):
            return name
    return f"{int(obsid)}_{int(region_id)}_{filetype}.fits"


def _fetch_one(
    session,
    url: str,
    dest: Path,
    filetype: str,
    obsid: int,
    region_id: int,
    retries: int,
    timeout_s: float,
    backoff_s: float,
) -> tuple[str, str, str]:
    import requests

    last = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff_s * 2 ** (attempt - 1))
        try:
            resp = session.get(url, timeout=timeout_s)
        except requests.exceptions.Timeout:
            last = f"timeout after {timeout_s:g} s"
            continue
        except requests.exceptions.RequestException as exc:
            last = f"connection failed: {type(exc).__name__}"
            continue
        if resp.status_code == 404:
            return "failed", "", f"not found (HTTP 404) at {url}"
        if resp.status_code >= 500 or resp.status_code == 429:
            last = f"server error HTTP {resp.status_code}"
            continue
        if resp.status_code != 200:
            return "failed", "", f"HTTP {resp.status_code} at {url}"
        data = resp.content
        if not data:
            last = "empty answer"
            continue
        dest.mkdir(parents=True, exist_ok=True)
        try:
            is_tar = tarfile.is_tarfile(io.BytesIO(data))
        except Exception:  # noqa: BLE001
            is_tar = False
        if is_tar:
            files = _safe_extract(data, dest)
            if not files:
                return "failed", "", "archive holds no files"
            paths = ";".join(str(p) for p in files)
        else:
            target = dest / _filename(resp, filetype, obsid, region_id)
            tmp = target.with_name(target.name + ".part")
            tmp.write_bytes(data)
            tmp.replace(target)
            paths = str(target)
        _marker(dest, filetype).write_text(paths + "\n")
        return "ok", paths, ""
    return "failed", "", f"gave up after {retries + 1} attempt(s): {last}"


def fetch_products(
    detections: pd.DataFrame,
    cache: str | Path,
    *,
    filetypes=("regevt",),
    url_template: str = CSC_PRODUCT_URL,
    batch_size: int = 50,
    workers: int = 4,
    retries: int = 3,
    timeout_s: float = 60.0,
    backoff_s: float = 1.0,
    progress: bool = True,
    source: str | None = None,
) -> pd.DataFrame:
    """Download the products of every detection in ``detections``; returns the manifest.

    ``detections`` needs ``obsid`` and ``region_id`` columns (``obi`` defaults to 0);
    duplicate detections are fetched once. ``batch_size`` detections are requested at a
    time by ``workers`` threads; the manifest is rewritten after every batch so an
    interrupted run keeps what it finished. The returned table covers this call's
    detections; ``CACHE/manifest.parquet`` covers every detection ever fetched into the cache.
    """
    import requests

    for c in ("obsid", "region_id"):
        if c not in detections.columns:
            raise InputError(
                source, f"detection table needs column {c!r}; found {list(detections.columns)[:20]}"
            )
    det = detections[
        ["obsid", "region_id"] + (["obi"] if "obi" in detections.columns else [])
    ].copy()
    if "obi" not in det.columns:
        det["obi"] = 0
    for c in ("obsid", "region_id", "obi"):
        v = pd.to_numeric(det[c], errors="coerce")
        if v.isna().any():
            raise InputError(
                source, f"column {c!r} has {int(v.isna().sum())} missing or non-numeric value(s)"
            )
        det[c] = v.astype(np.int64)
    det = det.drop_duplicates().reset_index(drop=True)
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    jobs = [
        (int(r.obsid), int(r.obi), int(r.region_id), ft)
        for r in det.itertuples(index=False)
        for ft in filetypes
    ]
    results: list[FetchResult] = []
    todo = []
    for obsid, obi, reg, ft in jobs:  # cheap file-existence checks, no I/O of contents
        d = detection_dir(cache, obsid, reg, ft)
        m = _marker(d, ft)
        if m.exists():
            results.append(
                FetchResult(f"{obsid}_{reg}", obsid, reg, ft, "cached", m.read_text().strip(), "")
            )
        else:
            todo.append((obsid, obi, reg, ft))
    session = requests.Session()
    session.headers["User-Agent"] = "serendip fetch-events"
    manifest_path = cache / "manifest.parquet"

    def work(job):
        obsid, obi, reg, ft = job
        url = url_template.format(obsid=obsid, obi=obi, region_id=reg, filetype=ft)
        status, path, reason = _fetch_one(
            session,
            url,
            detection_dir(cache, obsid, reg, ft),
            ft,
            obsid,
            reg,
            retries,
            timeout_s,
            backoff_s,
        )
        return FetchResult(f"{obsid}_{reg}", obsid, reg, ft, status, path, reason)

    previous = read_table(manifest_path) if manifest_path.exists() else None

    def save():
        man = _manifest(results)
        if previous is not None and len(previous):
            key = set(zip(man["obsreg_id"], man["filetype"], strict=True))
            old = previous[
                [
                    (o, f) not in key
                    for o, f in zip(previous["obsreg_id"], previous["filetype"], strict=True)
                ]
            ]
            man = pd.concat([old, man], ignore_index=True)
        write_table(man, manifest_path)

    bar = None
    if progress and todo:
        from serendip.progress import progress_bar

        bar = progress_bar(eta=True)
        bar.start()
        task = bar.add_task("fetching products", total=len(todo))
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for start in range(0, len(todo), batch_size):
                batch = todo[start : start + batch_size]
                for r in pool.map(work, batch):
                    results.append(r)
                    if bar is not None:
                        bar.advance(task)
                save()
    finally:
        if bar is not None:
            bar.stop()
        save()
    return _manifest(results)


def _manifest(results: list[FetchResult]) -> pd.DataFrame:
    cols = ["obsreg_id", "obsid", "region_id", "filetype", "status", "path", "reason"]
    if not results:
        return pd.DataFrame({c: [] for c in cols})
    return pd.DataFrame([r.__dict__ for r in results])[cols]


def read_manifest(cache: str | Path) -> pd.DataFrame:
    """The manifest of a product cache (``CACHE/manifest.parquet``)."""
    return read_table(Path(cache) / "manifest.parquet")


def read_event_file(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(time [s], energy [eV]) of a FITS event file (EVENTS extension, TIME and ENERGY)."""
    from astropy.io import fits

    try:
        with fits.open(path, memmap=False) as hdul:
            ext = next((h for h in hdul if h.name == "EVENTS"), None)
            if ext is None:
                ext = next((h for h in hdul[1:] if isinstance(h, fits.BinTableHDU)), None)
            if ext is None:
                raise InputError(path, "no EVENTS table extension")
            names = {n.upper(): n for n in ext.columns.names}
            if "TIME" not in names or "ENERGY" not in names:
                raise InputError(path, f"EVENTS extension lacks TIME or ENERGY; has {list(names)}")
            t = np.asarray(ext.data[names["TIME"]], dtype=np.float64)
            e = np.asarray(ext.data[names["ENERGY"]], dtype=np.float32)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise InputError(
            path, f"cannot be read as a FITS event file: {type(exc).__name__}: {exc}"
        ) from exc
    return t, e


def cached_events(
    cache: str | Path, filetype: str = "regevt"
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Long event table from every cached event file, plus ``(file, reason)`` for failures.

    Returns ``(events, failures)``: ``events`` has ``obsreg_id``, ``time`` [s], ``energy`` [eV].
    """
    man = read_manifest(cache)
    ok = man[(man["filetype"] == filetype) & man["status"].isin(["ok", "cached"])]
    frames, failures = [], []
    for oid, paths in zip(ok["obsreg_id"], ok["path"], strict=True):  # one read per file
        fits_paths = [
            p
            for p in str(paths).split(";")
            if p.lower().endswith((".fits", ".fits.gz", ".evt", ".evt.gz", ".fit"))
        ]
        if not fits_paths:
            failures.append((str(paths), "no FITS event file in the cached product"))
            continue
        try:
            t, e = read_event_file(fits_paths[0])
        except InputError as exc:
            failures.append((fits_paths[0], exc.problem))
            continue
        frames.append(pd.DataFrame({"obsreg_id": oid, "time": t, "energy": e}))
    events = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({"obsreg_id": [], "time": [], "energy": []})
    )
    return events, failures
