"""Time as the DNS layer sees it, injectable so tests drive polling rounds without waiting.

The shape matches the engine's clock, so the engine passes its own; `now` stamps observations, `sleep`
spaces the rounds. Round-trip times are always measured on the real monotonic clock.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clocks."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
