"""The DNS watcher of a large plan on a thread of its own, with its own event loop, so that polling 10,000
(domain, nameserver) pairs (a second or more of CPU per round) never holds the loop that serves the
operator's keys: the interpreter switches threads every few milliseconds, where one loop would run a round's
callbacks back to back.

The watcher's events cross to the run's loop through an inbox that the run's loop drains in slices
(DRAIN_SLICE events per turn, then it yields), so a burst of 10,000 flips is many short turns, not one long
one. Only the watcher thread touches the watcher's sockets; the run's loop asks it to poll now through the
thread's loop, reads its latest snapshot (one reference), and reads its history with a retry should a round
change it meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable

from cockpit.dns import DnsWatcher, WatchEvent

DRAIN_SLICE = 200
"""Watcher events handed to the run's listeners per turn of the run's loop."""
THREAD_OVER = 400
"""Plans with more pairs than this poll on a thread (smaller ones on the run's loop, as tests expect)."""


class WatchThread:
    def __init__(self, make: Callable[[], DnsWatcher], deliver: Callable[[WatchEvent], None]) -> None:
        self._make = make
        self._deliver = deliver
        self._inbox: deque[WatchEvent] = deque()
        self._lock = threading.Lock()
        self._scheduled = False
        self._main: asyncio.AbstractEventLoop | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self.watcher: DnsWatcher | None = None
        self.error: BaseException | None = None

    async def run(self) -> None:
        """Start the thread and return when its watcher stops (an error is raised here); cancelling this
        stops the thread."""
        self._main = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._thread_main, name="cockpit dns watcher", daemon=True)
        self._thread.start()
        try:
            await asyncio.to_thread(self._thread.join)
        except asyncio.CancelledError:
            self.stop()
            await asyncio.to_thread(self._thread.join, 10)
            raise
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)

    def poll_now(self) -> None:
        loop, watcher = self._loop, self.watcher
        if loop is not None and watcher is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(watcher.poll_now)

    # ----------------------------------------------------------------- the watcher's thread

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            watcher = self._make()
            self.watcher = watcher
            watcher.add_listener(self._post)
            self._task = loop.create_task(watcher.run())
            self._started.set()
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(self._task)
        except BaseException as exc:  # handed to run() on the run's loop
            self.error = exc
        finally:
            if self.watcher is not None:
                with contextlib.suppress(Exception):
                    loop.run_until_complete(self.watcher.close())
            loop.close()

    def _post(self, event: WatchEvent) -> None:
        """On the watcher's thread: queue the event; wake the run's loop when nothing is queued for it."""
        with self._lock:
            self._inbox.append(event)
            wake = not self._scheduled
            self._scheduled = True
        if wake and self._main is not None:
            with contextlib.suppress(RuntimeError):  # the run's loop closed: nobody listens any more
                self._main.call_soon_threadsafe(self._drain)

    # ----------------------------------------------------------------- the run's loop

    def _drain(self) -> None:
        for _ in range(DRAIN_SLICE):
            with self._lock:
                if not self._inbox:
                    self._scheduled = False
                    return
                event = self._inbox.popleft()
            self._deliver(event)
        assert self._main is not None
        self._main.call_soon(self._drain)
