"""The deadlines of the polls in flight, kept in one queue with one timer."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cockpit.dns.poll import Poll


class Deadlines:
    """Every started poll with its deadline, in start order. With one timeout for all, start order is
    deadline order: one timer, for the earliest, serves every poll (no timer per question)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._queue: deque[Poll] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def add(self, poll: Poll) -> None:
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
