"""The `sync` step: inventory both sides, copy what the destination lacks through the cockpit, and return
what was done plus the state the next pass (the delta) starts from.

The passes overlap their work: the destination's inventory starts as soon as the source has named its
mailboxes, and once it is complete, each source message is decided (and its copy requested) as the source's
listing reaches it. Pre-copy and delta are the same call: the second one is handed the first one's state and
reads only what changed. Whatever interrupted a pass (kill -9, a dropped connection), the next one compares
afresh and copies only what is missing.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from typing import Any

from cockpit.base.units import format_size
from cockpit.mail.copy_plan import CopyPlanner, CopyRequest, FlagUpdate
from cockpit.mail.events import MailSink, ignore_mail_events
from cockpit.mail.folder_names import plain
from cockpit.mail.inventory_model import FolderInventory, Message, StoreInventory
from cockpit.mail.message_pump import Acks, CopyChannels
from cockpit.mail.store_spec import StoreSpec
from cockpit.mail.sync_progress import CopyProgress, MailboxCopy, SyncResult
from cockpit.mail.sync_state import SyncState
from cockpit.mail.two_sides import TwoSides
from cockpit.ssh import Clock, HostConnections, OutputLines, SystemClock

__all__ = ["MailboxCopy", "SyncResult", "sync"]


def _with_written(dest: StoreInventory, acks: Acks) -> StoreInventory:
    """The destination's inventory plus the Maildir files this pass wrote (an mbox's new tail is read again)."""
    if dest.spec.format != "maildir" or not acks.copied:
        return dest
    added: dict[int, dict[str, list[Message]]] = {}
    for request, name, size in acks.copied:
        subdir, _, filename = name.partition("/")
        m = request.message
        flags = filename.partition(":2,")[2]
        added.setdefault(request.mailbox, {}).setdefault(request.folder, []).append(
            Message(name, size, m.digest, m.message_id, flags, subdir)
        )
    boxes = []
    for index, box in enumerate(dest.mailboxes):
        mine = added.get(index)
        if not mine:
            boxes.append(box)
            continue
        folders = {f.name: f for f in box.folders}
        for folder, found in mine.items():
            before = folders.get(folder)
            folders[folder] = FolderInventory(folder, (before.messages if before else ()) + tuple(found))
        boxes.append(replace(box, exists=True, folders=tuple(folders.values())))
    return StoreInventory(dest.spec, tuple(boxes))


class _Pass:
    """One sync pass: the planner decides, the channels copy, the progress reports."""

    def __init__(
        self,
        source: StoreSpec,
        dest: StoreSpec,
        sink: MailSink,
        clock: Clock,
        names: tuple[str, str],
        copied: dict[str, list[int]] | None = None,
    ):
        self.source, self.dest = source, dest
        self.sink, self.clock, self.names = sink, clock, names
        self.progress = CopyProgress(sink, clock, names[1], copied)
        self.channels = CopyChannels((source.host, dest.host), self.progress.on_ack)
        self.planner: CopyPlanner | None = None
        self.waiting: list[tuple[int, str, Message]] = []
        self.announced: set[int] = set()
        self.flag_updates = 0

    def text(self, *lines: str) -> None:
        self.sink(OutputLines(self.clock.now(), "stdout", lines))

    def found(self, mailbox: int, folder: str, message: Message) -> None:
        """Each source message as the source's inventory lists it."""
        if self.planner is None:
            self.waiting.append((mailbox, folder, message))
        else:
            self.route(self.planner.add(mailbox, folder, message))

    def start_planning(self, planner: CopyPlanner) -> None:
        self.planner = planner
        waiting, self.waiting = self.waiting, []
        for item in waiting:
            self.route(planner.add(*item))

    def route(self, decided: CopyRequest | FlagUpdate | None) -> None:
        if isinstance(decided, CopyRequest):
            if decided.mailbox not in self.announced:
                self.announced.add(decided.mailbox)
                self.announce(decided.mailbox)
            self.channels.request(decided)
            self.progress.planned(decided)
        elif isinstance(decided, FlagUpdate):
            self.flag_updates += 1
            self.channels.update_flags(decided)

    def announce(self, mailbox: int) -> None:
        assert self.planner is not None
        src = self.planner.source_refs[mailbox]
        dst = self.planner.dest.mailboxes[mailbox].ref
        self.progress.names[mailbox] = plain(src.name)
        self.text(
            f"{plain(src.name)}: copying what {self.names[1]} lacks, {self.source.host}:{plain(src.path)} → "
            f"{self.dest.host}:{plain(dst.path)}, through the cockpit"
        )


