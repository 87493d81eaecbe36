"""RFC 2136: replace a domain's MX RRset (and its TTL) on a primary, TSIG-signed, over TCP.

Every outcome becomes an UpdateResult with a sentence for the operator: NOERROR with the serial before
and after, a bad signature or unknown key, REFUSED, NOTAUTH, or no answer. The key's secret never
enters a message: dnspython exceptions are translated here, never passed on.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rdtypes.ANY.SOA
import dns.tsig
import dns.update

from cockpit.dns.tsig_key import TsigKey
from cockpit.plan.values import MxRecord

DEFAULT_PREFERENCE = 10
"""The preference written for a plan MX record that gives none."""


@dataclass(frozen=True, slots=True)
class UpdateResult:
    ok: bool
    domain: str
    server: str
    outcome: str
    """NOERROR, BADSIG, BADKEY, BADTIME, REFUSED, NOTAUTH, TIMEOUT, NETWORK, or another rcode's name."""
    message: str
    serial_before: int | None = None
    serial_after: int | None = None


def mx_values(records: Sequence[MxRecord]) -> list[str]:
    """The MX rdata texts for a plan state (a record without a preference gets DEFAULT_PREFERENCE)."""
    return [f"{r.preference if r.preference is not None else DEFAULT_PREFERENCE} {_absolute(r.host)}" for r in records]


def _absolute(host: str) -> str:
    return host if host.endswith(".") else host + "."


async def read_serial(address: str, port: int, zone: str, timeout: float) -> int | None:
    """The zone's SOA serial as the server gives it over TCP; None when it cannot be read."""
    query = dns.message.make_query(zone, dns.rdatatype.SOA, flags=0)
    try:
        response = await dns.asyncquery.tcp(query, address, timeout=timeout, port=port)
    except (dns.exception.DNSException, OSError, EOFError):
        return None
    for rrset in (*response.answer, *response.authority):
        if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
            soa = rrset[0]
            assert isinstance(soa, dns.rdtypes.ANY.SOA.SOA)
            return int(soa.serial)
    return None


async def update_mx(
    *,
    address: str,
    port: int = 53,
    domain: str,
    records: Sequence[MxRecord],
    ttl: int,
    key: TsigKey | None,
    zone: str | None = None,
    timeout: float = 10.0,
    server_label: str | None = None,
) -> UpdateResult:
    """Replace the MX RRset of `domain` in `zone` (default: the domain) on the primary at `address`."""
    zone_name = dns.name.from_text(zone or domain)
    owner = dns.name.from_text(domain)
    label = server_label or (f"[{address}]:{port}" if ":" in address else f"{address}:{port}")
    if not owner.is_subdomain(zone_name):
        return UpdateResult(False, domain, label, "NOTZONE", f"{domain} is not inside zone {zone_name}")
    values = mx_values(records)
    before = await read_serial(address, port, zone_name.to_text(), timeout)
    if key is not None:
        message = dns.update.UpdateMessage(zone_name, keyring=key.dnspython_key())
    else:
        message = dns.update.UpdateMessage(zone_name)
    message.replace(owner, ttl, "MX", *values)
    what = f"MX of {domain} → {', '.join(values)} (TTL {ttl}) on {label}"
    try:
        response = await dns.asyncquery.tcp(message, address, timeout=timeout, port=port)
    except dns.tsig.PeerBadSignature:
        return _fail(
            domain,
            label,
            "BADSIG",
            f"bad signature: {label} rejected the signature of key {_name(key)} (wrong secret or algorithm?)",
        )
    except dns.tsig.PeerBadKey:
        return _fail(domain, label, "BADKEY", f"{label} does not know key {_name(key)}")
    except dns.tsig.PeerBadTime:
        return _fail(domain, label, "BADTIME", f"{label} rejected the signature time: are the clocks in sync?")
    except (dns.tsig.BadSignature, dns.tsig.BadKey, dns.tsig.BadAlgorithm, dns.tsig.PeerError):
        return _fail(domain, label, "BADSIG", f"the answer of {label} is not signed with key {_name(key)}")
    except dns.exception.Timeout:
        return _fail(domain, label, "TIMEOUT", f"no answer from {label} within {timeout:g}s")
    except (OSError, EOFError) as exc:
        reason = exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        return _fail(domain, label, "NETWORK", f"cannot reach {label} over TCP: {reason}")
    except dns.exception.DNSException as exc:
        return _fail(domain, label, "MALFORMED", f"unreadable answer from {label} ({type(exc).__name__})")
    rcode = response.rcode()
    if rcode == dns.rcode.NOERROR:
        after = await read_serial(address, port, zone_name.to_text(), timeout)
        if before is not None and after is not None and after != before:
            text = f"{what}: done, serial {before} → {after}"
        else:
            text = f"{what}: accepted (NOERROR), but the serial did not change ({before} → {after}): same MX already?"
        return UpdateResult(True, domain, label, "NOERROR", text, before, after)
    name = dns.rcode.to_text(rcode)
    if rcode == dns.rcode.REFUSED:
        why = "no key given" if key is None else f"key {_name(key)} is not allowed to update {zone_name}"
        return _fail(domain, label, name, f"REFUSED by {label}: {why}", before)
    if rcode == dns.rcode.NOTAUTH:
        why = "no key given" if key is None else "not authoritative for the zone, or the key is not accepted"
        return _fail(domain, label, name, f"NOTAUTH from {label} for zone {zone_name}: {why}", before)
    return _fail(domain, label, name, f"{label} answered {name} to the update of {domain}", before)


def _name(key: TsigKey | None) -> str:
    return repr(key.name) if key is not None else "(none)"


def _fail(domain: str, label: str, outcome: str, message: str, before: int | None = None) -> UpdateResult:
    return UpdateResult(False, domain, label, outcome, message, before, None)


class PrimaryAddressError(Exception):
    """The primary's name does not resolve; the message says which and why."""


async def primary_address(host: str) -> str:
    """The address to send an update to: `host` itself when it is an IP address, else its first address."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, 53, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise PrimaryAddressError(f"cannot resolve the primary {host}: {exc}") from None
    if not infos:
        raise PrimaryAddressError(f"the primary {host} has no address")
    return str(infos[0][4][0])
