"""A local HTTP server (127.0.0.1 only) speaking the TAP sync protocol and serving
CSC-like data-product archives, started per test module and always shut down."""

from __future__ import annotations

import io
import tarfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest


def votable_bytes(table) -> bytes:
    from astropy.io.votable import from_table

    buf = io.BytesIO()
    from_table(table).to_xml(buf)
    return buf.getvalue()


def event_fits_bytes(n: int, seed: int) -> bytes:
    from astropy.io import fits

    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 1000, n))
    e = rng.uniform(500, 7000, n).astype(np.float32)
    hdu = fits.BinTableHDU.from_columns(
        [
            fits.Column("TIME", "D", unit="s", array=t),
            fits.Column("ENERGY", "E", unit="eV", array=e),
        ],
        name="EVENTS",
    )
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buf)
    return buf.getvalue()


def tar_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.queries: list[dict] = []
        self.votable: bytes = b""
        self.empty_votable: bytes = b""
        self.product_requests: dict[str, int] = {}
        self.fail_products: dict[str, int] = {}  # path -> number of 500 answers before success
        self.missing_products: set[str] = set()


def make_handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def _send(self, code: int, body: bytes, ctype: str = "text/xml"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _tap(self, path: str, params: dict):
            with state.lock:
                state.queries.append({"path": path, **params})
            if path == "/tap/sync":
                self._send(200, state.votable)
            elif path == "/tap_empty/sync":
                self._send(200, state.empty_votable)
            elif path == "/tap_error/sync":
                self._send(500, b"Internal Server Error: database unavailable", "text/plain")
            elif path == "/tap_slow/sync":
                time.sleep(2.0)  # bounded: longer than the client's timeout in the test
                self._send(200, state.votable)
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self):
            n = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(n).decode()
            params = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
            self._tap(urllib.parse.urlparse(self.path).path, params)

        def do_GET(self):
            u = urllib.parse.urlparse(self.path)
            if u.path.startswith("/products/"):
                key = u.path
                with state.lock:
                    state.product_requests[key] = state.product_requests.get(key, 0) + 1
                    fails = state.fail_products.get(key, 0)
                    if fails > 0:
                        state.fail_products[key] = fails - 1
                if key in state.missing_products:
                    return self._send(404, b"no such product", "text/plain")
                if fails > 0:
                    return self._send(500, b"temporary failure", "text/plain")
                _, _, obsid, region, filetype = key.split("/")
                seed = int(obsid) * 1000 + int(region)
                name = f"acisf{int(obsid):05d}_{int(region):04d}_{filetype}3.fits"
                return self._send(
                    200,
                    tar_bytes({f"{obsid}/{name}": event_fits_bytes(50 + int(region), seed)}),
                    "application/x-tar",
                )
            params = {k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()}
            self._tap(u.path, params)

    return Handler


@pytest.fixture(scope="module")
def local_server():
    """(base_url, state) of a threaded HTTP server on 127.0.0.1, shut down after the module."""
    state = State()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