async def sync(
    connections: HostConnections,
    source: StoreSpec,
    dest: StoreSpec,
    *,
    previous: SyncState | None = None,
    sink: MailSink = ignore_mail_events,
    clock: Clock | None = None,
    source_name: str | None = None,
    dest_name: str | None = None,
    domain: str | None = None,
    copied: dict[str, list[int]] | None = None,
) -> SyncResult:
    """Copies every message of `source` that `dest` lacks (as a multiset of identities) through the cockpit.

    `previous` is the state of the last completed pass of the same two stores (or None); `domain` fills a
    destination `{domain}` the source path does not give; `copied` (mailbox name → [messages, bytes]) is
    filled as the destination acknowledges, so a caller knows what a pass that raised did copy. Raises a
    `MailError` (one line) or `ConnectionLostError` (outcome unknown; a rerun copies only what is missing).
    """
    clock = clock or SystemClock()
    names = (plain(source_name or source.describe()), plain(dest_name or dest.describe()))
    started = clock.monotonic()
    prior_src = previous.source if previous is not None and previous.source.spec == source else None
    prior_dst = previous.dest if previous is not None and previous.dest.spec == dest else None
    run = _Pass(source, dest, sink, clock, names, copied)
    async with TwoSides(
        connections,
        source,
        dest,
        sink=sink,
        clock=clock,
        names=names,
        domain=domain,
        previous=(prior_src, prior_dst),
        dest_lock="exclusive",
        repair=True,
        on_source_message=run.found,
    ) as sides:
        opening = asyncio.ensure_future(_open(connections, run.channels, source, dest))
        opening.add_done_callback(lambda task: task.cancelled() or task.exception())  # raised where awaited
        try:
            refs = await sides.listed()
            run.channels.begin(*_params(source, dest, sides))
            dst_inv = await sides.destination()
            run.text(f"{names[1]}: {dst_inv.count:,} messages already there")
            run.start_planning(CopyPlanner(dst_inv, prior_src, refs))
            src_inv = await sides.source(run.channels.receiver_closed)
            if src_inv is not None:
                for decided in run.planner.finish() if run.planner is not None else []:
                    run.route(decided)
                run.progress.all_planned()
                run.text(
                    f"{names[0]}: {len(refs):,} mailboxes, {src_inv.count:,} messages "
                    f"({format_size(src_inv.bytes)}) on {source.host}"
                )
                absent = [plain(box.ref.name) for box in src_inv.mailboxes if not box.exists]
                if absent:
                    run.text(f"{names[0]}: no mailbox on {source.host} for {', '.join(absent)} (nothing to copy)")
            inventory_seconds = clock.monotonic() - started
            await opening
            acks = await run.channels.finish()
            if src_inv is None:  # the receiver ended early; finish() raised its reason unless it had none
                src_inv = await sides.source()
                assert src_inv is not None
        except BaseException:
            opening.cancel()
            run.channels.abort()
            raise
    run.progress.report(acks)
    seconds = clock.monotonic() - started
    result = SyncResult(
        messages_copied=len(acks.copied),
        bytes_copied=sum(r.message.size for r, _, _ in acks.copied),
        skipped=acks.skipped,
        flags_updated=acks.flags_updated,
        source_messages=src_inv.count,
        source_bytes=src_inv.bytes,
        seconds=seconds,
        inventory_seconds=inventory_seconds,
        copy_seconds=run.progress.copy_seconds(),
        mailboxes=run.progress.per_mailbox(acks, [ref.name for ref in refs]),
        state=SyncState(src_inv, _with_written(dst_inv, acks)),
    )
    for box in result.mailboxes:
        run.text(f"{box.name}: {box.messages:,} messages ({format_size(box.bytes)}) copied")
    if not acks.copied and not run.flag_updates:
        run.text(f"nothing to copy: {names[1]} has every message of {names[0]}")
    run.text(f"{names[1]}: {result.summary()}")
    return result


async def _open(connections: HostConnections, channels: CopyChannels, source: StoreSpec, dest: StoreSpec) -> None:
    """Starts the sender and the receiver while the inventories run (they wait for their parameters)."""
    src_conn = await connections.connect(source.host)
    dst_conn = await connections.connect(dest.host)
    await channels.open(src_conn, dst_conn)


def _params(source: StoreSpec, dest: StoreSpec, sides: TwoSides) -> tuple[dict[str, Any], dict[str, Any]]:
    """The sender's and the receiver's parameters, once both sides' mailboxes are known."""
    send: dict[str, Any] = {"format": source.format, "paths": [ref.path for ref in sides.source_refs]}
    receive: dict[str, Any] = {
        "format": dest.format,
        "source_format": source.format,
        "targets": [{"path": ref.path, "user": ref.user} for ref in sides.dest_refs],
        "token": secrets.token_hex(6),
    }
    return send, receive
