"""The watcher: polls every pair each round, re-arms only when a round finished, and publishes events.

Subscribing (both bounded, both documented here because the engine relies on them):

* `add_listener(callback)` — the callback is called synchronously, in the watcher's task, with every
  event in order (changes of a round first, then its RoundDone). It must not block. Returns a function
  that removes the listener. This is how the engine fans DNS events into its own stream.
* `subscribe(maxsize)` — an async iterator over events with a bounded buffer. When a slow reader lets
  it fill up, the oldest events are dropped and counted in `Subscription.dropped`; the latest snapshot
  (`watcher.latest`) always tells the full current picture. Iteration ends when the watcher closes.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Self

from cockpit.base.clock import Clock, SystemClock
from cockpit.dns.classify import Classifier, MxStates, StatesFor, states_for
from cockpit.dns.events import Flip, PairView, RoundDone, Snapshot, StatusChange, WatchEvent
from cockpit.dns.history import History
from cockpit.dns.observation import Pair
from cockpit.dns.query import DirectQuerier

Listener = Callable[[WatchEvent], None]

YIELD_EVERY = 250
"""Answers classified (or changes published) between two yields to the loop: a round of 10,000 pairs is
about 40 slices of a few milliseconds, so the keys of the screen on the same loop are served between them."""


class Subscription:
    """A bounded queue of watch events, read with `async for`."""

    def __init__(self, maxsize: int, on_close: Callable[[Subscription], None]) -> None:
        self._events: deque[WatchEvent] = deque()
        self._maxsize = max(1, maxsize)
        self._ready = asyncio.Event()
        self._closed = False
        self._on_close = on_close
        self.dropped = 0
        """Events lost because the reader fell behind."""

    def push(self, event: WatchEvent) -> None:
        if len(self._events) >= self._maxsize:
            self._events.popleft()
            self.dropped += 1
        self._events.append(event)
        self._ready.set()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._ready.set()
            self._on_close(self)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> WatchEvent:
        while not self._events:
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._events.popleft()


class DnsWatcher:
    """Polls `pairs` every `interval` seconds (counted from the end of a round) and on `poll_now()`.

    `states` names what each pair serves: one mapping for every domain, or `plan.mx_states` when the plan's
    states mean other records for some domains."""

    def __init__(
        self,
        pairs: Sequence[Pair],
        *,
        states: MxStates | StatesFor | None = None,
        interval: float = 60.0,
        timeout: float = 3.0,
        concurrency: int = 64,
        clock: Clock | None = None,
        querier: DirectQuerier | None = None,
    ) -> None:
        self.pairs = tuple(dict.fromkeys(pairs))
        self.states: StatesFor = states_for(states)
        """Domain → the plan's MX states for it (a mapping given for all domains answers for each)."""
        self._classify = Classifier(self.states)
        self.interval = interval
        self.clock: Clock = clock or SystemClock()
        self.querier = querier or DirectQuerier(timeout=timeout, concurrency=concurrency, clock=self.clock)
        self.history = History()
        self.latest: Snapshot | None = None
        """The snapshot of the last finished round."""
        self.rounds = 0
        self._listeners: list[Listener] = []
        self._subscriptions: list[Subscription] = []
        self._wake = asyncio.Event()
        self._round_lock = asyncio.Lock()
        self._polling = False

    # -- subscribing ----------------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def subscribe(self, maxsize: int = 1024) -> Subscription:
        subscription = Subscription(maxsize, self._subscriptions.remove)
        self._subscriptions.append(subscription)
        return subscription

    def _publish(self, event: WatchEvent) -> None:
        for listener in list(self._listeners):
            listener(event)
        for subscription in list(self._subscriptions):
            subscription.push(event)

    # -- polling --------------------------------------------------------------------------------------

    @property
    def polling(self) -> bool:
        """A round is running now."""
        return self._polling

    def poll_now(self) -> None:
        """Start the next round at once; during a round, right after it (rounds never overlap)."""
        self._wake.set()

    async def poll_round(self) -> Snapshot:
        """Run one round now (after the current one, if any) and publish its events."""
        async with self._round_lock:
            self._polling = True
            try:
                return await self._round()
            finally:
                self._polling = False

    async def _round(self) -> Snapshot:
        self.querier.rotate()
        started = self.clock.now()
        observations = await self.querier.observe_all(self.pairs)
        views: list[PairView] = []
        changes: list[Flip | StatusChange] = []
        record, classify = self.history.record, self._classify
        for number, observation in enumerate(observations, start=1):
            view, events = record(observation, classify(observation))
            views.append(view)
            if events:
                changes.extend(events)
            if number % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        self.rounds += 1
        snapshot = Snapshot(self.rounds, started, self.clock.now(), tuple(views))
        self.latest = snapshot
        for number, change in enumerate(changes, start=1):
            self._publish(change)
            if number % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        self._publish(RoundDone(snapshot))
        return snapshot

    async def run(self) -> None:
        """Poll until cancelled: a round, then a pause of `interval` (cut short by `poll_now`), and again."""
        while True:
            self._wake.clear()
            await self.poll_round()
            await self._pause()

    async def _pause(self) -> None:
        if self._wake.is_set():
            return
        sleeper = asyncio.ensure_future(self.clock.sleep(self.interval))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)

    async def close(self) -> None:
        """End every subscription and close the sockets."""
        for subscription in list(self._subscriptions):
            subscription.close()
        await self.querier.close()
