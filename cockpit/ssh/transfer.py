"""Host-to-host transfer through the cockpit: two channels, a hash in the middle, nothing on local disk.

The source's stdout is written straight into the destination's stdin. When the destination channel's
send buffer passes its high-water mark, reading from the source pauses (and the source's SSH window then
stops the server), so memory stays bounded whatever the speeds. The SHA-256 of the stream is compared with
the SHA-256 of the file the destination wrote before anything takes the final name.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import deque
from dataclasses import dataclass

import asyncssh

from cockpit.base.units import format_duration
from cockpit.plan import HostPath
from cockpit.ssh.command import run_captured, stop
from cockpit.ssh.connections import HostConnections
from cockpit.ssh.errors import CommandTimeoutError, ConnectError, ConnectionLostError, SshError, TransferError
from cockpit.ssh.events import Clock, EventSink, SystemClock, TransferProgress, ignore_events
from cockpit.ssh.transfer_remote import Destination, probe_source, source_stream

HIGH_WATER = 4 * 1024 * 1024
"""Bytes queued towards the destination before the source is paused."""
HELPER_TIMEOUT = 120.0
"""Seconds allowed for each short helper command (probe, checksum, rename, cleanup)."""
PROGRESS_EVERY = 0.25
FINISH_TIMEOUT = 60.0
"""Seconds the destination may take to finish writing after the end of the data (flush, close, exit)."""


@dataclass(frozen=True)
class TransferResult:
    """A verified transfer."""

    size: int
    sha256: str
    seconds: float
    directory: bool


class _Pump:
    """Copies one channel into the other with flow control, hashing and counting as bytes pass."""

    def __init__(self, sink: EventSink, clock: Clock, total: int | None) -> None:
        self.sink = sink
        self.clock = clock
        self.total = total
        self.done = 0
        self.hash = hashlib.sha256()
        self.started = clock.monotonic()
        self._last = self.started
        self.src: asyncssh.SSHClientChannel[bytes] | None = None
        self.dst: asyncssh.SSHClientChannel[bytes] | None = None
        loop = asyncio.get_running_loop()
        self.src_closed: asyncio.Future[None] = loop.create_future()
        self.dst_closed: asyncio.Future[None] = loop.create_future()

    def forward(self, data: bytes) -> None:
        assert self.dst is not None
        if self.dst.is_closing():
            return
        self.hash.update(data)
        self.done += len(data)
        self.dst.write(data)
        now = self.clock.monotonic()
        if now - self._last >= PROGRESS_EVERY:
            self._last = now
            self.report()

    def report(self) -> None:
        elapsed = max(self.clock.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if self.total is not None and rate > 0 else None
        self.sink(TransferProgress(self.clock.now(), self.done, self.total, rate, eta))


class _End(asyncssh.SSHClientSession[bytes]):
    """One end of the pipe; keeps the last lines of stderr to explain a failure."""

    def __init__(self, pump: _Pump, source: bool) -> None:
        self._pump = pump
        self._source = source
        self.stderr: deque[bytes] = deque(maxlen=8)

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if self._source and datatype != asyncssh.EXTENDED_DATA_STDERR:
            self._pump.forward(data)
        else:
            self.stderr.append(data[-512:])

    def pause_writing(self) -> None:
        if not self._source and self._pump.src is not None:
            self._pump.src.pause_reading()

    def resume_writing(self) -> None:
        if not self._source and self._pump.src is not None:
            self._pump.src.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        closed = self._pump.src_closed if self._source else self._pump.dst_closed
        if not closed.done():
            closed.set_result(None)

    def reason(self) -> str:
        text = b"".join(self.stderr).decode("utf-8", "replace").strip().splitlines()
        return text[-1] if text else ""


async def transfer(
    connections: HostConnections,
    source: HostPath,
    dest: HostPath,
    *,
    sink: EventSink = ignore_events,
    clock: Clock | None = None,
    timeout: float | None = None,
) -> TransferResult:
    """Copies `source` (a file, or a directory as tar) to `dest`, verified; cancel-safe at any point.

    On any failure (or after `timeout` seconds) the destination's temporary names are removed, when the host
    is still reachable, and the final name is left as it was. Errors name the host they concern.
    """
    try:
        async with asyncio.timeout(timeout):
            return await _transfer(connections, source, dest, sink, clock or SystemClock())
    except TimeoutError:
        waited = format_duration(timeout or 0.0)
        raise CommandTimeoutError(dest.host, f"transfer {source} → {dest} timed out after {waited}") from None


async def _transfer(
    connections: HostConnections, source: HostPath, dest: HostPath, sink: EventSink, clock: Clock
) -> TransferResult:
    src_conn = await connections.connect(source.host)
    probe = await run_captured(src_conn, probe_source(source.path), host=source.host, timeout=HELPER_TIMEOUT)
    kind, _, size_text = (probe.stdout[-1] if probe.stdout else "").partition(" ")
    if not probe.result.ok or kind not in ("dir", "file"):
        detail = {"missing": "no such file or directory", "unreadable": "not readable"}.get(kind, probe.reason())
        raise TransferError(source.host, f"cannot read {source.path}: {detail}")
    directory = kind == "dir"
    total = None if directory else int(size_text)
    try:
        target = Destination.for_path(dest.path, directory)
    except ValueError as exc:
        raise TransferError(dest.host, str(exc)) from None
    dst_conn = await connections.connect(dest.host)
    check = await run_captured(dst_conn, target.preflight(), host=dest.host, timeout=HELPER_TIMEOUT)
    if not check.result.ok:
        raise TransferError(dest.host, f"cannot write {dest.path}: {check.reason()}")
    try:
        pump = await _copy(src_conn, dst_conn, source, dest, target, sink, clock, total)
        await _verify_and_commit(dst_conn, dest, target, pump)
    except BaseException:
        await _clean_up(dst_conn, dest.host, target)
        raise
    return TransferResult(pump.done, pump.hash.hexdigest(), clock.monotonic() - pump.started, directory)


async def _copy(
    src_conn: asyncssh.SSHClientConnection,
    dst_conn: asyncssh.SSHClientConnection,
    source: HostPath,
    dest: HostPath,
    target: Destination,
    sink: EventSink,
    clock: Clock,
    total: int | None,
) -> _Pump:
    pump = _Pump(sink, clock, total)
    dst_end, src_end = _End(pump, source=False), _End(pump, source=True)
    dst_chan = await _open(dst_conn, dest.host, target.receive(), dst_end)
    pump.dst = dst_chan
    dst_chan.set_write_buffer_limits(high=HIGH_WATER)
    try:
        pump.src = src_chan = await _open(src_conn, source.host, source_stream(source.path, target.directory), src_end)
    except BaseException:
        stop(dst_chan)
        raise
    src_chan.write_eof()
    try:
        done, _ = await asyncio.wait([pump.src_closed, pump.dst_closed], return_when=asyncio.FIRST_COMPLETED)
        if pump.dst_closed in done and not pump.src_closed.done():
            stop(src_chan)
            raise _ended_early(dest.host, dst_chan, dst_end, "the destination stopped receiving")
        _require_exit(source.host, src_chan, src_end, "the source")
        if total is not None and pump.done != total:
            raise TransferError(
                source.host, f"{source.path} changed during the transfer: read {pump.done} of {total} bytes"
            )
        pump.report()
        dst_chan.write_eof()
        try:
            async with asyncio.timeout(FINISH_TIMEOUT):
                await asyncio.shield(pump.dst_closed)
        except TimeoutError:
            raise TransferError(
                dest.host,
                f"the destination did not finish writing within {format_duration(FINISH_TIMEOUT)} after the data ended",
            ) from None
        _require_exit(dest.host, dst_chan, dst_end, "the destination")
    except BaseException:
        stop(src_chan)
        stop(dst_chan)
        raise
    return pump


async def _open(
    conn: asyncssh.SSHClientConnection, host: str, command: str, end: _End
) -> asyncssh.SSHClientChannel[bytes]:
    try:
        chan, _ = await conn.create_session(lambda: end, command, encoding=None)
    except asyncssh.ChannelOpenError as exc:
        raise ConnectError(host, f"cannot start the transfer: {exc.reason}") from None
    return chan


def _require_exit(host: str, chan: asyncssh.SSHClientChannel[bytes], end: _End, which: str) -> None:
    status = chan.get_exit_status()
    if status is None:
        raise ConnectionLostError(host, f"{which} of the transfer ended without an exit status")
    if status != 0:
        raise TransferError(
            host, f"{which} of the transfer failed (exit status {status}): {end.reason() or 'no message'}"
        )


def _ended_early(host: str, chan: asyncssh.SSHClientChannel[bytes], end: _End, what: str) -> SshError:
    status = chan.get_exit_status()
    if status is None:
        return ConnectionLostError(host, what)
    return TransferError(host, f"{what} (exit status {status}): {end.reason() or 'no message'}")


async def _verify_and_commit(
    conn: asyncssh.SSHClientConnection, dest: HostPath, target: Destination, pump: _Pump
) -> None:
    expected = pump.hash.hexdigest()
    summed = await run_captured(conn, target.checksum(), host=dest.host, timeout=HELPER_TIMEOUT)
    written = summed.stdout[-1].split()[0] if summed.result.ok and summed.stdout else ""
    if written != expected:
        got = written or f"no checksum ({summed.reason()})"
        raise TransferError(dest.host, f"SHA-256 mismatch for {dest.path}: sent {expected}, written {got}")
    commit = await run_captured(conn, target.commit(), host=dest.host, timeout=HELPER_TIMEOUT)
    if not commit.result.ok:
        raise TransferError(dest.host, f"cannot move the verified data to {dest.path}: {commit.reason()}")


async def _clean_up(conn: asyncssh.SSHClientConnection, host: str, target: Destination) -> None:
    """Removes the temporary names; keeps running (bounded by its timeout) even if the caller is cancelled."""
    task = asyncio.ensure_future(run_captured(conn, target.cleanup(), host=host, timeout=HELPER_TIMEOUT))
    task.add_done_callback(lambda done: done.cancelled() or done.exception())
    with contextlib.suppress(SshError, OSError, asyncssh.Error):
        await asyncio.shield(task)
