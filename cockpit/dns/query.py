"""Asking one nameserver directly for a domain's MX and the SOA serial, turned into an Observation.

Each pair's poll sends its MX and its SOA question together, to the same server (one round trip, not
two), and is a small state machine driven by callbacks from the socket layer, so an answer costs no
task wake-up. At most `concurrency` pairs are being polled at once; the rest wait their turn in order.
A request for a pair already being polled joins that poll: a pair never has two polls in flight.
Truncated UDP answers are asked again over TCP and never used. An answer whose bytes (after the
message ID) are those the pair's server sent last time means what it meant then, and is not read again.

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
from collections.abc import Callable, Iterable
from functools import partial

from cockpit.base.clock import Clock, SystemClock
from cockpit.dns.exchange import ExchangeError, Exchanger, UdpChannel, ask_tcp, check_answer, network_text
from cockpit.dns.meaning import MxMeaning, SoaMeaning, read_mx, read_soa
from cockpit.dns.observation import Observation, Pair, Status
from cockpit.dns.wire import FLAG_TC, TYPE_MX, TYPE_SOA

Waiter = Callable[[Observation | None], None]
"""Told the poll's observation, or None when the poll was called off (the querier closed)."""

_OK = Status.OK
_TC_BIT = FLAG_TC >> 8
"""The truncation flag in the answer's third byte."""

SEEN_MAX = 200_000
"""Pairs whose last answers are kept for comparison (two per pair); beyond that the memory starts over."""


