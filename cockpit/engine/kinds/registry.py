"""Which class runs which step kind."""

from __future__ import annotations

from typing import Protocol

from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.kinds.confirm import ConfirmKind
from cockpit.engine.kinds.countdown import CountdownKind
from cockpit.engine.kinds.dns_update import DnsUpdateKind
from cockpit.engine.kinds.port import PortKind
from cockpit.engine.kinds.ssh import SshKind
from cockpit.engine.kinds.transfer import TransferKind
from cockpit.engine.kinds.wait_dns import WaitDnsKind
from cockpit.plan import StepBase


class StepKind(Protocol):
    async def run(self, ctx: StepContext) -> str: ...


def make_kind(step: StepBase) -> StepKind:
    kinds: dict[str, type[StepKind]] = {
        "confirm": ConfirmKind,
        "countdown": CountdownKind,
        "port": PortKind,
        "ssh": SshKind,
        "transfer": TransferKind,
        "wait_dns": WaitDnsKind,
        "dns_update": DnsUpdateKind,
    }
    kind: str = getattr(step, "kind", "")
    if kind not in kinds:
        raise StepFailed(f"unknown step kind '{kind}'")
    return kinds[kind]()
