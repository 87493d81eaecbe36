"""A whole move with a real Postfix sending mail all along: it resolves the MX through a real BIND (its own
resolv.conf, in a mount namespace of its own), retries what is refused, and delivers to whichever MTA the MX
names. The cockpit moves the MX old → parking → new by RFC 2136 while two real OpenSSH hosts hold the stores,
with canary and drain steps in the plan. Afterwards every message Postfix accepted is in the new store exactly
once, and Postfix's queue has drained."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from cockpit.engine.journal import journal_path, read_journal
from cockpit.lab.postfix_server import PostfixInstance, postfix_missing
from cockpit.lab.ssh_sshd import OpenSshServer, sshd_path
from tests.integration.dns.conftest import NAMED
from tests.integration.dns.named_lab import Named, start_named
from tests.integration.engine.conftest import cockpit
from tests.support import isolated_home, missing, require

pytestmark = pytest.mark.slow

ZONE = "move.test"
OLD_MTA, PARKING, NEW_MTA = "127.0.0.21", "127.0.0.22", "127.0.0.23"
KEY = base64.b64encode(os.urandom(32)).decode()
ID_HEADER = "X-Move-Id"
SEND_EVERY = 0.3
DRAIN_LIMIT = 90.0


class MaildirMta:
    """A receiving MTA: every message into `store/USER` (tmp, then new)."""

    def __init__(self, store: Path) -> None:
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        for rcpt in envelope.rcpt_tos:
            box = self.store / rcpt.partition("@")[0].lower()
            for sub in ("tmp", "new", "cur"):
                (box / sub).mkdir(parents=True, exist_ok=True)
            name = f"{time.time():.6f}.{uuid.uuid4().hex}.mta"
            (box / "tmp" / name).write_bytes(envelope.original_content or b"")
            (box / "tmp" / name).rename(box / "new" / name)
        return "250 OK"


@contextlib.contextmanager
def mta(address: str, store: Path) -> Iterator[None]:
    controller = Controller(MaildirMta(store), hostname=address, port=25)
    controller.start()
    try:
        yield
    finally:
        controller.stop()


def zone_text() -> str:
    return f"""\
$TTL 4
@        IN SOA ns1 hostmaster 1 60 60 86400 2
@        IN NS  ns1
@     4  IN MX  10 mail.old
ns1      IN A   127.0.0.1
mail.old IN A   {OLD_MTA}
parked.new IN A {PARKING}
mail.new IN A   {NEW_MTA}
"""


@pytest.fixture
def bind(tmp_path: Path) -> Iterator[Named]:
    require(NAMED, "named (bind9)")
    directory = tmp_path / "bind"
    directory.mkdir()
    (directory / f"{ZONE}.zone").write_text(zone_text())
    body = f"""\
key "move-update" {{ algorithm hmac-sha256; secret "{KEY}"; }};
zone "{ZONE}" {{
    type primary;
    file "{directory}/{ZONE}.zone";
    update-policy {{ grant move-update zonesub ANY; }};
}};
"""
    server = start_named(directory, "127.0.0.1", 53, body)
    try:
        server.wait_until(ZONE)
        yield server
    finally:
        server.stop()


@pytest.fixture
def ssh_hosts(tmp_path: Path) -> Iterator[tuple[OpenSshServer, OpenSshServer]]:
    program = require(sshd_path(), "OpenSSH sshd")
    old, new = OpenSshServer(tmp_path / "old-sshd", program), OpenSshServer(tmp_path / "new-sshd", program)
    old.start()
    new.start()
    try:
        yield old, new
    finally:
        old.stop()
        new.stop()


@pytest.fixture
def postfix(tmp_path: Path) -> Iterator[PostfixInstance]:
    why = postfix_missing()
    if why is not None:
        missing(why)
    if shutil.which("unshare") is None:
        missing("unshare (util-linux) is not installed")
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:2\n")
    server = PostfixInstance({"myhostname": "sender.lab.test", "relayhost": ""}, resolv_conf=resolv)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def host_entry(server: OpenSshServer) -> str:
    return (f"{{address: 127.0.0.1, port: {server.port}, user: root, known_hosts: {server.known_hosts}, "
            f"identity: {server.client_key}}}")  # fmt: skip


def plan_text(root: Path, old: OpenSshServer, new: OpenSshServer) -> str:
    return f"""\
version: 1
name: A move with Postfix sending all along
domains: [{ZONE}]
nameservers: ["127.0.0.1:53"]
dns: {{interval: 250ms, timeout: 1s}}
ttl: 2
mx:
  old: 10 mail.old.{ZONE}.
  parking: 10 parked.new.{ZONE}.
  new: 10 mail.new.{ZONE}.
hosts:
  old: {host_entry(old)}
  new: {host_entry(new)}
