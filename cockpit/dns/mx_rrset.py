"""One way to change a zone's MX RRset, whoever holds the zone: a primary that takes RFC 2136 updates or a
DNS provider's HTTP API. The engine asks for "these records, this TTL" and gets back what the zone holds
afterwards, read back from the same place it was written, or an error that says what the zone holds now.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import dns.exception
import dns.name

MAX_TTL = 2**31 - 1


@dataclass(frozen=True, slots=True)
class ZoneMx:
    """One MX record as the zone's editor reports it; `preference` is None when a provider did not say."""

    preference: int | None
    host: str
    """Lower-case, absolute (trailing dot)."""

    def __str__(self) -> str:
        return self.host if self.preference is None else f"{self.preference} {self.host}"

    def matches(self, preference: int, host: str) -> bool:
        """The same record; a record read without a preference matches on the host alone."""
        return self.host == host and (self.preference is None or self.preference == preference)


def mx_text(records: Iterable[ZoneMx]) -> str:
    """`10 a.example., 20 b.example.`, or `no MX` for none."""
    ordered = sorted(records, key=lambda r: (r.preference if r.preference is not None else -1, r.host))
    return ", ".join(str(record) for record in ordered) or "no MX"


@dataclass(frozen=True, slots=True)
class MxRrset:
    """What a zone holds for one name's MX, read through its editor (DNS for RFC 2136, the API otherwise)."""

    zone: str
    domain: str
    records: tuple[ZoneMx, ...]
    ttl: int | None
    """The RRset's TTL as the editor reports it; None when there are no records or it did not say."""
    via: str
    """Where it was read: `127.0.0.1:53 (RFC 2136 primary)`, `powerdns API (dns-lexicon)`."""

    def __str__(self) -> str:
        ttl = f" (TTL {self.ttl})" if self.ttl is not None else ""
        return f"{self.domain} MX {mx_text(self.records)}{ttl} via {self.via}"


@dataclass(frozen=True, slots=True)
class MxChange:
    """A replaced MX RRset: what was there, and what the zone holds now (read back after the change)."""

    zone: str
    domain: str
    before: tuple[ZoneMx, ...]
    after: tuple[ZoneMx, ...]
    ttl: int | None
    """The TTL read back; it may differ from the one asked when a provider enforces its own minimum."""
    via: str
    message: str
    """One line for the operator: what changed, where, and anything surprising (a TTL not kept)."""
    serial_before: int | None = None
    serial_after: int | None = None


class MxChangeError(Exception):
    """The change did not complete; the message is one line for the operator and never holds a secret."""

    def __init__(self, message: str, *, changed: bool | None, holds: tuple[ZoneMx, ...] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.changed = changed
        """False: nothing was changed. True: part of the change went through. None: not known."""
        self.holds = holds
        """What the zone holds now when that is known (read back, or followed call by call)."""


class ProviderConfigError(MxChangeError):
    """Unknown provider or option, or a provider whose extra packages are missing: nothing was sent."""


class ProviderCredentialError(MxChangeError):
    """The provider rejected the credentials (HTTP 401/403, or lexicon's AuthenticationError)."""


class ProviderRateLimited(MxChangeError):
    """HTTP 429 on every attempt, or a Retry-After longer than the time left."""


class PartialMxChange(MxChangeError):
    """Some calls went through (the old MX deleted, say) and a later one failed: `holds` says what is there."""


class MxChangeTimeout(MxChangeError):
    """No answer within the time allowed; the call in flight may or may not have been applied."""


class MxRrsetEditor(Protocol):
    """Changes and reads a zone's MX RRset; RFC 2136 primaries and lexicon providers both implement it."""

    @property
    def label(self) -> str:
        """Where changes go, for people: `127.0.0.1:53 (RFC 2136 primary)`, `powerdns API (dns-lexicon)`."""
        ...

    async def list_mx(self, zone: str, domain: str | None = None) -> MxRrset:
        """The MX RRset of `domain` (default: the zone's apex); changes nothing."""
        ...

    async def replace_mx(
        self, zone: str, records: Sequence[tuple[int, str]], ttl: int, domain: str | None = None
    ) -> MxChange:
        """Delete the MX RRset of `domain`, add `records` (preference, host) with `ttl`, read it back."""
        ...


def absolute_host(host: str) -> str:
    """A host name lower-case with its trailing dot; ValueError when it is not a valid DNS name."""
    try:
        return dns.name.from_text(host.strip()).to_text().lower()
    except dns.exception.DNSException as exc:
        raise ValueError(f"{host!r} is not a valid host name ({type(exc).__name__})") from None


def normal_request(
    zone: str, records: Sequence[tuple[int, str]], ttl: int, domain: str | None
) -> tuple[str, str, tuple[tuple[int, str], ...]]:
    """Zone and domain without the trailing dot, lower-case, the domain inside the zone; records checked
    (preference 0-65535, valid host, at least one, no duplicates) with absolute hosts. ValueError otherwise."""
    zone_name = absolute_host(zone).rstrip(".")
    domain_name = absolute_host(domain).rstrip(".") if domain else zone_name
    if not dns.name.from_text(domain_name).is_subdomain(dns.name.from_text(zone_name)):
        raise ValueError(f"{domain_name} is not inside zone {zone_name}")
    if not 0 <= ttl <= MAX_TTL:
        raise ValueError(f"TTL {ttl} is out of range 0-{MAX_TTL}")
    if not records:
        raise ValueError("no MX records given: an MX state has at least one record")
    wanted: list[tuple[int, str]] = []
    for preference, host in records:
        if not 0 <= preference <= 65535:
            raise ValueError(f"MX preference {preference} is out of range 0-65535")
        record = (preference, absolute_host(host))
        if record not in wanted:
            wanted.append(record)
    return zone_name, domain_name, tuple(wanted)
