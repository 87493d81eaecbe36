"""Which class runs which step kind, keyed by the plan's step model: each kind gets its own step, typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.kinds.canary import CanaryKind
from cockpit.engine.kinds.confirm import ConfirmKind
from cockpit.engine.kinds.countdown import CountdownKind
from cockpit.engine.kinds.dns_update import DnsUpdateKind
from cockpit.engine.kinds.drain import DrainKind
from cockpit.engine.kinds.inventory import InventoryKind
from cockpit.engine.kinds.port import PortKind
from cockpit.engine.kinds.ssh import SshKind
from cockpit.engine.kinds.sync import SyncKind
from cockpit.engine.kinds.transfer import TransferKind
from cockpit.engine.kinds.verify import VerifyKind
from cockpit.engine.kinds.wait_dns import WaitDnsKind
from cockpit.plan import StepBase


class StepKind(Protocol):
    async def run(self, ctx: StepContext) -> str:
        """Do the step's work; return the result line, or raise StepFailed / StepSkipped."""
        ...

    def timeout_note(self) -> str: ...


KINDS: dict[type[StepBase], Callable[..., StepKind]] = {
    kind.step_type: kind
    for kind in (
        ConfirmKind,
        CountdownKind,
        PortKind,
        SshKind,
        TransferKind,
        WaitDnsKind,
        DnsUpdateKind,
        InventoryKind,
        SyncKind,
        VerifyKind,
        CanaryKind,
        DrainKind,
    )
}
"""Step model → the class that runs it (constructed with the step)."""


def make_kind(step: StepBase) -> StepKind:
    factory = KINDS.get(type(step))
    if factory is None:
        raise StepFailed(f"no step kind runs '{type(step).__name__}'")
    return factory(step)
