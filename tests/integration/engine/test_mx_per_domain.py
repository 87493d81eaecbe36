"""MX states whose records differ per domain, through the real command line against a real nameserver
(RFC 2136 updates signed with a TSIG key): `dns_update` writes each domain its own records, `wait_dns`
sees each domain in the state the plan means for it, `cockpit park` probes every domain's parking host and
parks each domain on its own, and `cockpit undo` finds the state each domain was restored to."""

from __future__ import annotations

import base64
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import dns.rdatatype
import pytest

from cockpit.engine.journal import journal_path
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.nameserver import LabNameserver, tsig_key
from tests.integration.engine.child import records
from tests.integration.engine.conftest import cockpit
from tests.support import isolated_home

SECRET = base64.b64encode(b"per-domain-tsig-secret-0123456789").decode()
KEY = "per-domain-key"
PARKED_A = "127.0.0.11"
PARKED_B = "127.0.0.12"
NEW_A = "127.0.0.13"
NEW_B = "127.0.0.14"

PLAN = """\
version: 1
name: Two domains, their own hosts
domains: [a.test, b.test]
nameservers: ["127.0.0.1:{port}"]
dns: {{interval: 200ms, timeout: 1s}}
ttl: 1
mx:
  old: "10 mail.old-host.net."
  parking: {{default: "10 parked.a.test.", per_domain: {{b.test: "10 parked.b.test."}}}}
  new: {{default: "10 mail.a.test.", per_domain: {{b.test: "10 mx.b.test."}}}}
secrets:
  dnskey: {{file: tsig.key}}
phases:
  - name: move
    steps:
      - dns_update: {{server: "127.0.0.1:{port}", key: dnskey, mx: new}}
        id: to-new
      - wait_dns: {{mx: new}}
        id: on-new
      - canary: {{expect: refused, port: {smtp}}}
        id: nothing-listens-yet
"""


@dataclass
class Lab:
    root: Path
    ns: LabNameserver
    smtp_port: int

    def served(self, domain: str) -> str:
        zone = self.ns.zone(domain)
        return " ".join(sorted(r.to_text() for r in zone.rrsets[(zone.origin, dns.rdatatype.MX)]))

    def plan(self) -> Path:
        path = self.root / "plan.yaml"
        path.write_text(PLAN.format(port=self.ns.port, smtp=self.smtp_port))
        return path


def _free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Lab]:
    isolated_home(tmp_path, monkeypatch)
    zones = [
        LabZone.build(
            "a.test", mx=[(10, "mail.old-host.net.")], mx_ttl=1, addresses={"parked": PARKED_A, "mail": NEW_A}
        ),
        LabZone.build("b.test", mx=[(10, "mail.old-host.net.")], mx_ttl=1, addresses={"parked": PARKED_B, "mx": NEW_B}),
    ]
    (tmp_path / "tsig.key").write_text(f'key "{KEY}" {{\n\talgorithm hmac-sha256;\n\tsecret "{SECRET}";\n}};\n')
    async with LabNameserver(zones, keys=[tsig_key(KEY, SECRET)]) as ns:
        yield Lab(tmp_path, ns, _free_port(PARKED_A))


async def test_each_domain_moves_to_its_own_records_then_parks_and_undoes_per_domain(lab: Lab) -> None:
    plan = lab.plan()
    ran = await cockpit("run", str(plan), "--headless", "--yes", cwd=lab.root)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert lab.served("a.test") == "10 mail.a.test."
    assert lab.served("b.test") == "10 mx.b.test."

    parked = await cockpit("park", str(plan), "--yes", cwd=lab.root)
    assert parked.code == 0, parked.stdout + parked.stderr
    assert f"{PARKED_A}:{lab.smtp_port} (parked.a.test.): refused" in parked.stdout
    assert f"{PARKED_B}:{lab.smtp_port} (parked.b.test.): refused" in parked.stdout
    assert "every nameserver serves the parking MX" in parked.stdout
    assert lab.served("a.test") == "10 parked.a.test."
    assert lab.served("b.test") == "10 parked.b.test."
    replaced = {r["domain"]: r["after"] for r in records(journal_path(plan)) if r["type"] == "MxReplaced"
                and r["step_id"] == "park"}  # fmt: skip
    assert replaced == {"a.test": [[10, "parked.a.test."]], "b.test": [[10, "parked.b.test."]]}

    undone = await cockpit("undo", str(plan), "to-new", "--yes", cwd=lab.root)
    assert undone.code == 0, undone.stdout + undone.stderr
    assert "every nameserver serves the old MX" in undone.stdout, "both domains restored to their old state"
    assert lab.served("a.test") == lab.served("b.test") == "10 mail.old-host.net."


async def test_check_lists_the_records_of_each_state_per_domain(lab: Lab) -> None:
    checked = await cockpit("check", str(lab.plan()), cwd=lab.root)
    assert checked.code == 0, checked.stderr
    assert checked.stdout.splitlines()[1:] == [
        "  old: 10 mail.old-host.net.",
        "  parking: 1 domain 10 parked.a.test. (a.test), 1 domain 10 parked.b.test. (b.test)",
        "  new: 1 domain 10 mail.a.test. (a.test), 1 domain 10 mx.b.test. (b.test)",
    ]
