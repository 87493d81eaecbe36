"""The control socket of a running cockpit: how `cockpit park` and `cockpit undo` act through the run that holds
the plan's lock, so that the journal keeps one writer.

A Unix socket beside the journal (`.cockpit/PLAN.yaml.control`, mode 0600; an abstract name derived from it
when the path is too long for a socket address). The server takes a connection only from the same user
(SO_PEERCRED). One request per connection, one JSON object per line: the client sends
`{"action": "park"}` or `{"action": "undo", "step": ID, "force": BOOL}`; the server answers with
`{"say": TEXT}` lines while it works and ends with `{"ok": BOOL, "line": TEXT}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import socket
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

MAX_REQUEST = 4096
MAX_PATH = 100
"""sun_path holds 108 bytes; stay clear of it."""
CONNECT_TIMEOUT = 5.0

Handler = Callable[[dict[str, Any], Callable[[str], None]], Awaitable[tuple[bool, str]]]


class ControlUnreachable(Exception):
    """No cockpit answers on the plan's control socket."""


def control_path(journal: Path) -> Path:
    """`.cockpit/PLAN.yaml.control` beside `.cockpit/PLAN.yaml.journal`."""
    return journal.with_suffix(".control")


def socket_address(path: Path) -> str:
    """The address to bind or connect to for the control socket `path`."""
    if len(os.fsencode(path)) <= MAX_PATH:
        return str(path)
    return "\0mx-cockpit-" + hashlib.sha256(os.fsencode(path)).hexdigest()[:40]


def peer_credentials(sock: socket.socket | None) -> tuple[int, int] | None:
    """(pid, uid) of the process at the other end of a Unix socket, where the system says (Linux)."""
    if sock is None or not hasattr(socket, "SO_PEERCRED"):
        return None
    try:
        pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    except OSError:
        return None
    return int(pid), int(uid)


class ControlServer:
    def __init__(self, path: Path, handler: Handler) -> None:
        self.path = path
        self.address = socket_address(path)
        self.handler = handler
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        """Listen; raises OSError when it cannot (the caller says so and runs on without)."""
        if not self.address.startswith("\0"):
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()  # left by a cockpit that was killed: the lock says none runs now
        old = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._serve, self.address, limit=MAX_REQUEST)
        finally:
            os.umask(old)

    def close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        if not self.address.startswith("\0"):
            with contextlib.suppress(OSError):
                self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def send(message: dict[str, Any]) -> None:
            if not writer.is_closing():
                writer.write(json.dumps(message).encode() + b"\n")

        try:
            peer = peer_credentials(writer.get_extra_info("socket"))
            if peer is not None and peer[1] != os.getuid():
                send({"ok": False, "line": "refused: the control socket answers only its own user"})
                return
            try:
                line = await asyncio.wait_for(reader.readline(), CONNECT_TIMEOUT)
                request = json.loads(line)
            except (TimeoutError, ValueError, asyncio.LimitOverrunError):
                send({"ok": False, "line": "refused: expected one JSON request line"})
                return
            if not isinstance(request, dict):
                send({"ok": False, "line": "refused: expected one JSON request line"})
                return
            request["pid"] = peer[0] if peer is not None else None
            ok, result = await self.handler(request, lambda text: send({"say": text}))
            send({"ok": ok, "line": result})
            await writer.drain()
        except (ConnectionError, OSError):
            pass  # the client went away: what it asked goes on, journaled
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


async def send_request(path: Path, request: dict[str, Any], on_line: Callable[[str], None]) -> tuple[bool, str]:
    """Send one request to the cockpit listening on `path`; its lines go to `on_line`; returns (ok, line)."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_unix_connection(socket_address(path), limit=1 << 20), CONNECT_TIMEOUT
        )
    except (OSError, TimeoutError) as exc:
        raise ControlUnreachable(str(getattr(exc, "strerror", None) or exc or "timed out")) from None
    try:
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        while True:
            line = await reader.readline()
            if not line:
                raise ControlUnreachable("the running cockpit closed the connection before it answered")
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if not isinstance(message, dict):
                continue
            if "say" in message:
                on_line(str(message["say"]))
            elif "ok" in message:
                return bool(message["ok"]), str(message.get("line", ""))
    except (ConnectionError, OSError) as exc:
        raise ControlUnreachable(str(exc)) from None
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
