"""What keeps the UI to its user: the host it answers to, its access token, checks on every write, and
strict response headers.

- **Host** (DNS rebinding): on loopback the UI answers only requests addressed to ``127.0.0.1``,
  ``localhost``, ``[::1]`` or the address it listens on (``--host 127.0.0.2``); a page of another site
  whose name was re-pointed at 127.0.0.1 gets 400.
- **Token**, on loopback too (Jupyter's way): anything on this machine can connect to loopback, a docker
  job on the host network as well, and the CSRF check below stops browsers only (a script sets the
  cookie and echoes it itself). So every request (pages, JSON, live logs, downloads, static files,
  writes) must carry the token ``runner ui`` made at start (or was given): as its cookie (set when the
  printed address with ``?token=...`` is opened; HttpOnly, SameSite=Strict, named after the port so two
  UIs on one machine keep their own), or ``Authorization: Bearer <token>``. Without it: 401 and a page
  that says to open the printed address. Compared in constant time; never logged.
- **Writes** (every POST): the browser's ``Origin`` (and ``Sec-Fetch-Site``) must be this site, and the
  request must echo the CSRF token of its ``runner_csrf`` cookie (a double-submitted random value, in
  the ``csrf_token`` form field or the ``X-CSRF-Token`` header that htmx sends). ``protected`` wraps
  every POST handler; a test posts to every POST route without it.
- **Headers**: a Content-Security-Policy that allows only this site's own scripts and styles (htmx is
  served from the package), no framing, no referrer to other sites, no MIME sniffing.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import parse_qsl, quote, urlencode

from starlette.datastructures import Headers
from starlette.requests import Request, cookie_parser
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_COOKIE = "runner_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
TOKEN_COOKIE = "runner_token"
TOKEN_PARAM = "token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
NEEDS_TOKEN = ("this runner UI needs its access token: open the address `runner ui` printed when it "
               "started (it ends in ?token=...), or send Authorization: Bearer <token>")

HEADERS = (
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; "
                                 b"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                                 b"base-uri 'none'; form-action 'self'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # "no-referrer" makes a form POST send "Origin: null"
)


def csrf_token(request: Request) -> str:
    """This browser's CSRF token: its cookie's, or a new one (sent as a cookie with the response)."""
    token = request.cookies.get(CSRF_COOKIE)
    if token:
        return token
    if not hasattr(request.state, "new_csrf"):
        request.state.new_csrf = secrets.token_urlsafe(32)
    return str(request.state.new_csrf)


def remember_csrf(request: Request, response: Response) -> Response:
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(CSRF_COOKIE, new, httponly=True, samesite="strict", path="/")
    return response


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and secrets.compare_digest(a.encode(), b.encode())


async def csrf_ok(request: Request) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD, "")
        sent = value if isinstance(value, str) else ""
    return _same(cookie, sent)


Handler = Callable[[Request], Awaitable[Response]]


def protected(handler: Handler) -> Handler:
    """A write action: refused (403) unless the request echoes this browser's CSRF token."""

    @functools.wraps(handler)
    async def checked(request: Request) -> Response:
        if not await csrf_ok(request):
            return PlainTextResponse("refused: this form has expired or came from another site; reload the "
                                     "page and try again", status_code=403)
        return await handler(request)

    checked.protected = True  # type: ignore[attr-defined]
    return checked


class SecurityMiddleware:
    """Host check, token check, Origin check on writes, and the strict headers, for every request."""

    def __init__(self, app: ASGIApp, *, token: str,
                 allowed_hosts: Iterable[str] | None = LOOPBACK_NAMES) -> None:
        if not token:
            raise ValueError("the UI needs an access token")
        self.app = app
        self.token = token
        self.allowed_hosts = None if allowed_hosts is None else {h.lower().strip("[]") for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, with_headers)
            return
        await self.app(scope, receive, with_headers)

    def _refusal(self, scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if self.allowed_hosts is not None and _hostname(host) not in self.allowed_hosts:
            return PlainTextResponse(f"refused: this UI answers on loopback only, not as '{host}'",
                                     status_code=400)
        refusal = self._token_refusal(scope, headers)
        if refusal is not None:
            return refusal
        if scope["method"] in UNSAFE_METHODS:
            origin = headers.get("origin")
            site = headers.get("sec-fetch-site")
            if (origin and origin != f"{scope.get('scheme', 'http')}://{host}") or \
                    (site and site not in ("same-origin", "none")):
                return PlainTextResponse("refused: a write from another site", status_code=403)
        return None

    def _token_refusal(self, scope: Scope, headers: Headers) -> Response | None:
        name = token_cookie(scope)
        params = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = dict(params).get(TOKEN_PARAM)
        if given is not None and scope["method"] in ("GET", "HEAD") and _same(given, self.token):
            # the printed address: keep the token as a cookie, take it out of the address bar
            rest = urlencode([(k, v) for k, v in params if k != TOKEN_PARAM])
            response = RedirectResponse(same_site_location(scope["path"], rest), status_code=303)
            response.set_cookie(name, self.token, httponly=True, samesite="strict", path="/")
            return response
        # as browsers (and Starlette's request.cookies) read it: another local app's cookie the stdlib's
        # parser cannot read (a JSON value, a space) would make it drop the rest, this token cookie too
        cookie = cookie_parser(headers.get("cookie", "")).get(name, "")
        bearer = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if _same(cookie, self.token) or _same(bearer, self.token):
            return None
        challenge = {"www-authenticate": 'Bearer realm="runner ui"'}
        if scope["path"] == "/api" or scope["path"].startswith("/api/"):
            return JSONResponse({"error": NEEDS_TOKEN}, status_code=401, headers=challenge)
        return PlainTextResponse(NEEDS_TOKEN, status_code=401, headers=challenge)


def token_cookie(scope: Scope) -> str:
    """The token cookie's name: ``runner_token_<port>``. Browsers keep cookies per host, not per port, so
    two UIs on one machine would otherwise overwrite each other's."""
    server = scope.get("server")
    return f"{TOKEN_COOKIE}_{server[1]}" if server and server[1] else TOKEN_COOKIE


def same_site_location(path: str, query: str = "") -> str:
    """A redirect target that stays on this site: ``path`` with one leading slash and percent-encoded.
    ``//evil.example/`` (or ``/\\evil.example/``: a browser reads a backslash as a slash) as a Location
    would send the browser to another host."""
    location = "/" + quote(path.lstrip("/\\"), safe="/!$&'()*+,;=:@")
    return location + (f"?{query}" if query else "")


def _hostname(host: str) -> str:
    """``127.0.0.1:8000`` -> ``127.0.0.1``; ``[::1]:8000`` -> ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
