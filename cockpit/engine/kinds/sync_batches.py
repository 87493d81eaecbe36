"""`sync` over many mailboxes: the source's mailboxes in batches of whole users (see mail_batches), each batch
one pass of `cockpit.mail.sync`, `concurrency` batches at once; one ItemDone per mailbox.

What the next pass needs is **kept per mailbox**, never per batch (batches are cut afresh each time and may
differ from one pass to the next):

- the state (what both sides held): one `SyncState` for the whole store, in the same file and format as a
  store of one batch has; each batch's pass is handed the mailboxes of that batch from it (by path), and
  its result replaces those mailboxes in it. It is written when a batch ends, before its mailboxes are
  journaled as done, so a mailbox journaled as done always has its state kept. It stays a cache: every pass
  still lists both sides afresh and copies by identity, so a state that is stale or missing costs time only.
- the pass's tally (what the pass copied, per mailbox, and what the source held), in a file beside the
  state (`….pass`): a retry or a resume that skips the mailboxes done earlier adds to it instead of starting
  again, so the pass's `SyncPass` counts every message the pass copied, whichever attempt copied it, and the
  source's totals over every mailbox. A step that starts with no mailbox done starts a new tally. Copies a
  batch made before it failed count too (they are acknowledged as they come); what a batch copied before
  the cockpit was killed (kill -9) is not counted, as nothing is written then: the next attempt finds those
  messages there and copies them no more, so the pass's message count may fall short, never the mail.

Its seconds are the attempts' wall-clock time; its inventory and copy seconds are the shares of that time
the batches spent listing and copying, so a forecast divides by what the step took with its concurrency.

A batch whose pass fails with a mail error that points into one of its mailboxes (the host's program names
the path it could not write or read) fails that mailbox alone, and the batch runs again without it, so its
siblings are copied; an error that names no single mailbox (python3 missing, the disk full, a lost
connection) fails the batch's mailboxes, as it is no mailbox's own.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from cockpit.base.safe_text import visible
from cockpit.base.units import format_count
from cockpit.engine.context import StepContext
from cockpit.engine.fanout import BatchOutcome, ItemError, ItemOutput, fan_out_batches
from cockpit.engine.mail_batches import MailboxBatches
from cockpit.engine.mail_glue import mail_failure, one_domain, write_atomically
from cockpit.mail import DiskFullError, MailError, StoreSpec, SyncResult, SyncState, sync
from cockpit.mail.copy_plan import destination_mailboxes
from cockpit.mail.events import MailEvent
from cockpit.mail.folder_names import plain
from cockpit.mail.inventory_model import MailboxInventory, StoreInventory
from cockpit.mail.store_spec import MailboxRef
from cockpit.mail.sync_state import mailbox_json, state_bytes
from cockpit.plan import SyncStep
from cockpit.ssh import OutputLines, SshError

TALLY_VERSION = 1


@dataclass
class PassTally:
    """One pass so far, per mailbox, across attempts."""

    copied: dict[str, list[int]] = field(default_factory=dict)
    """Mailbox → [messages, bytes] this pass copied into it."""
    source: dict[str, list[int]] = field(default_factory=dict)
    """Mailbox → [messages, bytes] its batch found on the source."""
    seconds: float = 0.0
    """Wall-clock seconds of the attempts before this one."""
    batch_seconds: float = 0.0
    batch_inventory: float = 0.0
    batch_copy: float = 0.0
    """Sums over the batches' passes (they overlap): what share of a batch's time went to listing, to copying."""
    flags_updated: int = 0
    skipped: int = 0

    def to_bytes(self) -> bytes:
        value = {"version": TALLY_VERSION, **self.__dict__}
        return json.dumps(value, separators=(",", ":")).encode()

    @classmethod
    def read(cls, path: Path | None) -> PassTally:
        """The kept tally, or a new one when there is none or it is unreadable (a count may then fall short)."""
        if path is None or not path.is_file():
            return cls()
        try:
            value = json.loads(path.read_bytes())
            if value.pop("version", None) != TALLY_VERSION:
                return cls()
            return cls(**value)
        except (OSError, ValueError, TypeError):
            return cls()

    def add(self, result: SyncResult, names: tuple[str, ...]) -> None:
        """A batch's finished pass."""
        for box in result.mailboxes:
            entry = self.copied.setdefault(box.name, [0, 0])
            entry[0] += box.messages
            entry[1] += box.bytes
        found = {plain(box.ref.name): box for box in result.state.source.mailboxes}
        for name in names:
            seen = found.get(name)
            self.source[name] = [seen.count, seen.bytes] if seen is not None else [0, 0]
        self.batch_seconds += result.seconds
        self.batch_inventory += result.inventory_seconds
        self.batch_copy += result.copy_seconds
        self.flags_updated += result.flags_updated
        self.skipped += result.skipped

    def add_partial(self, copied: dict[str, list[int]]) -> None:
        """What a failed batch's pass copied before it failed."""
        for name, (messages, size) in copied.items():
            entry = self.copied.setdefault(name, [0, 0])
            entry[0] += messages
            entry[1] += size

    def result(self, names: list[str], seconds: float, state: SyncState) -> SyncResult:
        """The whole pass as one result (its summary and forecast read as a store of one batch's do)."""
        messages = sum(self.copied.get(name, [0, 0])[0] for name in names)
        size = sum(self.copied.get(name, [0, 0])[1] for name in names)
        share = seconds / self.batch_seconds if self.batch_seconds > 0 else 0.0
        return SyncResult(
            messages_copied=messages,
            bytes_copied=size,
            skipped=self.skipped,
            flags_updated=self.flags_updated,
            source_messages=sum(self.source.get(name, [0, 0])[0] for name in names),
            source_bytes=sum(self.source.get(name, [0, 0])[1] for name in names),
            seconds=seconds,
            inventory_seconds=min(seconds, self.batch_inventory * share),
            copy_seconds=min(seconds, self.batch_copy * share),
            mailboxes=(),
            state=state,
        )


