"""The lab MTAs and the senders' SMTP client speak real SMTP to each other on loopback, and deliver into
Maildirs the way a local delivery agent does."""

from __future__ import annotations

import mailbox
import smtplib
import socket
from pathlib import Path

from cockpit.lab.mail_store import MailStore, lab_id_of
from cockpit.lab.smtp_client import deliver
from cockpit.lab.smtp_server import LabMta

MESSAGE = b"From: a@remote.example\r\nTo: bob@demo.test\r\nX-Lab-Id: 42\r\nSubject: hi\r\n\r\n.leading dot\r\nbody\r\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_delivery_lands_in_the_store_once_per_message(tmp_path: Path) -> None:
    accepted: list[tuple[str, int]] = []
    mta = LabMta("old", "127.0.0.1", 0, MailStore(tmp_path), lambda name, i: accepted.append((name, i)))
    await mta.start()
    try:
        result = await deliver("127.0.0.1", mta.port, "a@remote.example", "bob@demo.test", MESSAGE)
        assert result.ok, result.detail
        again = await deliver("127.0.0.1", mta.port, "a@remote.example", "bob@demo.test", MESSAGE)
        assert again.ok
    finally:
        await mta.stop()
    assert accepted == [("old", 42), ("old", 42)]
    assert MailStore(tmp_path).ids() == {42: 2}  # a duplicate is two files, never an overwrite
    files = sorted((tmp_path / "bob" / "new").iterdir())
    assert len(files) == 2 and files[0].name != files[1].name
    assert list((tmp_path / "bob" / "tmp").iterdir()) == [] and list((tmp_path / "bob" / "cur").iterdir()) == []
    assert b"\n.leading dot\nbody\n" in files[0].read_bytes()  # dot-stuffing undone, stored with LF endings
    inbox = mailbox.Maildir(str(tmp_path / "bob"), create=False)  # a standard Maildir reader agrees
    assert [message["X-Lab-Id"] for message in inbox] == ["42", "42"]


def test_a_copy_is_known_by_its_header_whatever_its_file_name(tmp_path: Path) -> None:
    store = MailStore(tmp_path, "new")
    first = store.deliver("alice", MESSAGE)
    copied = tmp_path / "alice" / "cur" / "1700000000.copied-by-sync:2,S"
    copied.write_bytes(first.read_bytes())
    first.unlink()
    assert store.ids() == {42: 1} and store.paths_of(42) == [copied]
    (tmp_path / "alice" / "tmp" / "half").write_bytes(MESSAGE)  # not delivered yet: not mail
    assert store.ids() == {42: 1}


async def test_refused_connection_is_temporary() -> None:
    result = await deliver("127.0.0.1", free_port(), "a@remote.example", "bob@demo.test", MESSAGE)
    assert not result.ok and result.temporary
    assert "refused the connection" in result.detail


async def test_a_message_without_lab_id_is_delivered_but_not_counted(tmp_path: Path) -> None:
    accepted: list[tuple[str, int]] = []
    mta = LabMta("new", "127.0.0.1", 0, MailStore(tmp_path), lambda name, i: accepted.append((name, i)))
    await mta.start()
    try:
        result = await deliver("127.0.0.1", mta.port, "a@x.example", "bob@demo.test", b"Subject: x\r\n\r\nhi\r\n")
    finally:
        await mta.stop()
    assert result.ok, result.detail  # a canary of the move: mail like any other, but not the lab's
    assert accepted == [] and MailStore(tmp_path).ids() == {}
    assert len(MailStore(tmp_path).messages()) == 1


async def test_stopped_mta_refuses(tmp_path: Path) -> None:
    mta = LabMta("new", "127.0.0.1", 0, MailStore(tmp_path))
    await mta.start()
    port = mta.port
    await mta.stop()
    assert not mta.running
    result = await deliver("127.0.0.1", port, "a@x.example", "bob@demo.test", MESSAGE)
    assert result.temporary and "refused" in result.detail


async def test_a_standard_client_can_talk_to_the_lab_mta(tmp_path: Path) -> None:
    import asyncio

    mta = LabMta("old", "127.0.0.1", 0, MailStore(tmp_path))
    await mta.start()
    try:

        def send() -> None:
            with smtplib.SMTP("127.0.0.1", mta.port, timeout=10) as client:
                client.sendmail("a@remote.example", ["carol@demo.test"], MESSAGE)

        await asyncio.to_thread(send)
    finally:
        await mta.stop()
    assert MailStore(tmp_path).ids() == {42: 1}


def test_lab_id_header_parsing() -> None:
    assert lab_id_of(MESSAGE) == 42
    assert lab_id_of(b"X-Lab-Id: nope\r\n\r\n") is None
    assert lab_id_of(b"Subject: x\r\n\r\nX-Lab-Id: 3\r\n") is None
