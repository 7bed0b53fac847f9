"""Request checks of the explorer that do not depend on any route (one ASGI middleware).

What :class:`SecurityMiddleware` enforces, before a request reaches a route:

* **Token** (on when the app is served beyond loopback, see ``serendip explore
  --allow-remote``): every request carries the token, as ``?token=`` (the printed URL; a page
  request is then redirected to the same URL without it and gets an ``HttpOnly``,
  ``SameSite=Strict`` cookie), as that cookie, or as ``Authorization: Bearer <token>``.
  Otherwise 401.
* **Writes** (any method but GET/HEAD/OPTIONS): refused with 403 when ``Origin`` names another
  origin than the ``Host`` asked for (or is ``null``) or ``Sec-Fetch-Site`` says the request
  came from another site; refused with 415 unless the body is declared
  ``application/json`` (an HTML form cannot send that cross-origin without a CORS preflight,
  which this app never grants).
* **Size**: a body over ``max_body`` bytes is refused with 413 before it is read in full.
* **Text**: a body that is not valid UTF-8, or JSON that decodes to a lone surrogate
  (``"\\ud800"``, which no store or file format can encode), is refused with 400.

The Host header is checked by Starlette's ``TrustedHostMiddleware`` (see
:func:`serendip.app.server.create_app` and :func:`allowed_hosts`), which stops DNS-rebinding
pages.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import socket
from collections.abc import Iterable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

#: Host header values of this machine's loopback interface
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
#: largest request body accepted (bytes): a selection of every source of a 1,000,000-source
#: run is ~16 MB of ids
MAX_BODY = 16 * 1024 * 1024
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` serves this machine only (``localhost``, 127.0.0.0/8, ``::1``)."""
    h = host.strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def allowed_hosts(bind: str, extra: Iterable[str] = ()) -> list[str]:
    """Host header values accepted by a server bound to ``bind``.

    The loopback names, ``bind`` itself unless it is a wildcard (``0.0.0.0``/``::``), this
    machine's host name, fully qualified name and their addresses when it is one, and
    ``extra`` (``"*"`` there accepts any Host: only for a server behind a proxy that checks it).
    """
    hosts = set(LOOPBACK_HOSTS) | {h.strip() for h in extra if h.strip()}
    if bind in ("0.0.0.0", "::", ""):
        names = {socket.gethostname(), socket.getfqdn()}
        for name in list(names):
            try:
                names |= {ai[4][0] for ai in socket.getaddrinfo(name, None)}
            except OSError:
                pass
        hosts |= {f"[{n}]" if ":" in n else n for n in names if n}
    else:
        hosts.add(f"[{bind}]" if ":" in bind and not bind.startswith("[") else bind)
    return sorted(hosts)


def new_token() -> str:
    """A random access token (32 URL-safe characters, 192 bits)."""
    return secrets.token_urlsafe(24)


def _cookie_name(token: str) -> str:
    # several explorers on one machine (other ports) share cookies: one name per token
    return "serendip_token_" + hashlib.sha256(token.encode()).hexdigest()[:8]


def _has_lone_surrogate(obj: Any) -> bool:
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(obj, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in obj.items())
    if isinstance(obj, list):
        return any(_has_lone_surrogate(v) for v in obj)
    return False


class _Refused(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


class SecurityMiddleware:
    """ASGI middleware doing the checks listed in the module docstring.

    Parameters
    ----------
    app : the ASGI app to protect.
    token : access token, or None for no token (loopback-only servers).
    max_body : largest request body accepted, bytes.
    """

    def __init__(self, app, *, token: str | None = None, max_body: int = MAX_BODY):
        self.app = app
        self.token = token
        self.max_body = int(max_body)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            redirect = self._check_token(scope, headers)
            if redirect is not None:
                await _send(send, 303, "", redirect)
                return
            if scope["method"] not in SAFE_METHODS:
                self._check_write(headers)
                body = await self._read_body(receive, headers)
                receive = _replay(body, receive)
        except _Refused as exc:
            await _send(send, exc.status, exc.detail, exc.headers)
            return
        await self.app(scope, receive, send)

    # ------------------------------------------------------------------ token
    def _check_token(self, scope, headers: dict[str, str]) -> dict[str, str] | None:
        """None when the request may go on; redirect headers after a first visit with
        ``?token=``; raises _Refused(401) without a valid token."""
        if self.token is None:
            return None
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = [v for k, v in query if k == "token"]
        if given and self._valid(given[-1]):
            if scope["method"] == "GET" and not scope["path"].startswith("/api/"):
                rest = urlencode([(k, v) for k, v in query if k != "token"])
                name = _cookie_name(self.token)
                return {
                    "location": scope["path"] + (f"?{rest}" if rest else ""),
                    "set-cookie": f"{name}={self.token}; HttpOnly; SameSite=Strict; Path=/",
                    "cache-control": "no-store",
                }
            return None
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and self._valid(auth[7:].strip()):
            return None
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except Exception:  # noqa: BLE001 - a malformed Cookie header is just no cookie
            cookies = SimpleCookie()
        morsel = cookies.get(_cookie_name(self.token))
        if morsel is not None and self._valid(morsel.value):
            return None
        raise _Refused(
            401,
            "this explorer needs its access token: open the URL that `serendip explore` "
            "printed (it ends with ?token=...)",
            {"www-authenticate": "Bearer"},
        )

    def _valid(self, value: str) -> bool:
        return hmac.compare_digest(value.encode("utf-8", "replace"), self.token.encode())

    # ------------------------------------------------------------------ writes
    @staticmethod
    def _check_write(headers: dict[str, str]) -> None:
        origin = headers.get("origin")
        if origin is not None:
            parts = urlsplit(origin)
            host = headers.get("host", "").lower()
            if parts.scheme not in ("http", "https") or parts.netloc.lower() != host:
                raise _Refused(403, f"cross-origin write refused (Origin {origin!r})")
        site = headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            raise _Refused(403, f"cross-site write refused (Sec-Fetch-Site {site!r})")
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise _Refused(415, "write requests must send Content-Type: application/json")

    async def _read_body(self, receive, headers: dict[str, str]) -> bytes:
        try:
            declared = int(headers.get("content-length", "0"))
        except ValueError:
            raise _Refused(400, "bad Content-Length") from None
        if declared > self.max_body:
            raise _Refused(413, f"request body over {self.max_body} bytes")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Refused(400, "client disconnected")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _Refused(413, f"request body over {self.max_body} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise _Refused(400, "request body is not valid UTF-8") from None
        if _SURROGATE_ESCAPE.search(body):
            try:
                bad = _has_lone_surrogate(json.loads(body))
            except ValueError:
                bad = False  # not JSON: the route's own validation answers
            if bad:
                raise _Refused(400, "request holds invalid Unicode (a lone surrogate)")
        return body


def _replay(body: bytes, receive):
    """An ASGI ``receive`` that gives ``body`` (already read) once, then waits on the real one
    (for the client's disconnect)."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send(send, status: int, detail: str, extra: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode() if detail else b""
    headers = [(b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"application/json"))
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
