"""Serving the UI with uvicorn: bound before start (the address is known, no port race), ready message
once it answers, and a shutdown that an open live-log page cannot hold up.

uvicorn stops in this order: close the listeners, wait for running responses (forever, unless
``timeout_graceful_shutdown``), then run the lifespan's shutdown. A server-sent event stream never ends
by itself, so a flag set by the lifespan comes too late: ``UIServer`` sets the app's ``shutdown`` event
at the *start* of its shutdown, which ends every stream at once (``runner.ui.events``); the graceful
timeout stays as a backstop.
"""

from __future__ import annotations

import socket
import threading
import webbrowser
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import uvicorn
from starlette.applications import Starlette

GRACEFUL_TIMEOUT_S = 3  # a backstop: streams end at once (UIServer.shutdown)


class UIServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: Starlette, *,
                 on_ready: Callable[[], None] | None = None) -> None:
        super().__init__(config)
        self._ui_app = app
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self._on_ready is not None:
            self._on_ready()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._ui_app.state.shutdown.set()  # wake the live-log streams before uvicorn waits for them
        await super().shutdown(sockets=sockets)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def make_server(app: Starlette, *, on_ready: Callable[[], None] | None = None,
                log_level: str = "warning") -> UIServer:
    config = uvicorn.Config(app, log_level=log_level, lifespan="on", access_log=False,
                            timeout_graceful_shutdown=GRACEFUL_TIMEOUT_S, server_header=False)
    return UIServer(config, app, on_ready=on_ready)


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(app: Starlette, sock: socket.socket, *, announce: Callable[[str], Any], token: str,
          open_browser: bool = False) -> None:
    """Serve ``app`` on ``sock`` until Ctrl-C / SIGTERM; ``announce`` gets the address, with the access
    token, once it answers (the one place the token is shown)."""
    address = f"{url_of(sock)}/?{urlencode({'token': token})}"

    def ready() -> None:
        announce(address)
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(address,), daemon=True).start()

    make_server(app, on_ready=ready).run(sockets=[sock])
