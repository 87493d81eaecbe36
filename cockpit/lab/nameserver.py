"""An authoritative nameserver on loopback (real UDP and TCP) serving LabZones, with faults on demand.

Tests, the benchmark and the embedded demo use it in place of BIND. Per zone (or for every zone) it can
answer normally, stay silent, SERVFAIL, REFUSE, answer without the AA flag, truncate over UDP (TCP then
answers in full), or send garbage; and it can delay every answer. A primary takes TSIG-signed RFC 2136
updates; `on_change` listeners let a lagging secondary follow it (see cockpit.lab.dns_secondary).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import math
import random
import socket
import struct
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Self

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.tsig

from cockpit.lab.dns_updates import handle_update
from cockpit.lab.dns_zone import LabZone

MAX_RENDERED = 65_536
"""Rendered answers kept for reuse (the benchmark asks the same questions every round: 5,000 zones × MX and SOA)."""
MAX_PENDING = 20_000
"""Delayed answers waiting to be sent; beyond that, queries are dropped as a loaded server would."""
TCP_IDLE = 10.0
RECORD_MAX = 10_000


class Behaviour(enum.StrEnum):
    """How the server answers the questions of a zone."""

    NORMAL = "normal"
    SILENT = "silent"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    NO_AA = "no-aa"
    TRUNCATE = "truncate"
    GARBAGE = "garbage"
    DROP_FIRST = "drop-first"
    """Silent to the first UDP question of each name and type, answers it asked again: a lost datagram."""


ZoneListener = Callable[[LabZone], None]


class LabNameserver:
    """Serves its zones on `host`:`port` (port 0 picks one; read `.port` after `start`)."""

    def __init__(
        self,
        zones: Iterable[LabZone] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        keys: Iterable[dns.tsig.Key] = (),
        delay: float = 0.0,
        record: bool = False,
        loss: float = 0.0,
    ) -> None:
        self.host = host
        self.loss = loss
        """Share of UDP questions dropped at random, as a lossy path would (benchmarks)."""
        self.port = port
        self.zones: dict[dns.name.Name, LabZone] = {zone.origin: zone for zone in zones}
        self.keyring: dict[dns.name.Name, dns.tsig.Key] = {key.name: key for key in keys}
        self.delay = delay
        """Seconds to wait before each answer (all zones); `set_delay` overrides it per zone."""
        self.queries = 0
        """Questions received (UDP and TCP), for tests that count traffic."""
        self.received: deque[tuple[bytes, bool]] = deque(maxlen=RECORD_MAX)
        """The last questions received (wire, over TCP), kept only when `record` is true."""
        self.record = record
        self.peak_pending = 0
        """Most delayed answers waiting at once: how many questions a client had in flight."""
        self._behaviour: dict[dns.name.Name | None, Behaviour] = {}
        self._delays: dict[dns.name.Name, float] = {}
        self._listeners: list[ZoneListener] = []
        self._rendered: dict[bytes, tuple[bytes, float, LabZone | None, int]] = {}
        self._dropped: set[tuple[dns.name.Name, int]] | None = None
        """Questions dropped once (name, type), while some zone behaves DROP_FIRST."""
        self._pending = 0
        self._udp: _UdpServer | None = None
        self._tcp: asyncio.Server | None = None
        self._tcp_tasks: set[asyncio.Task[None]] = set()

    # -- configuration --------------------------------------------------------------------------------

    def add_zone(self, zone: LabZone) -> None:
        self.zones[zone.origin] = zone
        self._rendered.clear()

    def zone(self, origin: str) -> LabZone:
        return self.zones[dns.name.from_text(origin)]

    def behave(self, behaviour: Behaviour | str, zone: str | None = None) -> None:
        """Answer the zone's questions (every zone's, when None) this way from now on."""
        key = None if zone is None else dns.name.from_text(zone)
        self._behaviour[key] = Behaviour(behaviour)
        self._rendered.clear()
        dropping = Behaviour.DROP_FIRST in self._behaviour.values()
        self._dropped = (self._dropped or set()) if dropping else None

    def set_delay(self, seconds: float, zone: str | None = None) -> None:
        if zone is None:
            self.delay = seconds
        else:
            self._delays[dns.name.from_text(zone)] = seconds
        self._rendered.clear()

    def on_change(self, listener: ZoneListener) -> Callable[[], None]:
        """Call `listener` with each zone an update changed; returns the function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def set_mx(self, origin: str, records: Sequence[tuple[int, str]], ttl: int) -> int:
        """Replace a zone's MX and bump its serial, as an operator's DNS panel would; the new serial."""
        zone = self.zone(origin)
        serial = zone.set_mx(records, ttl)
        self.zone_changed(zone)
        return serial

    def zone_changed(self, zone: LabZone) -> None:
        """Tell listeners (a following secondary) that a zone changed outside an update, e.g. `set_mx`."""
        self._rendered.clear()
        for listener in list(self._listeners):
            listener(zone)

    # -- life cycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        self._tcp = await asyncio.start_server(self._serve_tcp, self.host, self.port, reuse_address=True)
        self.port = self._tcp.sockets[0].getsockname()[1]
        self._udp = _UdpServer(self, self.host, self.port)

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            for task in list(self._tcp_tasks):
                task.cancel()
            await asyncio.gather(*self._tcp_tasks, return_exceptions=True)
            await self._tcp.wait_closed()
            self._tcp = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def address(self) -> str:
        """`host:port` or `[v6]:port`, as a plan or `--ns` takes it."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    # -- answering ------------------------------------------------------------------------------------

    def respond(self, wire: bytes, tcp: bool) -> tuple[bytes | None, float]:
        """The answer's wire form (None: stay silent) and the delay before sending it."""
        self.queries += 1
        if self.record:
            self.received.append((wire, tcp))
        if self._dropped is not None and not tcp and self._drops_first(wire):
            return None, 0.0
        cache_key = (b"T" if tcp else b"U") + wire[2:]
        cached = self._rendered.get(cache_key)
        if cached is not None and (cached[2] is None or cached[2].generation == cached[3]):
            body, delay = cached[0], cached[1]
            return (wire[:2] + body if body else None), delay
        if len(wire) < 12:
            return None, 0.0
        opcode = dns.opcode.from_flags(struct.unpack("!H", wire[2:4])[0])
        if opcode == dns.opcode.UPDATE:
            return self._update(wire), self.delay
        try:
            query = dns.message.from_wire(wire, keyring=False)
        except dns.exception.DNSException:
            return None, 0.0
        if len(query.question) != 1:
            return None, 0.0
        qname = query.question[0].name
        zone = self._zone_for(qname)
        origin = zone.origin if zone is not None else None
        behaviour = self._behaviour.get(origin, self._behaviour.get(None, Behaviour.NORMAL))
        delay = self._delays.get(origin, self.delay) if origin is not None else self.delay
        answer = self._answer(query, zone, behaviour, tcp)
        if not query.had_tsig and len(self._rendered) < MAX_RENDERED:
            generation = zone.generation if zone is not None else 0
            self._rendered[cache_key] = (answer[2:] if answer else b"", delay, zone, generation)
        return answer, delay

    def _drops_first(self, wire: bytes) -> bool:
        """DROP_FIRST for the question's zone (or all zones), and this question is new: remember it, drop it."""
        assert self._dropped is not None
        try:
            question = dns.message.from_wire(wire, keyring=False).question[0]
        except (dns.exception.DNSException, IndexError):
            return False
        zone = self._zone_for(question.name)
        origin = zone.origin if zone is not None else None
        if self._behaviour.get(origin, self._behaviour.get(None)) is not Behaviour.DROP_FIRST:
            return False
        key = (question.name, question.rdtype)
        if key in self._dropped:
            return False
        self._dropped.add(key)
        return True

    def _zone_for(self, qname: dns.name.Name) -> LabZone | None:
        """The closest enclosing zone: walk up the name's parents (O(labels), not O(zones))."""
        name = qname
        while True:
            zone = self.zones.get(name)
            if zone is not None:
                return zone
            if len(name) <= 1:
                return None
            name = name.parent()

    def _answer(
        self, query: dns.message.Message, zone: LabZone | None, behaviour: Behaviour, tcp: bool
    ) -> bytes | None:
        if behaviour is Behaviour.SILENT:
            return None
        if behaviour is Behaviour.GARBAGE:
            return query.id.to_bytes(2, "big") + b"\x84\x00\x00\x01\x00\x01\x00\x00\x00\x00\xff\xfe garbage"
        response = dns.message.make_response(query, our_payload=1232)
        if behaviour is Behaviour.SERVFAIL:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        if behaviour is Behaviour.REFUSED or zone is None:
            response.set_rcode(dns.rcode.REFUSED)
            return response.to_wire()
        if behaviour is Behaviour.TRUNCATE and not tcp:
            response.flags |= dns.flags.TC | dns.flags.AA
            return response.to_wire()
        question = query.question[0]
        result = zone.answer(question.name, question.rdtype)
        response.set_rcode(result.rcode)
        response.answer.extend(result.answer)
        response.authority.extend(result.authority)
        if behaviour is not Behaviour.NO_AA:
            response.flags |= dns.flags.AA
        return response.to_wire(max_size=65535 if tcp else max(512, min(query.payload, 1232)))

    def _update(self, wire: bytes) -> bytes:
        def changed(zone: LabZone) -> None:
            self.zone_changed(zone)

        try:
            return handle_update(wire, self.zones, self.keyring, changed)
        except dns.exception.DNSException:
            query = dns.message.from_wire(wire, keyring=False)
            response = dns.message.make_response(query)
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()

    def may_delay(self) -> bool:
        """Room for one more delayed answer; beyond MAX_PENDING, questions are dropped as a loaded server would."""
        if self._pending >= MAX_PENDING:
            return False
        self._pending += 1
        self.peak_pending = max(self.peak_pending, self._pending)
        return True

    def delayed_sent(self, count: int) -> None:
        self._pending -= count

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tcp_tasks.add(task)
        try:
            while True:
                async with asyncio.timeout(TCP_IDLE):
                    size = struct.unpack("!H", await reader.readexactly(2))[0]
                    wire = await reader.readexactly(size)
                answer, delay = self.respond(wire, tcp=True)
                if answer is None:
                    continue
                if delay > 0:
                    await asyncio.sleep(delay)
                writer.write(struct.pack("!H", len(answer)) + answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tcp_tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


class _UdpServer:
    """The UDP side: a reader callback that drains every waiting datagram per loop turn (bursts are cheap)."""

    def __init__(self, server: LabNameserver, host: str, port: int) -> None:
        self.server = server
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.sock.setblocking(False)
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
            self.sock.bind((host, port))
            self.loop = asyncio.get_running_loop()
            self.loop.add_reader(self.sock.fileno(), self._readable)
        except BaseException:
            self.sock.close()
            raise
        self.closed = False
        self._batches: dict[int, list[tuple[bytes, tuple[str, int]]]] = {}
        self._random = random.Random().random
        """Delayed answers by the millisecond (loop time) they are due in."""

    def _readable(self) -> None:
        while not self.closed:
            try:
                data, addr = self.sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue
            if self.server.loss and self._random() < self.server.loss:
                continue
            answer, delay = self.server.respond(data, tcp=False)
            if answer is None:
                continue
            if delay <= 0:
                self._send([(answer, addr)])
            elif self.server.may_delay():
                self._later(delay, answer, addr)

    def _later(self, delay: float, answer: bytes, addr: tuple[str, int]) -> None:
        """Queue the answer in the batch of its millisecond: one timer per millisecond, not one per answer,
        so a burst of thousands of delayed answers costs the server what the answers cost, not the timers."""
        due = math.ceil((self.loop.time() + delay) * 1000)
        batch = self._batches.get(due)
        if batch is None:
            batch = self._batches[due] = []
            self.loop.call_at(due / 1000, self._flush, due)
        batch.append((answer, addr))

    def _flush(self, due: int) -> None:
        batch = self._batches.pop(due, [])
        self.server.delayed_sent(len(batch))
        self._send(batch)

    def _send(self, answers: list[tuple[bytes, tuple[str, int]]]) -> None:
        if self.closed:
            return
        sendto = self.sock.sendto
        for answer, addr in answers:
            with contextlib.suppress(OSError):
                sendto(answer, addr)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()


def tsig_key(name: str, secret_b64: str, algorithm: str = "hmac-sha256") -> dns.tsig.Key:
    """A TSIG key for `LabNameserver(keys=...)` (the server side; clients load theirs from a secret)."""
    return dns.tsig.Key(name, secret_b64, algorithm)
