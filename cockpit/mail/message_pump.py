"""The copy itself: the source host's frames flow through the cockpit into the destination host, flow-controlled.

As in `cockpit.ssh.transfer`, reading from the source pauses while the destination channel's send buffer is
above its high-water mark, so memory stays bounded whatever the speeds. Requests reach the source host while
the plan is still being made; the destination acknowledges each message once it is durable and in place, and
only acknowledged messages count as copied.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as quote
from typing import Any

import asyncssh

from cockpit.base.units import format_duration
from cockpit.mail.copy_plan import CopyRequest, FlagUpdate
from cockpit.mail.errors import MailError
from cockpit.mail.folder_names import plain
from cockpit.mail.host_call import JsonLines, StderrTail, close_quietly, encode_line, failure, open_program
from cockpit.ssh import ConnectionLostError

HIGH_WATER = 4 * 1024 * 1024
"""Bytes queued towards the destination before the source is paused."""
FINISH_TIMEOUT = 600.0
"""Seconds the destination may take after the data ended to make the last batch durable and exit."""
LOST = "during the sync; a rerun copies only what is missing"


@dataclass
class Acks:
    """What the destination confirmed so far."""

    copied: list[tuple[CopyRequest, str, int]] = field(default_factory=list)
    """(request, name written (Maildir) or "", bytes written) per durable message."""
    skipped: int = 0
    flags_updated: int = 0
    finished: bool = False


class _Source(asyncssh.SSHClientSession[bytes]):
    def __init__(self, forward: Callable[[bytes], None]) -> None:
        self.forward = forward
        self.stderr = StderrTail()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if datatype == asyncssh.EXTENDED_DATA_STDERR:
            self.stderr.feed(data)
        else:
            self.forward(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class _Destination(asyncssh.SSHClientSession[bytes]):
    def __init__(self, on_ack: Callable[[Any], None]) -> None:
        self.lines = JsonLines(on_ack)
        self.stderr = StderrTail()
        self.error: Exception | None = None
        self.source: asyncssh.SSHClientChannel[bytes] | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if datatype == asyncssh.EXTENDED_DATA_STDERR:
            self.stderr.feed(data)
        elif self.error is None:
            try:
                self.lines.feed(data)
            except Exception as exc:  # keep the first problem; the copy is stopped by the caller
                self.error = exc

    def pause_writing(self) -> None:
        if self.source is not None:
            self.source.pause_reading()

    def resume_writing(self) -> None:
        if self.source is not None:
            self.source.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class CopyChannels:
    """The sender on the source host and the receiver on the destination host, and the cockpit between them."""

    def __init__(self, hosts: tuple[str, str], on_progress: Callable[[Acks, int], None]) -> None:
        self.hosts = hosts
        self.on_progress = on_progress
        self.requests: list[CopyRequest] = []
        self.acks = Acks()
        self.forwarded = 0
        self._pending: list[bytes] = []
        self._params: tuple[bytes, bytes] | None = None
        self._begun = False
        self._src_chan: asyncssh.SSHClientChannel[bytes] | None = None
        self._dst_chan: asyncssh.SSHClientChannel[bytes] | None = None
        self._src = _Source(self._forward)
        self._dst = _Destination(self._on_ack)

    @property
    def receiver_closed(self) -> asyncio.Future[None]:
        """Done when the receiver ended (before the end of the data, that is a failure)."""
        return self._dst.closed

    async def open(self, src_conn: asyncssh.SSHClientConnection, dst_conn: asyncssh.SSHClientConnection) -> None:
        """Starts both programs; they wait for their parameters (see `begin`)."""
        src_host, dst_host = self.hosts
        self._dst_chan = await open_program(dst_conn, dst_host, "receive", self._dst)
        self._dst_chan.set_write_buffer_limits(high=HIGH_WATER)
        self._src_chan = await open_program(src_conn, src_host, "send", self._src)
        self._dst.source = self._src_chan
        self._begin()

    def begin(self, send_params: dict[str, Any], receive_params: dict[str, Any]) -> None:
        """Gives both programs their parameters; requests made before this are sent after them."""
        self._params = (encode_line(send_params), encode_line(receive_params))
        self._begin()

    def _begin(self) -> None:
        if self._params is None or self._src_chan is None or self._dst_chan is None or self._begun:
            return
        self._begun = True
        for chan, params in ((self._dst_chan, self._params[1]), (self._src_chan, self._params[0])):
            if not chan.is_closing():  # one that ended already (no python3, say) is explained by `finish`
                with contextlib.suppress(BrokenPipeError):
                    chan.write(params)
        self._flush_requests()

    def request(self, request: CopyRequest) -> None:
        """Asks the source for one more message (in sequence order)."""
        assert request.seq == len(self.requests)
        self.requests.append(request)
        m = request.message
        self._send(
            f'[{request.seq},{request.mailbox},{quote(request.folder)},{quote(m.key)},{m.size},"{m.digest.hex()}"]\n'.encode(
                "ascii"
            )
        )

    def update_flags(self, update: FlagUpdate) -> None:
        """Has the destination rename one Maildir file for the flags it now has on the source."""
        self._send(encode_line(["flags", update.mailbox, update.folder, update.key, update.flags]))

    def _send(self, line: bytes) -> None:
        """Requests made in one turn of the event loop leave in one write (one SSH packet, not one each)."""
        self._pending.append(line)
        if self._begun and len(self._pending) == 1:
            asyncio.get_running_loop().call_soon(self._flush_requests)

    def _flush_requests(self) -> None:
        if not self._begun or self._src_chan is None:
            return
        lines, self._pending = self._pending, []
        if lines and not self._src_chan.is_closing():
            with contextlib.suppress(BrokenPipeError):
                self._src_chan.write(b"".join(lines))

    def _forward(self, data: bytes) -> None:
        if self._dst_chan is not None and not self._dst_chan.is_closing():
            self.forwarded += len(data)
            self._dst_chan.write(data)

    def _on_ack(self, value: Any) -> None:
        acks = self.acks
        if "oks" in value:
            requests = self.requests
            acks.copied.extend((requests[seq], name, size) for seq, name, size in value["oks"])
        elif "skip" in value:
            acks.skipped += 1
        elif "flags" in value:
            acks.flags_updated += int(value["flags"])
        elif "done" in value:
            acks.finished = True
        self.on_progress(acks, self.forwarded)

    async def finish(self) -> Acks:
        """No more requests: waits until the destination has placed everything and both programs ended."""
        src_chan, dst_chan = self._src_chan, self._dst_chan
        assert src_chan is not None and dst_chan is not None and self._begun
        src_host, dst_host = self.hosts
        self._flush_requests()
        if not src_chan.is_closing():
            with contextlib.suppress(BrokenPipeError):
                src_chan.write_eof()
        await asyncio.wait([self._src.closed, self._dst.closed], return_when=asyncio.FIRST_COMPLETED)
        if not self._src.closed.done() and not self.acks.finished:
            close_quietly(src_chan)
            problem = failure(dst_host, dst_chan, self._dst.stderr, LOST)
            raise problem or MailError(dst_host, "the destination stopped receiving before the data ended")
        await _ended(self._src.closed, src_chan, src_host, "the source")
        source_problem = failure(src_host, src_chan, self._src.stderr, LOST)
        if not dst_chan.is_closing():
            with contextlib.suppress(BrokenPipeError):
                dst_chan.write_eof()
        await _ended(self._dst.closed, dst_chan, dst_host, "the destination")
        if self._dst.error is not None:
            raise MailError(
                dst_host, f"unreadable acknowledgement from the mail program: {plain(str(self._dst.error))}"
            )
        dest_problem = failure(dst_host, dst_chan, self._dst.stderr, LOST)
        if source_problem is not None:
            raise source_problem
        if dest_problem is not None:
            raise dest_problem
        return self.acks

    def abort(self) -> None:
        """Stops both programs (each leaves nothing half-written behind)."""
        close_quietly(self._src_chan)
        close_quietly(self._dst_chan)


async def _ended(closed: asyncio.Future[None], chan: asyncssh.SSHClientChannel[bytes], host: str, which: str) -> None:
    """Waits (bounded) until one side's program ended; past FINISH_TIMEOUT its channel is closed."""
    try:
        async with asyncio.timeout(FINISH_TIMEOUT):
            await asyncio.shield(closed)
    except TimeoutError:
        close_quietly(chan)
        raise ConnectionLostError(host, f"{which} did not finish within {format_duration(FINISH_TIMEOUT)}") from None
