"""Mail steps over many mailboxes: the source's mailboxes in batches, each batch one pass of the host program
on both hosts (a program per mailbox would cost a process start and an SSH channel each), `concurrency`
batches at once. A batch holds whole users, so that its store spec can name them (`users:`) and a user's
mailboxes in several domains stay together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from cockpit.engine.context import StepContext
from cockpit.engine.mail_glue import mail_failure
from cockpit.mail import MailError, StoreSpec, expand_store
from cockpit.mail.folder_names import plain
from cockpit.mail.store_spec import MailboxRef
from cockpit.ssh import SshError

BATCH = 250
"""Mailboxes per batch: a store this small is one pass, as before fan-out existed."""


@dataclass(frozen=True)
class MailboxBatches:
    batches: list[tuple[str, ...]]
    """Mailbox names (as verify and sync name them), batch by batch."""
    users: dict[str, str]
    """Mailbox name → its user."""

    def spec_for(self, source: StoreSpec, batch: Sequence[str]) -> StoreSpec:
        """The source store narrowed to the users of a batch."""
        return replace(source, users=tuple(dict.fromkeys(self.users[name] for name in batch)))


def mailbox_batches(refs: Sequence[MailboxRef], size: int = BATCH) -> MailboxBatches | None:
    """The batches, or None when the store is one batch (or its mailboxes are not named by user)."""
    if len(refs) <= size or any(not ref.user for ref in refs):
        return None
    by_user: dict[str, list[str]] = {}
    for ref in refs:
        by_user.setdefault(ref.user, []).append(plain(ref.name))
    batches: list[tuple[str, ...]] = []
    current: list[str] = []
    users: dict[str, str] = {}
    for user, names in by_user.items():
        for name in names:
            users[name] = user
        current += names
        if len(current) >= size:
            batches.append(tuple(current))
            current = []
    if current:
        batches.append(tuple(current))
    return MailboxBatches(batches, users) if len(batches) > 1 else None


async def listed_batches(ctx: StepContext, source: StoreSpec) -> tuple[list[MailboxRef], MailboxBatches | None]:
    """The source's mailboxes (read-only listing) and their batches; ([], None) when the listing fails in the
    store itself (the whole-store pass that follows says what is wrong, as it always did)."""
    try:
        refs = await expand_store(ctx.services.connections, source)
    except MailError:
        return [], None
    except SshError as exc:
        raise mail_failure(exc, ctx) from None
    return list(refs), mailbox_batches(refs)
