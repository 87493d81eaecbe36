"""The step kinds of a plan, in their normalized form (`kind` names the step; the loader fills `id`).

In the file a step is written `- ssh: {host: new, run: ...}` or `- confirm: Text`, with the common keys
(`id`, `title`, `timeout`, `retries`, `idempotent`) beside the kind key or inside its mapping; the loader
rewrites that into these models and keeps the line and column of every value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from cockpit.base.units import format_duration
from cockpit.plan.fields import (
    DURATION_SCHEMA,
    Domain,
    Endpoint,
    HostName,
    Name,
    Port,
    Ttl,
)
from cockpit.plan.mail_steps import CanaryStep, DrainStep, InventoryStep, SyncStep, VerifyStep
from cockpit.plan.step_base import StepBase
from cockpit.plan.values import parse_duration


class ConfirmStep(StepBase):
    """Waits until the operator confirms that a manual action is done."""

    kind: Literal["confirm"] = "confirm"
    text: Annotated[str, Field(min_length=1)]

    def describe(self) -> str:
        return self.text


class SshStep(StepBase):
    """Runs a command on a plan host over SSH, streaming its output."""

    changes_by_default: ClassVar[bool] = True
    declares_changes: ClassVar[bool] = True
    refers: ClassVar[dict[str, str]] = {"host": "hosts"}
    kind: Literal["ssh"] = "ssh"
    host: Name
    run: Annotated[str, Field(min_length=1)]
    pty: bool = False
    """Run on a pseudo-terminal, for programs that buffer their output otherwise (merges stderr)."""

    def describe(self) -> str:
        return f"{self.host}: {self.run}"


class WaitDnsStep(StepBase):
    """Waits until every watched (domain, nameserver) pair serves an MX state, or a TTL at most N."""

    refers: ClassVar[dict[str, str]] = {"mx": "mx"}
    kind: Literal["wait_dns"] = "wait_dns"
    mx: Name | None = None
    ttl_at_most: Ttl | None = None

    @model_validator(mode="after")
    def _one_condition(self) -> WaitDnsStep:
        if (self.mx is None) == (self.ttl_at_most is None):
            raise ValueError("wait_dns needs exactly one of 'mx: STATE' or 'ttl_at_most: SECONDS'")
        return self

    def describe(self) -> str:
        if self.mx is not None:
            return f"Wait until every nameserver serves the {self.mx} MX"
        return f"Wait until every nameserver serves an MX TTL of at most {self.ttl_at_most} s"


OLD_TTL = "old_ttl"
FORMER_TTL = "former_ttl"


def _wait(value: object) -> object:
    if value in (OLD_TTL, FORMER_TTL):
        return value
    return parse_duration(value)


CountdownWait = Annotated[
    float | Literal["old_ttl", "former_ttl"],
    BeforeValidator(_wait),
    WithJsonSchema({"anyOf": [{"const": OLD_TTL}, {"const": FORMER_TTL}, DURATION_SCHEMA]}),
]


class CountdownStep(StepBase):
    """Waits a fixed time; `old_ttl`: the largest TTL the old MX had on any nameserver before the flip;
    `former_ttl`: the TTL the MX had before it was lowered to the plan's `ttl` (what caches may still hold)."""

    kind: Literal["countdown"] = "countdown"
    wait: CountdownWait

    def describe(self) -> str:
        if self.wait == OLD_TTL:
            return "Wait one old MX TTL"
        if self.wait == FORMER_TTL:
            return "Wait out the MX TTL from before it was lowered"
        assert isinstance(self.wait, float)
        return f"Wait {format_duration(self.wait)}"


class PortStep(StepBase):
    """Checks a TCP port: `closed` must refuse (senders retry soon), `open` must accept."""

    kind: Literal["port"] = "port"
    address: HostName
    port: Port
    expect: Literal["open", "closed"]

    def describe(self) -> str:
        return f"Check that {self.address} port {self.port} is {self.expect}"


@dataclass(frozen=True)
class HostPath:
    """One end of a transfer: a plan host and a path on it."""

    host: str
    path: str

    def __str__(self) -> str:
        return f"{self.host}:{self.path}"


