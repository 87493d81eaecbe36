"""`wait_dns`: waits until every watched (domain, nameserver) pair serves an MX state, or a TTL at most N.

Only a round that started after the step began counts, so an answer from before a DNS update never
satisfies the wait. Failed polls (timeouts, SERVFAIL, lame answers) never count as propagated.
"""

from __future__ import annotations

from cockpit.base.units import format_duration
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
    def __init__(self, step: WaitDnsStep) -> None:
        super().__init__(step)
        self._behind: list[str] = []
        """The nameservers that did not serve the goal in the last round: named if the step times out."""

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
            unit = answers_unit(snapshot)
            self._behind = behind(step, snapshot)
            elapsed = ctx.clock.now() - began
            spent = format_duration(elapsed) + (f" of {format_duration(step.timeout)}" if step.timeout else "")
            text = f"{met} of {total} {unit} {goal} · {spent}"
            if self._behind:
                text += f" · behind: {', '.join(self._behind[:3])}" + (" …" if len(self._behind) > 3 else "")
            ctx.progress(text, met, total)
            if total and met == total:
                return f"all {total} {unit} {goal} ({format_duration(elapsed)} after the step began)"
            newer_than = snapshot.finished_at

    def timeout_note(self) -> str:
        return f"; still behind: {', '.join(self._behind)}" if self._behind else ""


def answers_unit(snapshot: Snapshot) -> str:
    """What is counted: nameservers (one per address) for one domain, domain × nameserver pairs for several."""
    domains = {view.pair.domain for view in snapshot.pairs}
    return "nameservers" if len(domains) <= 1 else "domain × nameserver pairs"


def behind(step: WaitDnsStep, snapshot: Snapshot) -> list[str]:
    """Each pair not serving the goal, with what it serves (or why it does not answer)."""
    several = len({view.pair.domain for view in snapshot.pairs}) > 1
    found = []
    for view in snapshot.pairs:
        obs = view.observation
        ok = obs.status.value == "ok"
        if step.mx is not None and ok and view.state == step.mx:
            continue
        if step.mx is None and ok and (obs.ttl or 0) <= (step.ttl_at_most or 0):
            continue
        where = f"{obs.server.label}" + (f" for {obs.domain}" if several else "")
        what = (view.state or "another MX") if step.mx is not None else f"TTL {obs.ttl}"
        found.append(f"{where} ({what if ok else obs.status.value})")
    return found
