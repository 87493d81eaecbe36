"""The plan file format v1 as frozen pydantic models (everything but the steps, which live in steps.py)."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from cockpit.plan.fields import Domain, HostName, Name, Port, PositiveSeconds, Ttl
from cockpit.plan.steps import Step
from cockpit.plan.values import HostPort, MxRecord, is_ip_address, parse_host_port, parse_mx_record


class Frozen(BaseModel):
    """Base of every plan model: immutable, unknown keys rejected, aliases accepted."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, str_strip_whitespace=True)


class Nameserver(Frozen):
    """An authoritative nameserver to watch: a name, an address, or both (the lab gives both)."""

    name: str | None = None
    """The server's host name, as listed in the domain's NS records."""
    address: str | None = None
    """An IP address; when absent, the name is resolved through the system resolver."""
    port: Port = 53

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: object) -> object:
        if isinstance(value, str):
            hp: HostPort = parse_host_port(value)
            key = "address" if is_ip_address(hp.host) else "name"
            return {key: hp.host, "port": hp.port or 53}
        return value

    @model_validator(mode="after")
    def _name_or_address(self) -> Nameserver:
        if self.name is None and self.address is None:
            raise ValueError("a nameserver needs a name or an address")
        if self.address is not None and not is_ip_address(self.address):
            raise ValueError(f"address {self.address!r} is not an IP address")
        return self

    @property
    def label(self) -> str:
        """How the nameserver is shown: its name when known, else its address (with a non-default port)."""
        base = self.name or self.address or "?"
        if self.port != 53:
            return f"[{base}]:{self.port}" if ":" in base else f"{base}:{self.port}"
        return base


class DnsSettings(Frozen):
    """How the nameservers are polled."""

    interval: PositiveSeconds = 60.0
    """Time between the end of one polling round and the start of the next."""
    timeout: PositiveSeconds = 3.0
    """How long a pair's MX and SOA questions (asked together) may wait for their answers; a question still
    unanswered after a third of it is sent again (three tries in all)."""
    concurrency: Annotated[int, Field(ge=1, le=4096)] = 64
    """Pairs polled at once across all nameservers (each with its MX and SOA question in flight)."""


def _mx_records(value: object) -> object:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError("expected an MX host, 'PREFERENCE HOST', or a list of them")
    records: list[MxRecord] = []
    for item in items:
        if isinstance(item, MxRecord):
            records.append(item)
        elif isinstance(item, str):
            records.append(parse_mx_record(item))
        else:
            raise ValueError(f"expected an MX host or 'PREFERENCE HOST', got {type(item).__name__}")
    if not records:
        raise ValueError("an MX state needs at least one record")
    return tuple(records)


_MX_RECORD_SCHEMA = {"type": "string", "description": "HOST or 'PREFERENCE HOST'"}
_MX_RECORDS_SCHEMA = {"anyOf": [_MX_RECORD_SCHEMA, {"type": "array", "items": _MX_RECORD_SCHEMA, "minItems": 1}]}
MxRecordSet = Annotated[
    tuple[MxRecord, ...],
    BeforeValidator(_mx_records),
    WithJsonSchema(_MX_RECORDS_SCHEMA),
]
"""The MX records of a state: a host, `PREF HOST`, or a list of them."""


class MxState(Frozen):
    """A named MX state: the same records for every domain, or a default with exceptions per domain.

    Written `old: "10 mail.old.net."` (every domain) or `old: {default: "10 mail.old.net.", per_domain:
    {example.org: "10 mx.legacy.org."}}`; a domain absent from `per_domain` takes the default."""

    default: MxRecordSet
    per_domain: dict[Domain, MxRecordSet] = Field(default_factory=dict)
    """Domain → its own records in this state."""

    @model_validator(mode="before")
    @classmethod
    def _simple_form(cls, value: object) -> object:
        if isinstance(value, dict | MxState):
            return value
        return {"default": _mx_records(value)}

    def records(self, domain: str) -> tuple[MxRecord, ...]:
        """What this state means for `domain` (lower-case, without the trailing dot)."""
        return self.per_domain.get(domain, self.default) if self.per_domain else self.default

    def hosts(self) -> list[str]:
        """Every MX host this state names for some domain, each once, in the order written."""
        every = [record.host for records in (self.default, *self.per_domain.values()) for record in records]
        return list(dict.fromkeys(every))


