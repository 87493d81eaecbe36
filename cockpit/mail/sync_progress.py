"""What a sync reports: progress while it copies (messages, bytes, rate, ETA, per mailbox), and its result,
whose rates predict the next pass."""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.base.units import format_duration, format_rate, format_size
from cockpit.mail.copy_plan import CopyRequest
from cockpit.mail.events import MailProgress, MailSink
from cockpit.mail.folder_names import plain
from cockpit.mail.message_pump import Acks
from cockpit.mail.sync_state import SyncState
from cockpit.ssh import Clock

PROGRESS_EVERY = 0.25


@dataclass(frozen=True)
class MailboxCopy:
    """What one mailbox got."""

    name: str
    messages: int
    bytes: int


@dataclass(frozen=True)
class SyncResult:
    """A finished pass. A delta costs its inventories (mostly reused state) plus its share of copying at this
    pass's rate; `estimate_seconds` does that sum."""

    messages_copied: int
    bytes_copied: int
    skipped: int
    """Messages that vanished or changed on the source during the pass; the next pass takes them."""
    flags_updated: int
    source_messages: int
    source_bytes: int
    seconds: float
    inventory_seconds: float
    """Until both inventories were complete (copying already runs during the source's)."""
    copy_seconds: float
    """From the first copy request to the last acknowledgement."""
    mailboxes: tuple[MailboxCopy, ...]
    state: SyncState

    @property
    def bytes_per_second(self) -> float:
        return self.bytes_copied / self.copy_seconds if self.copy_seconds > 0 else 0.0

    @property
    def messages_per_second(self) -> float:
        return self.messages_copied / self.copy_seconds if self.copy_seconds > 0 else 0.0

    def estimate_seconds(self, messages: int, size: int, inventory_seconds: float | None = None) -> float:
        """How long a pass copying `messages` messages of `size` bytes should take at this pass's copy rates,
        plus `inventory_seconds` (default: this pass's, an upper bound for a delta that reuses its state)."""
        per_message = self.copy_seconds / self.messages_copied if self.messages_copied else 0.0
        per_byte = self.copy_seconds / self.bytes_copied if self.bytes_copied else 0.0
        listing = self.inventory_seconds if inventory_seconds is None else inventory_seconds
        return listing + max(messages * per_message, size * per_byte)

    def summary(self) -> str:
        rate = f" ({format_rate(self.bytes_per_second)})" if self.copy_seconds > 0 and self.bytes_copied else ""
        text = (
            f"copied {self.messages_copied:,} messages ({format_size(self.bytes_copied)}) in "
            f"{format_duration(self.seconds)}"
            f"{rate}; the source has {self.source_messages:,}"
        )
        if self.flags_updated:
            text += f"; flags carried over on {self.flags_updated:,}"
        if self.skipped:
            text += f"; {self.skipped:,} changed or vanished meanwhile (the next pass takes them)"
        return text


class CopyProgress:
    """Turns plans and acknowledgements into progress events, a few per second."""

    def __init__(self, sink: MailSink, clock: Clock, store: str, copied: dict[str, list[int]] | None = None) -> None:
        self.sink = sink
        self.copied = copied
        """Mailbox name → [messages, bytes] acknowledged so far, filled as acknowledgements come (it outlives
        a pass that fails: what a failed pass did copy is still counted)."""
        self.clock = clock
        self.store = store
        self.names: dict[int, str] = {}
        self.messages_total = 0
        self.bytes_total = 0
        self.complete = False
        self.mailbox_totals: dict[int, int] = {}
        self.done_per_mailbox: dict[int, int] = {}
        self.bytes = 0
        self.current = -1
        self.first: float | None = None
        self.last: float | None = None
        self._seen = 0
        self._reported = clock.monotonic()

    def planned(self, request: CopyRequest) -> None:
        if self.first is None:
            self.first = self.clock.monotonic()
        self.messages_total += 1
        self.bytes_total += request.message.size
        self.mailbox_totals[request.mailbox] = self.mailbox_totals.get(request.mailbox, 0) + 1

    def all_planned(self) -> None:
        self.complete = True

    def on_ack(self, acks: Acks, forwarded: int) -> None:
        for request, _, _ in acks.copied[self._seen :]:
            self.bytes += request.message.size
            self.done_per_mailbox[request.mailbox] = self.done_per_mailbox.get(request.mailbox, 0) + 1
            self.current = request.mailbox
            if self.copied is not None:
                entry = self.copied.setdefault(self.names.get(request.mailbox, ""), [0, 0])
                entry[0] += 1
                entry[1] += request.message.size
        if len(acks.copied) > self._seen:
            self.last = self.clock.monotonic()
        self._seen = len(acks.copied)
        now = self.clock.monotonic()
        if now - self._reported >= PROGRESS_EVERY:
            self._reported = now
            self.report(acks)

    def report(self, acks: Acks) -> None:
        if self.first is None:
            return
        elapsed = max(self.clock.monotonic() - self.first, 1e-9)
        rate = self.bytes / elapsed
        eta = (self.bytes_total - self.bytes) / rate if self.complete and rate > 0 else None
        self.sink(
            MailProgress(
                self.clock.now(),
                "copy",
                self.store,
                self.names.get(self.current, ""),
                len(acks.copied),
                self.messages_total,
                self.bytes,
                self.bytes_total,
                rate,
                eta,
                self.done_per_mailbox.get(self.current, 0),
                self.mailbox_totals.get(self.current, 0),
            )
        )

    def copy_seconds(self) -> float:
        return (self.last - self.first) if self.first is not None and self.last is not None else 0.0

    def per_mailbox(self, acks: Acks, names: list[str]) -> tuple[MailboxCopy, ...]:
        counts: dict[int, list[int]] = {}
        for request, _, _ in acks.copied:
            entry = counts.setdefault(request.mailbox, [0, 0])
            entry[0] += 1
            entry[1] += request.message.size
        return tuple(MailboxCopy(plain(names[i]), n, b) for i, (n, b) in sorted(counts.items()))