class _Poll:
    """One pair's MX and SOA exchange; ends by telling its waiters an Observation, never an exception.

    The common case — one round's batch waits for it, the answers come over UDP — is written out flat: a
    round of 10,000 pairs runs this code 10,000 times, and each call layer costs."""

    __slots__ = (
        "batch",
        "channel",
        "deadline",
        "done",
        "index",
        "mx",
        "mx_qid",
        "mx_rtt",
        "mx_tcp",
        "pair",
        "qname",
        "querier",
        "released",
        "sent_at",
        "soa",
        "soa_qid",
        "started",
        "tasks",
        "waiters",
    )

    def __init__(self, querier: DirectQuerier, pair: Pair) -> None:
        self.querier = querier
        self.pair = pair
        self.qname = pair.domain + "."
        self.batch: _Batch | None = None
        """The round waiting for this pair, and the pair's place in it."""
        self.index = 0
        self.waiters: list[Waiter] | None = None
        """Anybody else waiting: `observe`, or a second batch that asked for the same pair."""
        self.started = False
        """Left the queue: it holds one of the `concurrency` places until it is released."""
        self.done = False
        """The waiters were told."""
        self.released = False
        """The place and the questions are given back: after the SOA question too was answered (or timed out),
        so that a poll done early (a NODATA answer needs no serial) never leaves a question behind."""
        self.sent_at = 0.0
        self.deadline = 0.0
        self.channel: UdpChannel | None = None
        self.mx_qid = -1
        self.soa_qid = -1
        self.mx: MxMeaning | None = None
        self.mx_rtt = 0.0
        self.mx_tcp = False
        self.soa: SoaMeaning | str | None = None
        """The SOA answer's meaning, or why there is none."""
        self.tasks: list[asyncio.Task[None]] | None = None

    def start(self) -> None:
        querier = self.querier
        self.started = True
        self.sent_at = time.perf_counter()
        querier.deadlines.add(self)
        try:
            channel = querier.exchanger.channel(self.pair.server, 2)
        except OSError as exc:
            # Reported from the next loop turn, like every other outcome, never from inside the caller.
            asyncio.get_running_loop().call_soon(self._failed, Status.NETWORK_ERROR, network_text(exc))
            return
        self.channel = channel
        mx_body, soa_body = querier.exchanger.bodies(self.qname)
        self.mx_qid = channel.send(mx_body, self._mx_delivered)
        self.soa_qid = channel.send(soa_body, self._soa_delivered)

    # -- answers --------------------------------------------------------------------------------------

    def _mx_delivered(self, data: bytes | None, error: Exception | None) -> None:
        self.mx_qid = -1
        if self.done:
            return
        if data is None:
            self._failed(Status.NETWORK_ERROR, network_text(error or ConnectionError("socket closed")))
            return
        if len(data) >= 4 and data[2] & _TC_BIT:
            self._retry_over_tcp(TYPE_MX)
            return
        seen = self.querier.seen_mx
        body = data[2:]
        known = seen.get(self.pair)
        if known is not None and known[0] == body:
            meaning = known[1]
        else:
            try:
                answer = check_answer(data, (data[0] << 8) | data[1], self.qname, TYPE_MX)
            except ExchangeError as exc:
                self._failed(exc.status, exc.detail)
                return
            meaning = read_mx(answer, self.qname)
            if len(seen) >= SEEN_MAX:
                seen.clear()
            seen[self.pair] = (body, meaning)
        self.mx = meaning
        self.mx_rtt = time.perf_counter() - self.sent_at
        if meaning.status is not _OK or self.soa is not None:
            self._finish()

    def _soa_delivered(self, data: bytes | None, error: Exception | None) -> None:
        self.soa_qid = -1
        if self.done:
            self._release()
            return
        if data is None:
            self._soa_read(network_text(error or ConnectionError("socket closed")))
            return
        if len(data) >= 4 and data[2] & _TC_BIT:
            self._retry_over_tcp(TYPE_SOA)
            return
        seen = self.querier.seen_soa
        body = data[2:]
        known = seen.get(self.pair)
        if known is not None and known[0] == body:
            self.soa = known[1]
        else:
            try:
                answer = check_answer(data, (data[0] << 8) | data[1], self.qname, TYPE_SOA)
            except ExchangeError as exc:
                self._soa_read(exc.detail)
                return
            meaning = read_soa(answer)
            if len(seen) >= SEEN_MAX:
                seen.clear()
            seen[self.pair] = (body, meaning)
            self.soa = meaning
        if self.mx is not None:
            self._finish()

    def _retry_over_tcp(self, rdtype: int) -> None:
        if self.tasks is None:
            self.tasks = []
        self.tasks.append(asyncio.get_running_loop().create_task(self._over_tcp(rdtype)))

    async def _over_tcp(self, rdtype: int) -> None:
        qid = secrets.randbits(16)
        mx_body, soa_body = self.querier.exchanger.bodies(self.qname)
        wire = qid.to_bytes(2, "big") + (mx_body if rdtype == TYPE_MX else soa_body)
        what = "MX" if rdtype == TYPE_MX else "SOA"
        try:
            data = await ask_tcp(self.pair.server, wire)
            answer = check_answer(data, qid, self.qname, rdtype)
        except (OSError, EOFError, asyncio.IncompleteReadError) as exc:
            problem = f"TCP retry of a truncated {what} answer: {network_text(exc)}"
            self._unanswered(rdtype, Status.NETWORK_ERROR, problem)
            return
        except ExchangeError as exc:
            self._unanswered(rdtype, exc.status, exc.detail)
            return
        if answer.flags & FLAG_TC:
            self._unanswered(rdtype, Status.MALFORMED, f"the TCP {what} answer is truncated too")
        elif rdtype == TYPE_SOA:
            self._soa_read(read_soa(answer))
        elif not self.done:
            self.mx = read_mx(answer, self.qname)
            self.mx_rtt = time.perf_counter() - self.sent_at
            self.mx_tcp = True
            if self.mx.status is not _OK or self.soa is not None:
                self._finish()

    def _unanswered(self, rdtype: int, status: Status, detail: str) -> None:
        """No usable answer to one question: the MX's failure is the poll's; the SOA's only costs the serial."""
        if rdtype == TYPE_MX:
            self._failed(status, detail)
        else:
            self._soa_read(detail)

    def _soa_read(self, soa: SoaMeaning | str) -> None:
        if self.done:
            return
        self.soa = soa
        if self.mx is not None:
            self._finish()

    # -- endings --------------------------------------------------------------------------------------

    def timed_out(self) -> None:
        """The deadline passed: without the MX a timeout; with it, an observation without the serial."""
        if self.done:
            self._release()
            return
        detail = f"no answer within {self.querier.timeout:g}s"
        if self.mx is None:
            self._failed(Status.TIMEOUT, detail)
        else:
            self.soa = detail
            self._finish()

    def _failed(self, status: Status, detail: str) -> None:
        if self.done:
            return
        rtt = None if status is Status.TIMEOUT else time.perf_counter() - self.sent_at
        self._end(Observation(self.pair, status, self.querier.clock.now(), rtt=rtt, detail=detail))

    def _finish(self) -> None:
        assert self.mx is not None
        querier = self.querier
        self._end(self.mx.observe(self.pair, querier.clock.now(), self.mx_rtt, self.mx_tcp, self.soa))

    def _end(self, observation: Observation | None) -> None:
        """Finished (or called off with None): tell the waiters; give the place back now, or when the SOA
        question still out is answered or times out."""
        self.done = True
        querier = self.querier
        inflight = querier.inflight
        if inflight.get(self.pair) is self:
            del inflight[self.pair]  # a new request for the pair starts a new poll
        if observation is None or self.soa_qid < 0 or self.channel is None:
            self._release()
        if observation is not None and (observation.signed or querier.signatures.any):
            observation = querier.signatures.check(observation)
        batch = self.batch
        if batch is not None:
            self.batch = None
            batch.deliver(self.index, observation)
        waiters = self.waiters
        if waiters:
            self.waiters = None
            for waiter in waiters:
                waiter(observation)

    def _release(self) -> None:
        if self.released:
            return
        self.released = True
        channel = self.channel
        if channel is not None:
            if self.mx_qid >= 0:
                channel.forget(self.mx_qid)
            if self.soa_qid >= 0:
                channel.forget(self.soa_qid)
            self.channel = None
        if self.tasks:
            current = asyncio.current_task()
            for task in self.tasks:
                if task is not current:
                    task.cancel()
            self.tasks = None
        self.querier.poll_released(self)

    def join(self, waiter: Waiter) -> None:
        if self.waiters is None:
            self.waiters = []
        self.waiters.append(waiter)

    def leave(self, waiter: Waiter | None = None, batch: _Batch | None = None) -> None:
        """A waiter (or the batch) no longer wants the answer; the last one leaving calls the poll off."""
        if batch is not None and self.batch is batch:
            self.batch = None
        if waiter is not None and self.waiters and waiter in self.waiters:
            self.waiters.remove(waiter)
        if self.batch is None and not self.waiters and not self.done:
            self._end(None)


