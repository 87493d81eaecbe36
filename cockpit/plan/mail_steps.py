"""The step kinds that move and prove the mail itself, between the plan's `stores:`."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from cockpit.plan.fields import Name
from cockpit.plan.step_base import StepBase


class InventoryStep(StepBase):
    """Reads a store, changing nothing: per mailbox and folder, every message's identity, size and flags."""

    refers: ClassVar[dict[str, str]] = {"store": "stores"}
    kind: Literal["inventory"] = "inventory"
    store: Name

    def describe(self) -> str:
        return f"Inventory of the {self.store} mail store"


class SyncStep(StepBase):
    """Copies to one store the messages of another that it lacks, by identity: never a second copy, so it is
    safe to run again (a pre-copy, then the delta, then the stragglers)."""

    side_effects: ClassVar[bool] = True
    refers: ClassVar[dict[str, str]] = {"from": "stores", "to": "stores"}
    kind: Literal["sync"] = "sync"
    source: Name = Field(alias="from")
    dest: Name = Field(alias="to")
    idempotent: bool = True

    def describe(self) -> str:
        return f"Copy the mail of {self.source} that {self.dest} lacks"


class VerifyStep(StepBase):
    """Compares fresh inventories of both stores: every message of the source is on the destination, as often."""

    refers: ClassVar[dict[str, str]] = {"from": "stores", "to": "stores"}
    kind: Literal["verify"] = "verify"
    source: Name = Field(alias="from")
    dest: Name = Field(alias="to")

    def describe(self) -> str:
        return f"Verify that every message of {self.source} is on {self.dest}"