def _host_path(value: object) -> HostPath:
    if isinstance(value, HostPath):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected HOST:PATH, got {type(value).__name__}")
    host, sep, path = value.partition(":")
    if not sep or not host or not path.strip():
        raise ValueError(f"expected HOST:PATH (a plan host, a colon, a path), got {value!r}")
    return HostPath(host.strip(), path.strip())


TransferEnd = Annotated[
    HostPath,
    BeforeValidator(_host_path),
    PlainSerializer(str),
    WithJsonSchema({"type": "string", "pattern": "^[a-z][a-z0-9_-]*:.+$", "description": "HOST:PATH"}),
]


class TransferStep(StepBase):
    """Streams a file (or a directory, as tar) from one plan host to another, verified by SHA-256."""

    changes_by_default: ClassVar[bool] = True
    kind: Literal["transfer"] = "transfer"
    source: TransferEnd = Field(alias="from")
    dest: TransferEnd = Field(alias="to")

    def describe(self) -> str:
        return f"Copy {self.source} to {self.dest}"


class DnsUpdateStep(StepBase):
    """Replaces the MX RRset of the plan's domains: on a primary nameserver (RFC 2136, TSIG-signed: `server`
    and `key`), or through a DNS provider's API (`provider`, one of the plan's `providers`)."""

    changes_by_default: ClassVar[bool] = True
    fan_out: ClassVar[int] = 16
    """Zones updated at once: each is a few small TCP exchanges with the primary (read, update, read back);
    16 keep it busy without flooding it."""
    refers: ClassVar[dict[str, str]] = {"mx": "mx", "key": "secrets", "provider": "providers"}
    kind: Literal["dns_update"] = "dns_update"
    server: Endpoint | None = None
    key: Name | None = None
    """The plan secret holding the TSIG key."""
    provider: Name | None = None
    mx: Name
    ttl: Ttl | None = None
    """TTL of the new MX RRset; default the plan's `ttl`."""
    domains: tuple[Domain, ...] = ()
    """Which of the plan's domains to update; default all."""
    zone: Domain | None = None
    """The zone to update when it is not the domain itself."""

    @model_validator(mode="after")
    def _one_route(self) -> DnsUpdateStep:
        if self.provider is not None:
            if self.server is not None or self.key is not None:
                raise ValueError("dns_update goes through 'provider' or through 'server' and 'key', not both")
        elif self.server is None or self.key is None:
            raise ValueError("dns_update needs 'server' and 'key' (RFC 2136), or 'provider' (a provider's API)")
        return self

    @property
    def where(self) -> str:
        """The server or provider the change goes to, for people."""
        return f"provider {self.provider}" if self.provider is not None else str(self.server)

    def describe(self) -> str:
        ttl = f" (TTL {self.ttl})" if self.ttl is not None else ""
        host = self.server.host if self.server is not None else f"provider {self.provider}"
        return f"Point the MX at {self.mx}{ttl} on {host}"


Step = Annotated[
    ConfirmStep
    | SshStep
    | WaitDnsStep
    | CountdownStep
    | PortStep
    | TransferStep
    | DnsUpdateStep
    | InventoryStep
    | SyncStep
    | VerifyStep
    | CanaryStep
    | DrainStep,
    Field(discriminator="kind"),
]

STEP_KINDS: dict[str, type[StepBase]] = {
    "confirm": ConfirmStep,
    "ssh": SshStep,
    "wait_dns": WaitDnsStep,
    "countdown": CountdownStep,
    "port": PortStep,
    "transfer": TransferStep,
    "dns_update": DnsUpdateStep,
    "inventory": InventoryStep,
    "sync": SyncStep,
    "verify": VerifyStep,
    "canary": CanaryStep,
    "drain": DrainStep,
}

SCALAR_FIELD = {"confirm": "text", "countdown": "wait", "inventory": "store"}
"""Kinds that may be written with a scalar (`confirm: Text`, `countdown: 10m`), and the field it fills."""
