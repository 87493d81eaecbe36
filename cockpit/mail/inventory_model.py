"""What an inventory found: per mailbox and folder, each message's identity, size and flags.

Records are small (slotted, digests as 16 bytes, flag strings shared) so that 100,000 messages fit in a few
tens of megabytes; an inventory is also the "previous pass" a later pass reuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from cockpit.mail.folder_names import folder_label, plain
from cockpit.mail.store_spec import MailboxRef, StoreSpec


@dataclass(frozen=True, slots=True)
class Message:
    """One stored copy of a message."""

    key: str
    """Where it is: `cur/NAME` or `new/NAME` in a Maildir folder, the From_ line's offset in an mbox."""
    size: int
    digest: bytes
    """The identity digest (headers and body, normalised; see the host program's `identity`)."""
    message_id: str
    flags: str
    """Maildir flag letters (an mbox's Status/X-Status converted), sorted."""
    subdir: str
    """`new` or `cur` (for an mbox: `cur` once the Status header says the message is old)."""

    @property
    def unique(self) -> str:
        """A Maildir file's unique name (the name without `:2,` flags), or the mbox offset."""
        return self.key.partition("/")[2].partition(":")[0] if "/" in self.key else self.key

    def label(self) -> str:
        """How to name this message to the operator."""
        if self.message_id:
            return plain(self.message_id)
        return f"(no Message-ID, {self.size:,} bytes, identity {self.digest.hex()[:12]})"


@dataclass(frozen=True, slots=True)
class FolderInventory:
    """The messages of one folder (`""` is the inbox; an mbox has only that one)."""

    name: str
    messages: tuple[Message, ...]

    @property
    def count(self) -> int:
        return len(self.messages)

    @property
    def bytes(self) -> int:
        return sum(m.size for m in self.messages)

    @property
    def label(self) -> str:
        return folder_label(self.name)


@dataclass(frozen=True, slots=True)
class MboxFingerprint:
    """Where the last pass stopped reading an mbox, and the SHA-256 of every byte before that point."""

    device: int
    inode: int
    end: int
    sha256: str


@dataclass(frozen=True, slots=True)
class MailboxInventory:
    """One mailbox: its folders, or `exists=False` when the path holds no mailbox (yet)."""

    ref: MailboxRef
    exists: bool
    folders: tuple[FolderInventory, ...]
    fingerprint: MboxFingerprint | None = None
    interrupted_at: int | None = None
    """An mbox with an append of ours that did not finish: only messages before this offset were counted."""

    @property
    def count(self) -> int:
        return sum(f.count for f in self.folders)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.folders)

    def folder(self, name: str) -> FolderInventory | None:
        for folder in self.folders:
            if folder.name == name:
                return folder
        return None


@dataclass(frozen=True, slots=True)
class StoreInventory:
    """Every mailbox of a store as found in one pass."""

    spec: StoreSpec
    mailboxes: tuple[MailboxInventory, ...]

    @property
    def count(self) -> int:
        return sum(m.count for m in self.mailboxes)

    @property
    def bytes(self) -> int:
        return sum(m.bytes for m in self.mailboxes)

    @property
    def folder_count(self) -> int:
        return sum(len(m.folders) for m in self.mailboxes)

    def messages(self) -> Iterator[tuple[MailboxInventory, FolderInventory, Message]]:
        for mailbox in self.mailboxes:
            for folder in mailbox.folders:
                for message in folder.messages:
                    yield mailbox, folder, message

    def by_path(self) -> dict[str, MailboxInventory]:
        return {m.ref.path: m for m in self.mailboxes}
