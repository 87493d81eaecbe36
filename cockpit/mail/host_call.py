"""One call of the host program over SSH: parameters and data in on stdin, JSON lines out, read as they come.

Every way a call can end badly becomes one exception with one line: no python3, the program's own error
line (`cockpit-mail: KIND: message`), an exit status with the last line of stderr, or a lost connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import asyncssh

from cockpit.mail.errors import KINDS, MailError, PythonMissingError
from cockpit.mail.folder_names import plain
from cockpit.mail.host_bundle import NO_PYTHON_STATUS, NO_PYTHON_TEXT, host_command
from cockpit.ssh import ConnectError, ConnectionLostError, SshError
from cockpit.ssh.command import stop

ERROR_PREFIX = "cockpit-mail: "
MAX_LINE = 64 << 20
"""Longest JSON line accepted from a host: a message record is far shorter; the list of mailboxes (one line) of
a store with very many users is the longest."""
STDERR_KEPT = 20

PYTHON_MISSING = "python3 not found — the mail steps need python3 on the host"


def encode_line(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


class StderrTail:
    """The last lines a host program wrote to stderr, to explain a failure."""

    def __init__(self) -> None:
        self.lines: deque[str] = deque(maxlen=STDERR_KEPT)
        self._partial = b""

    def feed(self, data: bytes) -> None:
        data = self._partial + data
        *complete, self._partial = data.split(b"\n")
        self.lines.extend(line.decode("utf-8", "replace") for line in complete)
        self._partial = self._partial[-4096:]

    def last(self) -> str:
        lines = [*self.lines, self._partial.decode("utf-8", "replace")]
        found = [line.strip() for line in lines if line.strip()]
        return found[-1] if found else ""


def failure(host: str, chan: asyncssh.SSHClientChannel[bytes], stderr: StderrTail, lost: str) -> Exception | None:
    """The exception for how a host program ended, or None when it succeeded."""
    status = chan.get_exit_status()
    if status == 0:
        return None
    signal = chan.get_exit_signal()
    if signal is not None:
        return MailError(
            host, f"the mail program was killed by signal {signal[0]}: {plain(stderr.last()) or 'no message'}"
        )
    if status is None:
        return ConnectionLostError(host, lost)
    last = stderr.last()
    if status == NO_PYTHON_STATUS and NO_PYTHON_TEXT in " ".join(stderr.lines) + last:
        return PythonMissingError(host, PYTHON_MISSING)
    if last.startswith(ERROR_PREFIX):
        kind, _, message = last[len(ERROR_PREFIX) :].partition(": ")
        if kind.startswith("python3 is"):
            return PythonMissingError(host, plain(kind))
        return KINDS.get(kind, MailError)(host, plain(message or kind))
    return MailError(host, f"the mail program failed (exit status {status}): {plain(last) or 'no message'}")


class JsonLines:
    """Splits a byte stream into lines and hands each decoded JSON value on; bounded by MAX_LINE.

    The complete lines of a chunk are decoded in one go (as one JSON array), which costs a fraction of one
    decoder call per line; a chunk that does not decode that way is decoded line by line, to name the bad line.
    """

    def __init__(self, on_value: Callable[[Any], None]) -> None:
        self._on_value = on_value
        self._partial = b""

    def feed(self, data: bytes) -> None:
        cut = data.rfind(b"\n")
        if cut < 0:
            self._partial += data
            if len(self._partial) > MAX_LINE:
                raise ValueError("a line from the host program is too long")
            return
        complete = self._partial + data[:cut] if self._partial else data[:cut]
        self._partial = data[cut + 1 :]
        try:
            values = json.loads(b"[" + complete.replace(b"\n", b",") + b"]")
        except ValueError:
            values = [json.loads(line) for line in complete.split(b"\n") if line.strip()]
        on_value = self._on_value
        for value in values:
            on_value(value)

    @property
    def pending(self) -> bool:
        return bool(self._partial)


class _CallSession(asyncssh.SSHClientSession[bytes]):
    def __init__(self, on_value: Callable[[Any], None]) -> None:
        self.lines = JsonLines(on_value)
        self.stderr = StderrTail()
        self.error: BaseException | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.chan: asyncssh.SSHClientChannel[bytes] | None = None

    def connection_made(self, chan: asyncssh.SSHClientChannel[bytes]) -> None:
        self.chan = chan

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if datatype == asyncssh.EXTENDED_DATA_STDERR:
            self.stderr.feed(data)
            return
        if self.error is not None:
            return
        try:
            self.lines.feed(data)
        except Exception as exc:  # a bad line or the caller's handler: stop the host program, report after
            self.error = exc
            if self.chan is not None:
                stop(self.chan)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def open_program(
    conn: asyncssh.SSHClientConnection, host: str, mode: str, session: asyncssh.SSHClientSession[bytes]
) -> asyncssh.SSHClientChannel[bytes]:
    """Starts the host program in `mode` on a new channel of `conn`."""
    try:
        chan, _ = await conn.create_session(lambda: session, host_command(mode), encoding=None)
    except asyncssh.ChannelOpenError as exc:
        raise ConnectError(host, f"cannot start the mail program: {exc.reason}") from None
    except (asyncssh.Error, OSError) as exc:
        raise ConnectionLostError(host, f"cannot start the mail program: {exc}") from None
    return chan


class HostCall:
    """One call of the host program, started before its parameters are known (starting python3 on a host
    takes a noticeable share of a small pass) and fed once they are."""

    def __init__(self, host: str, mode: str, on_value: Callable[[Any], None], lost: str = "outcome unknown") -> None:
        self.host = host
        self.mode = mode
        self.lost = lost
        self.session = _CallSession(on_value)
        self.chan: asyncssh.SSHClientChannel[bytes] | None = None

    async def start(self, conn: asyncssh.SSHClientConnection) -> None:
        self.chan = await open_program(conn, self.host, self.mode, self.session)

    def feed(self, params: dict[str, Any], data: Iterable[bytes] = ()) -> None:
        """Writes the parameters and the data, then the end of input."""
        assert self.chan is not None
        if self.chan.is_closing():
            return  # it ended already (no python3, say): `result` tells why
        with contextlib.suppress(BrokenPipeError):
            self.chan.write(encode_line(params) + b"".join(data))
            self.chan.write_eof()

    async def result(self) -> None:
        """Waits for the program's end; raises its failure as one line."""
        assert self.chan is not None
        try:
            await asyncio.shield(self.session.closed)
        except BaseException:
            stop(self.chan)
            raise
        session, host = self.session, self.host
        if isinstance(session.error, SshError):
            raise session.error
        if session.error is not None:
            raise MailError(host, f"unreadable answer from the mail program: {plain(str(session.error))}") from None
        problem = failure(host, self.chan, session.stderr, self.lost)
        if problem is not None:
            raise problem
        if session.lines.pending:
            raise MailError(host, "the mail program's output ended in the middle of a line")

    def stop(self) -> None:
        close_quietly(self.chan)


async def call_host(
    conn: asyncssh.SSHClientConnection,
    host: str,
    mode: str,
    params: dict[str, Any],
    on_value: Callable[[Any], None],
    data: Iterable[bytes] = (),
    *,
    lost: str = "outcome unknown",
) -> None:
    """Runs the host program, feeding `params` and `data` on stdin and every output line to `on_value`."""
    call = HostCall(host, mode, on_value, lost)
    await call.start(conn)
    try:
        call.feed(params, data)
        await call.result()
    except BaseException:
        call.stop()
        raise


def close_quietly(chan: asyncssh.SSHClientChannel[bytes] | None) -> None:
    if chan is not None:
        with contextlib.suppress(OSError, asyncssh.Error):
            stop(chan)
