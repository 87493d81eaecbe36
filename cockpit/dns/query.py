"""Asking one nameserver directly for a domain's MX (and the SOA serial), turned into an Observation.

Each pair's poll is a small state machine — MX question, then the SOA question when the MX answer was
good — driven by callbacks from the socket layer, so an answer costs no task wake-up. At most
`concurrency` pairs are being polled at once (each has one question in flight at a time); the rest
wait their turn in order. A request for a pair already being polled joins that poll: a pair never has
two questions outstanding. Truncated UDP answers are asked again over TCP and never used.

Signed zones: the questions carry the DO bit, so the RRSIG of the MX comes along. An expired or not yet
valid RRSIG, or none while the zone is signed (its SOA is, or a server of the domain answered signed
earlier in the watch), makes the observation BAD_SIGNATURE: validating resolvers would reject that
answer. Nothing is validated cryptographically; the point is to see a signer that stopped re-signing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import dns.rcode

from cockpit.base.clock import Clock, SystemClock
from cockpit.dns.exchange import ExchangeError, Exchanger, UdpChannel, ask_tcp, check_answer, network_text
from cockpit.dns.observation import MxEntry, Observation, Pair, Status
from cockpit.dns.wire import FLAG_TC, TYPE_CNAME, TYPE_MX, TYPE_NS, TYPE_RRSIG, TYPE_SOA, Answer, Record


@dataclass(frozen=True, slots=True)
class Reply:
    answer: Answer
    rtt: float
    """Seconds from sending the UDP question to the usable answer (including a TCP retry)."""
    tcp: bool


class _Poll:
    """One pair's MX-then-SOA exchange; finishes its future with an Observation, never an exception."""

    def __init__(self, querier: DirectQuerier, pair: Pair) -> None:
        self.querier = querier
        self.pair = pair
        self.qname = pair.domain + "."
        self.future: asyncio.Future[Observation] = asyncio.get_running_loop().create_future()
        self.future.add_done_callback(self._future_done)
        self.rdtype = TYPE_MX
        self.mx: Observation | None = None
        self.started = 0.0
        self.channel: UdpChannel | None = None
        self.qid = 0
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[None] | None = None
        self.started = False
        """Left the queue: it holds one of the `concurrency` places until its future is done."""

    def start(self) -> None:
        self.started = True
        self._ask(TYPE_MX)

    def _ask(self, rdtype: int) -> None:
        self.rdtype = rdtype
        self.started = time.perf_counter()
        self.timer = asyncio.get_running_loop().call_later(self.querier.timeout, self._timed_out)
        try:
            channel = self.querier.exchanger.channel(self.pair.server)
        except OSError as exc:
            # Reported from the next loop turn, like every other outcome, never from inside the caller.
            asyncio.get_running_loop().call_soon(self._failed, Status.NETWORK_ERROR, network_text(exc))
            return
        self.channel = channel
        self.qid = channel.send(self.querier.exchanger.template(self.qname, self.rdtype), self._delivered)

    def _delivered(self, data: bytes | None, error: Exception | None) -> None:
        if self.future.done():
            return
        if data is None:
            self._failed(Status.NETWORK_ERROR, network_text(error or ConnectionError("socket closed")))
        elif len(data) >= 4 and int.from_bytes(data[2:4], "big") & FLAG_TC:
            self.task = asyncio.get_running_loop().create_task(self._retry_over_tcp())
        else:
            self._checked(data, self.qid, tcp=False)

    async def _retry_over_tcp(self) -> None:
        template = self.querier.exchanger.template(self.qname, self.rdtype)
        qid = secrets.randbits(16)
        try:
            data = await ask_tcp(self.pair.server, qid.to_bytes(2, "big") + template[2:])
        except (OSError, EOFError, asyncio.IncompleteReadError) as exc:
            self._failed(Status.NETWORK_ERROR, f"TCP retry of a truncated answer: {network_text(exc)}")
            return
        self.task = None
        self._checked(data, qid, tcp=True)

    def _checked(self, data: bytes, qid: int, tcp: bool) -> None:
        try:
            answer = check_answer(data, qid, self.qname, self.rdtype)
        except ExchangeError as exc:
            self._failed(exc.status, exc.detail)
            return
        if tcp and answer.flags & FLAG_TC:
            self._failed(Status.MALFORMED, "the TCP answer is truncated too")
            return
        self._answered(Reply(answer, time.perf_counter() - self.started, tcp))

    def _answered(self, reply: Reply) -> None:
        self._stop_timer()
        now = self.querier.clock.now()
        if self.rdtype == TYPE_MX:
            observation = interpret(self.pair, reply, now)
            if observation.status not in (Status.OK, Status.BAD_SIGNATURE):
                self._finish(observation)
                return
            self.mx = observation
            self._ask(TYPE_SOA)
            return
        assert self.mx is not None
        mx = self.mx
        if _soa_signed(reply.answer):
            mx = dataclasses.replace(mx, signed=True)
            if mx.status is Status.OK and mx.rrsig_expires is None:
                mx = dataclasses.replace(
                    mx, status=Status.BAD_SIGNATURE, detail="no RRSIG on the MX, though the zone's SOA is signed"
                )
        serial = _serial(reply.answer)
        if serial is None:
            note = f"no SOA serial: {_soa_problem(reply.answer)}"
            self._finish(dataclasses.replace(mx, detail=f"{mx.detail}; {note}" if mx.detail else note))
        else:
            self._finish(dataclasses.replace(mx, serial=serial))

    def _timed_out(self) -> None:
        self.timer = None
        self._failed(Status.TIMEOUT, f"no answer within {self.querier.timeout:g}s")

    def _failed(self, status: Status, detail: str) -> None:
        if self.future.done():
            return
        self._stop_timer()
        if self.mx is not None:
            note = f"no SOA serial: {detail}"
            self._finish(dataclasses.replace(self.mx, detail=f"{self.mx.detail}; {note}" if self.mx.detail else note))
            return
        rtt = None if status is Status.TIMEOUT else time.perf_counter() - self.started
        self._finish(Observation(self.pair, status, self.querier.clock.now(), rtt=rtt, detail=detail))

    def _finish(self, observation: Observation) -> None:
        if not self.future.done():
            self.future.set_result(self.querier.signatures.check(observation))

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.channel is not None:
            self.channel.forget(self.qid)
            self.channel = None

    def _future_done(self, _: object) -> None:
        """Finished or cancelled: release everything and let the next pair start."""
        self._stop_timer()
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()
        self.task = None
        self.querier.poll_ended(self)