class MergedState:
    """The whole store's state, mailbox by mailbox (by path), from the last pass and this one's batches. Each
    mailbox is also kept as the JSON the state file holds, so writing it after a batch serialises only that
    batch's mailboxes (the rest is joined and compressed, off the event loop)."""

    def __init__(self, source: StoreSpec, dest: StoreSpec, previous: SyncState | None) -> None:
        self.source_spec, self.dest_spec = source, dest
        self.source: dict[str, MailboxInventory] = {}
        self.dest: dict[str, MailboxInventory] = {}
        self._json: tuple[dict[str, str], dict[str, str]] = ({}, {})
        if previous is not None and previous.source.spec == source:
            self.source = previous.source.by_path()
        if previous is not None and previous.dest.spec == dest:
            self.dest = previous.dest.by_path()
        self._writing = asyncio.Lock()

    def for_batch(self, spec: StoreSpec, refs: list[MailboxRef], dest_refs: list[MailboxRef]) -> SyncState | None:
        """The state a batch's pass starts from: its own mailboxes only, under the batch's store spec."""
        source = tuple(self.source[ref.path] for ref in refs if ref.path in self.source)
        dest = tuple(self.dest[ref.path] for ref in dest_refs if ref.path in self.dest)
        if not source and not dest:
            return None
        return SyncState(StoreInventory(spec, source), StoreInventory(self.dest_spec, dest))

    def take(self, state: SyncState) -> None:
        for side, inventory in zip((self.source, self.dest), (state.source, state.dest), strict=True):
            for box in inventory.mailboxes:
                side[box.ref.path] = box
        for cache, inventory in zip(self._json, (state.source, state.dest), strict=True):
            for box in inventory.mailboxes:
                cache.pop(box.ref.path, None)

    def state(self) -> SyncState:
        return SyncState(
            StoreInventory(self.source_spec, tuple(self.source.values())),
            StoreInventory(self.dest_spec, tuple(self.dest.values())),
        )

    async def write(self, path: Path) -> None:
        """Replaces `path` with the state as it is now (writes one at a time, the last one wins)."""
        async with self._writing:
            sides = []
            for boxes, cache in zip((self.source, self.dest), self._json, strict=True):
                for key, box in boxes.items():
                    if key not in cache:
                        cache[key] = mailbox_json(box)
                sides.append([cache[key] for key in boxes])
            source, dest = (self.source_spec, sides[0]), (self.dest_spec, sides[1])
            await asyncio.to_thread(lambda: write_atomically(path, state_bytes(source, dest)))


def _named(reason: str, part: tuple[str, ...], paths: dict[str, tuple[str, str]]) -> str | None:
    """The one mailbox of `part` that the error's paths point into (its source or destination path, a file
    in it, or a directory above it that holds no other mailbox of the part), if exactly one."""
    found: set[str] = set()
    for named in re.findall(r"/[^\s:,;()'\"]+", reason):
        named = named.rstrip("/.")
        inside = {name for name in part if any(_within(named, path) for path in paths[name])}
        if len(inside) == 1:
            found |= inside
    return found.pop() if len(found) == 1 else None


