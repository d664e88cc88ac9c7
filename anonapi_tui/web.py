"""`anon-tui --web`: the same dashboard in a browser, served by textual-serve on loopback only.

textual-serve starts the app command once per browser tab, in a shell, with this process's
environment: each tab is a dashboard process of its own, on the same settings file (the
environment carries `ANONAPI_SETTINGS`, set by `--demo` or the user) and, through `--folder`,
the same batch folder as a terminal run.

Every user of the machine can reach a loopback port, and the dashboard acts with the token of
the user who started it. So the page wants a key: a random one in the printed address, which
the browser then keeps in a cookie (HttpOnly, SameSite=Strict) for the websocket that drives the
dashboard; the websocket must also come from the page's own origin, so another web site open in
the same browser cannot drive it.
"""

from __future__ import annotations

import errno
import hmac
import logging
import os
import secrets
import shlex
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from textual_serve.server import Server

HOST = "127.0.0.1"
KEY_COOKIE = "anon_tui_key"
PUBLIC_PREFIX = "/static/"  # scripts, styles and fonts of the page: nothing of the user's

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def app_command(arguments: Sequence[str]) -> str:
    """The shell line that runs the dashboard with `arguments` in this interpreter."""
    line = [sys.executable, "-m", "anonapi_tui.main", *arguments]
    return subprocess.list2cmdline(line) if os.name == "nt" else shlex.join(line)


def ensure_port_free(port: int) -> None:
    """Refuse a taken port with one clear line, before anything is served or printed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if os.name != "nt":  # as aiohttp binds: a port left in TIME_WAIT is free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as e:
            raise OSError(
                errno.EADDRINUSE,
                f"port {port} on {HOST} is in use ({e.strerror}); choose another with --port N",
            ) from e


def _same(given: str, key: str) -> bool:
    return hmac.compare_digest(given.encode(), key.encode())


class DashboardServer(Server):
    """textual-serve's server on loopback, behind the key of the printed address."""

    def __init__(self, command: str, port: int, key: str) -> None:
        super().__init__(command, host=HOST, port=port, title="anon-tui")
        self.key = key

    @property
    def content_policy(self) -> str:
        """The page loads from this server only: textual-serve's page also asks a web font
        service for a font, which would tell a third party who opens the dashboard when."""
        websocket = "ws" + self.public_url.removeprefix("http")
        return (
            "default-src 'self'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
            f"connect-src 'self' {websocket}; frame-ancestors 'none'"
        )

    @property
    def address(self) -> str:
        """What the user opens: the page with its key."""
        return f"{self.public_url}/?key={self.key}"

    def initialize_logging(self) -> None:
        # textual-serve logs every connection at INFO; the terminal keeps only problems. On
        # ctrl+c the loop may close while a tab's dashboard is still exiting, which asyncio
        # reports as a warning: not a problem of the user's.
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
        logging.getLogger("asyncio").setLevel(logging.ERROR)

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._require_key)
        return app

    @web.middleware
    async def _require_key(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(PUBLIC_PREFIX):
            return await handler(request)
        if request.path == "/" and _same(request.query.get("key", ""), self.key):
            response = await handler(request)
            response.set_cookie(KEY_COOKIE, self.key, httponly=True, samesite="Strict")
            response.headers["Content-Security-Policy"] = self.content_policy
            return response
        from_here = request.headers.get("Origin", self.public_url) == self.public_url
        if from_here and _same(request.cookies.get(KEY_COOKIE, ""), self.key):
            return await handler(request)
        raise web.HTTPForbidden(text="Open the address that anon-tui --web printed.\n")

    async def on_startup(self, app: web.Application) -> None:
        print(f"Dashboard at {self.address}  (ctrl+c stops it)", flush=True)


def serve(arguments: Sequence[str], port: int) -> None:
    """Serve the dashboard started with `arguments` until ctrl+c (or SIGTERM)."""
    ensure_port_free(port)
    DashboardServer(app_command(arguments), port, secrets.token_urlsafe(24)).serve()