class _Deadlines:
    """Every started poll with its deadline, in start order. With one timeout for all, start order is
    deadline order: one timer, for the earliest, serves every poll (no timer per question)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._queue: deque[_Poll] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def add(self, poll: _Poll) -> None:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        poll.deadline = deadline = loop.time() + self.timeout
        queue = self._queue
        while queue and queue[0].released:
            queue.popleft()  # answered polls leave from the front, so the queue holds about the polls in flight
        queue.append(poll)
        if self._timer is None:
            self._timer = loop.call_at(deadline, self._expire)

    def _expire(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        queue = self._queue
        while queue and (queue[0].deadline <= now or queue[0].released):
            queue.popleft().timed_out()
        if queue:
            self._timer = loop.call_at(queue[0].deadline, self._expire)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._queue.clear()
        self._loop = None


class _Batch:
    """The observations of many pairs, in their order; one future for all of them."""

    def __init__(self, size: int) -> None:
        self.results: list[Observation | None] = [None] * size
        self.missing = size
        self.future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def deliver(self, index: int, observation: Observation | None) -> None:
        future = self.future
        if observation is None:
            if not future.done():
                future.cancel()
            return
        self.results[index] = observation
        self.missing -= 1
        if self.missing == 0 and not future.done():
            future.set_result(None)

    def waiter(self, index: int) -> Waiter:
        return partial(self.deliver, index)


class DirectQuerier:
    """Polls pairs: the MX and the SOA serial from the same server, both questions at once."""

    def __init__(self, *, timeout: float = 3.0, concurrency: int = 64, clock: Clock | None = None) -> None:
        if timeout <= 0 or concurrency < 1:
            raise ValueError("timeout must be positive and concurrency at least 1")
        self.timeout = timeout
        self.concurrency = concurrency
        self.clock: Clock = clock or SystemClock()
        self.exchanger = Exchanger()
        self.deadlines = _Deadlines(timeout)
        self.seen_mx: dict[Pair, tuple[bytes, MxMeaning]] = {}
        self.seen_soa: dict[Pair, tuple[bytes, SoaMeaning]] = {}
        """Per pair, the last answer's bytes after the ID and what they meant."""
        self.inflight: dict[Pair, _Poll] = {}
        """The pairs being polled (or queued), each with its one poll."""
        self._waiting: deque[_Poll] = deque()
        self._active = 0
        self.signatures = SignedZones()

    def _poll(self, pair: Pair) -> _Poll:
        poll = self.inflight.get(pair)
        if poll is None:
            poll = self.inflight[pair] = _Poll(self, pair)
            if self._active < self.concurrency:
                self._active += 1
                poll.start()
            else:
                self._waiting.append(poll)
        return poll

    def poll_released(self, poll: _Poll) -> None:
        if not poll.started:
            return  # called off while queued: skipped when its turn comes (no O(n) search of the queue)
        self._active -= 1
        waiting = self._waiting
        while waiting and self._active < self.concurrency:
            queued = waiting.popleft()
            if not queued.done:
                self._active += 1
                queued.start()

    async def observe(self, pair: Pair) -> Observation:
        """Poll one pair now, or join the poll of it already in flight."""
        future: asyncio.Future[Observation] = asyncio.get_running_loop().create_future()

        def deliver(observation: Observation | None) -> None:
            if future.done():
                return
            if observation is None:
                future.cancel()
            else:
                future.set_result(observation)

        poll = self._poll(pair)
        poll.join(deliver)
        try:
            return await future
        except asyncio.CancelledError:
            poll.leave(waiter=deliver)
            raise

    async def observe_all(self, pairs: Iterable[Pair]) -> list[Observation]:
        """Poll many pairs (bounded by the concurrency); cancelling this calls off the polls nobody else awaits.

        A domain seen signed anywhere in the round makes an unsigned answer of it bad, whatever the order
        in which the answers arrived."""
        wanted = list(pairs)
        if not wanted:
            return []
        batch = _Batch(len(wanted))
        polls: list[_Poll] = []
        others: list[tuple[_Poll, Waiter]] = []
        for index, pair in enumerate(wanted):
            poll = self._poll(pair)
            if poll.batch is None:
                poll.batch, poll.index = batch, index
            else:  # the same pair twice, or another batch is waiting for it too
                waiter = batch.waiter(index)
                poll.join(waiter)
                others.append((poll, waiter))
            polls.append(poll)
        try:
            await batch.future
        except asyncio.CancelledError:
            for poll in polls:
                poll.leave(batch=batch)
            for poll, waiter in others:
                poll.leave(waiter=waiter)
            raise
        results = batch.results
        if self.signatures.any:
            check = self.signatures.check
            return [check(observation) for observation in results if observation is not None]
        return [observation for observation in results if observation is not None]

    def rotate(self) -> None:
        """Use fresh UDP source ports from the next question on (the watcher calls it between rounds)."""
        self.exchanger.rotate()

    async def close(self) -> None:
        for poll in list(self.inflight.values()):
            if not poll.done:
                poll._end(None)
        self._waiting.clear()
        self.deadlines.close()
        await self.exchanger.close()


class SignedZones:
    """Remembers the domains some server answered signed, so that an unsigned answer for one is bad."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}
        """Domain → the label of the first server that answered it signed."""

    @property
    def any(self) -> bool:
        """Some domain was seen signed (until then, no check can change an observation)."""
        return bool(self._seen)

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
