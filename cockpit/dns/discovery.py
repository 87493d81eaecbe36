"""Finding the servers to watch: the plan's nameservers resolved to addresses, or the domain's NS records.

Both go through the system resolver (or one the caller passes, as tests do). Every address of a name
is a server of its own, IPv4 and IPv6 alike: each may serve a different answer, and convergence needs
them all. A lookup that fails (rather than finding nothing) is an error, never a silently shorter list.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import dns.asyncresolver
import dns.exception
import dns.rdatatype
import dns.resolver

from cockpit.dns.observation import Pair, Server
from cockpit.plan.models import Nameserver


class DiscoveryError(Exception):
    """No server could be found for a domain or a name did not resolve; the message says which."""


class IncompleteAddresses(DiscoveryError):
    """A lookup of a name's addresses timed out, or one family failed while the other answered: some of
    its addresses may be missing, so it is never skipped the way a name that does not resolve is."""


def system_resolver() -> dns.asyncresolver.Resolver:
    """The resolver of /etc/resolv.conf, or a DiscoveryError saying there is none."""
    try:
        return dns.asyncresolver.Resolver()
    except dns.resolver.NoResolverConfiguration:
        raise DiscoveryError("no system resolver is configured (resolv.conf has no nameserver)") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return "no such name"
    if isinstance(exc, dns.resolver.NoAnswer):
        return "no records of that type"
    if isinstance(exc, dns.resolver.NoNameservers):
        return "every resolver failed"
    if isinstance(exc, dns.resolver.LifetimeTimeout | dns.exception.Timeout):
        return "the resolver did not answer in time"
    return type(exc).__name__


async def addresses_of(name: str, resolver: dns.asyncresolver.Resolver) -> list[str]:
    """IPv4 and IPv6 addresses of a host name (either family may be missing, not both).

    A family whose lookup failed (timeout, SERVFAIL) is an error even when the other answered: every
    address is watched, and one left out could serve a stale MX unseen."""
    found: list[str] = []
    problems: list[str] = []
    failed: list[str] = []
    timed_out = False
    results = await asyncio.gather(
        *(resolver.resolve(name, rdtype) for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)),
        return_exceptions=True,
    )
    for family, result in zip(("A", "AAAA"), results, strict=True):
        if isinstance(result, dns.resolver.Answer):
            found.extend(rdata.to_text() for rdata in result)
        elif isinstance(result, dns.resolver.NoAnswer | dns.resolver.NXDOMAIN):
            problems.append(_reason(result))
        elif isinstance(result, dns.exception.DNSException):
            problems.append(_reason(result))
            failed.append(f"{family} lookup: {_reason(result)}")
            timed_out = timed_out or isinstance(result, dns.resolver.LifetimeTimeout | dns.exception.Timeout)
        elif isinstance(result, BaseException):
            raise result
    if not found and not timed_out:
        raise DiscoveryError(f"cannot resolve {name}: {', '.join(dict.fromkeys(problems)) or 'no address'}")
    if not found:
        raise IncompleteAddresses(f"cannot resolve {name}: {'; '.join(failed)}")
    if failed:
        raise IncompleteAddresses(
            f"cannot resolve every address of {name}: {'; '.join(failed)} (found {', '.join(found)}; "
            "each address is watched, so none may be left out)"
        )
    return list(dict.fromkeys(found))


def _servers(name: str, addresses: Sequence[str], port: int, discovered: bool) -> list[Server]:
    shown = name.rstrip(".")
    if len(addresses) == 1:
        return [Server(addresses[0], port, name, discovered)]
    return [
        Server(a, port, name, discovered, label=f"{shown}/{a}" + (f":{port}" if port != 53 else "")) for a in addresses
    ]


async def resolve_nameservers(
    nameservers: Sequence[Nameserver], resolver: dns.asyncresolver.Resolver | None = None
) -> list[Server]:
    """The plan's nameservers as addresses; a name without an address is resolved (all its addresses)."""
    resolver = resolver or system_resolver()
    servers: list[Server] = []
    for ns in nameservers:
        if ns.address is not None:
            servers.append(Server(ns.address, ns.port, ns.name))
        else:
            assert ns.name is not None
            servers.extend(_servers(ns.name, await addresses_of(ns.name, resolver), ns.port, False))
    return servers


async def discover_servers(
    domain: str, resolver: dns.asyncresolver.Resolver | None = None, port: int = 53
) -> list[Server]:
    """The authoritative servers of `domain` from its NS records, every address of each, labelled discovered."""
    resolver = resolver or system_resolver()
    try:
        answer = await resolver.resolve(domain, dns.rdatatype.NS)
    except dns.exception.DNSException as exc:
        raise DiscoveryError(f"no NS records for {domain}: {_reason(exc)}") from None
    names = sorted({rdata.to_text().lower() for rdata in answer})
    resolved = await asyncio.gather(*(addresses_of(name, resolver) for name in names), return_exceptions=True)
    servers: list[Server] = []
    problems: list[str] = []
    for name, result in zip(names, resolved, strict=True):
        if isinstance(result, IncompleteAddresses):
            raise result
        if isinstance(result, DiscoveryError):
            problems.append(str(result))
        elif isinstance(result, BaseException):
            raise result
        else:
            servers.extend(_servers(name, result, port, True))
    if not servers:
        raise DiscoveryError(f"no usable nameserver for {domain}: {'; '.join(problems)}")
    return servers


async def watch_pairs(
    domains: Sequence[str],
    nameservers: Sequence[Nameserver] = (),
    resolver: dns.asyncresolver.Resolver | None = None,
    port: int = 53,
) -> list[Pair]:
    """Every (domain, server) pair to watch: the given nameservers for all domains, or each domain's NS."""
    resolver = resolver or system_resolver()
    if nameservers:
        servers = await resolve_nameservers(nameservers, resolver)
        return [Pair(domain, server) for domain in domains for server in servers]
    found = await asyncio.gather(*(discover_servers(d, resolver, port) for d in domains))
    return [Pair(domain, server) for domain, servers in zip(domains, found, strict=True) for server in servers]