_MX_STATE_SCHEMA = {
    "anyOf": [
        *_MX_RECORDS_SCHEMA["anyOf"],
        {
            "type": "object",
            "description": "records per domain: a default, and the domains whose records differ",
            "properties": {
                "default": _MX_RECORDS_SCHEMA,
                "per_domain": {"type": "object", "additionalProperties": _MX_RECORDS_SCHEMA},
            },
            "required": ["default"],
            "additionalProperties": False,
        },
    ]
}
MxStateValue = Annotated[MxState, WithJsonSchema(_MX_STATE_SCHEMA)]


class Host(Frozen):
    """A server reached over SSH."""

    address: HostName | None = None
    """Host name or IP address; may be omitted when `ssh_config` names an alias that gives HostName."""
    user: str | None = None
    port: Port | None = None
    known_hosts: str | None = None
    """known_hosts file for this host; default ~/.ssh/known_hosts. Host keys are always verified."""
    identity: Annotated[
        tuple[str, ...],
        WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
    ] = ()
    """Private key files to offer (the ssh-agent is used as well)."""
    ssh_config: str | None = None
    """An alias in ~/.ssh/config whose HostName, User, Port, IdentityFile and ProxyJump apply."""
    connect_timeout: PositiveSeconds = 15.0
    keepalive_interval: PositiveSeconds = 10.0
    keepalive_count: Annotated[int, Field(ge=1, le=100)] = 3

    @model_validator(mode="before")
    @classmethod
    def _identity_list(cls, value: object) -> object:
        if isinstance(value, dict) and isinstance(value.get("identity"), str):
            return {**value, "identity": [value["identity"]]}
        return value

    @model_validator(mode="after")
    def _address_or_alias(self) -> Host:
        if self.address is None and self.ssh_config is None:
            raise ValueError("a host needs an address (or an ssh_config alias)")
        return self


class Secret(Frozen):
    """Where a secret comes from: a file or an environment variable, never the plan itself."""

    file: str | None = None
    env: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Secret:
        if (self.file is None) == (self.env is None):
            raise ValueError("a secret is {file: PATH} or {env: NAME}, exactly one of them")
        return self

    def describe(self) -> str:
        """Where the secret is read from, for messages (never the secret itself)."""
        return f"file {self.file}" if self.file is not None else f"environment variable {self.env}"


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_USER = re.compile(r"^[A-Za-z0-9._+-]{1,128}$")
STORE_FIELDS = ("user", "domain")


class Store(Frozen):
    """Where a host keeps its mail: an mbox spool or Maildir(++) folders, one per mailbox.

    `path` is a pattern: `{user}` (and `{domain}`) are filled from what exists on the host, or from `users` /
    `users_file` (one user per line, `#` comments)."""

    host: Name
    format: Literal["mbox", "maildir"]
    path: Annotated[str, Field(min_length=1)]
    users: tuple[str, ...] | None = None
    users_file: str | None = None

    @model_validator(mode="after")
    def _pattern(self) -> Store:
        path = self.path
        if not path.startswith(("/", "~")):
            raise ValueError(f"path {path!r} must be absolute (or start with ~)")
        if "/../" in f"{path}/" or "/./" in f"{path}/":
            raise ValueError(f"path {path!r} must not hold '.' or '..' parts")
        for name in _PLACEHOLDER.findall(path):
            if name not in STORE_FIELDS:
                raise ValueError(f"path {path!r}: unknown placeholder {{{name}}} (use {{user}} or {{domain}})")
        if "{" in _PLACEHOLDER.sub("", path) or "}" in _PLACEHOLDER.sub("", path):
            raise ValueError(f"path {path!r}: a brace that opens no placeholder")
        if self.users is not None and self.users_file is not None:
            raise ValueError("give 'users' or 'users_file', not both")
        if (self.users is not None or self.users_file is not None) and "{user}" not in path:
            raise ValueError(f"'users' fill {{user}} in the path, and path {path!r} has none")
        for user in self.users or ():
            if not _USER.match(user) or user in (".", ".."):
                raise ValueError(f"user {user!r} is not a mailbox name (letters, digits, '.', '_', '+', '-')")
        return self


