"""Events the SSH layer emits while work runs (stamped by the run's clock, cockpit.base.clock).

Events are frozen dataclasses handed to a synchronous callback (`EventSink`) supplied by the caller, in the
order they happen. The callback must return quickly and must not raise; the engine forwards each event into
its own stream. Output is batched: the lines that arrive in one packet share one event and one timestamp,
so a flood of output costs one call per packet, not one per line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cockpit.base.clock import Clock, SystemClock

__all__ = ["Clock", "EventSink", "OutputLines", "SshEvent", "Stream", "SystemClock", "TransferProgress"]

Stream = Literal["stdout", "stderr"]


@dataclass(frozen=True, slots=True)
class OutputLines:
    """Complete lines of a remote command's output, in order, as they arrived."""

    timestamp: float
    """When the lines arrived (the clock's `now`)."""
    stream: Stream
    """stdout or stderr (a PTY merges both into stdout)."""
    lines: tuple[str, ...]
    """The text of each line without its line ending; very long lines end with a cut marker."""


@dataclass(frozen=True, slots=True)
class TransferProgress:
    """How far a transfer has come; emitted a few times a second and once at the end of the copy."""

    timestamp: float
    done: int
    """Bytes copied so far."""
    total: int | None
    """Bytes to copy, when known (a file); None for a directory, which travels as a tar stream."""
    rate: float
    """Average bytes per second since the copy started."""
    eta: float | None
    """Seconds left at the current average rate; None when the total is unknown or nothing moved yet."""


SshEvent = OutputLines | TransferProgress
EventSink = Callable[[SshEvent], None]
"""The caller's callback; called on the event loop, in order, for every event."""


def ignore_events(event: SshEvent) -> None:
    """A sink for callers that only want the result."""
