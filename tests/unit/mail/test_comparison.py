"""Comparing inventories as multisets per folder, what to copy, and the verdict in words."""

from __future__ import annotations

import hashlib

import pytest

from cockpit.mail import FolderInventory, MailboxInventory, MailboxRef, Message, StoreInventory, StoreSpec
from cockpit.mail.comparison import compare_stores
from cockpit.mail.copy_plan import destination_mailboxes, plan_copy
from cockpit.mail.errors import MailError

OLD = StoreSpec("old", "maildir", "/old/{user}/Maildir")
NEW = StoreSpec("new", "maildir", "/new/{user}/Maildir")
SPOOL = StoreSpec("new", "mbox", "/var/mail/{user}")


def msg(name: str, flags: str = "S", key: str = "") -> Message:
    digest = hashlib.sha256(name.encode()).digest()[:16]
    return Message(key or f"cur/{name}-{flags}-{id(object())}:2,{flags}", 100, digest, f"<{name}@x>", flags, "cur")


def store(spec: StoreSpec, boxes: dict[str, dict[str, list[Message]]]) -> StoreInventory:
    return StoreInventory(
        spec,
        tuple(
            MailboxInventory(
                MailboxRef(spec.fill(user, ""), user),
                True,
                tuple(FolderInventory(name, tuple(messages)) for name, messages in folders.items()),
            )
            for user, folders in boxes.items()
        ),
    )


def same_both_sides() -> tuple[StoreInventory, StoreInventory]:
    boxes = {
        "alice": {"": [msg("a1"), msg("a2"), msg("dup"), msg("dup")], "Sent": [msg("s1")], "&AMk-t&AOk-": [msg("e1")]},
        "bob": {"": [msg("b1")]},
    }
    return store(OLD, boxes), store(NEW, boxes)


def test_all_there_exactly_as_often() -> None:
    old, new = same_both_sides()
    report = compare_stores(old, new, source_name="old-md", dest_name="new-md")
    assert report.ok
    assert report.verdict() == "all 7 messages of old-md are on new-md exactly as often (2 mailboxes, 4 folders)"
    assert report.lines() == [report.verdict()]


def test_a_missing_message_fails_naming_mailbox_and_folder() -> None:
    old, _ = same_both_sides()
    new = store(
        NEW,
        {
            "alice": {"": [msg("a1"), msg("dup"), msg("dup")], "Sent": [msg("s1")], "&AMk-t&AOk-": [msg("e1")]},
            "bob": {"": [msg("b1")]},
        },
    )
    report = compare_stores(old, new, source_name="old-md", dest_name="new-md")
    assert not report.ok
    assert "alice INBOX: 1 missing" in report.verdict()
    assert report.verdict().startswith("verify failed: 1 message copies differ")
    assert any("missing <a2@x>" in line for line in report.lines())


def test_a_doubled_message_is_an_extra_copy_not_new_mail() -> None:
    old, _ = same_both_sides()
    new = store(
        NEW,
        {
            "alice": {
                "": [msg("a1"), msg("a2"), msg("dup"), msg("dup")],
                "Sent": [msg("s1"), msg("s1")],
                "&AMk-t&AOk-": [msg("e1")],
            },
            "bob": {"": [msg("b1")]},
        },
    )
    report = compare_stores(old, new, source_name="o", dest_name="n")
    assert not report.ok
    assert "alice Sent: 1 extra copy" in report.verdict()


def test_fewer_copies_of_an_exact_duplicate_is_missing() -> None:
    old, _ = same_both_sides()
    new = store(
        NEW,
        {
            "alice": {"": [msg("a1"), msg("a2"), msg("dup")], "Sent": [msg("s1")], "&AMk-t&AOk-": [msg("e1")]},
            "bob": {"": [msg("b1")]},
        },
    )
    report = compare_stores(old, new, source_name="o", dest_name="n")
    assert "alice INBOX: 1 missing" in report.verdict()


