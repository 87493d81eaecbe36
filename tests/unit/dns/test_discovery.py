"""NS discovery and name resolution through a resolver pointed at the lab server (IPv4 and IPv6)."""

from __future__ import annotations

import dns.asyncresolver
import pytest

from cockpit.dns.discovery import (
    DiscoveryError,
    IncompleteAddresses,
    discover_servers,
    resolve_nameservers,
    watch_pairs,
)
from cockpit.dns.observation import Status
from cockpit.dns.query import DirectQuerier
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.nameserver import Behaviour, LabNameserver
from cockpit.plan.models import Nameserver


def _resolver(ns: LabNameserver) -> dns.asyncresolver.Resolver:
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [ns.host]
    resolver.port = ns.port
    resolver.lifetime = 2.0
    return resolver


@pytest.fixture
async def authority():
    zones = [
        LabZone.build(
            "example.com",
            mx=[(10, "mail.example.net.")],
            ns=["ns1", "ns2"],
            addresses={"ns1": "127.0.0.1", "ns2": ["127.0.0.1", "::1"]},
        ),
        LabZone.build("broken.example", ns=["ns1.nowhere.example."]),
    ]
    async with LabNameserver(zones) as ns:
        yield ns


async def test_discovers_every_address_of_every_ns(authority: LabNameserver) -> None:
    servers = await discover_servers("example.com", _resolver(authority), port=authority.port)
    assert sorted((s.name, s.address) for s in servers) == [
        ("ns1.example.com.", "127.0.0.1"),
        ("ns2.example.com.", "127.0.0.1"),
        ("ns2.example.com.", "::1"),
    ]
    assert all(s.discovered for s in servers)
    labels = sorted(s.label for s in servers)
    assert labels[0] == f"ns1.example.com:{authority.port}"
    assert "ns2.example.com/::1" in labels[2], "two addresses of one name are told apart"


async def test_discovered_servers_answer(authority: LabNameserver) -> None:
    pairs = await watch_pairs(["example.com"], resolver=_resolver(authority), port=authority.port)
    querier = DirectQuerier(timeout=1)
    v4 = [p for p in pairs if ":" not in p.server.address]
    observations = await querier.observe_all(v4)
    await querier.close()
    assert [o.status for o in observations] == [Status.OK, Status.OK]


async def test_plan_nameservers_by_name_and_address(authority: LabNameserver) -> None:
    listed = (Nameserver(name="ns2.example.com", port=5353), Nameserver(address="192.0.2.1"))
    servers = await resolve_nameservers(listed, _resolver(authority))
    assert [(s.address, s.port, s.discovered) for s in servers] == [
        ("127.0.0.1", 5353, False),
        ("::1", 5353, False),
        ("192.0.2.1", 53, False),
    ]


async def test_discovery_failures_say_what_failed(authority: LabNameserver) -> None:
    with pytest.raises(DiscoveryError, match=r"no NS records for missing\.example\.com: no such name"):
        await discover_servers("missing.example.com", _resolver(authority))
    with pytest.raises(DiscoveryError, match=r"no usable nameserver for broken\.example"):
        await discover_servers("broken.example", _resolver(authority))
    with pytest.raises(DiscoveryError, match=r"cannot resolve ns9\.example\.com"):
        await resolve_nameservers((Nameserver(name="ns9.example.com"),), _resolver(authority))


async def test_a_nameserver_whose_addresses_time_out_is_an_error_not_a_shorter_list() -> None:
    zones = [
        LabZone.build("example.com", mx=[(10, "mail.example.net.")], ns=["ns1", "ns2.slow.example."],
                      addresses={"ns1": "127.0.0.1"}),
        LabZone.build("slow.example", addresses={"ns2": "127.0.0.1"}),
    ]  # fmt: skip
    async with LabNameserver(zones) as ns:
        ns.behave(Behaviour.SILENT, "slow.example")
        resolver = _resolver(ns)
        resolver.lifetime = 0.3
        with pytest.raises(IncompleteAddresses, match=r"cannot resolve ns2\.slow\.example\.: A lookup: "):
            await discover_servers("example.com", resolver)
