"""The forwarding a sample plan ships, against a real Postfix: for virtual mailbox domains relayhost does not
apply, so postfix-dovecot.yaml's `forward-stragglers` step installs a transport map. Before it, mail for the
domain is delivered into the old host's Maildir; after it, the same mail goes to the new MTA over SMTP."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from cockpit.lab.postfix_server import PostfixInstance, postfix_missing
from tests.conftest import SAMPLES
from tests.support import missing

WAIT = 30.0


class Received:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or b""))
        return "250 OK"


@pytest.fixture
def old_postfix() -> Iterator[PostfixInstance]:
    why = postfix_missing()
    if why is not None:
        missing(why)
    server = PostfixInstance()
    vmail = server.root / "vmail"  # the virtual agent writes as an unprivileged user: a place it can reach
    vmail.mkdir()
    shutil.chown(vmail, "nobody")
    config = server.config
    server.settings.update({
        "virtual_mailbox_domains": "example.org example.net",
        "virtual_mailbox_base": str(vmail),
        "virtual_mailbox_maps": f"hash:{config}/vmailbox",
        "virtual_uid_maps": "static:65534",
        "virtual_gid_maps": "static:65534",
    })  # fmt: skip
    server.write_config()
    (config / "vmailbox").write_text("postmaster@example.org example.org/postmaster/Maildir/\n")
    server.run("postmap", f"{config}/vmailbox")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def forwarding_command() -> str:
    plan = yaml.safe_load((SAMPLES / "postfix-dovecot.yaml").read_text())
    steps = [step for phase in plan["phases"] for step in phase["steps"]]
    (step,) = [s for s in steps if s.get("id") == "forward-stragglers"]
    return str(step["ssh"]["run"])


def wait_for(check: object, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT:g} s: {what}")
        time.sleep(0.1)


def message(token: str) -> bytes:
    return f"From: a@example.com\nTo: postmaster@example.org\nSubject: {token}\nMessage-ID: <{token}@t>\n\n{token}\n".encode()


def test_the_sample_transport_map_forwards_a_virtual_domain(old_postfix: PostfixInstance) -> None:
    received = Received()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    new_mta = Controller(received, hostname="127.0.0.1", port=port)
    new_mta.start()
    try:
        maildir = old_postfix.root / "vmail" / "example.org" / "postmaster" / "Maildir" / "new"
        before = f"before-{uuid.uuid4().hex}"
        old_postfix.send(message(before), "postmaster@example.org")
        wait_for(lambda: maildir.exists() and any(before.encode() in p.read_bytes() for p in maildir.iterdir()),
                 f"local delivery on old ({old_postfix.last_log()})")  # fmt: skip
        command = forwarding_command().replace("[mx2.example.org]:25", f"[127.0.0.1]:{port}")
        env = {**os.environ, "MAIL_CONFIG": str(old_postfix.config)}
        done = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        after = f"after-{uuid.uuid4().hex}"
        old_postfix.send(message(after), "postmaster@example.org")
        wait_for(lambda: any(after.encode() in data for _, data in received.messages),
                 f"forwarding to new ({old_postfix.last_log()})")  # fmt: skip
        assert received.messages[-1][0] == ["postmaster@example.org"]
        assert not any(after.encode() in p.read_bytes() for p in maildir.iterdir()), "not also delivered on old"
    finally:
        new_mta.stop()
