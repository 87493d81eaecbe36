"""Asking one nameserver directly for a domain's MX and the SOA serial, turned into an Observation.

Each pair's poll sends its MX and its SOA question together, to the same server (one round trip, not
two), and is a small state machine driven by callbacks from the socket layer, so an answer costs no
task wake-up. At most `concurrency` pairs are being polled at once; the rest wait their turn in order.
A request for a pair already being polled joins that poll: a pair never has two polls in flight.
Unanswered questions are sent again (TRIES times within the timeout, same ID), so a lost datagram costs a
second, not the pair's answer. Truncated UDP answers are asked again over TCP and never used. An answer
whose bytes (after the message ID) are those the pair's server sent last time means what it meant then, and
is not read again.

Signed zones: the questions carry the DO bit, so the RRSIG of the MX comes along. An expired or not yet
valid RRSIG, or none while the zone is signed (its SOA is, or a server of the domain answered signed
earlier in the watch), makes the observation BAD_SIGNATURE: validating resolvers would reject that
answer. Nothing is validated cryptographically; the point is to see a signer that stopped re-signing.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
from collections.abc import Iterable

from cockpit.base.clock import Clock, SystemClock
from cockpit.dns.deadlines import Deadlines
from cockpit.dns.exchange import Exchanger
from cockpit.dns.meaning import MxMeaning, SoaMeaning
from cockpit.dns.observation import Observation, Pair, Status
from cockpit.dns.poll import Batch, Poll, Waiter

TRIES = 3
"""Times a question is sent within the timeout before the poll gives up (dig's default too)."""


class DirectQuerier:
    """Polls pairs: the MX and the SOA serial from the same server, both questions at once."""

    def __init__(
        self, *, timeout: float = 3.0, concurrency: int = 64, clock: Clock | None = None, tries: int = TRIES
    ) -> None:
        if timeout <= 0 or concurrency < 1 or tries < 1:
            raise ValueError("timeout must be positive, concurrency and tries at least 1")
        self.timeout = timeout
        self.concurrency = concurrency
        self.clock: Clock = clock or SystemClock()
        self.exchanger = Exchanger()
        self.deadlines = Deadlines(timeout, tries)
        self.seen_mx: dict[Pair, tuple[bytes, MxMeaning]] = {}
        self.seen_soa: dict[Pair, tuple[bytes, SoaMeaning]] = {}
        """Per pair, the last answer's bytes after the ID and what they meant."""
        self.inflight: dict[Pair, Poll] = {}
        """The pairs being polled (or queued), each with its one poll."""
        self._waiting: deque[Poll] = deque()
        self._active = 0
        self.signatures = SignedZones()

    def _poll(self, pair: Pair) -> Poll:
        poll = self.inflight.get(pair)
        if poll is None:
            poll = self.inflight[pair] = Poll(self, pair)
            if self._active < self.concurrency:
                self._active += 1
                poll.start()
            else:
                self._waiting.append(poll)
        return poll

    def poll_released(self, poll: Poll) -> None:
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
        batch = Batch(len(wanted))
        polls: list[Poll] = []
        others: list[tuple[Poll, Waiter]] = []
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
