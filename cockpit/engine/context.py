"""What a step kind gets to do its work: the step, the clock, the services, and ways to report."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from cockpit.base.clock import Clock
from cockpit.base.units import format_duration
from cockpit.engine.events import Event, OutputLine, StepProgress
from cockpit.engine.services import RunServices
from cockpit.engine.states import StepState
from cockpit.plan import Plan, StepBase

T = TypeVar("T")


class StepFailed(Exception):
    """The step did not reach its goal; the message is the one line the operator sees."""


class StepSkipped(Exception):
    """The operator skipped the step while it waited (the reason is in the message)."""


@dataclass
class StepContext:
    plan: Plan
    base_dir: Path
    """The plan's folder: relative paths in the plan are taken from here."""
    step: StepBase
    attempt: int
    clock: Clock
    dry_run: bool
    publish: Callable[[Event], None]
    set_state: Callable[[StepState, str], None]
    """Move the step into a waiting form (waiting-dns, counting-down, ...) with a detail line."""
    ask_operator: Callable[[str], Awaitable[str]]
    """Wait for the operator's answer to a confirm step: returns "confirm"; raises StepSkipped."""
    services: RunServices
    """The run's services (DNS watcher, SSH connections, resumed state)."""
    items_done: set[str] = field(default_factory=set)
    """Items of a step that fans out done in an earlier attempt (this run's or a journaled one): not redone.
    The fan-out adds each item it finishes."""

    def output(self, host: str, stream: str, text: str) -> None:
        self.publish(OutputLine(self.clock.now(), self.step.id, host, stream, text))

    def info(self, text: str) -> None:
        self.output("cockpit", "info", text)

    def progress(self, text: str, done: int = 0, total: int = 0) -> None:
        self.publish(StepProgress(self.clock.now(), self.step.id, text, done, total))


async def bounded(
    clock: Clock, seconds: float | None, work: Awaitable[T], what: str, note: Callable[[], str] | None = None
) -> T:
    """Await `work`, failing the step when it takes longer than `seconds` by the run's clock."""
    if seconds is None:
        return await work
    task = asyncio.ensure_future(work)
    timer = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        timer.cancel()
        await asyncio.gather(task, timer, return_exceptions=True)
        raise
    if task.done():
        timer.cancel()
        return task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    raise StepFailed(f"{what} timed out after {format_duration(seconds)}{note() if note else ''}")
