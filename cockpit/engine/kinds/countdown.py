"""`countdown`: a deadline stored as wall-clock time (so a restarted cockpit continues it), which the
operator can pause, resume and extend. `old_ttl` counts the largest TTL the old MX had on any nameserver,
from the moment the last nameserver stopped serving it."""

from __future__ import annotations

import asyncio

from cockpit.base.units import format_duration
from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.events import CountdownSet, CountdownTick
from cockpit.engine.kinds.base import KindOf
from cockpit.engine.services import DnsUnavailable
from cockpit.engine.states import StepState
from cockpit.plan import FORMER_TTL, CountdownStep, Plan, WaitDnsStep

TICK = 1.0


def flip_target(plan: Plan, step_id: str) -> str:
    """The MX state whose arrival `old_ttl` counts from: the one the last `wait_dns: {mx: ...}` before the
    countdown waited for; without one, the plan's second MX state (the parking address)."""
    target: str | None = None
    for _, step in plan.steps():
        if step.id == step_id:
            break
        if isinstance(step, WaitDnsStep) and step.mx is not None:
            target = step.mx
    if target is not None:
        return target
    names = list(plan.mx)
    return names[1] if len(names) > 1 else names[0]


class CountdownKind(KindOf[CountdownStep]):
    """Runs one countdown; the engine forwards pause/resume/extend to the running instance."""

    def __init__(self, step: CountdownStep) -> None:
        super().__init__(step)
        self.deadline = 0.0
        self.total = 0.0
        self.paused_remaining: float | None = None
        self.why = ""
        self._ctx: StepContext | None = None
        self._changed = asyncio.Event()

    async def run(self, ctx: StepContext) -> str:
        step = self.step
        self._ctx = ctx
        resumed = ctx.services.countdown_state(step.id)
        if resumed is not None:
            self.deadline, self.total, self.paused_remaining, self.why = resumed
            self.why = self.why or "resumed"
        elif isinstance(step.wait, float):
            self.total = step.wait
            self.deadline = ctx.clock.now() + step.wait
            self.why = f"{format_duration(step.wait)} as planned"
        elif step.wait == FORMER_TTL:
            try:
                await ctx.services.next_snapshot(0.0)  # at least one round of observations
            except DnsUnavailable as exc:
                raise StepFailed(str(exc)) from None
            former = ctx.services.former_ttl()
            if former.ttl is None:
                raise StepFailed(former.detail)
            self.total, self.deadline = float(former.ttl), former.until
            self.why = former.detail
        else:  # old_ttl
            ttl, since, what = ctx.services.old_ttl(flip_target(ctx.plan, step.id))
            if ttl is None:
                raise StepFailed(what)
            self.total, self.deadline = float(ttl), since + ttl
            self.why = what
        self._announce()
        while True:
            remaining = self.remaining()
            paused = self.paused_remaining is not None
            ctx.set_state(
                StepState.COUNTING_DOWN,
                f"{format_duration(max(remaining, 0))} left" + (" (paused)" if paused else ""),
            )
            ctx.publish(CountdownTick(ctx.clock.now(), step.id, max(remaining, 0.0), self.total, paused))
            if remaining <= 0 and not paused:
                return f"waited {format_duration(self.total)}: {self.why}"
            self._changed.clear()
            sleeper = asyncio.ensure_future(ctx.clock.sleep(min(TICK, remaining) if not paused else TICK))
            changed = asyncio.ensure_future(self._changed.wait())
            try:
                await asyncio.wait({sleeper, changed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (sleeper, changed):
                    task.cancel()
                await asyncio.gather(sleeper, changed, return_exceptions=True)

    def remaining(self) -> float:
        if self.paused_remaining is not None:
            return self.paused_remaining
        assert self._ctx is not None
        return self.deadline - self._ctx.clock.now()

    def pause(self) -> bool:
        if self.paused_remaining is not None or self._ctx is None:
            return False
        self.paused_remaining = max(self.remaining(), 0.0)
        self._announce()
        return True

    def resume(self) -> bool:
        if self.paused_remaining is None or self._ctx is None:
            return False
        self.deadline = self._ctx.clock.now() + self.paused_remaining
        self.paused_remaining = None
        self._announce()
        return True

    def extend(self, seconds: float) -> bool:
        if self._ctx is None:
            return False
        self.total += seconds
        if self.paused_remaining is not None:
            self.paused_remaining += seconds
        else:
            self.deadline += seconds
        self._announce()
        return True

    def _announce(self) -> None:
        assert self._ctx is not None
        ctx = self._ctx
        ctx.publish(
            CountdownSet(ctx.clock.now(), ctx.step.id, self.deadline, self.total, self.paused_remaining, self.why)
        )
        self._changed.set()
