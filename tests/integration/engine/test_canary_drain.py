"""The proof steps against real servers: a nameserver that serves the MX (with A records for its hosts), SMTP
listeners on loopback addresses, and an SSH host whose store the canary and drain look at.

`canary: {expect: refused}` passes when every MX address refuses, fails naming an address where an SMTP server
listens, and fails as filtered where connections are never answered; `expect: delivered` finds its token in the
mailbox; `from: HOST` probes from a plan host. `drain` ends once the store stays quiet and the queue is empty."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SmtpServer
from aiosmtpd.smtp import Envelope, Session

from cockpit.engine.journal import journal_path
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.nameserver import LabNameserver
from cockpit.lab.ssh_host import LabSshHost
from tests.integration.engine.child import records
from tests.integration.engine.conftest import cockpit
from tests.support import isolated_home

DOMAIN = "canary.test"
MX_ADDRESS = "127.0.0.7"
SECOND_ADDRESS = "127.0.0.8"


def free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


@dataclass
class Setup:
    root: Path
    ns: LabNameserver
    host: LabSshHost
    port: int

    def plan(self, steps: str, name: str = "plan.yaml", domains: tuple[str, ...] = (DOMAIN,)) -> Path:
        host = self.host
        text = f"""\
version: 1
name: Proof steps
domains: [{", ".join(domains)}]
nameservers: [{{name: ns1.{DOMAIN}, address: 127.0.0.1, port: {self.ns.port}}}]
dns: {{interval: 200ms, timeout: 1s}}
ttl: 60
mx:
  parking: 10 mx.{DOMAIN}.
  new: 10 mail.{DOMAIN}.
hosts:
  new: {{address: 127.0.0.1, port: {host.port}, user: lab, known_hosts: {host.known_hosts}, identity: {host.client_key}}}
stores:
  new-store: {{host: new, format: maildir, path: "~/store/{{user}}"}}
  by-domain: {{host: new, format: maildir, path: "~/store/{{domain}}/{{user}}"}}
phases:
  - name: proof
    steps:
{steps}"""
        path = self.root / name
        path.write_text(text)
        return path


@pytest.fixture
async def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Setup]:
    isolated_home(tmp_path, monkeypatch)
    zone = LabZone.build(DOMAIN, mx=[(10, f"mx.{DOMAIN}.")], mx_ttl=60, ns=("ns1",),
                         addresses={"ns1": "127.0.0.1", "mx": [MX_ADDRESS, SECOND_ADDRESS], "mail": MX_ADDRESS})  # fmt: skip
    async with LabNameserver([zone]) as ns, LabSshHost(tmp_path / "new", name="new") as host:
        yield Setup(tmp_path, ns, host, free_port(MX_ADDRESS))


class MaildirHandler:
    """Delivers into `~/store/USER` of the SSH host's sandbox (`~/store/DOMAIN/USER` with `per_domain`, a hosting
    company's layout), tmp then new, as an MTA would."""

    def __init__(self, sandbox: Path, per_domain: bool = False) -> None:
        self.sandbox = sandbox
        self.per_domain = per_domain

    async def handle_DATA(self, server: SmtpServer, session: Session, envelope: Envelope) -> str:
        for rcpt in envelope.rcpt_tos:
            local, _, domain = rcpt.partition("@")
            box = self.sandbox / "store" / domain / local if self.per_domain else self.sandbox / "store" / local
            for sub in ("tmp", "new", "cur"):
                (box / sub).mkdir(parents=True, exist_ok=True)
            name = f"{time.time():.6f}.{uuid.uuid4().hex}.lab"
            (box / "tmp" / name).write_bytes(envelope.original_content or b"")
            (box / "tmp" / name).rename(box / "new" / name)
        return "250 OK delivered"


@contextlib.contextmanager
def smtp_listener(address: str, port: int, sandbox: Path, per_domain: bool = False) -> Iterator[None]:
    controller = Controller(MaildirHandler(sandbox, per_domain), hostname=address, port=port)
    controller.start()
    try:
        yield
    finally:
        controller.stop()


