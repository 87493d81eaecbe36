"""The retreats against a real nameserver (dynamic updates with a TSIG key, a lagging secondary) and real
sockets: `cockpit park` checks that the parking address refuses before it points the MX there, waits until
every nameserver serves it and journals it; `cockpit undo STEP` restores what a dns_update replaced, and
refuses to send mail back to the old host once the new MTA was proven, unless --force; both act through a
running cockpit (its control socket) when one holds the plan."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import signal
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.rdatatype
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink

from cockpit.engine.journal import journal_path
from cockpit.lab.dns_secondary import LaggingSecondary
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.nameserver import LabNameserver, tsig_key
from tests.integration.engine.child import Child, records
from tests.integration.engine.conftest import cockpit
from tests.support import isolated_home

DOMAIN = "retreat.test"
PARKED = "127.0.0.9"
NEW = "127.0.0.10"
SECRET = base64.b64encode(b"retreat-tsig-secret-0123456789ab").decode()
KEY = "retreat-key"
OLD_MX = "10 mail.old-host.net."
PARKED_MX = f"10 parked.{DOMAIN}."
NEW_MX = f"10 mail.{DOMAIN}."


def free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


@dataclass
class Lab:
    root: Path
    primary: LabNameserver
    secondary: LabNameserver
    smtp_port: int
    new_port: int

    def served(self, ns: LabNameserver | None = None) -> str:
        zone = (ns or self.primary).zone(DOMAIN)
        return " ".join(sorted(r.to_text() for r in zone.rrsets[(zone.origin, dns.rdatatype.MX)]))

    def plan(self, steps: str, name: str = "plan.yaml") -> Path:
        server = f"127.0.0.1:{self.primary.port}"
        text = f"""\
version: 1
name: Retreat
domains: [{DOMAIN}]
nameservers:
  - {{name: ns1.{DOMAIN}, address: 127.0.0.1, port: {self.primary.port}}}
  - {{name: ns2.{DOMAIN}, address: 127.0.0.1, port: {self.secondary.port}}}
dns: {{interval: 200ms, timeout: 1s}}
ttl: 1
mx:
  old: {OLD_MX}
  parking: {PARKED_MX}
  new: {NEW_MX}
secrets:
  dnskey: {{file: tsig.key}}
phases:
  - name: move
    steps:
{steps.replace("SERVER", server).replace("SMTP", str(self.smtp_port)).replace("NEWPORT", str(self.new_port))}"""
        path = self.root / name
        path.write_text(text)
        return path


WHOLE_MOVE = """\
      - dns_update: {server: "SERVER", key: dnskey, mx: parking}
        id: to-parking
      - wait_dns: {mx: parking}
        id: parked
      - canary: {expect: refused, port: SMTP}
        id: refuses
      - dns_update: {server: "SERVER", key: dnskey, mx: new}
        id: to-new
      - wait_dns: {mx: new}
        id: on-new
      - port: {address: 127.0.0.10, port: NEWPORT, expect: open}
        id: listens
"""

PARK_ONLY = """\
      - dns_update: {server: "SERVER", key: dnskey, mx: parking}
        id: to-parking
      - wait_dns: {mx: parking}
        id: parked
      - canary: {expect: refused, port: SMTP}
        id: refuses
