"""When each poll in flight is due next — to ask again, or to give up — kept in one queue with one timer.

A poll is asked `tries` times within the timeout, at even intervals (3 s and 3 tries: at 0, 1 and 2 s, given up
at 3 s), as dig does: a datagram lost on the way, one in a few thousand, must not make a round of 10,000 pairs
fail. Every poll is due at the same interval after its start or its last try, so the order in which polls start
is the order in which they fall due: one timer, for the earliest, serves them all (no timer per question).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cockpit.dns.poll import Poll


class Deadlines:
    def __init__(self, timeout: float, tries: int) -> None:
        self.timeout = timeout
        self.tries = tries
        self.interval = timeout / tries
        self._queue: deque[Poll] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def add(self, poll: Poll) -> None:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        poll.due = due = loop.time() + self.interval
        poll.tries = 1
        queue = self._queue
        while queue and queue[0].released:
            queue.popleft()  # answered polls leave from the front, so the queue holds about the polls in flight
        queue.append(poll)
        if self._timer is None:
            self._timer = loop.call_at(due, self._expire)

    def _expire(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        queue = self._queue
        while queue and (queue[0].due <= now or queue[0].released):
            poll = queue.popleft()
            if poll.released:
                continue
            if poll.tries < self.tries:
                poll.tries += 1
                poll.ask_again()
                poll.due = now + self.interval
                queue.append(poll)  # due after every poll already queued: the queue stays in order
            else:
                poll.timed_out()
        if queue:
            self._timer = loop.call_at(queue[0].due, self._expire)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._queue.clear()
        self._loop = None