class DirectQuerier:
    """Polls pairs: MX first, then the SOA serial from the same server when the MX answer was good."""

    def __init__(self, *, timeout: float = 3.0, concurrency: int = 64, clock: Clock | None = None) -> None:
        if timeout <= 0 or concurrency < 1:
            raise ValueError("timeout must be positive and concurrency at least 1")
        self.timeout = timeout
        self.concurrency = concurrency
        self.clock: Clock = clock or SystemClock()
        self.exchanger = Exchanger()
        self._inflight: dict[Pair, _Poll] = {}
        self._waiting: deque[_Poll] = deque()
        self._active = 0
        self.signatures = SignedZones()

    def _poll(self, pair: Pair) -> asyncio.Future[Observation]:
        poll = self._inflight.get(pair)
        if poll is None:
            poll = _Poll(self, pair)
            self._inflight[pair] = poll
            if self._active < self.concurrency:
                self._active += 1
                poll.start()
            else:
                self._waiting.append(poll)
        return poll.future

    def poll_ended(self, poll: _Poll) -> None:
        if self._inflight.get(poll.pair) is poll:
            del self._inflight[poll.pair]
        if not poll.started:
            return  # cancelled while queued: skipped when its turn comes (no O(n) search of the queue)
        self._active -= 1
        while self._waiting and self._active < self.concurrency:
            queued = self._waiting.popleft()
            if not queued.future.done():
                self._active += 1
                queued.start()

    async def observe(self, pair: Pair) -> Observation:
        """Poll one pair now, or join the poll of it already in flight."""
        return await asyncio.shield(self._poll(pair))

    async def observe_all(self, pairs: Iterable[Pair]) -> list[Observation]:
        """Poll many pairs (bounded by the concurrency); cancelling this cancels their polls.

        A domain seen signed anywhere in the round makes an unsigned answer of it bad, whatever the order
        in which the answers arrived."""
        observations = await asyncio.gather(*(self._poll(pair) for pair in pairs))
        return [self.signatures.check(observation) for observation in observations]

    def rotate(self) -> None:
        """Use fresh UDP source ports from the next question on (the watcher calls it between rounds)."""
        self.exchanger.rotate()

    async def close(self) -> None:
        for poll in list(self._inflight.values()):
            poll.future.cancel()
        await self.exchanger.close()


