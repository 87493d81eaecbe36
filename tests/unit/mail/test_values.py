"""Store specs, display names, the state a later pass reuses, and the import boundary of the mail layer."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cockpit.mail import FolderInventory, MailboxInventory, MailboxRef, Message, StoreInventory, StoreSpec, SyncState
from cockpit.mail.folder_names import decode_modified_utf7, folder_label, plain
from cockpit.mail.inventory_model import MboxFingerprint
from cockpit.mail.sync_state import mailbox_json, state_bytes


def test_store_spec_checks_what_it_is_given() -> None:
    spec = StoreSpec("new", "maildir", "/var/vmail/{domain}/{user}/Maildir", ("ann", "bo"))
    assert spec.placeholders == {"domain", "user"}
    assert spec.fill("ann", "example.com") == "/var/vmail/example.com/ann/Maildir"
    assert StoreSpec("old", "mbox", "~/mbox").fill("", "") == "~/mbox"
    for bad in (
        {"format": "mh"},
        {"path": "var/mail"},
        {"path": "/x/{uid}"},
        {"users": ("../etc",)},
        {"users": ("a/b",)},
        {"users": ("",)},
        {"path": "/x/\x1b[2J"},
    ):
        args = {"host": "old", "format": "mbox", "path": "/var/mail/{user}", "users": None, **bad}
        with pytest.raises(ValueError):
            StoreSpec(**args)  # type: ignore[arg-type]


def test_mailbox_names() -> None:
    assert MailboxRef("/v/x/ann", "ann", "x").name == "ann@x"
    assert MailboxRef("/var/mail/ann", "ann").name == "ann"
    assert MailboxRef("/srv/mbox").name == "/srv/mbox"


def test_folder_names_decode_modified_utf7() -> None:
    assert decode_modified_utf7("&AMk-t&AOk-") == "Été"
    assert decode_modified_utf7("Tom &- Jerry") == "Tom & Jerry"
    assert decode_modified_utf7("&ZeVnLIqe-") == "日本語"
    assert decode_modified_utf7("broken&!!!-") == "broken&!!!-"
    assert folder_label("") == "INBOX"
    assert folder_label("Archive.2024") == "Archive.2024"
    assert folder_label("&AMk-t&AOk-") == "Été"


def test_text_from_servers_is_made_plain() -> None:
    assert plain("ok") == "ok"
    assert plain("evil\x1b[2Jname\x07\u202e") == "evil?[2Jname??"


def test_sync_state_round_trips() -> None:
    spec = StoreSpec("old", "mbox", "/var/mail/{user}")
    message = Message("123", 45, bytes(range(16)), "<a@b>", "RS", "cur")
    inventory = StoreInventory(
        spec,
        (
            MailboxInventory(
                MailboxRef("/var/mail/ann", "ann"),
                True,
                (FolderInventory("", (message,)),),
                MboxFingerprint(1, 2, 300, "ab" * 32),
            ),
            MailboxInventory(MailboxRef("/var/mail/bo", "bo"), False, ()),
        ),
    )
    state = SyncState(inventory, inventory)
    assert SyncState.from_bytes(state.to_bytes()) == state
    with pytest.raises(ValueError, match="not a sync state"):
        SyncState.from_bytes(b"garbage")
    # Written from mailboxes serialised one at a time (a batched sync's way), it reads back the same.
    boxes = [mailbox_json(box) for box in inventory.mailboxes]
    assert SyncState.from_bytes(state_bytes((spec, boxes), (spec, boxes))) == state


def test_the_mail_layer_does_not_pull_in_the_ui() -> None:
    code = (
        "import sys, cockpit.mail, cockpit.mail.sync, cockpit.mail.verify\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
