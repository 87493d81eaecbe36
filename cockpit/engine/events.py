"""The one stream every face of a run consumes: frozen events, published in order to every listener.

Listeners are called synchronously, in the order they subscribed. The journal subscribes first (ahead of
any face subscribed earlier), so an event is on disk before anyone is shown it, and by the time `publish`
returns an intent or a decision is on disk and the engine may go on to the side effect.
Listeners that live elsewhere (the TUI) hand the event over to their own loop without blocking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from cockpit.dns import Snapshot
from cockpit.engine.states import StepState


@dataclass(frozen=True)
class Event:
    at: float
    """Wall-clock time (seconds since the epoch)."""

    journaled: ClassVar[bool] = True
    durable: ClassVar[bool] = False
    """Fsync the journal after writing it (intents and confirmations)."""


@dataclass(frozen=True)
class RunStarted(Event):
    plan_name: str
    plan_sha256: str
    mode: str
    dry_run: bool
    resumed: bool
    step_ids: tuple[str, ...]
    step_titles: tuple[str, ...] = ()
    mx_states: tuple[str, ...] = ()
    """The plan's MX state names in order: the first is where mail starts, the last where it ends."""
    step_keys: tuple[str, ...] = ()
    """Each step's identity (see step_identity): how a resume of an edited plan finds its steps."""
    operator: str = ""
    """Who runs it: `user@host` of the cockpit, for the report's "confirmed by"."""


@dataclass(frozen=True)
class RunFinished(Event):
    outcome: str
    """done, failed, aborted or stopped (a signal or quit; resumable)."""
    exit_code: int
    durable: ClassVar[bool] = True


@dataclass(frozen=True)
class StepChanged(Event):
    step_id: str
    state: StepState
    attempt: int = 0
    detail: str = ""
    """Why: the failure, the skip reason, the last result."""


@dataclass(frozen=True)
class StepIntent(Event):
    """About to change something on a server: written and synced before the change starts."""

    step_id: str
    attempt: int
    action: str
    durable: ClassVar[bool] = True


@dataclass(frozen=True)
class ItemDone(Event):
    """One item of a step that fans out (a zone, a mailbox, a domain) reached its goal: a retry or a resume
    of the step does not redo it."""

    step_id: str
    attempt: int
    item: str
    detail: str = ""


@dataclass(frozen=True)
class ItemFailed(Event):
    """One item of a step that fans out failed; its siblings go on. `lines` are its last output lines."""

    step_id: str
    attempt: int
    item: str
    reason: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepProgress(Event):
    """A waiting step's progress in words: `2 of 4 pairs serve parking`."""

    step_id: str
    text: str
    done: int = 0
    total: int = 0
    journaled: ClassVar[bool] = False


@dataclass(frozen=True)
class ItemsProgress(StepProgress):
    """A fan-out's progress (`498 of 500 zones done · 16 running · 2 failed`), at most one a second: journaled,
    so that an observer and a report see N of M, which the ItemDone records alone do not say."""

    journaled: ClassVar[bool] = True


@dataclass(frozen=True)
class OutputLine(Event):
    step_id: str
    host: str
    stream: str
    """stdout, stderr, or info (the cockpit's own remarks on the step)."""
    text: str


@dataclass(frozen=True)
class TransferProgress(Event):
    step_id: str
    done_bytes: int
    total_bytes: int | None
    rate: float
    """Bytes per second."""
    eta: float | None
    journaled: ClassVar[bool] = False


@dataclass(frozen=True)
class InventoryTaken(Event):
    """What an inventory found, per mailbox: (mailbox, folders, messages, bytes); the full list is kept beside
    the journal."""

    step_id: str
    store: str
    mailboxes: tuple[tuple[str, int, int, int], ...]


@dataclass(frozen=True)
class SyncPass(Event):
    """One sync pass's volume and duration: what the forecast of the next pass (the delta) is made from."""

    step_id: str
    source: str
    dest: str
    messages: int
    bytes: int
    seconds: float
    source_messages: int
    source_bytes: int
    inventory_seconds: float
    copy_seconds: float


@dataclass(frozen=True)
class VerifyDone(Event):
    """A verify's verdict and the folders that differ."""

    step_id: str
    source: str
    dest: str
    ok: bool
    verdict: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class DrainObserved(Event):
    """A drained store: when mail last arrived while it was watched (None: nothing did), quiet since when."""

    step_id: str
    store: str
    last_arrival: float | None
    quiet_since: float


