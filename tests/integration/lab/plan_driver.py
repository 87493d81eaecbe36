"""Runs the lab's plan through the engine itself (PlanRun with --yes, in auto mode): the same step kinds a
real run uses, minus the operator. Each step must succeed unless told otherwise; `skip` leaves steps out (a
reckless move). The events are kept as the journal would keep them, for the run's figures."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from cockpit.base.clock import SystemClock
from cockpit.engine.events import Event, EventBus, OutputLine, StepChanged
from cockpit.engine.journal import event_record
from cockpit.engine.options import RunOptions
from cockpit.engine.run import PlanRun
from cockpit.engine.services import RunServices
from cockpit.engine.states import StepState
from cockpit.plan import PlanFile, StepBase, load_plan

STEP_LIMIT = 30.0
"""Generous guard per step; nothing here asserts a duration."""


class PlanDriver:
    def __init__(self, plan_path: Path) -> None:
        self.file: PlanFile = load_plan(plan_path)
        self.plan = self.file.plan
        self.clock = SystemClock()
        self.bus = EventBus()
        self.bus.subscribe(self._hear)
        self.services = RunServices(self.plan, plan_path.parent, self.clock, self.bus)
        self.output: dict[str, list[str]] = {}
        """The output lines of each ssh step, by step id (the latest attempt's)."""
        self.done: list[str] = []
        self.failures: dict[str, str] = {}
        self.records: list[dict[str, Any]] = []
        """Every event as a journal record (output lines included: a test run is short)."""
        self._before_step: Callable[[str], None] | None = None
        self._stop_after: str | None = None
        self._run: PlanRun | None = None

    async def __aenter__(self) -> PlanDriver:
        await self.services.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.services.close()

    def step(self, step_id: str) -> StepBase:
        return next(step for _, step in self.plan.steps() if step.id == step_id)

    async def run(
        self, *, skip: Collection[str] = (), until: str | None = None, before_step: Callable[[str], None] | None = None
    ) -> None:
        """Every step in order (from the first not yet done), stopping after `until`."""
        left_out = {step.id for _, step in self.plan.steps() if step.id in self.done or step.id in skip}
        self._before_step, self._stop_after = before_step, until
        await self._run_with(left_out)

    async def run_step(self, step: StepBase, *, check: bool = True) -> None:
        """This one step, as the engine runs it (`check` False: it may fail, see `failures`)."""
        others = {other.id for _, other in self.plan.steps() if other.id != step.id}
        self.done = [step_id for step_id in self.done if step_id != step.id]
        await self._run_with(others, single=True, check=check)

    async def _run_with(self, left_out: set[str], *, single: bool = False, check: bool = True) -> None:
        initial = {step_id: (StepState.SKIPPED, 0, "left out by the test") for step_id in left_out}
        run = PlanRun(self.plan, plan_sha256=self.file.sha256, base_dir=self.services.base_dir, clock=self.clock,
                      bus=self.bus, services=self.services, options=RunOptions(mode="auto", yes=True),
                      initial=initial)  # fmt: skip
        self._run = run
        limit = STEP_LIMIT * (1 if single else max(1, len(self.plan.steps()) - len(left_out)))
        try:
            async with asyncio.timeout(limit):
                code = await run.run()
        finally:
            self._run = None
        failed = {k: v for k, v in self.failures.items() if k not in self.done}
        stopped = self._stop_after is not None and self._stop_after in self.done
        assert code == 0 or stopped or not check, failed or code

    def _hear(self, event: Event) -> None:
        self.records.append(event_record(event))
        if isinstance(event, OutputLine) and event.stream != "info":
            self.output.setdefault(event.step_id, []).append(event.text)
        if not isinstance(event, StepChanged):
            return
        if event.state == StepState.RUNNING and event.attempt == 1 and event.step_id not in self.output:
            self.output[event.step_id] = []
            if self._before_step is not None:
                self._before_step(event.step_id)
        elif event.state == StepState.DONE:
            self.done.append(event.step_id)
            if event.step_id == self._stop_after and self._run is not None:
                with contextlib.suppress(Exception):
                    self._run.stop("stopped", 1)
        elif event.state == StepState.FAILED:
            self.failures[event.step_id] = event.detail


async def probe(address: str, port: int) -> str:
    try:
        _, writer = await asyncio.open_connection(address, port)
    except ConnectionRefusedError:
        return "refused"
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return "open"