class SecretRef(Frozen):
    """`{secret: NAME}`: the value of a plan secret, read at the moment it is used."""

    secret: Name


def _option_text(value: object) -> object:
    """Numbers and booleans in YAML are the option's text for lexicon (`true`, `8081`)."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float) else value


ProviderValue = Annotated[str | SecretRef, BeforeValidator(_option_text)]


class Provider(Frozen):
    """A DNS provider's API, through dns-lexicon: its provider name and lexicon's own option names, any value
    of which may be `{secret: NAME}` (credentials never sit in the plan)."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True, str_strip_whitespace=True)

    lexicon: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,40}$")]
    """The provider as lexicon names it: cloudflare, route53, powerdns, ovh, hetzner, gandi, ..."""
    __pydantic_extra__: dict[str, ProviderValue] = Field(init=False)

    @property
    def options(self) -> dict[str, str | SecretRef]:
        """Every option but the provider name, as written (secrets still as references)."""
        return dict(self.__pydantic_extra__ or {})


class Phase(Frozen):
    """A named group of steps, run in order (before, during, after)."""

    name: Name
    steps: Annotated[tuple[Step, ...], Field(min_length=1)]


class Plan(Frozen):
    """A whole move: what to watch, where to connect, and the steps to take."""

    version: Literal[1]
    name: Annotated[str, Field(min_length=1)]
    domains: Annotated[tuple[Domain, ...], Field(min_length=1)]
    """The mail domains, as listed under `domains` or read from `domains_file` (exactly one of the two)."""
    domains_file: str | None = None
    """A file with one domain per line (`#` comments), relative to the plan; its domains are `domains`."""
    nameservers: tuple[Nameserver, ...] = ()
    """Authoritative nameservers to watch; discovered from NS records when empty."""
    dns: DnsSettings = DnsSettings()
    ttl: Ttl | None = None
    """The low MX TTL of the before window, the default TTL of dns_update steps."""
    mx: Annotated[dict[Name, MxStateValue], Field(min_length=1)]
    """The named MX states the move goes through, in order; `mx_records` says what one means for a domain."""
    hosts: dict[Name, Host] = Field(default_factory=dict)
    secrets: dict[Name, Secret] = Field(default_factory=dict)
    providers: dict[Name, Provider] = Field(default_factory=dict)
    """DNS providers whose API a dns_update step may use instead of RFC 2136."""
    stores: dict[Name, Store] = Field(default_factory=dict)
    """Where each host keeps its mail, for the inventory, sync and verify steps."""
    phases: Annotated[tuple[Phase, ...], Field(min_length=1)]

    def mx_records(self, state: str, domain: str) -> tuple[MxRecord, ...]:
        """The records MX state `state` means for `domain`: the one answer to "what does state S mean"."""
        return self.mx[state].records(domain)

    def mx_states(self, domain: str) -> dict[str, tuple[MxRecord, ...]]:
        """Every MX state's records for `domain`, in plan order (what the watcher classifies answers by).
        Domains without exceptions share one mapping."""
        return self.mx_table.get(domain, self.mx_table[""])

    @cached_property
    def mx_table(self) -> dict[str, dict[str, tuple[MxRecord, ...]]]:
        """ "" → the default states; each domain with an exception → its own states."""
        table = {"": {name: state.default for name, state in self.mx.items()}}
        for domain in {domain for state in self.mx.values() for domain in state.per_domain}:
            table[domain] = {name: state.records(domain) for name, state in self.mx.items()}
        return table

    @property
    def mx_per_domain(self) -> bool:
        """Some MX state has records of its own for some domain."""
        return any(state.per_domain for state in self.mx.values())

    def steps(self) -> list[tuple[Phase, Step]]:
        """Every step with its phase, in run order."""
        return [(phase, step) for phase in self.phases for step in phase.steps]
