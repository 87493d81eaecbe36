"""Running a blocking library call (dns-lexicon speaks HTTP through `requests`, synchronously) without
blocking the event loop, and without letting it outlive its welcome.

Each call gets a daemon thread of its own rather than `asyncio.to_thread`: lexicon's providers set no
HTTP timeout, so a call to an API that never answers may never return, and a worker of the default
executor that never returns makes `asyncio.run` wait for it at exit (Python 3.11 waits forever). A daemon
thread is simply left behind. The caller bounds the wait with `asyncio.timeout` and may cancel it; the
abandoned call then ends (or not) on its own, and its result is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def run_blocking(call: Callable[[], T], *, name: str) -> T:
    """The result of `call()` run in a daemon thread; its exception is raised here."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(result: T) -> None:
        if not future.done():
            future.set_result(result)

    def fail(error: BaseException) -> None:
        if not future.done():
            future.set_exception(error)

    def run() -> None:
        try:
            result = call()
        except BaseException as exc:  # handed to the awaiting task, as asyncio.to_thread does
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
                loop.call_soon_threadsafe(fail, exc)
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(deliver, result)

    threading.Thread(target=run, name=name, daemon=True).start()
    return await future
