"""`wait_dns`: waits until every watched (domain, nameserver) pair serves an MX state, or a TTL at most N.

Only a round that started after the step began counts, so an answer from before a DNS update never
satisfies the wait. Failed polls (timeouts, SERVFAIL, lame answers) never count as propagated.
"""

from __future__ import annotations

from cockpit.dns import Snapshot
from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.kinds.base import KindOf
from cockpit.engine.services import DnsUnavailable
from cockpit.engine.states import StepState
from cockpit.plan import WaitDnsStep


def describe_goal(step: WaitDnsStep) -> str:
    if step.mx is not None:
        return f"serve the {step.mx} MX"
    return f"serve an MX TTL of at most {step.ttl_at_most} s"


def count_met(step: WaitDnsStep, snapshot: Snapshot) -> int:
    if step.mx is not None:
        return snapshot.count(step.mx)
    limit = step.ttl_at_most or 0
    return sum(
        1 for view in snapshot.pairs if view.observation.status.value == "ok" and (view.observation.ttl or 0) <= limit
    )


class WaitDnsKind(KindOf[WaitDnsStep]):
    async def run(self, ctx: StepContext) -> str:
        step = self.step
        services = ctx.services
        goal = describe_goal(step)
        began = ctx.clock.now()
        services.poll_now()
        ctx.set_state(StepState.WAITING_DNS, f"waiting for every nameserver to {goal}")
        newer_than = began
        while True:
            try:
                snapshot = await services.next_snapshot(newer_than)
            except DnsUnavailable as exc:
                raise StepFailed(str(exc)) from None
            total = len(snapshot.pairs)
            met = count_met(step, snapshot)
            text = f"{met} of {total} pairs {goal}"
            failures = snapshot.failures()
            if failures:
                text += f" ({len(failures)} not answering: {', '.join(str(v.pair) for v in failures[:3])})"
            ctx.progress(text, met, total)
            ctx.set_state(StepState.WAITING_DNS, text)
            if total and met == total:
                return f"all {total} pairs {goal} (round {snapshot.round})"
            newer_than = snapshot.finished_at
