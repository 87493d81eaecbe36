"""Signed zones on a real BIND: one signed on the fly (`dnssec-policy default; inline-signing yes;`), one
pre-signed with signatures that expired in 2020, one whose MX lost its RRSIG while the rest is signed.
Only the first serves a state; the others are `bad-signature`. A server of a signed domain that answers
unsigned is bad too."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from cockpit.commands.watch import observation_json
from cockpit.dns.observation import MxEntry, Pair, Server, Status
from cockpit.dns.watcher import DnsWatcher
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.nameserver import LabNameserver
from cockpit.plan.values import MxRecord
from tests.integration.dns.conftest import NAMED
from tests.integration.dns.named_lab import Named, have_dnssec_tools, port_free_on, presign, start_named
from tests.support import missing, require

STATES = {"old": (MxRecord("mail.old-host.net.", 10),)}


def zone_text(zone: str) -> str:
    return f"""\
$TTL 3600
@       IN SOA  ns1.{zone}. hostmaster.{zone}. ( 7 3600 600 86400 300 )
        IN NS   ns1.{zone}.
        IN MX   10 mail.old-host.net.
ns1     IN A    127.0.0.1
"""


@pytest.fixture(scope="module")
def signed_named(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Named]:
    require(NAMED, "named (bind9)")
    if not have_dnssec_tools():
        missing("dnssec-keygen/dnssec-signzone are not installed (make servers installs bind9-utils)")
    directory = tmp_path_factory.mktemp("signed")
    (directory / "signed.test.db").write_text(zone_text("signed.test"))
    later = datetime.fromtimestamp(time.time() + 30 * 86400, UTC).strftime("%Y%m%d%H%M%S")
    presign(directory, "expired.test", zone_text("expired.test"), start="20200101000000", end="20200102000000")
    presign(directory, "nosig.test", zone_text("nosig.test"), start="20200101000000", end=later, drop_mx_rrsig=True)
    port = port_free_on(["127.0.0.1"])
    body = """\
zone "signed.test" { type primary; file "signed.test.db"; dnssec-policy default; inline-signing yes; };
zone "expired.test" { type primary; file "expired.test.signed"; };
zone "nosig.test" { type primary; file "nosig.test.signed"; };
"""
    named = start_named(directory, "127.0.0.1", port, body, server_id="ns-signed")
    try:
        named.wait_until("signed.test", "MX", signed=True)
        named.wait_until("expired.test")
        named.wait_until("nosig.test")
        yield named
    finally:
        named.stop()


def at(named: Named, domain: str) -> Pair:
    return Pair(domain, Server(named.address, named.port, "ns-signed", label="bind"))


async def test_only_a_valid_signature_serves_a_state(signed_named: Named) -> None:
    watcher = DnsWatcher(
        [at(signed_named, d) for d in ("signed.test", "expired.test", "nosig.test")], states=STATES, timeout=2
    )
    try:
        snapshot = await watcher.poll_round()
    finally:
        await watcher.close()
    good, expired, unsigned = (view.observation for view in snapshot.pairs)
    states = [view.state for view in snapshot.pairs]

    assert (good.status, good.signed, good.nsid) == (Status.OK, True, "ns-signed")
    assert good.rrsig_expires is not None and good.rrsig_expires > time.time() + 86400
    assert states[0] == "old"

    assert expired.status is Status.BAD_SIGNATURE
    assert expired.detail == "the RRSIG on the MX expired at 2020-01-02T00:00:00Z"
    assert expired.rrsig_expires == datetime(2020, 1, 2, tzinfo=UTC).timestamp()
    assert expired.mx == (MxEntry(10, "mail.old-host.net."),) and expired.serial == 7, "kept for people"

    assert (unsigned.status, unsigned.signed, unsigned.rrsig_expires) == (Status.BAD_SIGNATURE, True, None)
    assert unsigned.detail == "no RRSIG on the MX, though the zone's SOA is signed"

    assert states[1:] == [None, None], "a bad signature never counts as serving a state"
    assert snapshot.count("old") == 1 and not snapshot.converged("old")
    assert [v.observation.domain for v in snapshot.failures()] == ["expired.test", "nosig.test"]

    line = observation_json(snapshot.pairs[0], snapshot.round)
    assert line["nsid"] == "ns-signed"
    assert isinstance(line["rrsig_expires"], str)
    assert datetime.fromisoformat(line["rrsig_expires"]).timestamp() == good.rrsig_expires
    assert observation_json(snapshot.pairs[1], 1)["rrsig_expires"] == "2020-01-02T00:00:00.000Z"


async def test_an_unsigned_server_of_a_signed_domain_is_bad(signed_named: Named) -> None:
    async with LabNameserver([LabZone.build("signed.test", mx=[(10, "mail.old-host.net.")])]) as unsigned:
        watcher = DnsWatcher(
            [
                Pair("signed.test", Server(unsigned.host, unsigned.port, label="unsigned")),
                at(signed_named, "signed.test"),
            ],
            states=STATES,
            timeout=2,
        )
        try:
            snapshot = await watcher.poll_round()
        finally:
            await watcher.close()
    stale, good = (view.observation for view in snapshot.pairs)
    assert good.status is Status.OK
    assert stale.status is Status.BAD_SIGNATURE and stale.nsid is None
    assert stale.detail == "no RRSIG on the MX, though bind answered for the zone signed"
    assert not snapshot.converged("old")
