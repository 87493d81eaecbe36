"""One pair's poll: its MX and SOA questions sent together, their answers read (or recognised as the ones
read last time), turned into one Observation for the batch and anybody else waiting for it.

The querier (cockpit.dns.query) starts polls, bounds how many run at once and keeps what outlives a round:
the answers seen last, the deadlines, the sockets.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from cockpit.dns.exchange import ExchangeError, StrayAnswer, UdpChannel, ask_tcp, check_answer, network_text
from cockpit.dns.meaning import MxMeaning, SoaMeaning, read_mx, read_soa
from cockpit.dns.observation import Observation, Pair, Status
from cockpit.dns.wire import FLAG_TC, TYPE_MX, TYPE_SOA, Answer

if TYPE_CHECKING:
    from cockpit.dns.query import DirectQuerier

Waiter = Callable[[Observation | None], None]
"""Told the poll's observation, or None when the poll was called off (the querier closed)."""

_OK = Status.OK
_TC_BIT = FLAG_TC >> 8
"""The truncation flag in the answer's third byte."""

SEEN_MAX = 200_000
"""Pairs whose last answers are kept for comparison (two per pair); beyond that the memory starts over."""


class Poll:
    """One pair's MX and SOA exchange; ends by telling its waiters an Observation, never an exception.

    The common case — one round's batch waits for it, the answers come over UDP — is written out flat: a
    round of 10,000 pairs runs this code 10,000 times, and each call layer costs."""

    __slots__ = (
        "batch",
        "channel",
        "done",
        "due",
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
        "tries",
        "waiters",
    )

    def __init__(self, querier: DirectQuerier, pair: Pair) -> None:
        self.querier = querier
        self.pair = pair
        self.qname = pair.domain + "."
        self.batch: Batch | None = None
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
        self.due = 0.0
        """Loop time at which the poll asks again (or gives up); set by the querier's Deadlines."""
        self.tries = 0
        """How many times the questions were sent."""
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
                answer = self._checked(data, TYPE_MX)
            except ExchangeError as exc:
                self._failed(exc.status, exc.detail)
                return
            if answer is None:
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
                answer = self._checked(data, TYPE_SOA)
            except ExchangeError as exc:
                self._soa_read(exc.detail)
                return
            if answer is None:
                return
            meaning = read_soa(answer)
            if len(seen) >= SEEN_MAX:
                seen.clear()
            seen[self.pair] = (body, meaning)
            self.soa = meaning
        if self.mx is not None:
            self._finish()

    def _checked(self, data: bytes, rdtype: int) -> Answer | None:
        """The UDP answer to this poll's `rdtype` question; None for a stray datagram with its ID (the question
        goes on waiting on that ID). Raises ExchangeError for an answer that is no use."""
        qid = (data[0] << 8) | data[1]
        try:
            return check_answer(data, qid, self.qname, rdtype)
        except StrayAnswer:
            mx = rdtype == TYPE_MX
            if self.channel is not None and self.channel.rearm(qid, self._mx_delivered if mx else self._soa_delivered):
                if mx:
                    self.mx_qid = qid
                else:
                    self.soa_qid = qid
            return None

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

    def ask_again(self) -> None:
        """Send the questions still unanswered once more, with the same ID: an answer to either try counts."""
        channel = self.channel
        if self.done or channel is None:
            return
        mx_body, soa_body = self.querier.exchanger.bodies(self.qname)
        if self.mx_qid >= 0:
            channel.resend(self.mx_qid, mx_body)
        if self.soa_qid >= 0:
            channel.resend(self.soa_qid, soa_body)

    def timed_out(self) -> None:
        """The last try went unanswered: without the MX a timeout; with it, an observation without the serial."""
        if self.done:
            self._release()
            return
        tries = self.querier.deadlines.tries
        detail = f"no answer within {self.querier.timeout:g}s" + (f" (asked {tries} times)" if tries > 1 else "")
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

    def leave(self, waiter: Waiter | None = None, batch: Batch | None = None) -> None:
        """A waiter (or the batch) no longer wants the answer; the last one leaving calls the poll off."""
        if batch is not None and self.batch is batch:
            self.batch = None
        if waiter is not None and self.waiters and waiter in self.waiters:
            self.waiters.remove(waiter)
        if self.batch is None and not self.waiters and not self.done:
            self._end(None)


class Batch:
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