@dataclass(frozen=True)
class MxReplaced(Event):
    """An MX RRset replaced through the plan's route: what it held before (for undo) and holds now."""

    step_id: str
    domain: str
    zone: str
    before: tuple[tuple[int | None, str], ...]
    after: tuple[tuple[int | None, str], ...]
    ttl: int | None
    via: str
    durable: ClassVar[bool] = True


@dataclass(frozen=True)
class Retreat(Event):
    """An operator's retreat outside the step order: parking the MX, or undoing a dns_update step."""

    action: str
    """park or undo."""
    step_id: str
    outcome: str
    """done, refused or failed, with the reason after a colon."""


@dataclass(frozen=True)
class ForecastMade(Event):
    """The downtime forecast as it stands before the downtime starts (engine/forecast.py): the total of the
    parts with an estimate, and each part as (step_id, part, seconds or None, basis)."""

    total: float
    parts: tuple[tuple[str, str, float | None, str], ...]


@dataclass(frozen=True)
class ListenerProven(Event):
    """A listening new MTA was proven: a canary delivered through the MX served then (`through_mx`), or the
    new MTA's port found open. What ends the downtime (see downtime.py)."""

    step_id: str
    through_mx: bool
    detail: str = ""


@dataclass(frozen=True)
class Decision(Event):
    """What the operator (or --yes / --decide) said about a step."""

    step_id: str
    action: str
    """An answer (go, skip, retry, rerun, mark-done) or a command (abort, pause, resume, extend)."""
    source: str
    """Who: operator (a key, a dialog or a line on stdin), --yes or --decide."""
    reason: str = ""
    durable: ClassVar[bool] = True


@dataclass(frozen=True)
class CountdownSet(Event):
    """A countdown's deadline as wall-clock time, so a restarted cockpit continues it."""

    step_id: str
    deadline: float
    total: float
    paused_remaining: float | None = None
    why: str = ""


@dataclass(frozen=True)
class CountdownTick(Event):
    step_id: str
    remaining: float
    total: float
    paused: bool
    journaled: ClassVar[bool] = False


@dataclass(frozen=True)
class DnsFlip(Event):
    """A (domain, nameserver) pair changed the MX state it serves."""

    domain: str
    nameserver: str
    before: str | None
    after: str
    ttl: int | None
    detail: str = ""
    previous_ttl: int | None = None
    """The largest TTL the pair served for its previous MX."""
    expires: tuple[float, int, float] | None = None
    """(until, ttl, since): when the last cached copy of the previous MX expires at the latest."""


@dataclass(frozen=True)
class DnsTtl(Event):
    """A (domain, nameserver) pair served its MX with another TTL (or was seen for the first time)."""

    domain: str
    nameserver: str
    before: int | None
    after: int


@dataclass(frozen=True)
class DnsRound(Event):
    """One polling round of every pair, as the DNS layer's frozen snapshot."""

    snapshot: Snapshot
    journaled: ClassVar[bool] = False


@dataclass(frozen=True)
class Asking(Event):
    """The run waits for the operator: which step, what kind of answer, and the question."""

    step_id: str
    kind: str
    """gate, confirm, failed or interrupted."""
    question: str
    answers: tuple[str, ...]
    journaled: ClassVar[bool] = False


@dataclass(frozen=True)
class Notice(Event):
    level: str
    """info, warning or error."""
    text: str


Listener = Callable[[Event], None]


@dataclass
class EventBus:
    """Synchronous fan-out; a listener that raises is removed and reported, never stops the run."""

    listeners: tuple[Listener, ...] = ()
    """Replaced, never changed in place: a publish goes through the listeners there were when it began."""
    failures: list[str] = field(default_factory=list)

    def subscribe(self, listener: Listener, *, first: bool = False) -> Callable[[], None]:
        """Listen from now on; `first` puts the listener before those already there (the journal)."""
        self.listeners = (listener, *self.listeners) if first else (*self.listeners, listener)
        return lambda: self._drop(listener)

    def _drop(self, listener: Listener) -> None:
        if listener in self.listeners:
            kept = list(self.listeners)
            kept.remove(listener)
            self.listeners = tuple(kept)

    def publish(self, event: Event) -> None:
        for listener in self.listeners:
            try:
                listener(event)
            except Exception as exc:
                if getattr(listener, "critical", False):
                    raise
                self._drop(listener)
                self.failures.append(f"{getattr(listener, '__qualname__', listener)}: {type(exc).__name__}")
