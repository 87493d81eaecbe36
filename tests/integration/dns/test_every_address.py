"""One nameserver name, two addresses, two real BIND servers: the name is resolved to both, each address is
its own watched pair with its NSID, and the address still serving the old MX blocks convergence (and shows
its older serial) until it catches up."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.asyncresolver
import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rdatatype
import pytest

from cockpit.dns.discovery import watch_pairs
from cockpit.dns.rfc2136_editor import Rfc2136Editor
from cockpit.dns.tsig_key import parse_tsig_key
from cockpit.dns.watcher import DnsWatcher
from cockpit.plan.models import Nameserver
from cockpit.plan.values import MxRecord
from tests.integration.dns.conftest import KEY_NAME, NAMED, SECRET
from tests.integration.dns.named_lab import Named, port_free_on, second_loopback, start_named
from tests.support import require

ZONE = "example.test"
STATES = {"old": (MxRecord("mail.old-host.net.", 10),), "new": (MxRecord("mail.new-host.net.", 10),)}


@dataclass
class OneNameTwoServers:
    primary: Named
    """At 127.0.0.1: takes updates, NSID ns-a."""
    stale: Named
    """At the second address: a secondary that transfers only when told, NSID ns-b."""
    port: int

    def resolver(self) -> dns.asyncresolver.Resolver:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = self.port
        resolver.lifetime = 2.0
        return resolver

    async def notify_stale(self) -> None:
        message = dns.message.make_query(ZONE, dns.rdatatype.SOA, flags=0)
        message.set_opcode(dns.opcode.NOTIFY)
        message.flags |= dns.flags.AA
        source = "127.0.0.1" if ":" not in self.stale.address else "::1"
        await asyncio.to_thread(dns.query.udp, message, self.stale.address, 2.0, self.port, source=source)


@pytest.fixture
def one_name_two_servers(tmp_path: Path) -> Iterator[OneNameTwoServers]:
    require(NAMED, "named (bind9)")
    with second_loopback() as second:
        port = port_free_on(["127.0.0.1", second])
        family = "AAAA" if ":" in second else "A"
        zone_text = f"""\
$TTL 3600
@       IN SOA  ns.{ZONE}. hostmaster.{ZONE}. ( 100 3600 600 86400 300 )
        IN NS   ns.{ZONE}.
        IN MX   10 mail.old-host.net.
ns      IN A    127.0.0.1
ns      IN {family} {second}
"""
        (tmp_path / "a").mkdir()
        (tmp_path / "a" / f"{ZONE}.db").write_text(zone_text)
        key = f'key "{KEY_NAME}" {{ algorithm hmac-sha256; secret "{SECRET}"; }};\n'
        primary = start_named(
            tmp_path / "a",
            "127.0.0.1",
            port,
            key
            + f'zone "{ZONE}" {{ type primary; file "{ZONE}.db"; update-policy {{ grant {KEY_NAME} zonesub ANY; }}; }};',
            server_id="ns-a",
        )
        stale = None
        try:
            primary.wait_until(ZONE)
            stale = start_named(
                tmp_path / "b",
                second,
                port,
                f'zone "{ZONE}" {{ type secondary; primaries {{ 127.0.0.1 port {port}; }}; file "{ZONE}.db"; '
                "allow-notify { any; }; };",
                server_id="ns-b",
            )
            stale.wait_until(ZONE)
            yield OneNameTwoServers(primary, stale, port)
        finally:
            primary.stop()
            if stale is not None:
                stale.stop()


async def test_every_address_of_a_name_is_watched_and_a_stale_one_blocks_convergence(
    one_name_two_servers: OneNameTwoServers,
) -> None:
    lab = one_name_two_servers
    pairs = await watch_pairs([ZONE], [Nameserver(name=f"ns.{ZONE}", port=lab.port)], resolver=lab.resolver())
    assert sorted((p.server.name, p.server.address) for p in pairs) == sorted(
        [(f"ns.{ZONE}", "127.0.0.1"), (f"ns.{ZONE}", lab.stale.address)]
    )
    labels = {p.server.address: p.server.label for p in pairs}
    assert labels["127.0.0.1"] == f"ns.{ZONE}/127.0.0.1:{lab.port}"
    assert lab.stale.address in labels[lab.stale.address], "the address shows in the label"

    watcher = DnsWatcher(pairs, states=STATES, timeout=2)
    try:
        first = await watcher.poll_round()
        assert first.converged("old")
        assert {v.pair.server.address: v.observation.nsid for v in first.pairs} == {
            "127.0.0.1": "ns-a",
            lab.stale.address: "ns-b",
        }
        assert first.serial_splits() == []

        key = parse_tsig_key(f"hmac-sha256:{KEY_NAME}:{SECRET}", "test key")
        change = await Rfc2136Editor("127.0.0.1", lab.port, key=key).replace_mx(ZONE, [(10, "mail.new-host.net.")], 300)
        assert [str(r) for r in change.after] == ["10 mail.new-host.net."]
        assert change.serial_before == 100 and change.serial_after == 101

        split = await watcher.poll_round()
        states = {v.pair.server.address: v.state for v in split.pairs}
        assert states == {"127.0.0.1": "new", lab.stale.address: "old"}
        assert not split.converged("new"), "one address of the name still serves the old MX"
        [group] = split.serial_splits()
        assert (group.domain, group.name, group.port) == (ZONE, f"ns.{ZONE}", lab.port)
        assert dict(group.serials) == {"127.0.0.1": 101, lab.stale.address: 100}
        assert dict(group.nsids) == {"127.0.0.1": "ns-a", lab.stale.address: "ns-b"}
        assert str(group) == f"{ZONE} @ns.{ZONE}: serial 101 at 127.0.0.1, 100 at {lab.stale.address}"

        await lab.notify_stale()
        async with asyncio.timeout(30):
            while not (snapshot := await watcher.poll_round()).converged("new"):
                await asyncio.sleep(0.1)
        assert snapshot.serial_splits() == []
    finally:
        await watcher.close()