def test_mail_only_on_new_is_allowed_and_listed_and_flags_too() -> None:
    old, _ = same_both_sides()
    new = store(
        NEW,
        {
            "alice": {
                "": [msg("a1", "RS"), msg("a2"), msg("dup"), msg("dup"), msg("late")],
                "Sent": [msg("s1")],
                "&AMk-t&AOk-": [msg("e1")],
            },
            "bob": {"": [msg("b1")], "Junk": [msg("spam")]},
        },
    )
    report = compare_stores(old, new, source_name="o", dest_name="n")
    assert report.ok
    assert report.verdict() == (
        "all 7 messages of o are on n exactly as often (2 mailboxes, 5 folders); 2 more only on n (allowed); "
        "1 with other flags"
    )
    assert (
        "  alice INBOX: old 4, new 5 — 1 only on new (allowed), 1 with other flags (only on new <late@x>)"
        in report.lines()
    )
    assert "  bob Junk: old 0, new 1 — 1 only on new (allowed) (only on new <spam@x>)" in report.lines()


def test_unicode_folder_names_are_shown_decoded() -> None:
    old, _ = same_both_sides()
    new = store(
        NEW,
        {"alice": {"": [msg("a1"), msg("a2"), msg("dup"), msg("dup")], "Sent": [msg("s1")]}, "bob": {"": [msg("b1")]}},
    )
    assert "alice Été: 1 missing" in compare_stores(old, new, source_name="o", dest_name="n").verdict()


def test_plan_copies_the_multiset_difference_in_source_order() -> None:
    old, _ = same_both_sides()
    new = store(NEW, {"alice": {"": [msg("dup"), msg("a1"), msg("other")]}, "bob": {}})
    plan = plan_copy(old, new)
    copied = [(r.mailbox, r.folder, r.message.message_id) for r in plan.requests]
    assert copied == [
        (0, "", "<a2@x>"),
        (0, "", "<dup@x>"),
        (0, "Sent", "<s1@x>"),
        (0, "&AMk-t&AOk-", "<e1@x>"),
        (1, "", "<b1@x>"),
    ]
    assert [r.seq for r in plan.requests] == [0, 1, 2, 3, 4]
    assert plan_copy(old, old).messages == 0


def test_flag_changes_since_the_last_pass_are_carried_to_a_maildir() -> None:
    before = store(OLD, {"alice": {"": [msg("a1", "S"), msg("a2", "S"), msg("a3", "")]}})
    now = store(OLD, {"alice": {"": [msg("a1", "RS"), msg("a2", "S"), msg("a3", "F")]}})
    there = store(NEW, {"alice": {"": [msg("a1", "S", "cur/k1:2,S"), msg("a2", "S"), msg("a3", "T", "cur/k3:2,T")]}})
    plan = plan_copy(now, there, before)
    assert [(u.key, u.flags) for u in plan.flag_updates] == [("cur/k1:2,S", "RS")]
    assert plan_copy(now, there, None).flag_updates == ()


def test_an_mbox_destination_takes_only_the_inbox() -> None:
    old, _ = same_both_sides()
    with pytest.raises(MailError, match=r"new: /var/mail/alice is an mbox and holds only the inbox; alice has 1 "):
        plan_copy(old, store(SPOOL, {"alice": {}, "bob": {}}))


def test_destination_mailboxes_fill_the_pattern() -> None:
    refs = [MailboxRef("/var/mail/ann", "ann"), MailboxRef("/var/mail/bo", "bo")]
    dest = StoreSpec("new", "maildir", "/var/vmail/{domain}/{user}/Maildir")
    found = destination_mailboxes(refs, dest, "example.com")
    assert [m.path for m in found] == ["/var/vmail/example.com/ann/Maildir", "/var/vmail/example.com/bo/Maildir"]
    with pytest.raises(MailError, match=r"needs \{domain\}, which the source path does not give"):
        destination_mailboxes(refs, dest, None)
    with pytest.raises(MailError, match="would both go to /srv/one"):
        destination_mailboxes(refs, StoreSpec("new", "mbox", "/srv/one"), None)