secrets:
  key: {{file: {root / "update.key"}}}
stores:
  old-store: {{host: old, format: maildir, path: "{root}/old-store/{{user}}"}}
  new-store: {{host: new, format: maildir, path: "{root}/new-store/{{user}}"}}
phases:
  - name: before
    steps:
      - dns_update: {{server: "127.0.0.1:53", key: key, mx: old, ttl: 2}}
        id: lower-ttl
      - wait_dns: {{ttl_at_most: 2}}
      - countdown: former_ttl
      - sync: {{from: old-store, to: new-store}}
        id: pre-copy
  - name: during
    steps:
      - dns_update: {{server: "127.0.0.1:53", key: key, mx: parking}}
      - wait_dns: {{mx: parking}}
      - canary: {{expect: refused}}
        id: refused
      - countdown: old_ttl
      - drain: {{store: old-store, quiet: 3s}}
        id: old-quiet
      - sync: {{from: old-store, to: new-store}}
        id: delta
      - verify: {{from: old-store, to: new-store}}
  - name: after
    steps:
      - dns_update: {{server: "127.0.0.1:53", key: key, mx: new}}
      - wait_dns: {{mx: new}}
      - canary: {{expect: delivered, to: alice@{ZONE}, store: new-store, within: 30s}}
        id: delivered
      - sync: {{from: old-store, to: new-store}}
        id: stragglers
      - verify: {{from: old-store, to: new-store}}
        id: verify-all
"""


def ids_in(store: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for path in store.glob("*/*/*"):
        if path.parent.name in ("new", "cur"):
            match = re.search(rf"^{ID_HEADER}: (\S+)$", path.read_text(errors="replace"), re.MULTILINE)
            if match:
                found[match.group(1)] += 1
    return found


async def test_mail_keeps_flowing_through_a_whole_move(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bind: Named, ssh_hosts: tuple[OpenSshServer, OpenSshServer],
    postfix: PostfixInstance,
) -> None:  # fmt: skip
    isolated_home(tmp_path, monkeypatch)
    old, new = ssh_hosts
    (tmp_path / "update.key").write_text(f'key "move-update" {{ algorithm hmac-sha256; secret "{KEY}"; }};\n')
    for box in ("old-store/alice", "old-store/bob", "new-store/alice", "new-store/bob"):
        for sub in ("tmp", "new", "cur"):
            (tmp_path / box / sub).mkdir(parents=True)
    plan = tmp_path / "move.yaml"
    plan.write_text(plan_text(tmp_path, old, new))
    sent: list[str] = []
    sending = True

    async def send_all_along() -> None:
        number = 0
        while sending:
            number += 1
            token = f"m{number:05d}"
            rcpt = ("alice", "bob")[number % 2]
            message = f"From: s@lab.test\nTo: {rcpt}@{ZONE}\nSubject: {token}\n{ID_HEADER}: {token}\n\n{token}\n"
            await asyncio.to_thread(postfix.send, message.encode(), f"{rcpt}@{ZONE}")
            sent.append(token)
            await asyncio.sleep(SEND_EVERY)

    with mta(OLD_MTA, tmp_path / "old-store"), mta(NEW_MTA, tmp_path / "new-store"):
        sender = asyncio.ensure_future(send_all_along())
        await asyncio.sleep(3)  # mail flows to old before the move starts
        ran = await cockpit("run", str(plan), "--headless", "--yes", "--mode", "auto", cwd=tmp_path, timeout=300)
        sending = False
        await sender
        deadline = time.monotonic() + DRAIN_LIMIT
        while "Mail queue is empty" not in postfix.queue_listing():
            assert time.monotonic() < deadline, f"Postfix's queue never drained:\n{postfix.queue_listing()}"
            postfix.flush()
            await asyncio.sleep(1)
    assert ran.code == 0, ran.stdout[-6000:] + ran.stderr
    assert "[refused] done: all 1 MX address(es) refuse SMTP" in ran.stdout
    assert "[old-quiet] done: old-store quiet since" in ran.stdout
    assert "[delivered] done: canary delivered via mail.new.move.test." in ran.stdout
    assert "[verify-all] done: all " in ran.stdout
    on_new = ids_in(tmp_path / "new-store")
    accepted = Counter(sent)
    assert len(sent) > 20
    assert {token: on_new[token] for token in accepted} == dict.fromkeys(accepted, 1), "every message once on new"
    records = read_journal(journal_path(plan)).records
    passes = [r["messages"] for r in records if r["type"] == "SyncPass"]
    assert passes[0] > 0, "the pre-copy moved what old had received"
    log = postfix.log.read_text(errors="replace")
    assert f"[{PARKING}]:25: Connection refused" in log, "senders were refused at the parking address and retried"
