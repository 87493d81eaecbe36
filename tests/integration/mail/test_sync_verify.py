"""Pre-copy, new mail, delta and verify between two real sshd hosts, checked independently with `mailbox`."""

from __future__ import annotations

import mailbox
import shutil
from pathlib import Path

from cockpit.mail import MailProgress, StoreSpec, sync, verify
from cockpit.mail.events import MailEvent
from cockpit.ssh import HostConnections, OutputLines
from tests.integration.mail.corpus import (
    build_sources,
    canonical,
    contents_only,
    hostile_messages,
    maildir_contents,
    mbox_contents,
    write_mbox,
)


def specs(tmp_path: Path) -> dict[str, StoreSpec]:
    old, new = tmp_path / "old", tmp_path / "new"
    return {
        "old-spool": StoreSpec("old", "mbox", f"{old}/spool/{{user}}"),
        "old-home": StoreSpec("old", "maildir", f"{old}/home/{{user}}/Maildir"),
        "new-home": StoreSpec("new", "maildir", f"{new}/home/{{user}}/Maildir"),
        "new-vmail": StoreSpec("new", "maildir", f"{new}/vmail/{{domain}}/{{user}}/Maildir"),
        "new-spool": StoreSpec("new", "mbox", f"{new}/spool/{{user}}"),
    }


def arrive(tmp_path: Path) -> int:
    """New mail on the old host after the pre-copy, and a flag changed there; returns how many messages."""
    old = tmp_path / "old"
    write_mbox(
        old / "spool" / "alice",
        [b"Subject: late one\nMessage-ID: <late1@x>\n\nFrom the road\n", b"Subject: late two\n\nno id, late\n"],
        start=3,
    )
    carol = mailbox.Maildir(str(old / "home" / "carol" / "Maildir"), create=False)
    carol.add(mailbox.MaildirMessage(b"Subject: late three\nMessage-ID: <late3@x>\n\nnew\n"))
    carol.get_folder("Sent").add(mailbox.MaildirMessage(b"Subject: late sent\n\nsent later\n"))
    cur = old / "home" / "carol" / "Maildir" / "cur"
    unread = next(p for p in sorted(cur.iterdir()) if "S" not in p.name.partition(":2,")[2])
    unique, _, flags = unread.name.partition(":2,")
    unread.rename(cur / f"{unique}:2,{''.join(sorted(flags + 'S'))}")  # read on the old server
    return 4


async def test_hostile_corpus_precopy_delta_verify(hosts: HostConnections, tmp_path: Path) -> None:
    build_sources(tmp_path / "old")
    s = specs(tmp_path)
    events: list[MailEvent] = []
    spool1 = await sync(
        hosts, s["old-spool"], s["new-home"], sink=events.append, source_name="old-spool", dest_name="new-home"
    )
    home1 = await sync(hosts, s["old-home"], s["new-vmail"], domain="example.com")
    assert spool1.messages_copied == 13 + 5
    assert home1.messages_copied == 13 + 4 + 6 + 3 + 5
    texts = [line for e in events if isinstance(e, OutputLines) for line in e.lines]
    assert any(
        t.startswith("alice: copying what new-home lacks, old:") and t.endswith("through the cockpit") for t in texts
    )
    assert any(t.startswith("alice: 13 messages (") and t.endswith(") copied") for t in texts)
    copying = [e for e in events if isinstance(e, MailProgress) and e.phase == "copy"]
    assert copying[-1].messages_done == copying[-1].messages_total == 18
    assert copying[-1].bytes_done == copying[-1].bytes_total > 3_000_000

    arrived = arrive(tmp_path)
    spool2 = await sync(hosts, s["old-spool"], s["new-home"], previous=spool1.state)
    home2 = await sync(hosts, s["old-home"], s["new-vmail"], previous=home1.state, domain="example.com")
    assert spool2.messages_copied + home2.messages_copied == arrived
    assert home2.flags_updated == 1
    again = await sync(hosts, s["old-spool"], s["new-home"], previous=spool2.state)
    assert again.messages_copied == 0

    report = await verify(hosts, s["old-spool"], s["new-home"], source_name="old-spool", dest_name="new-home")
    assert report.ok, report.lines()
    assert report.verdict() == "all 20 messages of old-spool are on new-home exactly as often (2 mailboxes, 2 folders)"
    report = await verify(
        hosts, s["old-home"], s["new-vmail"], source_name="old-home", dest_name="new-vmail", domain="example.com"
    )
    assert report.ok, report.lines()
    assert report.verdict().startswith(
        "all 33 messages of old-home are on new-vmail exactly as often (2 mailboxes, 5 folders"
    )

    old, new = tmp_path / "old", tmp_path / "new"
    for user in ("alice", "bob"):
        theirs = mbox_contents(old / "spool" / user)
        ours = maildir_contents(new / "home" / user / "Maildir", mixed=True)
        assert ours == {"": theirs}
    for user in ("carol", "dave"):
        theirs_md = maildir_contents(old / "home" / user / "Maildir")
        assert maildir_contents(new / "vmail" / "example.com" / user / "Maildir") == theirs_md
    duplicate = canonical(hostile_messages()[-1])
    assert contents_only(maildir_contents(new / "home" / "alice" / "Maildir")[""])[duplicate] == 2
    assert contents_only(maildir_contents(new / "vmail" / "example.com" / "carol" / "Maildir")[""])[duplicate] == 2
    assert (new / "vmail" / "example.com" / "carol" / "Maildir" / ".&AMk-t&AOk-" / "maildirfolder").exists()
    assert list((new / "vmail" / "example.com" / "carol" / "Maildir" / "tmp").iterdir()) == []


