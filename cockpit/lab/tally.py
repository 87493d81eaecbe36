"""Following every lab message: sent, deferred (and why), accepted by which MTA, and where it ends up.

The verdict counts, not assumes: after the move, each message sent must be in the new host's store
exactly once. `lost` and `duplicated` come from reading the store, not from the senders' bookkeeping.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class MessageTrack:
    lab_id: int
    sender: int
    sent_at: float
    deferrals: int = 0
    delivered_to: str | None = None
    """The MX host that finally accepted it (by the senders' view)."""
    delivered_at: float | None = None
    accepted_by: list[str] = field(default_factory=list)
    """MTA names that accepted it (by the servers' view)."""


@dataclass(frozen=True)
class Verdict:
    sent: int
    old: int
    """Accepted by the old MTA."""
    moved: int
    """Accepted by old and present in the new store (copied by the move or forwarded)."""
    new: int
    """Accepted directly by the new MTA."""
    lost: int
    """Accepted by some MTA but not in the new store."""
    duplicated: int
    stranded: int
    """Accepted by old but not in the new store: what a hurried move leaves behind."""
    downtime: float | None
    """From the first refused delivery to the first delivery accepted by the new MTA."""
    queued: int = 0
    """Not accepted by any MTA yet: the senders still hold them and retry (not lost, not delivered)."""

    def line(self, floor: float | None) -> str:
        down = f"{self.downtime:.1f} s" if self.downtime is not None else "not measured"
        floor_text = f" (floor {floor:.1f} s)" if floor is not None else ""
        stranded = f" · stranded {self.stranded}" if self.stranded else ""
        queued = f" · queued {self.queued}" if self.queued else ""
        return (
            f"sent {self.sent} · old {self.old} · moved {self.moved} · new {self.new} · lost {self.lost} · "
            f"duplicated {self.duplicated}{stranded}{queued} · downtime {down}{floor_text}"
        )


class Tally:
    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self.messages: dict[int, MessageTrack] = {}
        self.first_refusal: float | None = None
        self.first_new_accept: float | None = None
        self.refused_reasons: Counter[str] = Counter()

    def sent(self, lab_id: int, sender: int) -> None:
        self.messages[lab_id] = MessageTrack(lab_id, sender, self.now())

    def deferred(self, lab_id: int, target: str, reason: str) -> None:
        self.messages[lab_id].deferrals += 1
        if "refused" in reason and self.first_refusal is None:
            self.first_refusal = self.now()
        self.refused_reasons[reason.split(":")[0] if "refused" not in reason else "refused"] += 1

    def delivered(self, lab_id: int, target: str) -> None:
        track = self.messages[lab_id]
        track.delivered_to, track.delivered_at = target, self.now()

    def accepted(self, mta: str, lab_id: int) -> None:
        """Called by an MTA when it queued a message."""
        if lab_id in self.messages:
            self.messages[lab_id].accepted_by.append(mta)
        if mta == "new" and self.first_new_accept is None:
            self.first_new_accept = self.now()

    def pending(self) -> int:
        return sum(1 for track in self.messages.values() if track.delivered_at is None)

    def verdict(self, new_store: Counter[int]) -> Verdict:
        sent = len(self.messages)
        by_old = {i for i, t in self.messages.items() if "old" in t.accepted_by}
        by_new = {i for i, t in self.messages.items() if "new" in t.accepted_by}
        queued = {i for i, t in self.messages.items() if not t.accepted_by and t.delivered_at is None}
        lost = sum(1 for i in self.messages if new_store.get(i, 0) == 0 and i not in queued)
        duplicated = sum(1 for i in self.messages if new_store.get(i, 0) > 1)
        moved = sum(1 for i in by_old if new_store.get(i, 0) > 0)
        stranded = sum(1 for i in by_old if new_store.get(i, 0) == 0)
        downtime = None
        if self.first_refusal is not None and self.first_new_accept is not None:
            downtime = max(0.0, self.first_new_accept - self.first_refusal)
        return Verdict(sent, len(by_old), moved, len(by_new), lost, duplicated, stranded, downtime, len(queued))


@dataclass(frozen=True)
class LabTally:
    """The verdict of a lab run with the downtime floor the method allows: one old TTL plus the copy time."""

    verdict: Verdict
    old_ttl: int | None
    """The MX TTL served when the MX left the old host (what a cache may still hold)."""
    copy_seconds: float | None
    """From the start of the delta export on old to the end of its import on new."""

    @property
    def floor(self) -> float | None:
        if self.old_ttl is None:
            return None
        return self.old_ttl + (self.copy_seconds or 0.0)

    def line(self) -> str:
        """`sent N · old M · moved K · new L · lost 0 · duplicated 0 · downtime X s (floor Y s)`."""
        return self.verdict.line(self.floor)
