"""What a valid plan may still get wrong about the method: said by `cockpit check` as warnings, not errors."""

from __future__ import annotations

from cockpit.plan.models import Plan
from cockpit.plan.steps import FORMER_TTL, CountdownStep, DnsUpdateStep, WaitDnsStep


def plan_advice(plan: Plan) -> list[str]:
    """One line per warning, naming the step it is about."""
    return _former_ttl_gate(plan)


def _former_ttl_gate(plan: Plan) -> list[str]:
    """After the MX TTL is lowered, caches may hold the MX with the former TTL for that long: the first step
    that moves the MX away from its first state should come after a `countdown: former_ttl`."""
    first_state = next(iter(plan.mx))
    lowered: str | None = None
    for _, step in plan.steps():
        if isinstance(step, WaitDnsStep) and step.ttl_at_most is not None:
            lowered = step.id
        elif isinstance(step, CountdownStep) and step.wait == FORMER_TTL:
            return []
        elif lowered is not None and _moves_mx(step, first_state):
            return [
                f"step {step.id} changes the MX after the TTL was lowered ({lowered}) with no 'countdown: "
                "former_ttl' between them: caches may still hold the MX with its former TTL"
            ]
    return []


def _moves_mx(step: object, first_state: str) -> bool:
    return isinstance(step, DnsUpdateStep | WaitDnsStep) and getattr(step, "mx", None) not in (None, first_state)
