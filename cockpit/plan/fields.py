"""Annotated field types shared by the plan models: each one validates with a message meant for the author."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from cockpit.plan.values import HostPort, MxRecord, normalize_hostname, parse_duration, parse_host_port

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_STEP_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


def _name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"{value!r} is not a valid name: use lower-case letters, digits, '-' or '_', starting with a letter"
        )
    return value


def _step_id(value: str) -> str:
    if not _STEP_ID.match(value):
        raise ValueError(f"{value!r} is not a valid step id: use lower-case letters, digits, '.', '-' or '_'")
    return value


def domain_name(value: str) -> str:
    """A mail domain, lower-case without the trailing dot; ValueError with a message for the author."""
    name = normalize_hostname(value).rstrip(".")
    if "." not in name:
        raise ValueError(f"{value!r} is not a domain name (it has no dot)")
    return name


def _host_port(value: object) -> HostPort:
    if isinstance(value, HostPort):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a string like host, host:port or [v6]:port, got {type(value).__name__}")
    return parse_host_port(value)


def _host(value: str) -> str:
    hp = parse_host_port(value)
    if hp.port is not None:
        raise ValueError(f"{value!r} carries a port; give the port in its own key")
    return hp.host


DURATION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?(ms|d|h|m|s)?)+\s*$"},
    ],
    "description": "seconds, or a duration like 90s, 10m, 1h30m",
}

Seconds = Annotated[float, BeforeValidator(parse_duration), WithJsonSchema(DURATION_SCHEMA)]
"""A duration in seconds, written `90`, `90s`, `10m` or `1h30m`."""

PositiveSeconds = Annotated[Seconds, Field(gt=0)]

Name = Annotated[str, AfterValidator(_name)]
"""A key the plan refers to elsewhere: a host, secret or MX state name."""

StepId = Annotated[str, AfterValidator(_step_id)]

Domain = Annotated[str, AfterValidator(domain_name)]
"""A mail domain, lower-case, without the trailing dot."""

HostName = Annotated[str, AfterValidator(_host)]
"""A host name or IP address without a port."""

Endpoint = Annotated[
    HostPort,
    BeforeValidator(_host_port),
    PlainSerializer(str),
    WithJsonSchema({"type": "string", "description": "host, ip, host:port or [v6]:port"}),
]

Port = Annotated[int, Field(ge=1, le=65535)]

Ttl = Annotated[int, Field(ge=0, le=2_147_483_647)]

MxRecords = tuple[MxRecord, ...]
