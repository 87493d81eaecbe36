"""Runs of small plans on a fake clock, with the event stream recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cockpit.base.clock import FakeClock
from cockpit.engine.events import Event, EventBus, StepChanged
from cockpit.engine.options import RunOptions
from cockpit.engine.run import PlanRun
from cockpit.engine.services import RunServices
from cockpit.engine.states import StepState
from cockpit.plan import parse_plan

HEAD = """\
version: 1
name: Engine test
domains: [example.com]
mx: {old: a.example.net., new: b.example.net.}
hosts: {h: {address: 127.0.0.1, port: 1}}
phases:
  - name: p
    steps:
"""


def make_plan(steps: str) -> object:
    return parse_plan(HEAD + steps, "t.yaml")


@dataclass
class Recorder:
    events: list[Event] = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def states(self, step_id: str) -> list[str]:
        return [e.state.value for e in self.events if isinstance(e, StepChanged) and e.step_id == step_id]

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind)]


@dataclass
class Harness:
    run: PlanRun
    clock: FakeClock
    recorder: Recorder
    task: asyncio.Task[int] | None = None

    def start(self) -> None:
        self.task = asyncio.ensure_future(self.run.run())

    async def settle(self) -> None:
        for _ in range(20):
            await asyncio.sleep(0)

    async def until(self, check: Callable[[], bool], advance: float = 0.0) -> None:
        for _ in range(2000):
            if check():
                return
            if advance:
                await self.clock.advance(advance)
            else:
                await asyncio.sleep(0.001)
        raise AssertionError("condition never became true")

    async def waiting(self, step_id: str, state: StepState) -> None:
        await self.until(lambda: self.run.prompt is not None and self.run.steps[step_id].state == state)

    async def finish(self) -> int:
        assert self.task is not None
        return await asyncio.wait_for(self.task, 10)


@pytest.fixture
def harness(tmp_path: Path) -> Callable[..., Harness]:
    def build(steps: str, initial: dict[str, tuple[StepState, int, str]] | None = None, **options: object) -> Harness:
        plan = make_plan(steps)
        clock = FakeClock()
        bus = EventBus()
        recorder = Recorder()
        bus.subscribe(recorder)
        services = RunServices(plan, tmp_path, clock, bus, verify_hosts_first=False)  # type: ignore[arg-type]
        run = PlanRun(
            plan,
            plan_sha256="0" * 64,
            base_dir=tmp_path,
            clock=clock,
            bus=bus,  # type: ignore[arg-type]
            services=services,
            options=RunOptions(**options),
            initial=initial,
        )  # type: ignore[arg-type]
        return Harness(run, clock, recorder)

    return build


Awaiting = Awaitable[None]