@contextlib.contextmanager
def silent_listener(address: str, port: int) -> Iterator[None]:
    """A listening socket whose backlog is full: new connections are never answered (like a dropped SYN)."""
    server = socket.socket()
    server.bind((address, port))
    server.listen(0)
    held = []
    for _ in range(3):
        client = socket.socket()
        client.settimeout(0.5)
        with contextlib.suppress(OSError):
            client.connect((address, port))
        held.append(client)
    try:
        yield
    finally:
        for client in held:
            client.close()
        server.close()


def refused_step(port: int, via: str = "") -> str:
    extra = f", from: {via}" if via else ""
    return f"      - canary: {{expect: refused, port: {port}{extra}}}\n        id: refused\n"


async def test_every_address_refusing_passes_and_each_is_named(setup: Setup) -> None:
    plan = setup.plan(refused_step(setup.port))
    ran = await cockpit("run", str(plan), "--headless", "--yes", cwd=setup.root)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert f"MX served now: 10 mx.{DOMAIN}." in ran.stdout
    assert f"mx.{DOMAIN}. → {MX_ADDRESS}, {SECOND_ADDRESS} (from the plan's nameservers)" in ran.stdout
    assert f"{MX_ADDRESS}:{setup.port} (mx.{DOMAIN}.): refused" in ran.stdout
    assert f"{SECOND_ADDRESS}:{setup.port} (mx.{DOMAIN}.): refused" in ran.stdout


async def test_a_listening_parking_address_fails_the_step_naming_it(setup: Setup) -> None:
    plan = setup.plan(refused_step(setup.port) + "      - confirm: Flip to new\n        id: flip\n")
    with smtp_listener(SECOND_ADDRESS, setup.port, setup.host.sandbox):
        ran = await cockpit("run", str(plan), "--headless", "--yes", cwd=setup.root)
    assert ran.code == 1
    assert f"[refused] failed: {SECOND_ADDRESS}:{setup.port} (mx.{DOMAIN}.) accepts connections (220 " in ran.stdout
    assert "[flip]" not in ran.stdout, "the run does not go on to the next MX change"


async def test_an_address_that_never_answers_fails_as_filtered(setup: Setup) -> None:
    plan = setup.plan(refused_step(setup.port).replace("id: refused", "id: refused\n        timeout: 9s"))
    with silent_listener(MX_ADDRESS, setup.port):
        ran = await cockpit("run", str(plan), "--headless", "--yes", cwd=setup.root)
    assert ran.code == 1
    assert f"{MX_ADDRESS}:{setup.port} (mx.{DOMAIN}.) does not answer in 3s (filtered)" in ran.stdout, ran.stdout


async def test_the_probe_from_a_plan_host_sees_the_same(setup: Setup) -> None:
    plan = setup.plan(refused_step(setup.port, via="new"))
    with smtp_listener(MX_ADDRESS, setup.port, setup.host.sandbox):
        ran = await cockpit("run", str(plan), "--headless", "--yes", cwd=setup.root)
    assert ran.code == 1
    assert f"{MX_ADDRESS}:{setup.port} (mx.{DOMAIN}.) accepts connections (220" in ran.stdout, ran.stdout
    assert f"{SECOND_ADDRESS}:{setup.port} (mx.{DOMAIN}.): refused" in ran.stdout


async def test_a_delivered_canary_is_found_in_the_mailbox(setup: Setup) -> None:
    step = (f"      - canary: {{expect: delivered, to: alice@{DOMAIN}, store: new-store, port: {setup.port}, "
            "within: 20s}\n        id: delivered\n")  # fmt: skip
    plan = setup.plan(step)
    with smtp_listener(MX_ADDRESS, setup.port, setup.host.sandbox), smtp_listener(SECOND_ADDRESS, setup.port,
                                                                                  setup.host.sandbox):  # fmt: skip
        ran = await cockpit("run", str(plan), "--headless", "--yes", cwd=setup.root)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert "250 OK delivered" in ran.stdout and "[delivered] done: canary delivered via mx.canary.test." in ran.stdout
    proven = [r for r in records(journal_path(plan)) if r["type"] == "ListenerProven"]
    assert len(proven) == 1 and proven[0]["through_mx"] is True
    found = list((setup.host.sandbox / "store" / "alice" / "new").iterdir())
    assert len(found) == 1 and b"X-Cockpit-Canary: cockpit-" in found[0].read_bytes()


