"""The sockets under the polls: connected UDP sockets shared per server, answers delivered by message ID.

Questions to the same server share a few connected UDP sockets (at most PER_SOCKET in flight on each,
so a burst of answers fits the receive buffer); the kernel drops datagrams from any other source, and
`rotate()` closes idle sockets so the next round leaves from fresh random ports. Answers are handed to
a callback straight from the socket's reader — no task wakes up per answer, which is what keeps a round
of hundreds of pairs within a few milliseconds of the network's own delay.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import os
import socket
from collections.abc import Callable

import dns.edns
import dns.message
import dns.rcode
import dns.rdatatype

from cockpit.dns.observation import Server, Status
from cockpit.dns.wire import CLASS_IN, FLAG_QR, Answer, WireError, parse_answer

EDNS_PAYLOAD = 1232
PER_SOCKET = 64
"""Questions in flight on one UDP socket: their answers fit in its receive buffer even in a burst."""
RECEIVE_BUFFER = 1 << 20
_BODIES_MAX = 100_000

Delivery = Callable[[bytes | None, Exception | None], None]
"""Called once with the answer's bytes, or with the socket error that ended the wait."""

PER_WAKEUP = 16
"""Answers one readiness callback handles before it yields to the loop."""


class ExchangeError(Exception):
    """The question got no usable answer; `status` says which kind of failure, `detail` says it for people."""

    def __init__(self, status: Status, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class RandomIds:
    """Message IDs from the operating system's random source, read 2,048 at a time rather than one system
    call per question."""

    def __init__(self) -> None:
        self._pool: list[int] = []

    def next(self) -> int:
        pool = self._pool
        if not pool:
            pool.extend(array.array("H", os.urandom(4096)))
        return pool.pop()


class StrayAnswer(ExchangeError):
    """A readable answer with the question's ID that answers something else: over UDP a late answer to an
    earlier question that had the same ID on the socket (sent twice, answered twice), or a forgery — not the
    answer, so the question goes on waiting. Over TCP, where nothing else shares the connection, an error."""


class UdpChannel:
    """A non-blocking UDP socket connected to one server; each question in flight waits on its message ID.

    The socket is read by a plain reader callback that drains every datagram waiting, instead of one
    datagram per event-loop turn: a burst of hundreds of answers then costs a few loop turns.
    """

    def __init__(self, server: Server, ids: RandomIds) -> None:
        self._ids = ids
        family = socket.AF_INET6 if server.family_v6 else socket.AF_INET
        self.sock: socket.socket | None = socket.socket(family, socket.SOCK_DGRAM)
        self.pending: dict[int, Delivery] = {}
        try:
            self.sock.setblocking(False)
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            self.sock.connect((server.address, server.port))
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(self.sock.fileno(), self._readable)
        except BaseException:
            self.sock.close()
            raise

    @property
    def open(self) -> bool:
        return self.sock is not None

    def _readable(self) -> None:
        """Take at most PER_WAKEUP answers, then let the loop run other callbacks (the socket stays readable,
        so the loop calls again at once): a burst of thousands of answers, each of which may send the next
        question, must not hold the loop that also handles the operator's keys."""
        sock = self.sock
        for _ in range(PER_WAKEUP):
            if sock is None:
                return
            try:
                data = sock.recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._fail_all(exc)
                return
            if len(data) >= 2:
                deliver = self.pending.pop((data[0] << 8) | data[1], None)
                if deliver is not None:
                    deliver(data, None)
            sock = self.sock

    def _fail_all(self, exc: Exception) -> None:
        """A socket error (ICMP port unreachable on a connected socket): every waiter learns of it."""
        waiting, self.pending = self.pending, {}
        for deliver in waiting.values():
            deliver(None, exc)

    def send(self, body: bytes, deliver: Delivery) -> int:
        """Send the question (`body`: its wire form after the ID) with a fresh ID; `deliver` gets the answer.
        The ID, to `forget` it later."""
        pending = self.pending
        while True:
            qid = self._ids.next()
            if qid not in pending:
                break
        pending[qid] = deliver
        assert self.sock is not None
        try:
            self.sock.send(qid.to_bytes(2, "big") + body)
        except (BlockingIOError, InterruptedError):
            pass  # a full send buffer drops the question, as the network may: the timeout reports it
        except OSError as exc:
            # The error of an earlier datagram (ICMP port unreachable), reported on this send: it is the
            # socket's, so every question waiting on it learns of it, this one first.
            del self.pending[qid]
            self._loop.call_soon(deliver, None, exc)
            self._loop.call_soon(self._fail_all, exc)
        return qid

    def resend(self, qid: int, body: bytes) -> None:
        """Send a question again with its ID (still waited for); a full buffer or an error drops it quietly:
        the next try or the timeout reports it, and a socket error reaches the waiters through the reader."""
        if qid in self.pending and self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.send(qid.to_bytes(2, "big") + body)

    def rearm(self, qid: int, deliver: Delivery) -> bool:
        """Wait on `qid` again after a stray datagram took its place; False when the socket closed meanwhile."""
        if self.sock is None or qid in self.pending:
            return False
        self.pending[qid] = deliver
        return True

    def forget(self, qid: int) -> None:
        self.pending.pop(qid, None)

    def close(self) -> None:
        if self.sock is not None:
            self._loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None
            self._fail_all(ConnectionError("socket closed"))


class Exchanger:
    """Owns the UDP sockets and the pre-built questions: no RD bit, EDNS payload 1232, the DO bit (so a
    signed zone sends its RRSIGs) and an empty NSID option (so each server says which node answered)."""

    def __init__(self) -> None:
        self._channels: dict[tuple[str, int], list[UdpChannel]] = {}
        self._last: dict[tuple[str, int], UdpChannel] = {}
        """Per server, the socket that last had room."""
        self._bodies: dict[str, tuple[bytes, bytes]] = {}
        self._ids = RandomIds()

    def bodies(self, qname: str) -> tuple[bytes, bytes]:
        """The MX and the SOA question's wire form after the message ID (the channel writes the ID)."""
        bodies = self._bodies.get(qname)
        if bodies is None:
            if len(self._bodies) >= _BODIES_MAX:
                self._bodies.clear()
            bodies = self._bodies[qname] = (_question(qname, dns.rdatatype.MX), _question(qname, dns.rdatatype.SOA))
        return bodies

    def channel(self, server: Server, room: int) -> UdpChannel:
        """An open socket to the server with room for `room` more questions; opens one when all are full.

        Raises OSError when no socket can be opened to that address (e.g. no route for its family).
        """
        key = (server.address, server.port)
        most = PER_SOCKET - room
        last = self._last.get(key)
        if last is not None and last.open and len(last.pending) <= most:
            return last  # the common case in a burst: no walk over the server's sockets per question
        channels = self._channels.setdefault(key, [])
        for channel in channels:
            if channel.open and len(channel.pending) <= most:
                self._last[key] = channel
                return channel
        channels[:] = [c for c in channels if c.open]
        channel = UdpChannel(server, self._ids)
        channels.append(channel)
        self._last[key] = channel
        return channel

    def rotate(self) -> None:
        """Close the idle sockets; the next questions open new ones (new random source ports)."""
        for key, channels in list(self._channels.items()):
            keep = [c for c in channels if c.pending and c.open]
            for channel in channels:
                if channel not in keep:
                    channel.close()
            if keep:
                self._channels[key] = keep
            else:
                del self._channels[key]
        self._last.clear()

    async def close(self) -> None:
        for channels in self._channels.values():
            for channel in channels:
                channel.close()
        self._channels.clear()
        self._last.clear()
        await asyncio.sleep(0)


def _question(qname: str, rdtype: dns.rdatatype.RdataType) -> bytes:
    query = dns.message.make_query(
        qname,
        rdtype,
        use_edns=0,
        payload=EDNS_PAYLOAD,
        flags=0,
        id=0,
        want_dnssec=True,
        options=[dns.edns.GenericOption(dns.edns.OptionType.NSID, b"")],
    )
    return query.to_wire()[2:]


async def ask_tcp(server: Server, wire: bytes) -> bytes:
    """One question over TCP with the two-byte length prefix; the caller bounds the time."""
    reader, writer = await asyncio.open_connection(server.address, server.port)
    try:
        writer.write(len(wire).to_bytes(2, "big") + wire)
        await writer.drain()
        size = int.from_bytes(await reader.readexactly(2), "big")
        return await reader.readexactly(size)
    finally:
        writer.close()


def check_answer(data: bytes, qid: int, qname: str, rdtype: int) -> Answer:
    """The answer, checked to be a response to our question (ID, QR, opcode, question)."""
    try:
        answer = parse_answer(data)
    except WireError as exc:
        raise ExchangeError(Status.MALFORMED, f"unreadable answer: {exc}") from None
    if answer.id != qid or not answer.flags & FLAG_QR or answer.opcode != 0:
        raise StrayAnswer(Status.MALFORMED, "the answer is not a response to our question")
    if answer.qname is None:
        if answer.rcode in (dns.rcode.SERVFAIL, dns.rcode.REFUSED, dns.rcode.FORMERR, dns.rcode.NOTIMP):
            return answer
        raise ExchangeError(Status.MALFORMED, "the answer carries no question")
    if answer.qname != qname or answer.qtype != rdtype or answer.qclass != CLASS_IN:
        raise StrayAnswer(Status.MALFORMED, f"the answer is for another question ({answer.qname})")
    return answer


def network_text(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (nothing listens there)"
    if isinstance(exc, EOFError | asyncio.IncompleteReadError):
        return "the server closed the connection"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__
