"""Comparing two inventories folder by folder, as multisets of message identities, and saying it in one line.

Missing messages and extra copies of messages the source has are failures. Messages the source does not have
at all are "only on new" (mail that arrived after the flip): allowed, and listed. Flags that differ are
listed too; after the flip users read mail on the new side, so they do not fail the verdict.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from cockpit.mail.copy_plan import comparable_flags
from cockpit.mail.folder_names import folder_label, plain
from cockpit.mail.inventory_model import FolderInventory, Message, StoreInventory

EXAMPLES = 3
"""Messages named per kind of difference and folder."""
FOLDERS_NAMED = 12
"""Folders named in the one-line verdict before the rest are only counted."""


@dataclass(frozen=True)
class FolderComparison:
    """One folder of one mailbox on both sides."""

    mailbox: str
    folder: str
    """The folder's label (`INBOX`, `Sent`, `Été`)."""
    old_count: int
    new_count: int
    missing: int
    """Copies the source has that the destination lacks."""
    duplicated: int
    """Copies beyond the source's count of a message the source has."""
    only_on_new: int
    """Messages the source does not have at all (arrived on the new side)."""
    flags_changed: int
    examples: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.missing == 0 and self.duplicated == 0

    @property
    def where(self) -> str:
        return f"{self.mailbox} {self.folder}"

    def difference(self) -> str:
        """The difference in words, e.g. `1 missing, 2 extra copies`."""
        parts = []
        if self.missing:
            parts.append(f"{self.missing:,} missing")
        if self.duplicated:
            parts.append(f"{self.duplicated:,} extra {'copy' if self.duplicated == 1 else 'copies'}")
        if self.only_on_new:
            parts.append(f"{self.only_on_new:,} only on new (allowed)")
        if self.flags_changed:
            parts.append(f"{self.flags_changed:,} with other flags")
        return ", ".join(parts) or "same"

    def describe(self) -> str:
        text = f"{self.where}: old {self.old_count:,}, new {self.new_count:,} — {self.difference()}"
        return text + (f" ({'; '.join(self.examples)})" if self.examples else "")


@dataclass(frozen=True)
class VerifyReport:
    """The verdict of a verify step and what it rests on."""

    source: str
    dest: str
    messages: int
    """Messages on the source."""
    mailboxes: int
    folders: tuple[FolderComparison, ...]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.folders)

    @property
    def folder_count(self) -> int:
        return len(self.folders)

    @property
    def only_on_new(self) -> int:
        return sum(f.only_on_new for f in self.folders)

    @property
    def flags_changed(self) -> int:
        return sum(f.flags_changed for f in self.folders)

    def verdict(self) -> str:
        """One line: all there exactly as often, or which mailboxes and folders differ and how."""
        counts = f"{self.mailboxes:,} mailbox{'' if self.mailboxes == 1 else 'es'}, {self.folder_count:,} folders"
        if self.ok:
            text = f"all {self.messages:,} messages of {self.source} are on {self.dest} exactly as often ({counts})"
            if self.only_on_new:
                text += f"; {self.only_on_new:,} more only on {self.dest} (allowed)"
            if self.flags_changed:
                text += f"; {self.flags_changed:,} with other flags"
            return text
        bad = [f for f in self.folders if not f.ok]
        wrong = sum(f.missing + f.duplicated for f in bad)
        named = "; ".join(f"{f.where}: {f.difference()}" for f in bad[:FOLDERS_NAMED])
        if len(bad) > FOLDERS_NAMED:
            named += f"; and {len(bad) - FOLDERS_NAMED:,} more folders"
        return (
            f"verify failed: {wrong:,} message copies differ between {self.source} ({self.messages:,} messages) "
            f"and {self.dest} ({counts}) — {named}"
        )

    def lines(self) -> list[str]:
        """The verdict, then one line per folder that differs in any way."""
        return [self.verdict(), *(f"  {f.describe()}" for f in self.folders if f.difference() != "same")]


def _flags_changed(source: list[Message], dest: list[Message], mixed: bool) -> int:
    pairs = min(len(source), len(dest))
    same = Counter(comparable_flags(m.flags, mixed) for m in source) & Counter(
        comparable_flags(m.flags, mixed) for m in dest
    )
    return max(0, pairs - sum(same.values()))


def compare_folder(
    mailbox: str, name: str, source: FolderInventory | None, dest: FolderInventory | None, mixed: bool
) -> FolderComparison:
    """One folder's comparison; `mixed` when one side is an mbox (only the flags it can hold count)."""
    by_id_src: dict[bytes, list[Message]] = {}
    by_id_dst: dict[bytes, list[Message]] = {}
    for messages, into in ((source.messages if source else (), by_id_src), (dest.messages if dest else (), by_id_dst)):
        for message in messages:
            into.setdefault(message.digest, []).append(message)
    missing = duplicated = only_new = flags = 0
    examples: dict[str, list[str]] = {"missing": [], "extra copy of": [], "only on new": []}
    for digest, copies in by_id_src.items():
        there = by_id_dst.get(digest, [])
        if len(there) < len(copies):
            missing += len(copies) - len(there)
            examples["missing"].append(copies[0].label())
        elif len(there) > len(copies):
            duplicated += len(there) - len(copies)
            examples["extra copy of"].append(copies[0].label())
        if there:
            flags += _flags_changed(copies, there, mixed)
    for digest, there in by_id_dst.items():
        if digest not in by_id_src:
            only_new += len(there)
            examples["only on new"].append(there[0].label())
    shown = tuple(f"{kind} {plain(label)}" for kind, labels in examples.items() for label in labels[:EXAMPLES])
    return FolderComparison(
        mailbox,
        folder_label(name),
        source.count if source else 0,
        dest.count if dest else 0,
        missing,
        duplicated,
        only_new,
        flags,
        shown,
    )


def compare_stores(source: StoreInventory, dest: StoreInventory, *, source_name: str, dest_name: str) -> VerifyReport:
    """Folder by folder over the source's mailboxes (`dest.mailboxes[i]` is where `source.mailboxes[i]` went)."""
    mixed = "mbox" in (source.spec.format, dest.spec.format)
    folders: list[FolderComparison] = []
    mailboxes = 0
    for src_box, dst_box in zip(source.mailboxes, dest.mailboxes, strict=True):
        if not src_box.exists:
            continue
        mailboxes += 1
        names = [f.name for f in src_box.folders]
        names += [f.name for f in dst_box.folders if f.name not in names and f.count]
        for name in names:
            folders.append(
                compare_folder(plain(src_box.ref.name), name, src_box.folder(name), dst_box.folder(name), mixed)
            )
    return VerifyReport(plain(source_name), plain(dest_name), source.count, mailboxes, tuple(folders))