async def test_a_canary_that_never_lands_fails_saying_where_it_looked(setup: Setup) -> None:
    step = (f"      - canary: {{expect: delivered, to: bob@{DOMAIN}, store: new-store, port: {setup.port}, "
            "within: 2s}\n        id: delivered\n")  # fmt: skip
    plan = setup.plan(step)

    class Dropping(MaildirHandler):
        async def handle_DATA(self, server: SmtpServer, session: Session, envelope: Envelope) -> str:
            return "250 OK (and dropped)"

    controller = Controller(Dropping(setup.host.sandbox), hostname=MX_ADDRESS, port=setup.port)
    controller.start()
    try:
        ran = await cockpit("run", str(plan), "--headless", "--yes", cwd=setup.root)
    finally:
        controller.stop()
    assert ran.code == 1
    assert "is not in new-store after 2s" in ran.stdout and "does not exist on new" in ran.stdout, ran.stdout


async def test_drain_waits_until_the_store_is_quiet_and_the_queue_empty(setup: Setup) -> None:
    box = setup.host.sandbox / "store" / "carol" / "new"
    box.mkdir(parents=True)
    (setup.host.sandbox / "queue").write_text("-- 1 Kbytes in 1 Request.\n")
    step = '      - drain: {store: new-store, quiet: 1500ms, queue: "cat queue"}\n        id: drain\n'
    plan = setup.plan(step)

    async def mail_then_quiet() -> None:
        for n in range(6):
            await asyncio.sleep(0.4)
            (box / f"{n}.msg").write_text(f"message {n}\n")
        (setup.host.sandbox / "queue").write_text("Mail queue is empty\n")

    writer = asyncio.ensure_future(mail_then_quiet())
    ran = await cockpit("run", str(plan), "--headless", "--yes", cwd=setup.root)
    await writer
    assert ran.code == 0, ran.stdout + ran.stderr
    assert re.search(r"mail arrived in new-store: \+\d+ messages, \+\d+ B", ran.stdout), ran.stdout
    assert "[drain] done: new-store quiet since" in ran.stdout and "the queue is empty" in ran.stdout
    drained = [r for r in records(journal_path(plan)) if r["type"] == "DrainObserved"]
    assert len(drained) == 1 and drained[0]["last_arrival"] is not None
    assert drained[0]["quiet_since"] >= drained[0]["last_arrival"]


async def test_a_delivered_canary_per_domain_lands_in_each_domains_mailbox(setup: Setup) -> None:
    others = ("two.test", "three.test")
    for name in others:  # their MX is the shared host of canary.test, as at a hosting company
        setup.ns.add_zone(LabZone.build(name, mx=[(10, f"mx.{DOMAIN}.")], mx_ttl=60, ns=("ns1",)))
    domains = (DOMAIN, *others)
    host = setup.host
    step = (f"      - canary: {{expect: delivered, to: \"postmaster@{{domain}}\", store: by-domain, port: {setup.port}, "
            "within: 20s}\n        id: each\n")  # fmt: skip
    plan = setup.plan(step, name="per-domain.yaml", domains=domains)
    with (
        smtp_listener(MX_ADDRESS, setup.port, host.sandbox, per_domain=True),
        smtp_listener(SECOND_ADDRESS, setup.port, host.sandbox, per_domain=True),
    ):
        ran = await cockpit("run", str(plan), "--headless", "--yes", cwd=setup.root)
    assert ran.code == 0, ran.stdout + ran.stderr
    tokens = set()
    for domain in domains:
        (found,) = (host.sandbox / "store" / domain / "postmaster" / "new").iterdir()
        token = re.search(rb"X-Cockpit-Canary: (cockpit-\S+)", found.read_bytes())
        assert token is not None, found.read_bytes()
        tokens.add(token.group(1))
    assert len(tokens) == 3, "one canary with its own token per domain"
    journal = records(journal_path(plan))
    assert {r["item"] for r in journal if r["type"] == "ItemDone" and r["step_id"] == "each"} == set(domains)
    assert "[each] done: 3 domains: a canary delivered and found in each (3 done)" in ran.stdout, ran.stdout
