"""Parsers for the small value languages of a plan: durations, nameserver addresses, endpoints, MX records.

Each parser raises ValueError with a message written for the plan's author; the models wrap them as
pydantic validators so the message reaches the located error line unchanged.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|d|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_HOSTNAME = re.compile(
    r"^(?=.{1,253}\.?$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$"
)


def parse_duration(value: object) -> float:
    """Seconds from `90`, `90s`, `1.5s`, `10m`, `1h30m`, `2d` or `250ms`."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 90s, 10m or 1h30m, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if not text:
            raise ValueError("expected a duration like 90s, 10m or 1h30m, got an empty string")
        if re.fullmatch(r"\d+(\.\d+)?", text):
            seconds = float(text)
        else:
            pos = 0
            seconds = 0.0
            for match in _DURATION_PART.finditer(text):
                if match.start() != pos:
                    break
                seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
                pos = match.end()
            if pos != len(text) or pos == 0:
                raise ValueError(f"expected a duration like 90s, 10m or 1h30m, got {value!r}")
    else:
        raise ValueError(f"expected a duration like 90s, 10m or 1h30m, got {type(value).__name__}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative ({value!r})")
    if seconds > 366 * 86400:
        raise ValueError(f"duration {value!r} is longer than a year")
    return seconds


def normalize_hostname(value: str) -> str:
    """Lower-case a DNS name and check its syntax; the trailing dot is kept as written."""
    name = value.strip().lower()
    if not _HOSTNAME.match(name) or name.rstrip(".").rpartition(".")[2].isdigit():
        raise ValueError(f"{value!r} is not a valid host name")
    return name


def fqdn(value: str) -> str:
    """A host name in absolute form (with the trailing dot), as DNS answers carry it."""
    name = normalize_hostname(value)
    return name if name.endswith(".") else name + "."


def is_ip_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HostPort:
    """A host (name or IP address) and an optional port, as parsed from `host`, `host:port` or `[v6]:port`."""

    host: str
    port: int | None

    def __str__(self) -> str:
        if self.port is None:
            return self.host
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_host_port(text: str) -> HostPort:
    """Parse `host`, `ip`, `host:port`, `[v6]:port` and a bare IPv6 address."""
    value = text.strip()
    if not value:
        raise ValueError("expected a host, host:port or [v6]:port, got an empty string")
    if value.startswith("["):
        match = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", value)
        if not match:
            raise ValueError(f"{text!r} is not [IPv6]:port")
        host, port_text = match.group(1), match.group(2)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{host!r} inside brackets is not an IPv6 address") from None
        return HostPort(host.lower(), _port(port_text, text) if port_text else None)
    if value.count(":") > 1:
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            raise ValueError(f"{text!r} is not an IPv6 address; write [v6]:port to give a port") from None
        return HostPort(value.lower(), None)
    host, sep, port_text = value.partition(":")
    port = _port(port_text, text) if sep else None
    if not is_ip_address(host):
        host = normalize_hostname(host).rstrip(".")
    return HostPort(host, port)


def _port(text: str, whole: str) -> int:
    if not text.isdigit():
        raise ValueError(f"port in {whole!r} is not a number")
    port = int(text)
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} in {whole!r} is out of range 1-65535")
    return port


@dataclass(frozen=True)
class MxRecord:
    """One MX record of a named state: the preference is optional (None matches any preference)."""

    host: str
    preference: int | None = None

    def __str__(self) -> str:
        return self.host if self.preference is None else f"{self.preference} {self.host}"


def parse_mx_record(text: str) -> MxRecord:
    """`mail.example.net.` or `10 mail.example.net.`; the host is stored lower-case with a trailing dot."""
    parts = text.split()
    if parts and parts[-1] == ".":
        raise ValueError(
            f"{text!r} is the null MX (RFC 7505): senders bounce mail at once instead of retrying; a parking "
            "MX must name a host whose address refuses SMTP connections"
        )
    if len(parts) == 1:
        return MxRecord(fqdn(parts[0]))
    if len(parts) == 2 and parts[0].isdigit():
        preference = int(parts[0])
        if preference > 65535:
            raise ValueError(f"MX preference {preference} is out of range 0-65535")
        return MxRecord(fqdn(parts[1]), preference)
    raise ValueError(f"expected 'HOST' or 'PREFERENCE HOST' for an MX record, got {text!r}")
