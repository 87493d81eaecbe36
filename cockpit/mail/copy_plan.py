"""Deciding what to copy: per mailbox and folder, the source's messages minus the destination's, as multisets
of identities. A message the destination holds k times covers k copies on the source; nothing is copied twice.

The decision is made message by message, so a sync can copy while the source's inventory still runs; for an
mbox destination every decision waits for the whole inventory (an mbox holds only the inbox, and that must be
known to hold before anything is copied).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from cockpit.mail.errors import MailError
from cockpit.mail.folder_names import folder_label
from cockpit.mail.inventory_model import Message, StoreInventory
from cockpit.mail.store_spec import MailboxRef, StoreSpec

MBOX_FLAGS = frozenset("FRST")
"""The Maildir flags an mbox can hold (Status/X-Status); others are not compared across formats."""


def destination_mailboxes(sources: Sequence[MailboxRef], dest: StoreSpec, domain: str | None) -> list[MailboxRef]:
    """The destination mailbox of each source mailbox: the destination pattern filled with its user and domain."""
    found: list[MailboxRef] = []
    seen: dict[str, str] = {}
    for ref in sources:
        filled_domain = ref.domain or (domain or "")
        try:
            path = dest.fill(ref.user, filled_domain)
        except ValueError as exc:
            raise MailError(dest.host, str(exc)) from None
        if path in seen:
            raise MailError(dest.host, f"mailboxes {seen[path]} and {ref.name} would both go to {path}")
        seen[path] = ref.name
        found.append(MailboxRef(path, ref.user, filled_domain))
    return found


def comparable_flags(flags: str, mixed: bool) -> str:
    """Flags as compared: all of them between Maildirs, only those an mbox can hold when one side is mbox."""
    return "".join(f for f in flags if f in MBOX_FLAGS) if mixed else flags


@dataclass(frozen=True, slots=True)
class CopyRequest:
    """One message to copy: where it is on the source, and which mailbox it goes to (same index)."""

    seq: int
    mailbox: int
    folder: str
    message: Message


@dataclass(frozen=True, slots=True)
class FlagUpdate:
    """A Maildir file on the destination whose flags changed on the source since the last pass."""

    mailbox: int
    folder: str
    key: str
    flags: str


class CopyPlanner:
    """Decides for each source message, in the order they come: copy it, carry its new flags, or nothing."""

    def __init__(self, dest: StoreInventory, previous_source: StoreInventory | None, source_refs: Sequence[MailboxRef]):
        self.dest = dest
        self.to_mbox = dest.spec.format == "mbox"
        self.previous = previous_source.by_path() if previous_source is not None else {}
        self.has_previous = previous_source is not None
        self.source_refs = list(source_refs)
        self.requests = 0
        self.per_mailbox: dict[int, list[int]] = {}
        """Mailbox index → [messages, bytes] decided so far."""
        self._available: dict[tuple[int, str], dict[bytes, list[Message]]] = {}
        self._prior: dict[tuple[int, str], dict[bytes, str]] = {}
        self._held: list[tuple[int, str, Message]] = []

    def add(self, mailbox: int, folder: str, message: Message) -> CopyRequest | FlagUpdate | None:
        if self.to_mbox:
            self._held.append((mailbox, folder, message))
            return None
        return self._decide(mailbox, folder, message)

    def finish(self) -> list[CopyRequest | FlagUpdate]:
        """What was held back (for an mbox destination), once the whole source is known."""
        held, self._held = self._held, []
        for mailbox, folder, _ in held:
            if folder:
                count = sum(1 for m, f, _ in held if (m, f) == (mailbox, folder))
                raise MailError(
                    self.dest.spec.host,
                    f"{self.dest.mailboxes[mailbox].ref.path} is an mbox and holds only the inbox; "
                    f"{self.source_refs[mailbox].name} has {count:,} messages in folder {folder_label(folder)} "
                    "(copy to a Maildir store)",
                )
        decided = (self._decide(mailbox, folder, message) for mailbox, folder, message in held)
        return [item for item in decided if item is not None]

    def _decide(self, mailbox: int, folder: str, message: Message) -> CopyRequest | FlagUpdate | None:
        copies = self._copies(mailbox, folder).get(message.digest)
        if not copies:
            request = CopyRequest(self.requests, mailbox, folder, message)
            self.requests += 1
            counts = self.per_mailbox.setdefault(mailbox, [0, 0])
            counts[0] += 1
            counts[1] += message.size
            return request
        there = copies.pop()
        if self.to_mbox or not self.has_previous:
            return None
        before = self._prior_flags(mailbox, folder).get(message.digest)
        if before is not None and message.flags != before and there.flags == before:
            return FlagUpdate(mailbox, folder, there.key, message.flags)
        return None

    def _copies(self, mailbox: int, folder: str) -> dict[bytes, list[Message]]:
        found = self._available.get((mailbox, folder))
        if found is None:
            found = {}
            dest_folder = self.dest.mailboxes[mailbox].folder(folder)
            for message in dest_folder.messages if dest_folder is not None else ():
                found.setdefault(message.digest, []).append(message)
            self._available[mailbox, folder] = found
        return found

    def _prior_flags(self, mailbox: int, folder: str) -> dict[bytes, str]:
        """Source flags per identity in the last pass (identities held once only)."""
        found = self._prior.get((mailbox, folder))
        if found is None:
            box = self.previous.get(self.source_refs[mailbox].path)
            prior = box.folder(folder) if box is not None else None
            messages = prior.messages if prior is not None else ()
            counts = Counter(m.digest for m in messages)
            found = self._prior[mailbox, folder] = {m.digest: m.flags for m in messages if counts[m.digest] == 1}
        return found


@dataclass(frozen=True)
class CopyPlan:
    """Everything one pass copies, decided at once (for tests and for callers that want the plan first)."""

    requests: tuple[CopyRequest, ...]
    flag_updates: tuple[FlagUpdate, ...]

    @property
    def messages(self) -> int:
        return len(self.requests)

    @property
    def bytes(self) -> int:
        return sum(r.message.size for r in self.requests)


def plan_copy(source: StoreInventory, dest: StoreInventory, previous_source: StoreInventory | None = None) -> CopyPlan:
    """Every source message the destination lacks, in source order, and the flag changes to carry to a Maildir.

    `dest.mailboxes[i]` must be the destination of `source.mailboxes[i]`.
    """
    planner = CopyPlanner(dest, previous_source, [box.ref for box in source.mailboxes])
    items = [
        planner.add(index, folder, message)
        for index, box in enumerate(source.mailboxes)
        for folder_inventory in box.folders
        for folder, message in ((folder_inventory.name, m) for m in folder_inventory.messages)
    ]
    decided = [item for item in items if item is not None] + planner.finish()
    return CopyPlan(
        tuple(i for i in decided if isinstance(i, CopyRequest)), tuple(i for i in decided if isinstance(i, FlagUpdate))
    )
