"""A real HTTP server on loopback in front of the PowerDNS API: it forwards every request, and on cue
answers HTTP 429 (with or without Retry-After) or takes a request and never answers. The provider code
under test talks HTTP to it exactly as to a DNS host's API; nothing of ours or lexicon's is replaced.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class HttpFront:
    """Forwards to `upstream`; a request path must start with `prefix`, which is stripped."""

    def __init__(self, upstream: str, prefix: str = "") -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.prefix = prefix
        self.rate_limited = 0
        """How many requests still get HTTP 429."""
        self.retry_after: str | None = None
        self.silent = False
        """Take requests and never answer."""
        self.seen: list[str] = []
        self.after_change: Callable[[str], None] | None = None
        """Called with `METHOD PATH` after a request other than GET went through upstream, before it is
        answered: what the zone holds between two calls of a change."""
        self.arrived = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        front = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def _handle(self) -> None:
                front._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        with self._lock:
            self.seen.append(f"{request.command} {request.path}")
            limited = self.rate_limited > 0
            if limited:
                self.rate_limited -= 1
        self.arrived.set()
        if self.silent:
            self._release.wait(30)
            return
        if limited:
            request.send_response(429, "Too Many Requests")
            if self.retry_after is not None:
                request.send_header("Retry-After", self.retry_after)
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        path = request.path
        if not path.startswith(self.prefix):
            request.send_response(404)
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("x-api-key", "content-type")}
        upstream = http.client.HTTPConnection(*self.upstream, timeout=10)
        try:
            upstream.request(request.command, path[len(self.prefix) :], body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
        finally:
            upstream.close()
        if self.after_change is not None and request.command != "GET":
            self.after_change(f"{request.command} {path}")
        request.send_response(response.status, response.reason)
        request.send_header("Content-Type", response.getheader("Content-Type") or "text/plain")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