"""


@pytest.fixture
async def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Lab]:
    isolated_home(tmp_path, monkeypatch)
    zone = LabZone.build(DOMAIN, mx=[(10, "mail.old-host.net.")], mx_ttl=1, ns=("ns1", "ns2"),
                         addresses={"ns1": "127.0.0.1", "ns2": "127.0.0.1", "parked": PARKED, "mail": NEW})  # fmt: skip
    (tmp_path / "tsig.key").write_text(f'key "{KEY}" {{\n\talgorithm hmac-sha256;\n\tsecret "{SECRET}";\n}};\n')
    async with LabNameserver([zone], keys=[tsig_key(KEY, SECRET)]) as primary, LabNameserver([]) as secondary:
        follower = LaggingSecondary(primary, secondary, lag=0.4)
        try:
            yield Lab(tmp_path, primary, secondary, free_port(PARKED), free_port(NEW))
        finally:
            await follower.stop()


@contextlib.asynccontextmanager
async def listening(address: str, port: int) -> AsyncIterator[None]:
    """A TCP listener that accepts and closes (the new MTA's port is open)."""

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(accept, address, port)
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()


@contextlib.contextmanager
def smtp_at(address: str, port: int) -> Iterator[None]:
    controller = Controller(Sink(), hostname=address, port=port)
    controller.start()
    try:
        yield
    finally:
        controller.stop()


def retreats(plan: Path) -> list[tuple[str, str, str]]:
    return [(r["action"], r["step_id"], r["outcome"]) for r in records(journal_path(plan)) if r["type"] == "Retreat"]


async def test_park_after_a_move_is_refused_onto_a_listening_address_then_parks_and_reports(lab: Lab) -> None:
    plan = lab.plan(WHOLE_MOVE)
    async with listening(NEW, lab.new_port):
        ran = await cockpit("run", str(plan), "--headless", "--yes", cwd=lab.root)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert lab.served() == NEW_MX

    with smtp_at(PARKED, lab.smtp_port):  # something took the parking address: parking there would deliver
        refused = await cockpit("park", str(plan), "--yes", cwd=lab.root)
    assert refused.code == 1
    assert f"{PARKED}:{lab.smtp_port} (parked.{DOMAIN}.) is accepted" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert lab.served() == NEW_MX, "nothing changed"

    parked = await cockpit("park", str(plan), "--yes", cwd=lab.root)
    assert parked.code == 0, parked.stdout + parked.stderr
    assert f"{PARKED}:{lab.smtp_port} (parked.{DOMAIN}.): refused" in parked.stdout
    assert "every nameserver serves the parking MX" in parked.stdout
    assert lab.served() == PARKED_MX and lab.served(lab.secondary) == PARKED_MX
    assert retreats(plan)[-2:] == [
        ("park", "", f"refused: the parking address does not refuse: {PARKED}:{lab.smtp_port} (parked.{DOMAIN}.) "
                     "is accepted — parking there would deliver mail (or make senders wait); fix it first"),
        ("park", "", "done"),
    ]  # fmt: skip
    replaced = [r for r in records(journal_path(plan)) if r["type"] == "MxReplaced" and r["step_id"] == "park"]
    assert [tuple(map(tuple, r["before"])) for r in replaced] == [((10, f"mail.{DOMAIN}."),)]

    report = await cockpit("report", str(journal_path(plan)), cwd=lab.root)
    assert report.code == 0
    assert "park: done" in report.stdout
    assert f"park: the MX of {DOMAIN} 10 mail.{DOMAIN}. → 10 parked.{DOMAIN}." in report.stdout
    assert "| (park) |" not in report.stdout, "a retreat is not a step of the plan"


async def test_undo_back_to_old_is_refused_after_the_new_mta_was_proven_and_forced_restores(lab: Lab) -> None:
    plan = lab.plan(WHOLE_MOVE)
    async with listening(NEW, lab.new_port):
        ran = await cockpit("run", str(plan), "--headless", "--yes", cwd=lab.root)
    assert ran.code == 0, ran.stdout + ran.stderr

    refused = await cockpit("undo", str(plan), "to-parking", "--yes", cwd=lab.root)
    assert refused.code == 1
    assert "points the MX back at the old host, but step listens proved the new MTA receives mail" in refused.stderr
    assert "Park instead, or undo with --force" in refused.stderr
    assert lab.served() == NEW_MX

    undone = await cockpit("undo", str(plan), "to-new", "--yes", cwd=lab.root)  # new → parking sends nothing to old
    assert undone.code == 0, undone.stdout + undone.stderr
    assert lab.served() == PARKED_MX

    forced = await cockpit("undo", str(plan), "to-parking", "--force", "--yes", cwd=lab.root)
    assert forced.code == 0, forced.stdout + forced.stderr
    assert "the MX of retreat.test is back to what it was before to-parking" in forced.stdout
    assert lab.served() == OLD_MX
    assert [r[1:] for r in retreats(plan)] == [
        ("to-parking", "refused: undoing to-parking points the MX back at the old host, but step listens proved "
                       "the new MTA receives mail: the mailboxes would split. Park instead, or undo with --force"),
        ("to-new", "done"),
        ("to-parking", "done"),
    ]  # fmt: skip


async def test_undo_of_the_parking_flip_before_any_mail_moved_restores_the_old_mx(lab: Lab) -> None:
    plan = lab.plan(PARK_ONLY)
    ran = await cockpit("run", str(plan), "--headless", "--yes", cwd=lab.root)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert lab.served() == PARKED_MX
    undone = await cockpit("undo", str(plan), "to-parking", "--yes", cwd=lab.root)
    assert undone.code == 0, undone.stdout + undone.stderr
    assert "undo to-parking: the MX of retreat.test back to 10 mail.old-host.net." in undone.stdout
    assert lab.served() == OLD_MX and lab.served(lab.secondary) == OLD_MX


async def test_bad_requests_get_one_line(lab: Lab) -> None:
    plan = lab.plan(PARK_ONLY)
    nothing = await cockpit("undo", str(plan), "to-parking", "--yes", cwd=lab.root)
    assert nothing.code == 1
    assert nothing.stderr.strip() == "cockpit undo: the journal holds no MX change of step to-parking: nothing to undo"
    unknown = await cockpit("undo", str(plan), "no-such", "--yes", cwd=lab.root)
    assert unknown.code == 2 and unknown.stderr.strip() == "cockpit undo: the plan has no step 'no-such'"
    asks = await cockpit("park", str(plan), cwd=lab.root)  # no terminal, no --yes
    assert asks.code == 2
    assert "asks before it changes the MX: run it in a terminal, or add --yes" in asks.stderr
    no_parking = lab.plan(PARK_ONLY.replace("mx: parking", "mx: new"), name="two.yaml")
    no_parking.write_text(no_parking.read_text().replace(f"  parking: {PARKED_MX}\n", ""))
    refused = await cockpit("park", str(no_parking), "--yes", cwd=lab.root)
    assert refused.code == 2, refused.stderr
    assert "the plan has no parking state" in refused.stderr
    assert lab.served() == OLD_MX


async def test_park_goes_through_the_running_cockpit_which_journals_it(lab: Lab) -> None:
    plan = lab.plan("""\
      - canary: {expect: refused, port: SMTP}
        id: refuses
      - dns_update: {server: "SERVER", key: dnskey, mx: new}
        id: to-new
""")
    child = await Child.start("run", str(plan), "--headless", cwd=lab.root, stdin=asyncio.subprocess.PIPE)
    try:
        await child.wait_line(lambda line: line.startswith("[refuses] run:") and "[y]es" in line)
        parked = await cockpit("park", str(plan), "--yes", cwd=lab.root)
        assert parked.code == 0, parked.stdout + parked.stderr
        assert "a cockpit runs this plan: asking it to park" in parked.stdout
        assert "every nameserver serves the parking MX" in parked.stdout
        assert lab.served() == PARKED_MX
        await child.wait_line(lambda line: "every nameserver serves the parking MX" in line)
    finally:
        child.signal(signal.SIGTERM)
        await child.wait()
    kinds = [(r["type"], r.get("step_id")) for r in records(journal_path(plan))]
    assert ("MxReplaced", "park") in kinds and ("Retreat", "") in kinds
    assert sum(1 for kind, _ in kinds if kind == "RunStarted") == 1, "one writer: the running cockpit's"
    assert not journal_path(plan).with_suffix(".control").exists(), "the control socket goes with the run"
