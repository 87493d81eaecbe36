"""Following every lab message: sent, deferred (and why), accepted by which MTA, and where it ends up.

The verdict counts, not assumes: after the move, each message sent must be in the new host's store
exactly once. `lost`, `duplicated` and `stranded` come from reading the stores, not from the senders'
bookkeeping. The downtime is not the lab's to measure: it is the engine's one definition, read from the
run's journal by the command that ran it and handed in as `RunFigures`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from cockpit.base.units import format_duration


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
    old_at: float | None = None
    """When the old MTA first accepted it (stored it in the old store)."""


@dataclass(frozen=True)
class Verdict:
    sent: int
    old: int
    """Accepted by the old MTA."""
    moved: int
    """Accepted by old and present in the new store (copied by the move)."""
    new: int
    """Accepted directly by the new MTA (on its own address or on the parking address)."""
    lost: int
    """Accepted by some MTA, not in the new store, and not explained by `stranded`: a copy that went missing,
    or a message in no store at all."""
    duplicated: int
    """In the new store more than once."""
    stranded: int
    """Still on old only, having reached it after the last copy from old started (or with no copy at all):
    what a hurried move leaves behind — not lost yet, but no pass of the move will take it."""
    queued: int = 0
    """Not accepted by any MTA yet: the senders still hold them and retry (not lost, not delivered)."""
    longest_deferral: float | None = None
    """The longest a deferred message waited at its sender, from its first try to its delivery (or now)."""

    @property
    def clean(self) -> bool:
        """Every message accepted is on the new host exactly once."""
        return self.lost == 0 and self.duplicated == 0 and self.stranded == 0


class Tally:
    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self.messages: dict[int, MessageTrack] = {}
        self.refused_reasons: Counter[str] = Counter()

    def sent(self, lab_id: int, sender: int) -> None:
        self.messages[lab_id] = MessageTrack(lab_id, sender, self.now())

    def deferred(self, lab_id: int, target: str, reason: str) -> None:
        self.messages[lab_id].deferrals += 1
        self.refused_reasons[reason.split(":")[0] if "refused" not in reason else "refused"] += 1

    def delivered(self, lab_id: int, target: str) -> None:
        track = self.messages[lab_id]
        track.delivered_to, track.delivered_at = target, self.now()

    def accepted(self, mta: str, lab_id: int) -> None:
        """Called by an MTA when it stored a message."""
        track = self.messages.get(lab_id)
        if track is not None:
            track.accepted_by.append(mta)
            if mta == "old" and track.old_at is None:
                track.old_at = self.now()

    def pending(self) -> int:
        return sum(1 for track in self.messages.values() if track.delivered_at is None)

    def verdict(self, new_store: Counter[int], old_store: Counter[int], moved_before: float | None = None) -> Verdict:
        """The stores' contents held against what was sent; `moved_before`: when the last completed copy from
        old to new started (None: none did), which tells mail a pass missed (lost) from mail it never saw."""
        sent = len(self.messages)
        by_old = {i for i, t in self.messages.items() if "old" in t.accepted_by}
        by_new = {i for i, t in self.messages.items() if "new" in t.accepted_by}
        queued = {i for i, t in self.messages.items() if not t.accepted_by and t.delivered_at is None}
        missing = {i for i in self.messages if new_store.get(i, 0) == 0 and i not in queued}
        stranded = {i for i in missing & by_old if old_store.get(i, 0) > 0 and self._after(i, moved_before)}
        duplicated = sum(1 for i in self.messages if new_store.get(i, 0) > 1)
        moved = sum(1 for i in by_old if new_store.get(i, 0) > 0)
        now = self.now()
        waits = [(t.delivered_at or now) - t.sent_at for t in self.messages.values() if t.deferrals]
        return Verdict(sent, len(by_old), moved, len(by_new), len(missing - stranded), duplicated, len(stranded),
                       len(queued), max(waits) if waits else None)  # fmt: skip

    def _after(self, lab_id: int, moved_before: float | None) -> bool:
        old_at = self.messages[lab_id].old_at
        return moved_before is None or old_at is None or old_at >= moved_before


@dataclass(frozen=True)
class RunFigures:
    """What the run's journal says of the move, read by the command that ran it (the lab reads no journal)."""

    downtime: float | None = None
    """Seconds of downtime by the engine's one definition (the header's and `cockpit report`'s figure)."""
    downtime_over: bool = False
    downtime_proven: bool = False
    """Ended by a proven listening new MTA (a canary delivered, or a port found open)."""
    delta_seconds: float | None = None
    """How long the delta copy in the downtime took (its sync pass)."""
    moved_before: float | None = None
    """When the last completed copy from old to new started."""


@dataclass(frozen=True)
class LabTally:
    """The verdict of a lab run with the run's downtime and the floor the method allows: one old TTL plus the
    delta copy."""

    verdict: Verdict
    old_ttl: int | None
    """The MX TTL served when the MX left the old host (what a cache may still hold)."""
    figures: RunFigures = field(default_factory=RunFigures)

    @property
    def floor(self) -> float | None:
        if self.old_ttl is None:
            return None
        return self.old_ttl + (self.figures.delta_seconds or 0.0)

    def downtime_text(self) -> str:
        figures = self.figures
        if figures.downtime is None:
            return "downtime not measured"
        text = f"downtime {format_duration(figures.downtime)}"
        floor = self.floor
        if not figures.downtime_over:
            return text + " so far, not over"
        if not figures.downtime_proven:
            text += ", end not proven"
        return text + (f" (floor {format_duration(floor)})" if floor is not None else "")

    def lines(self, *, so_far: bool = False) -> list[str]:
        """The tally in three short lines (80 columns hold each): what was sent and where it went, what went
        wrong, and the downtime. `so_far`: said while messages are still queued, whose wait is not over."""
        v = self.verdict
        stranded = f" · stranded {v.stranded}" if v.stranded else ""
        queued = f" · queued {v.queued}" if v.queued else ""
        deferred = f" · senders deferred mail up to {format_duration(v.longest_deferral)}" if v.longest_deferral else ""
        if deferred and so_far and v.queued:
            deferred += " so far"
        return [
            f"sent {v.sent} · old {v.old} · moved {v.moved} · new {v.new}",
            f"lost {v.lost} · duplicated {v.duplicated}{stranded}{queued}",
            f"{self.downtime_text()}{deferred}",
        ]

    def line(self) -> str:
        """`sent N · old M · moved K · new L · lost 0 · duplicated 0 · downtime X s (floor Y s) · ...`."""
        return " · ".join(self.lines())
