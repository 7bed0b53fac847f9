"""The explorer on a hostile network (issue 15, items 3-6; "What it must show").

Each attack of the issue's probe, plus those that already failed before (path traversal,
foreign Host on the default host, cross-origin form posts), against the real app.
"""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from serendip.app.security import allowed_hosts, is_loopback
from serendip.app.server import create_app
from serendip.io.tables import read_table

from .conftest import N_SOURCES, _free_port, linked_copy

TOKEN = "t0ken-for-tests-0123456789abcdef"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def run(explore_run, tmp_path_factory):
    return linked_copy(explore_run, tmp_path_factory.mktemp("sec") / "run")


@pytest.fixture(scope="module")
def ids(explore_run) -> list[str]:
    return read_table(explore_run / "embedding.parquet")["obsreg_id"].astype(str).tolist()


@pytest.fixture(scope="module")
def local(run):
    """The app as ``serendip explore`` serves it on loopback (no token)."""
    return TestClient(create_app(run))


@pytest.fixture(scope="module")
def remote(run):
    """The app as ``serendip explore --host 0.0.0.0 --allow-remote`` serves it."""
    app = create_app(run, token=TOKEN, allowed_hosts=[*allowed_hosts("0.0.0.0"), "testserver"])
    return TestClient(app, follow_redirects=False)


def _label(c, sid, **kw):
    return c.post("/api/labels", json={"obsreg_id": sid, "label": "artefact"}, **kw)