class SignedZones:
    """Remembers the domains some server answered signed, so that an unsigned answer for one is bad."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}
        """Domain → the label of the first server that answered it signed."""

    def check(self, observation: Observation) -> Observation:
        domain = observation.pair.domain
        if observation.signed:
            self._seen.setdefault(domain, observation.pair.server.label)
            return observation
        seen = self._seen.get(domain)
        if seen is None or observation.status is not Status.OK:
            return observation
        return dataclasses.replace(
            observation,
            status=Status.BAD_SIGNATURE,
            detail=f"no RRSIG on the MX, though {seen} answered for the zone signed",
        )


def nsid_text(raw: bytes | None) -> str | None:
    """An NSID as people read it: printable ASCII as it is, anything else as hex; None when empty."""
    if not raw:
        return None
    if all(0x20 <= byte < 0x7F for byte in raw):
        return raw.decode("ascii")
    return "0x" + raw.hex()


def _signatures(answer: Answer, qname: str, rdtype: int) -> list[Record]:
    return [r for r in answer.answer if r.rdtype == TYPE_RRSIG and r.covered == rdtype and r.name == qname]


def _soa_signed(answer: Answer) -> bool:
    """The SOA answer (or, for a name below the apex, its authority section) carries an RRSIG of the SOA."""
    return any(r.rdtype == TYPE_RRSIG and r.covered == TYPE_SOA for r in (*answer.answer, *answer.authority))


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _signature_problem(signatures: list[Record], now: float) -> str | None:
    """Why no RRSIG of the MX is valid at `now`, or None when one is."""
    spans = [(r.inception or 0, r.expiration or 0) for r in signatures]
    if any(start <= now <= end for start, end in spans):
        return None
    latest = max(end for _, end in spans)
    if latest < now:
        return f"the RRSIG on the MX expired at {_iso(latest)}"
    return f"the RRSIG on the MX is not valid before {_iso(min(start for start, _ in spans))}"


def interpret(pair: Pair, reply: Reply, now: float) -> Observation:
    """The status, MX set and TTL an MX answer means; the AA flag decides between an answer and lame,
    the RRSIGs between a usable answer and a bad signature."""
    answer = reply.answer
    rcode = answer.rcode
    nsid = nsid_text(answer.nsid)

    def build(
        status: Status,
        detail: str = "",
        mx: tuple[MxEntry, ...] = (),
        ttl: int | None = None,
        serial: int | None = None,
        rrsig_expires: float | None = None,
        signed: bool = False,
    ) -> Observation:
        return Observation(
            pair,
            status,
            now,
            mx=mx,
            ttl=ttl,
            serial=serial,
            aa=answer.aa,
            rtt=reply.rtt,
            tcp=reply.tcp,
            detail=detail,
            nsid=nsid,
            rrsig_expires=rrsig_expires,
            signed=signed,
        )

    if rcode == dns.rcode.SERVFAIL:
        return build(Status.SERVFAIL, "the server failed (SERVFAIL)")
    if rcode == dns.rcode.REFUSED:
        return build(Status.REFUSED, "the server refused the question")
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return build(Status.MALFORMED, f"unexpected answer code {dns.rcode.to_text(dns.rcode.Rcode.make(rcode))}")
    if not answer.aa:
        return build(Status.LAME, _lame_detail(answer))
    negative_ttl, serial = _negative(answer)
    if rcode == dns.rcode.NXDOMAIN:
        return build(Status.NXDOMAIN, "the domain does not exist on this server", ttl=negative_ttl, serial=serial)
    qname = pair.domain + "."
    records = [r for r in answer.answer if r.name == qname and r.mx is not None]
    if not records:
        signed = any(r.rdtype == TYPE_RRSIG for r in answer.authority)
        return build(Status.NODATA, _nodata_detail(answer, qname), ttl=negative_ttl, serial=serial, signed=signed)
    entries = tuple(sorted({r.mx for r in records if r.mx is not None}))
    ttl = min(r.ttl for r in records)
    signatures = _signatures(answer, qname, TYPE_MX)
    if not signatures:
        return build(Status.OK, mx=entries, ttl=ttl)
    expires = float(max(r.expiration or 0 for r in signatures))
    problem = _signature_problem(signatures, now)
    if problem is not None:
        return build(Status.BAD_SIGNATURE, problem, mx=entries, ttl=ttl, rrsig_expires=expires, signed=True)
    return build(Status.OK, mx=entries, ttl=ttl, rrsig_expires=expires, signed=True)


def _negative(answer: Answer) -> tuple[int | None, int | None]:
    for record in answer.authority:
        if record.serial is not None:
            return record.ttl, record.serial
    return None, None


def _serial(answer: Answer) -> int | None:
    if answer.rcode != dns.rcode.NOERROR or not answer.aa:
        return None
    for record in (*answer.answer, *answer.authority):
        if record.serial is not None:
            return record.serial
    return None


def _soa_problem(answer: Answer) -> str:
    if not answer.aa:
        return "the SOA answer is not authoritative"
    return f"no SOA in the answer ({dns.rcode.to_text(dns.rcode.Rcode.make(answer.rcode))})"


def _lame_detail(answer: Answer) -> str:
    targets = sorted({r.target for r in answer.authority if r.rdtype == TYPE_NS and r.target})
    if targets:
        return f"not authoritative (no AA flag); referral to {', '.join(targets)}"
    return "not authoritative (answered without the AA flag)"


def _nodata_detail(answer: Answer, qname: str) -> str:
    for record in answer.answer:
        if record.name == qname and record.rdtype == TYPE_CNAME:
            return f"no MX: the name is an alias (CNAME {record.target})"
    return "the domain has no MX record on this server"