async def test_verify_names_the_folder_when_one_is_deleted_or_doubled(hosts: HostConnections, tmp_path: Path) -> None:
    build_sources(tmp_path / "old")
    s = specs(tmp_path)
    await sync(hosts, s["old-home"], s["new-home"])
    sent = tmp_path / "new" / "home" / "carol" / "Maildir" / ".Sent" / "cur"
    victim = sorted(sent.iterdir())[0]
    kept = victim.read_bytes()
    victim.unlink()
    report = await verify(hosts, s["old-home"], s["new-home"], source_name="old-home", dest_name="new-home")
    assert not report.ok
    assert "carol Sent: 1 missing" in report.verdict()
    assert report.verdict().startswith("verify failed: 1 message copies differ between old-home (31 messages)")

    (sent / victim.name).write_bytes(kept)
    inbox = tmp_path / "new" / "home" / "dave" / "Maildir" / "cur"
    first = sorted(inbox.iterdir())[0]
    shutil.copy(first, inbox / f"1700000000.doubled.host:2,{first.name.partition(':2,')[2]}")
    report = await verify(hosts, s["old-home"], s["new-home"], source_name="old-home", dest_name="new-home")
    assert not report.ok
    assert "dave INBOX: 1 extra copy" in report.verdict()

    (inbox / f"1700000000.doubled.host:2,{first.name.partition(':2,')[2]}").unlink()
    new_mail = mailbox.Maildir(str(tmp_path / "new" / "home" / "dave" / "Maildir"), create=False)
    new_mail.add(mailbox.MaildirMessage(b"Subject: after the flip\n\ndelivered on new\n"))
    report = await verify(hosts, s["old-home"], s["new-home"], source_name="old-home", dest_name="new-home")
    assert report.ok
    assert report.verdict().endswith("; 1 more only on new-home (allowed)")
    assert any("only on new" in line for line in report.lines()[1:])


async def test_into_mbox_from_mbox_and_maildir(hosts: HostConnections, tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    build_sources(old)
    (new / "spool").mkdir(parents=True)
    write_mbox(new / "spool" / "bob", [b"Subject: already on new\n\nhello\n"])
    s = specs(tmp_path)
    first = await sync(hosts, s["old-spool"], s["new-spool"])
    assert first.messages_copied == 18
    write_mbox(old / "spool" / "alice", hostile_messages()[:2], start=5)
    second = await sync(hosts, s["old-spool"], s["new-spool"], previous=first.state)
    assert second.messages_copied == 2
    report = await verify(hosts, s["old-spool"], s["new-spool"], source_name="old-spool", dest_name="new-spool")
    assert report.ok, report.lines()
    assert report.only_on_new == 1
    assert mbox_contents(new / "spool" / "alice") == mbox_contents(old / "spool" / "alice")
    ours, theirs = mbox_contents(new / "spool" / "bob"), mbox_contents(old / "spool" / "bob")
    assert theirs - ours == {}
    assert [content for content, _, _ in ours - theirs] == [canonical(b"Subject: already on new\n\nhello\n")]

    dave = StoreSpec("old", "maildir", f"{old}/home/{{user}}/Maildir", ("dave",))
    into = StoreSpec("new", "mbox", f"{new}/spool/{{user}}.from-maildir")
    copied = await sync(hosts, dave, into)
    assert copied.messages_copied == 5
    report = await verify(hosts, dave, into)
    assert report.ok, report.lines()
    theirs = maildir_contents(old / "home" / "dave" / "Maildir", mixed=True)[""]
    assert mbox_contents(new / "spool" / "dave.from-maildir") == theirs
    assert not list((new / "spool").glob("*.lock")) and not list((new / "spool").glob("*.cockpit-append"))
