"""The step kinds that move and prove the mail itself, between the plan's `stores:`."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import BeforeValidator, Field, model_validator

from cockpit.base.units import format_duration
from cockpit.plan.fields import Name, Port, PositiveSeconds
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

    changes_by_default: ClassVar[bool] = True
    fan_out: ClassVar[int] = 4
    """Batches of mailboxes copied at once: each holds a host program on both hosts (bench/mail_scale.py)."""
    refers: ClassVar[dict[str, str]] = {"from": "stores", "to": "stores"}
    kind: Literal["sync"] = "sync"
    source: Name = Field(alias="from")
    dest: Name = Field(alias="to")
    idempotent: bool = True

    def describe(self) -> str:
        return f"Copy the mail of {self.source} that {self.dest} lacks"


class VerifyStep(StepBase):
    """Compares fresh inventories of both stores: every message of the source is on the destination, as often."""

    fan_out: ClassVar[int] = 4
    """Batches of mailboxes compared at once: each holds a host program on both hosts (bench/mail_scale.py)."""
    refers: ClassVar[dict[str, str]] = {"from": "stores", "to": "stores"}
    kind: Literal["verify"] = "verify"
    source: Name = Field(alias="from")
    dest: Name = Field(alias="to")

    def describe(self) -> str:
        return f"Verify that every message of {self.source} is on {self.dest}"


def _address(value: object) -> object:
    if isinstance(value, str) and not _EMAIL.match(value.strip().replace("{domain}", "example.com")):
        raise ValueError(f"{value!r} is not a mail address (user@domain)")
    return value.strip() if isinstance(value, str) else value


_EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[A-Za-z0-9.-]{1,253}$")
MailAddress = Annotated[str, BeforeValidator(_address)]


class CanaryStep(StepBase):
    """Proof at an MX change, through the MX the nameservers now serve: `refused` — every address of every MX
    host refuses SMTP connections (senders retry soon); `delivered` — a real message sent through it lands in
    `store` (its mailbox for `to`) within `within`. `from: HOST` speaks SMTP from that plan host over SSH.
    It fans out per domain: `refused` always (each address probed once however many domains share it),
    `delivered` when `to` names `{domain}` (one canary per domain)."""

    fan_out: ClassVar[int] = 8
    """Domains checked at once. A refusal probe is deduplicated per address, so this mostly bounds the distinct
    addresses probed at once (and how many filtered ones are waited for together); a delivered canary holds an
    SSH channel on the store's host while it looks for its token, and OpenSSH allows 10 per connection."""
    refers: ClassVar[dict[str, str]] = {"store": "stores", "from": "hosts"}
    kind: Literal["canary"] = "canary"
    expect: Literal["refused", "delivered"]
    port: Port = 25
    to: MailAddress | None = None
    store: Name | None = None
    within: PositiveSeconds = 120.0
    via: Name | None = Field(default=None, alias="from")

    @model_validator(mode="after")
    def _what_it_needs(self) -> CanaryStep:
        if self.expect == "delivered" and (self.to is None or self.store is None):
            raise ValueError("canary expect: delivered needs 'to' (a mailbox address) and 'store' (where it lands)")
        if self.expect == "refused" and (self.to is not None or self.store is not None):
            raise ValueError("canary expect: refused sends nothing: 'to' and 'store' do not apply")
        return self

    @property
    def per_domain(self) -> bool:
        """A delivered canary per domain: `to` names `{domain}` (`postmaster@{domain}`)."""
        return self.to is not None and "{domain}" in self.to

    def describe(self) -> str:
        where = f" from {self.via}" if self.via else ""
        if self.expect == "refused":
            return f"Check{where} that every address of the MX now served refuses SMTP"
        if self.per_domain:
            return (
                f"Send a canary{where} to {self.to} of each domain through its MX now served, find it in {self.store}"
            )
        return f"Send a canary{where} to {self.to} through the MX now served and find it in {self.store}"


class DrainStep(StepBase):
    """Waits until a store stops receiving mail: nothing arrived for `quiet`, and the MTA's queue (the `queue`
    command, run on the store's host, e.g. `postqueue -p`) is empty."""

    refers: ClassVar[dict[str, str]] = {"store": "stores"}
    kind: Literal["drain"] = "drain"
    store: Name
    quiet: PositiveSeconds = 30.0
    queue: str | None = None

    def describe(self) -> str:
        queue = f" and `{self.queue}` shows an empty queue" if self.queue else ""
        return f"Wait until {self.store} receives nothing for {format_duration(self.quiet)}{queue}"