# ------------------------------------------------------------------ binding and the CLI
def test_binding_beyond_loopback_needs_the_flag(run):
    from serendip.cli import app

    res = CliRunner().invoke(app, ["explore", str(run), "--host", "0.0.0.0", "--no-browser"])
    out = " ".join(res.output.split())
    assert res.exit_code == 2 and "--allow-remote" in out and "Traceback" not in out
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def test_remote_cli_prints_a_warning_and_a_token_url(run):
    port = _free_port()
    cmd = [sys.executable, "-c", "from serendip.cli import main; main()", "explore", str(run)]
    cmd += ["--no-browser", "--host", "0.0.0.0", "--allow-remote", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://") and f":{port}/?token=" in url
        token = url.split("?token=")[1]
        assert len(token) >= 32
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"{base}/api/meta", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert r.status_code == 401  # no token
        foreign = httpx.get(f"{base}/api/labels", headers={"Host": "evil.example"})
        assert foreign.status_code != 200
        ok = httpx.get(f"{base}/api/meta", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and ok.json()["n_sources"] == N_SOURCES
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        err = " ".join(proc.stderr.read().split())
        assert "warning" in err and "reachable from other machines" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------ token
@pytest.mark.parametrize("path", ["/", "/api/meta", "/api/labels", "/api/points", "/static/app.js"])
def test_requests_without_the_token_are_refused(remote, path):
    assert remote.get(path).status_code == 401
    assert remote.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert remote.get(path + "?token=wrong").status_code == 401


def test_writes_without_the_token_are_refused(remote, ids):
    assert _label(remote, ids[0]).status_code == 401
    assert remote.post("/api/rerank", headers=JSON).status_code == 401


def test_token_url_sets_a_cookie_and_strips_the_token(remote, run):
    r = remote.get(f"/?token={TOKEN}")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    name, value = cookie.split(";")[0].split("=", 1)
    assert value == TOKEN
    c = TestClient(remote.app, cookies={name: value})
    assert c.get("/").status_code == 200
    assert c.get("/api/meta").json()["n_sources"] == N_SOURCES
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert remote.get("/api/labels", headers=bearer).status_code == 200
    assert remote.get(f"/api/labels?token={TOKEN}").status_code == 200


def test_host_check_stays_on_with_the_token(remote):
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    r = remote.get("/api/labels", headers={**bearer, "Host": "evil.example"})
    assert r.status_code == 400


def test_allowed_hosts_are_configurable():
    hosts = allowed_hosts("0.0.0.0", ["proxy.example.org"])
    assert "proxy.example.org" in hosts and "127.0.0.1" in hosts and "*" not in hosts
    assert "evil.example" not in hosts
    assert allowed_hosts("10.1.2.3") == sorted(
        {"127.0.0.1", "localhost", "::1", "[::1]", "10.1.2.3"}
    )


# ------------------------------------------------------------------ writes: origin, type
@pytest.mark.parametrize("client_name", ["local", "remote"])
def test_cross_origin_writes_are_refused_on_every_write(request, client_name, ids):
    c = request.getfixturevalue(client_name)
    auth = {"Authorization": f"Bearer {TOKEN}"} if client_name == "remote" else {}
    evil = {**auth, **JSON, "Origin": "http://evil.example"}
    body = {"obsreg_id": ids[0], "label": "artefact"}
    export = {"what": "selection", "format": "csv", "ids": ids[:3]}
    for path, payload in (("/api/labels", body), ("/api/rerank", None), ("/api/export", export)):
        data = None if payload is None else json.dumps(payload)
        assert c.post(path, content=data, headers=evil).status_code == 403, path
        site = {**auth, **JSON, "Sec-Fetch-Site": "cross-site"}
        assert c.post(path, content=data, headers=site).status_code == 403, path
        null = {**auth, **JSON, "Origin": "null"}
        assert c.post(path, content=data, headers=null).status_code == 403, path
    same = {**auth, **JSON, "Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert c.post("/api/labels", content=json.dumps(body), headers=same).status_code == 200
    assert c.post("/api/rerank", headers=same).status_code == 200


def test_a_bodyless_cross_origin_rerank_is_refused(local):
    """Issue 15 item 4: a cross-origin POST /api/rerank with no body got 200."""
    assert local.post("/api/rerank", headers={"Origin": "http://evil.example"}).status_code == 403
    assert local.post("/api/rerank").status_code == 415  # no JSON content type


def test_form_posts_are_refused(local, ids):
    form = {"obsreg_id": ids[0], "label": "artefact"}
    r = local.post("/api/labels", data=form)  # application/x-www-form-urlencoded
    assert r.status_code == 415
    r = local.post("/api/labels", content="x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415


# ------------------------------------------------------------------ sizes and unicode
def test_export_of_repeated_ids_is_deduplicated(local, ids):
    """Issue 15 item 5: a 1 MB request gave a 75.8 MB file."""
    repeated = ids[:10] * 10_000
    body = {"what": "selection", "format": "csv", "ids": repeated}
    assert len(json.dumps(body)) > 900_000
    r = local.post("/api/export", json=body)
    assert r.status_code == 200
    table = read_table_csv(r.content)
    assert table["obsreg_id"].astype(str).tolist() == ids[:10]
    assert len(r.content) < 20_000


def read_table_csv(content: bytes):
    """An export's CSV (ECSV: units and provenance in a "# " header) as a DataFrame."""
    from astropy.table import Table

    return Table.read(io.BytesIO(content), format="ascii.ecsv").to_pandas()


def test_oversize_requests_are_refused(run, ids):
    c = TestClient(create_app(run, max_body=10_000))
    body = {"what": "selection", "format": "csv", "ids": ids * 2}
    assert len(json.dumps(body)) > 10_000
    assert c.post("/api/export", json=body).status_code == 413
    note = {"obsreg_id": ids[0], "label": "artefact", "note": "x" * 20_000}
    assert c.post("/api/labels", json=note).status_code == 413


@pytest.mark.parametrize(
    "raw",
    [
        b'{"obsreg_id": "\\ud800", "label": "artefact"}',
        b'{"obsreg_id": "X", "label": "artefact", "note": "a\\udfffb"}',
        b'{"obsreg_id": "\xed\xa0\x80", "label": "artefact"}',
        b'{"obsreg_id": "\xff", "label": "artefact"}',
    ],
)
def test_invalid_unicode_is_a_client_error(local, raw):
    """Issue 15 item 6: a lone surrogate as label id gave a 500 (UnicodeEncodeError)."""
    r = local.post("/api/labels", content=raw, headers=JSON)
    assert 400 <= r.status_code < 500, r.text
    ex = b'{"what": "selection", "format": "csv", "ids": ["\\ud800"]}'
    assert local.post("/api/export", content=ex, headers=JSON).status_code == 400


def test_valid_surrogate_pairs_still_pass(local):
    # an escaped emoji (a surrogate pair) is valid JSON text: answered normally (unknown id)
    raw = b'{"obsreg_id": "\\ud83d\\ude00", "label": "artefact"}'
    assert local.post("/api/labels", content=raw, headers=JSON).status_code == 404


# ------------------------------------------------------------------ attacks that failed before
@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2F..%2Fserver.py",
        "/static/%2e%2e/labels.py",
        "/api/source/..%2F..%2Fetc%2Fpasswd",
        "/static/../../../etc/passwd",
    ],
)
def test_path_traversal_is_refused(local, path):
    r = local.get(path)
    assert r.status_code in (400, 404) and "root:" not in r.text


def test_foreign_host_on_the_default_host_is_refused_for_reads_and_writes(local, ids):
    evil = {"Host": "evil.example"}
    assert local.get("/api/labels", headers=evil).status_code == 400
    assert _label(local, ids[0], headers=evil).status_code == 400
