"""Run one command on a host, streaming its output as events, and report how it ended.

The only success is an exit status from the server. When the connection drops before one arrives, the
command may have finished, failed or still be running: that is `ConnectionLostError`, never a result.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass

import asyncssh

from cockpit.base.units import format_duration
from cockpit.ssh.errors import CommandTimeoutError, ConnectError, ConnectionLostError, SshError
from cockpit.ssh.events import Clock, EventSink, OutputLines, SshEvent, Stream, SystemClock, ignore_events
from cockpit.ssh.lines import DEFAULT_MAX_LINE, LineSplitter
from cockpit.ssh.remote_shell import CANCEL_SIGNAL, wrapped

PTY_TERM = "xterm"
PTY_SIZE = (200, 50)
STOP_GRACE = 5.0
"""Seconds to wait for the server to confirm a cancelled channel closed."""


@dataclass(frozen=True)
class CommandResult:
    """How a remote command ended: an exit status, or the signal that killed it."""

    exit_status: int
    """The command's exit status; -1 when it was killed by a signal."""
    signal: str | None = None

    @property
    def ok(self) -> bool:
        return self.exit_status == 0

    def describe(self) -> str:
        """One line for the operator."""
        if self.signal:
            return f"killed by signal {self.signal}"
        return "exit status 0" if self.ok else f"failed with exit status {self.exit_status}"


class _CommandSession(asyncssh.SSHClientSession[bytes]):
    """Splits what arrives into lines and hands them to the sink without buffering beyond one line."""

    def __init__(self, sink: EventSink, clock: Clock, max_line: int) -> None:
        self._sink = sink
        self._clock = clock
        self._out = LineSplitter(max_line)
        self._err = LineSplitter(max_line)
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.sink_error: BaseException | None = None
        self._chan: asyncssh.SSHClientChannel[bytes] | None = None

    def connection_made(self, chan: asyncssh.SSHClientChannel[bytes]) -> None:
        self._chan = chan

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if datatype == asyncssh.EXTENDED_DATA_STDERR:
            self._emit("stderr", self._err.feed(data))
        else:
            self._emit("stdout", self._out.feed(data))

    def connection_lost(self, exc: Exception | None) -> None:
        self._emit("stdout", self._out.flush())
        self._emit("stderr", self._err.flush())
        if not self.closed.done():
            self.closed.set_result(None)

    def _emit(self, stream: Stream, lines: list[str]) -> None:
        if not lines or self.sink_error is not None:
            return
        try:
            self._sink(OutputLines(self._clock.now(), stream, tuple(lines)))
        except Exception as exc:  # the caller's bug must not leave the remote command running
            self.sink_error = exc
            if self._chan is not None:
                stop(self._chan)


def stop(chan: asyncssh.SSHClientChannel[bytes]) -> None:
    """Signal the remote command (the wrapper then kills its process group) and close the channel."""
    if not chan.is_closing():
        with contextlib.suppress(OSError, asyncssh.Error):
            chan.send_signal(CANCEL_SIGNAL)
        chan.close()


async def run_command(
    conn: asyncssh.SSHClientConnection,
    command: str,
    *,
    host: str,
    sink: EventSink = ignore_events,
    pty: bool = False,
    timeout: float | None = None,
    clock: Clock | None = None,
    max_line: int = DEFAULT_MAX_LINE,
) -> CommandResult:
    """Runs `command` through /bin/sh on the host; cancelling the caller's task stops it on the host too.

    `host` names the plan host in errors. The command reads from /dev/null. With `pty` it gets a terminal
    (programs then flush per line) and its stderr arrives merged into stdout.
    """
    session = _CommandSession(sink, clock or SystemClock(), max_line)
    try:
        chan, _ = await conn.create_session(
            lambda: session,
            wrapped(command),
            encoding=None,
            term_type=PTY_TERM if pty else None,
            term_size=PTY_SIZE if pty else None,
        )
    except asyncssh.ChannelOpenError as exc:
        raise ConnectError(host, f"cannot start the command: {exc.reason}") from None
    except (asyncssh.Error, OSError) as exc:
        raise ConnectError(host, f"cannot start the command: {exc}") from None
    try:
        async with asyncio.timeout(timeout):
            await asyncio.shield(session.closed)
    except TimeoutError:
        stop(chan)
        await _closed_within(session, STOP_GRACE)
        raise CommandTimeoutError(
            host, f"command timed out after {format_duration(timeout or 0.0)}; it was signalled and its channel closed"
        ) from None
    except asyncio.CancelledError:
        stop(chan)
        raise
    if session.sink_error is not None:
        raise SshError(host, f"output handler failed: {session.sink_error!r}") from session.sink_error
    return _result(host, chan)


def _result(host: str, chan: asyncssh.SSHClientChannel[bytes]) -> CommandResult:
    exit_signal = chan.get_exit_signal()
    if exit_signal is not None:
        return CommandResult(-1, exit_signal[0])
    status = chan.get_exit_status()
    if status is None:
        raise ConnectionLostError(host, "no exit status received")
    return CommandResult(status)


async def _closed_within(session: _CommandSession, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await asyncio.shield(session.closed)
    except TimeoutError:
        pass


@dataclass(frozen=True)
class Captured:
    """A short command's result with the last lines of its output (bounded)."""

    result: CommandResult
    stdout: tuple[str, ...]
    stderr: tuple[str, ...]

    def reason(self) -> str:
        """The last line of stderr (or stdout), to explain a failure in one line."""
        tail = self.stderr or self.stdout
        return tail[-1] if tail else self.result.describe()


async def run_captured(
    conn: asyncssh.SSHClientConnection, command: str, *, host: str, timeout: float | None, keep: int = 50
) -> Captured:
    """Runs a short helper command and keeps the last `keep` lines of each stream."""
    out: deque[str] = deque(maxlen=keep)
    err: deque[str] = deque(maxlen=keep)

    def collect(event: SshEvent) -> None:
        if isinstance(event, OutputLines):
            (err if event.stream == "stderr" else out).extend(event.lines)

    result = await run_command(conn, command, host=host, sink=collect, timeout=timeout)
    return Captured(result, tuple(out), tuple(err))
