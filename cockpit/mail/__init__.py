"""Moving mail stores between hosts and proving the move: inventory, sync (pre-copy and delta), verify.

Each host needs only a POSIX shell and python3 (3.6 or newer): the host program travels with every call.
Message data flows from the source host through the cockpit to the destination host; nothing is copied
twice, whatever interrupted an earlier pass, because every pass compares identities on both sides first.

Typical use by the engine::

    source = StoreSpec("old", "mbox", "/var/mail/{user}")
    dest = StoreSpec("new", "maildir", "/home/{user}/Maildir")
    first = await sync(hosts, source, dest, sink=on_event)
    delta = await sync(hosts, source, dest, previous=first.state, sink=on_event)
    report = await verify(hosts, source, dest, source_name="old-spool", dest_name="new-home")
    print(report.verdict())
"""

from __future__ import annotations

from cockpit.mail.comparison import FolderComparison, VerifyReport, compare_stores
from cockpit.mail.copy_plan import CopyPlan, CopyRequest, FlagUpdate, destination_mailboxes, plan_copy
from cockpit.mail.errors import (
    DiskFullError,
    MailError,
    NothingMatchedError,
    PythonMissingError,
    StoreLockedError,
    UnreadableMailboxError,
)
from cockpit.mail.events import MailEvent, MailProgress, MailSink, ignore_mail_events
from cockpit.mail.inventory import expand_store, inventory, inventory_mailboxes
from cockpit.mail.inventory_model import FolderInventory, MailboxInventory, Message, StoreInventory
from cockpit.mail.store_spec import MailboxRef, MailFormat, StoreSpec
from cockpit.mail.sync import sync
from cockpit.mail.sync_progress import MailboxCopy, SyncResult
from cockpit.mail.sync_state import SyncState
from cockpit.mail.verify import verify

__all__ = [
    "CopyPlan",
    "CopyRequest",
    "DiskFullError",
    "FlagUpdate",
    "FolderComparison",
    "FolderInventory",
    "MailError",
    "MailEvent",
    "MailFormat",
    "MailProgress",
    "MailSink",
    "MailboxCopy",
    "MailboxInventory",
    "MailboxRef",
    "Message",
    "NothingMatchedError",
    "PythonMissingError",
    "StoreInventory",
    "StoreLockedError",
    "StoreSpec",
    "SyncResult",
    "SyncState",
    "UnreadableMailboxError",
    "VerifyReport",
    "compare_stores",
    "destination_mailboxes",
    "expand_store",
    "ignore_mail_events",
    "inventory",
    "inventory_mailboxes",
    "plan_copy",
    "sync",
    "verify",
]