def _within(named: str, path: str) -> bool:
    return path == named or named.startswith(path + "/") or path.startswith(named + "/")


class BatchedSync:
    """One `sync` step over a store of many mailboxes."""

    def __init__(
        self,
        ctx: StepContext,
        step: SyncStep,
        stores: tuple[StoreSpec, StoreSpec],
        refs: list[MailboxRef],
        batches: MailboxBatches,
        files: tuple[Path | None, Path | None],
        previous: SyncState | None,
    ) -> None:
        self.ctx, self.step = ctx, step
        self.source, self.dest = stores
        self.batches = batches
        self.kept, self.tally_file = files
        self.refs = {plain(ref.name): ref for ref in refs}
        self.domain = one_domain(ctx.plan)
        dest_refs = destination_mailboxes(refs, self.dest, self.domain)  # two mailboxes to one: a MailError
        self.dest_refs = {plain(ref.name): dst for ref, dst in zip(refs, dest_refs, strict=True)}
        self.paths = {name: (self.refs[name].path, self.dest_refs[name].path) for name in self.refs}
        self.merged = MergedState(self.source, self.dest, previous)
        names = set(self.refs)
        continuing = bool(ctx.items_done & names)
        self.tally = PassTally.read(self.tally_file) if continuing else PassTally()

    async def run(self) -> tuple[SyncResult, str]:
        """The whole pass (across attempts) and the fan-out's summary; StepFailed names failed mailboxes."""
        ctx, step = self.ctx, self.step
        started = ctx.clock.monotonic()
        ctx.info(f"{format_count(len(self.refs))} mailboxes of {step.source} in "
                 f"{format_count(len(self.batches.batches))} batches, {step.workers} at once")  # fmt: skip
        earlier = self.tally.seconds
        try:
            outcome = await fan_out_batches(ctx, self.batches.batches, self._batch, noun="mailboxes")
        finally:
            self.tally.seconds = earlier + ctx.clock.monotonic() - started
            self._keep()
        return self.tally.result(list(self.refs), self.tally.seconds, self.merged.state()), outcome.summary()

    async def _batch(self, batch: tuple[str, ...], out: ItemOutput) -> BatchOutcome:
        outcomes: dict[str, str | ItemError] = {}
        pending = [batch]
        while pending:
            part = pending.pop()
            copied: dict[str, list[int]] = {}
            try:
                result = await self._pass(part, out, copied)
            except MailError as exc:
                self.tally.add_partial(copied)
                reason = str(mail_failure(exc, self.ctx))
                if len(part) == 1:
                    outcomes[part[0]] = ItemError(reason)
                    continue
                named = None if isinstance(exc, DiskFullError) else _named(reason, part, self.paths)
                if named is None:
                    outcomes.update(dict.fromkeys(part, ItemError(reason)))
                else:
                    outcomes[named] = ItemError(reason)
                    pending.append(tuple(name for name in part if name != named))
                continue
            except SshError as exc:  # a lost connection: no mailbox's own failure, the part's
                self.tally.add_partial(copied)
                outcomes.update(dict.fromkeys(part, ItemError(str(mail_failure(exc, self.ctx)))))
                continue
            self.tally.add(result, part)
            self.merged.take(result.state)
            if self.kept is not None:
                await self.merged.write(self.kept)
            self._keep()
            done = {box.name: box for box in result.mailboxes}
            for name in part:
                box = done.get(name)
                outcomes[name] = f"copied {box.messages:,} messages" if box is not None else "nothing to copy"
        return outcomes

    async def _pass(self, part: tuple[str, ...], out: ItemOutput, copied: dict[str, list[int]]) -> SyncResult:
        spec = self.batches.spec_for(self.source, part)
        previous = self.merged.for_batch(spec, [self.refs[n] for n in part], [self.dest_refs[n] for n in part])
        host = self.dest.host

        def sink(event: MailEvent) -> None:
            if isinstance(event, OutputLines):
                for text in event.lines:
                    out.line(visible(text), host, event.stream)

        return await sync(self.ctx.services.connections, spec, self.dest, previous=previous, sink=sink,
                          clock=self.ctx.clock, source_name=self.step.source, dest_name=self.step.dest,
                          domain=self.domain, copied=copied)  # fmt: skip

    def _keep(self) -> None:
        """The pass's tally, replaced atomically."""
        if self.tally_file is not None:
            write_atomically(self.tally_file, self.tally.to_bytes())
