"""`drain`: the evidence that the old host has stopped receiving before the last copy: its store is read every
few seconds (what arrived, live in the output) and, when the plan gives one, the MTA's queue command; done when
nothing arrived for `quiet` and the queue is empty. The journal keeps when the store went quiet."""

from __future__ import annotations

import re

import asyncssh

from cockpit.base.units import format_clock, format_duration, format_size
from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.events import DrainObserved
from cockpit.engine.kinds.base import KindOf
from cockpit.mail import MailError
from cockpit.mail.host_probes import StoreActivity, store_activity
from cockpit.plan import DrainStep
from cockpit.ssh import SshError, run_captured

QUEUE_EMPTY = re.compile(r"\bis empty\b", re.IGNORECASE)
"""What `postqueue -p`, `mailq` (sendmail) and `exim -bp`'s wrappers print for an empty queue."""
QUEUE_TIMEOUT = 60.0


def poll_interval(step: DrainStep) -> float:
    """How often the store is looked at: a tenth of the quiet time, between 0.5 s and 5 s."""
    return min(max(step.quiet / 10, 0.5), 5.0)


class DrainKind(KindOf[DrainStep]):
    async def run(self, ctx: StepContext) -> str:
        step = self.step
        store = ctx.plan.stores[step.store]
        try:
            conn = await ctx.services.connect(store.host)
        except SshError as exc:
            raise StepFailed(str(exc)) from None
        interval = poll_interval(step)
        quiet_since = ctx.clock.now()
        last: StoreActivity | None = None
        last_arrival: float | None = None
        ctx.info(f"watching {step.store} on {store.host} ({store.path}) every {format_duration(interval)}"
                 + (f"; queue: {store.host}$ {step.queue}" if step.queue else ""))  # fmt: skip
        while True:
            try:
                activity = await store_activity(conn, store.host, store.format, store.path)
            except (MailError, SshError) as exc:
                raise StepFailed(str(exc)) from None
            now = ctx.clock.now()
            if last is not None and _arrived(last, activity):
                quiet_since = last_arrival = now
                ctx.info(f"mail arrived in {step.store}: {_difference(last, activity)}")
            last = activity
            empty, queue_text = await self._queue(ctx, conn, store.host)
            quiet_for = now - quiet_since
            if quiet_for >= step.quiet and empty:
                break
            queue = f"; queue: {queue_text}" if step.queue else ""
            ctx.progress(f"quiet for {format_duration(quiet_for)} of {format_duration(step.quiet)}{queue}")
            await ctx.clock.sleep(interval)
        ctx.publish(DrainObserved(ctx.clock.now(), step.id, step.store, last_arrival, quiet_since))
        queue = ", the queue is empty" if step.queue else ""
        return f"{step.store} quiet since {format_clock(quiet_since)}{queue}"

    async def _queue(self, ctx: StepContext, conn: asyncssh.SSHClientConnection, host: str) -> tuple[bool, str]:
        if self.step.queue is None:
            return True, ""
        try:
            captured = await run_captured(conn, self.step.queue, host=host, timeout=QUEUE_TIMEOUT)
        except SshError as exc:
            raise StepFailed(str(exc)) from None
        if not captured.result.ok:
            raise StepFailed(f"{host}: the queue command failed ({captured.result.describe()}): {captured.reason()}")
        lines = [line.strip() for line in captured.stdout if line.strip()]
        if not lines or any(QUEUE_EMPTY.search(line) for line in lines):
            return True, "empty"
        return False, lines[-1]


def _arrived(before: StoreActivity, after: StoreActivity) -> bool:
    return after.newest > before.newest or after.bytes > before.bytes or (after.messages or 0) > (before.messages or 0)


def _difference(before: StoreActivity, after: StoreActivity) -> str:
    parts = []
    if after.messages is not None and before.messages is not None and after.messages != before.messages:
        parts.append(f"{after.messages - before.messages:+,} messages")
    if after.bytes != before.bytes:
        parts.append(f"{'+' if after.bytes > before.bytes else '-'}{format_size(abs(after.bytes - before.bytes))}")
    return ", ".join(parts) or "a newer file"
