"""A blocking call in a daemon thread: its result or exception comes back to the awaiting task, and a
cancelled or timed-out wait leaves the call behind instead of waiting for it."""

from __future__ import annotations

import asyncio
import threading

import pytest

from cockpit.dns.blocking_call import run_blocking


async def test_result_and_exception_come_back() -> None:
    assert await run_blocking(lambda: threading.current_thread().daemon, name="t") is True

    def fails() -> None:
        raise ValueError("from the thread")

    with pytest.raises(ValueError, match="from the thread"):
        await run_blocking(fails, name="t")


async def test_a_cancelled_wait_abandons_the_call() -> None:
    started, release = threading.Event(), threading.Event()

    def blocks() -> str:
        started.set()
        release.wait(30)
        return "late"

    task = asyncio.create_task(run_blocking(blocks, name="blocked"))
    assert await asyncio.to_thread(started.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await run_blocking(blocks, name="blocked again")
    release.set()
