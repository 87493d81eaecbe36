"""A run seen from outside (`cockpit observe`): the journal another cockpit writes, replayed and followed live as
the same events that cockpit's screen is fed with. It never takes the plan's lock, never writes a file, and
every command that would change the run is refused.

What an observer sees comes from two places, and only these: the steps, their details and output, the
countdown, the downtime and the forecast from the journal (so the figures are the operator's); the
nameservers pane from the observer's own DNS queries (read-only, like `cockpit watch`), as the journal keeps
rounds only as summaries. Output lines reach the journal as the operator's cockpit bounds them (the first
400 of each step attempt as they come, the last 200 when the attempt ends).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from cockpit.base.clock import Clock
from cockpit.base.units import format_timestamp
from cockpit.engine.events import (
    CountdownSet,
    CountdownTick,
    EventBus,
    RunFinished,
    RunStarted,
    StepChanged,
)
from cockpit.engine.journal import JournalError
from cockpit.engine.journal_tail import JournalReplaced, JournalTail, record_event
from cockpit.engine.lock import lock_is_free
from cockpit.engine.options import RunOptions
from cockpit.engine.prompts import Answer, CommandResult
from cockpit.engine.resume import resume_point
from cockpit.engine.run import PlanRun
from cockpit.engine.services import RunServices
from cockpit.engine.side_actions import SideActions
from cockpit.engine.states import ACTIVE, StepState
from cockpit.plan import Plan

POLL = 0.25
"""How often the journal is read for new records."""
LOCK_CHECK = 2.0
"""How often the observer checks whether a cockpit still runs the plan."""
BATCH = 500
"""Records published before the observer lets its screen breathe (catching up with a long journal)."""
STATE_RECORDS = frozenset({"RunStarted", "RunFinished", "StepChanged", "StepIntent", "CountdownSet"})
WAITING = frozenset({StepState.READY, StepState.AWAITING_CONFIRMATION, StepState.FAILED, StepState.INTERRUPTED})
"""States in which a step waits for the operator (the run's prompt states)."""
OBSERVING = "observing: this view cannot change the run (only the operator's cockpit can)"


class ObservedSide(SideActions):
    """Park, undo and rerun are the operator's: refused here."""

    def park(self, origin: str = "operator") -> CommandResult:
        return CommandResult(False, OBSERVING)

    def undo(self, step_id: str, *, force: bool = False, origin: str = "operator") -> CommandResult:
        return CommandResult(False, OBSERVING)

    def rerun(self, step_id: str) -> CommandResult:
        return CommandResult(False, OBSERVING)


class ObservedRun(PlanRun):
    """Follows `journal` until stopped; `run()` publishes what the journal holds, then what is appended."""

    def __init__(
        self, plan: Plan, *, journal: Path, lock: Path, base_dir: Path, clock: Clock, bus: EventBus,
        services: RunServices,
    ) -> None:  # fmt: skip
        super().__init__(plan, plan_sha256="", base_dir=base_dir, clock=clock, bus=bus, services=services,
                         options=RunOptions())  # fmt: skip
        self.forecast.publish = _nowhere  # the forecast shown is the one the operator's cockpit journaled
        self.side = ObservedSide(self)
        self.journal = journal
        self.lock = lock
        self.finished: RunFinished | None = None
        """The last run's end, while no later run started."""
        self.active: bool | None = None
        """A cockpit holds the plan's lock (None before the first check)."""
        self.countdown_set: CountdownSet | None = None
        """The latest countdown deadline, while its step counts down: the observer ticks it itself."""
        self._history: list[dict[str, Any]] = []
        """The records that decide step states (for the states a resumed run starts from)."""
        self._stopped = asyncio.Event()

    async def run(self) -> int:
        tail = JournalTail(self.journal)
        next_lock_check = 0.0
        try:
            while not self._stopped.is_set():
                try:
                    records = await asyncio.to_thread(tail.read)
                except JournalError as exc:
                    self._notice(
                        "error", f"{exc}{'' if isinstance(exc, JournalReplaced) else ' — stopped following it'}"
                    )
                    break
                for number, record in enumerate(records, start=1):
                    self._apply(record)
                    if number % BATCH == 0:
                        await asyncio.sleep(0)
                if self.clock.monotonic() >= next_lock_check:
                    self._check_lock()
                    next_lock_check = self.clock.monotonic() + LOCK_CHECK
                self._tick_countdown()
                if not records:
                    await self._pause(POLL)
        finally:
            tail.close()
        await self._stopped.wait()
        return 0

    async def _pause(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self._stopped.wait()
        except TimeoutError:
            pass

    # ----------------------------------------------------------------- records → state and events

    def _apply(self, record: dict[str, Any]) -> None:
        kind = record.get("type")
        if kind in STATE_RECORDS:
            self._history.append(record)
        event = record_event(record)
        if event is None:
            return
        match event:
            case RunStarted():
                self._run_started(event)
            case RunFinished():
                self.finished, self.current = event, None
            case StepChanged():
                self._step_changed(event)
            case CountdownSet():
                self.countdown_set = event
        self.bus.publish(event)

    def _run_started(self, event: RunStarted) -> None:
        """A run (or a resumed one) begins: its steps start where the journal before it left them."""
        self.finished, self.current, self.countdown_set = None, None, None
        self.options = RunOptions(mode="auto" if event.mode == "auto" else "step", dry_run=event.dry_run)
        self.plan_sha256 = event.plan_sha256
        states = resume_point(self._history[:-1]).states
        for step_id, status in self.steps.items():
            state, attempt, detail = states.get(step_id, (StepState.PENDING, 0, ""))
            status.state, status.attempt, status.detail = state, attempt, detail
            self.bus.publish(StepChanged(event.at, step_id, state, attempt, detail))

    def _step_changed(self, event: StepChanged) -> None:
        status = self.steps.get(event.step_id)
        if status is None:  # a pseudo-step (a park, an undo) or a step the plan no longer has
            return
        status.state, status.attempt, status.detail = event.state, event.attempt, event.detail
        if event.state in ACTIVE or event.state in (StepState.READY, StepState.FAILED, StepState.INTERRUPTED):
            self.current = event.step_id
        countdown = self.countdown_set
        if countdown is not None and countdown.step_id == event.step_id and event.state != StepState.COUNTING_DOWN:
            self.countdown_set = None
            if event.state == StepState.DONE:  # the operator's last tick was at zero
                self.bus.publish(CountdownTick(event.at, event.step_id, 0.0, countdown.total, False))

    def _tick_countdown(self) -> None:
        """The operator's cockpit ticks its countdown without journaling each tick: tick it here from the
        journaled deadline."""
        countdown = self.countdown_set
        if countdown is None:
            return
        paused = countdown.paused_remaining is not None
        remaining = countdown.paused_remaining if paused else countdown.deadline - self.clock.now()
        assert remaining is not None
        self.bus.publish(
            CountdownTick(self.clock.now(), countdown.step_id, max(0.0, remaining), countdown.total, paused)
        )

    def _check_lock(self) -> None:
        active = not lock_is_free(self.lock)
        if active == self.active:
            return
        first, self.active = self.active is None, active
        if active:
            self._notice("info", "a cockpit runs this plan: following its journal")
        elif self.finished is not None:
            when = format_timestamp(self.finished.at)
            self._notice("info", f"the run ended {self.finished.outcome} at {when}: this is its end state")
        elif not first or self._history:
            self._notice(
                "warning", "no cockpit runs this plan now, and its last run did not finish (stopped or killed)"
            )
        else:
            self._notice("info", "no run of this plan has started yet: waiting for one")

    # ----------------------------------------------------------------- commands: none changes the run

    def answer(self, answer: Answer, reason: str = "", source: str = "operator") -> CommandResult:
        return CommandResult(False, OBSERVING)

    def go(self) -> CommandResult:
        return CommandResult(False, OBSERVING)

    def skip(self, reason: str) -> CommandResult:
        return CommandResult(False, OBSERVING)

    def retry(self) -> CommandResult:
        return CommandResult(False, OBSERVING)

    def decide(self, word: str) -> CommandResult:
        return CommandResult(False, OBSERVING)

    def abort(self) -> CommandResult:
        return CommandResult(False, OBSERVING)

    def pause_or_resume(self) -> CommandResult:
        return CommandResult(False, OBSERVING)

    def extend(self, seconds: float = 60.0) -> CommandResult:
        return CommandResult(False, OBSERVING)

    def running_step(self) -> str | None:
        return None

    def waiting_step(self) -> str | None:
        """The step that waits for the operator's answer (as far as the journal tells)."""
        status = self.steps.get(self.current) if self.current is not None else None
        return self.current if status is not None and status.state in WAITING else None

    def stop(self, outcome: str = "stopped", exit_code: int = 1) -> CommandResult:
        """Stop following (the observed run goes on)."""
        self._stopped.set()
        return CommandResult(True, "stopped observing")


def _nowhere(event: object) -> None:
    """Where the observer's own forecast events go."""
