"""Where an MX host sends senders: every IPv4 and IPv6 address of it, asked first of the nameservers the plan
watches (they often serve the MX host's zone too), then of the system resolver."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import dns.asyncresolver
import dns.nameserver

from cockpit.dns.discovery import DiscoveryError, addresses_of, system_resolver
from cockpit.dns.observation import Server

LOOKUP_TIMEOUT = 3.0


def _resolver_at(servers: Sequence[Server]) -> dns.asyncresolver.Resolver:
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(server.address, server.port) for server in servers]
    resolver.lifetime = LOOKUP_TIMEOUT
    return resolver


async def mx_host_addresses(host: str, servers: Sequence[Server]) -> tuple[list[str], str]:
    """(addresses, where they came from) of an MX host; DiscoveryError when neither place knows it."""
    problems: list[str] = []
    if servers:
        try:
            return _ordered(await addresses_of(host, _resolver_at(servers))), "the plan's nameservers"
        except DiscoveryError as exc:
            problems.append(f"the plan's nameservers: {exc}")
    try:
        resolver = system_resolver()
        resolver.lifetime = LOOKUP_TIMEOUT
        return _ordered(await addresses_of(host, resolver)), "the system resolver"
    except DiscoveryError as exc:
        problems.append(f"the system resolver: {exc}")
    raise DiscoveryError(f"cannot resolve the MX host {host}: {'; '.join(problems)}")


def _ordered(addresses: list[str]) -> list[str]:
    """IPv4 before IPv6, each in numeric order: a stable order to show and to try (answers rotate)."""
    return sorted(addresses, key=lambda a: (ipaddress.ip_address(a).version, ipaddress.ip_address(a)))
