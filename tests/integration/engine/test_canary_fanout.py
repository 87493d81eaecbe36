"""`canary: {expect: refused}` over hundreds of domains, through the real command line against a real
nameserver: the domains share one MX host, whose addresses are each probed once for the whole step (the output
names each once; a listening address sees one connection however many domains send mail to it); a domain whose
MX host accepts fails alone and is named, and a retry checks only that domain."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cockpit.engine.journal import journal_path
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.nameserver import LabNameserver
from tests.integration.engine.child import records
from tests.integration.engine.conftest import cockpit
from tests.support import isolated_home

DOMAINS = [f"d{i:04d}.test" for i in range(300)]
ODD = "d0042.test"
"""Its MX host is `open.shared.test`, where an SMTP server listens."""
REFUSING = ("127.0.0.7", "127.0.0.8")
"""The addresses of `mx.shared.test`, the MX of every other domain: nothing listens there."""
LISTENING = "127.0.0.9"

PLAN = """\
version: 1
name: Many domains, one parking host
domains_file: domains.txt
nameservers: [{{name: ns1.shared.test, address: 127.0.0.1, port: {ns}}}]
dns: {{interval: 30s, timeout: 2s}}
ttl: 60
mx:
  parking:
    default: 10 mx.shared.test.
    per_domain: {{{odd}: 10 open.shared.test.}}
  new: 10 mail.new-host.net.
phases:
  - name: proof
    steps:
      - canary: {{expect: refused, port: {port}}}
        id: parked
"""


def free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


@dataclass
class CountingSmtp:
    """An SMTP greeting on LISTENING:port, counting the connections it was asked for."""

    port: int
    connections: int = 0
    server: asyncio.Server | None = field(default=None, repr=False)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._greet, LISTENING, self.port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def _greet(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(b"220 open.shared.test ESMTP lab\r\n")
        await writer.drain()
        await reader.read(1024)  # until the prober hangs up
        writer.close()


@dataclass
class Lab:
    root: Path
    ns: LabNameserver
    smtp: CountingSmtp

    def plan(self, odd: str = ODD) -> Path:
        path = self.root / "plan.yaml"
        path.write_text(PLAN.format(ns=self.ns.port, port=self.smtp.port, odd=odd))
        return path


@pytest.fixture
async def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Lab]:
    isolated_home(tmp_path, monkeypatch)
    (tmp_path / "domains.txt").write_text("".join(f"{d}\n" for d in DOMAINS))
    shared = LabZone.build("shared.test", ns=("ns1",), addresses={"ns1": "127.0.0.1", "mx": list(REFUSING),
                                                                 "open": LISTENING})  # fmt: skip
    zones = [LabZone.build(d, mx=[(10, "open.shared.test." if d == ODD else "mx.shared.test.")], mx_ttl=60)
             for d in DOMAINS]  # fmt: skip
    smtp = CountingSmtp(free_port(LISTENING))
    await smtp.start()
    try:
        async with LabNameserver([shared, *zones]) as ns:
            yield Lab(tmp_path, ns, smtp)
    finally:
        await smtp.stop()


def lines_naming(output: str, address: str) -> list[str]:
    return [line for line in output.splitlines() if f"{address}:" in line and "[parked]" in line]


async def test_shared_addresses_are_probed_once_and_an_accepting_mx_fails_its_domain_alone(lab: Lab) -> None:
    plan = lab.plan()
    first = await cockpit("run", str(plan), "--headless", "--yes", cwd=lab.root, timeout=300)
    assert first.code == 1, first.stdout + first.stderr
    assert "MX served now: 10 mx.shared.test. (299 domains), 10 open.shared.test. (1 domains)" in first.stdout
    for address in REFUSING:  # 299 domains send mail there: one probe, one line
        (line,) = lines_naming(first.stdout, address)
        assert line.endswith(f"{address}:{lab.smtp.port} (mx.shared.test.): refused"), line
    assert lab.smtp.connections == 1
    failed = [line for line in first.stdout.splitlines() if "[parked] failed" in line]
    assert failed[-1].endswith(f"299 done, 1 failed: {ODD} ({LISTENING} accepted)"), failed
    assert f"{LISTENING}:{lab.smtp.port} (open.shared.test.) accepts connections (220 open.shared.test" in (
        first.stdout
    )
    assert len(first.stdout.splitlines()) < 40, "no line per domain"
    journal = records(journal_path(plan))
    assert len({r["item"] for r in journal if r["type"] == "ItemDone"}) == len(DOMAINS) - 1
    assert {r["item"] for r in journal if r["type"] == "ItemFailed"} == {ODD}

    await lab.smtp.stop()  # the operator stops the MTA that still listened there: it refuses now
    again = await cockpit("run", str(plan), "--headless", "--yes", "--decide", "parked=retry", cwd=lab.root,
                          timeout=300)  # fmt: skip
    assert again.code == 0, again.stdout + again.stderr
    assert "300 done (299 in an earlier attempt)" in again.stdout and "1 address(es) probed" in again.stdout
    assert not [a for a in REFUSING if lines_naming(again.stdout, a)], "the retry probed only the failed domain's MX"
    retried = [r for r in records(journal_path(plan)) if r["type"] == "ItemDone" and r["attempt"] == 2]
    assert [r["item"] for r in retried] == [ODD]


async def test_many_domains_sending_to_one_listening_address_connect_to_it_once(lab: Lab) -> None:
    zones = [LabZone.build(d, mx=[(10, "open.shared.test.")], mx_ttl=60) for d in DOMAINS[:50]]
    for zone in zones:  # the first 50 domains are parked on the listening host
        lab.ns.add_zone(zone)
    plan = lab.plan()
    ran = await cockpit("run", str(plan), "--headless", "--yes", cwd=lab.root, timeout=300)
    assert ran.code == 1, ran.stdout + ran.stderr
    assert lab.smtp.connections == 1, "one connection for the 50 domains that share the address"
    failed = [line for line in ran.stdout.splitlines() if "[parked] failed" in line]
    assert re.search(rf"250 done, 50 failed: d00\d\d\.test \({re.escape(LISTENING)} accepted\), .* and 45 more$",
                     failed[-1]), failed  # fmt: skip
    journal = records(journal_path(plan))
    assert {r["item"] for r in journal if r["type"] == "ItemFailed"} == set(DOMAINS[:50])
