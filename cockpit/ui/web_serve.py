"""`cockpit serve`: the observer (`cockpit observe`) in browsers, through textual-serve. Every browser that opens
the page gets its own `cockpit observe` process; nothing served can change the run.

Access: on a loopback address anyone on this machine may watch. With a certificate and key the page, its
scripts and the websocket are served over TLS (https, wss). On any other address a token is required:
a request that carries none is refused with 401, a wrong one with 403. The first page is opened with
`?token=T`; the answer sets a cookie with it (HttpOnly, SameSite=Strict), which the page's own requests
(scripts, styles, the websocket) then carry. The token is compared in constant time and never logged: the
access log is off, and textual-serve's rich logging (which shows local variables in tracebacks) is replaced.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import signal
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from textual_serve.server import Server

TOKEN_COOKIE = "cockpit_serve_token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ObserverServer(Server):
    """textual-serve's server with a token check in front of every route and quiet, secret-free logging."""

    def __init__(
        self,
        command: str,
        *,
        host: str,
        port: int,
        title: str,
        token: str | None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(command, host=host, port=port, title=title)
        self._token = token
        self._tls = tls

    def initialize_logging(self) -> None:
        logging.basicConfig(level=logging.WARNING, format="cockpit serve: %(message)s")

    async def on_startup(self, app: web.Application) -> None:
        """(textual-serve prints a banner here; the command prints the address instead.)"""

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        if self._token is not None:
            app.middlewares.append(self._check_token)
        return app

    @web.middleware
    async def _check_token(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        assert self._token is not None
        given = request.query.get("token")
        from_query = given is not None
        if given is None:
            given = request.cookies.get(TOKEN_COOKIE)
        if given is None:
            raise web.HTTPUnauthorized(text="this cockpit is served with a token: open the address with ?token=...\n")
        if not hmac.compare_digest(given.encode(), self._token.encode()):
            raise web.HTTPForbidden(text="wrong token\n")
        response = await handler(request)
        if from_query and not isinstance(response, web.WebSocketResponse):
            response.set_cookie(TOKEN_COOKIE, given, httponly=True, samesite="Strict", path="/")
        return response

    async def handle_index(self, request: web.Request) -> Any:
        """The page, with its script and websocket addresses on the host the browser asked for (textual-serve
        builds them from the listening address, which for 0.0.0.0 no browser can reach)."""
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)

    async def run(self, started: Callable[[str], None]) -> None:
        """Serve until SIGINT or SIGTERM; `started` gets the address once it listens. OSError when the
        address cannot be listened on."""
        self.initialize_logging()
        runner = web.AppRunner(await self._make_app(), access_log=None, handle_signals=False)
        await runner.setup()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            site = web.TCPSite(runner, self.host, self.port, ssl_context=self._tls)
            await site.start()
            scheme = "https" if self._tls is not None else "http"
            started(f"{scheme}://{_url_host(self.host)}:{self.port}/")
            await stop.wait()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
            await runner.cleanup()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class TlsFilesError(Exception):
    """The certificate or key cannot be used; the message says why, for people."""


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """A server context from a PEM certificate (chain) and its unencrypted PEM key. Raises TlsFilesError."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    asked: list[bool] = []

    def no_passphrase() -> str:
        asked.append(True)
        return ""

    for path in (cert, key):
        if not Path(path).is_file():
            raise TlsFilesError(f"{path}: no such file")
        if not os.access(path, os.R_OK):
            raise TlsFilesError(f"{path}: not readable")
    try:
        context.load_cert_chain(cert, key, password=no_passphrase)
    except (ssl.SSLError, OSError) as exc:
        if asked:
            raise TlsFilesError(f"{key}: the key is encrypted; give it unencrypted (readable by you only)") from None
        reason = getattr(exc, "reason", None) or exc.__class__.__name__
        raise TlsFilesError(
            f"{cert} and {key}: not a PEM certificate and its matching key ({str(reason).lower().replace('_', ' ')})"
        ) from None
    return context
