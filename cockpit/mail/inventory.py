"""Taking an inventory: the host program lists a store, the cockpit keeps a compact record per message.

Lines are parsed as they arrive (never the whole listing in one buffer), and each record can be handed on
at once (a sync plans its copies while the listing still runs). With the previous pass's inventory the host
skips what it already knows: a known Maildir folder is told as its differences (new, renamed, gone files),
a known mbox prefix is not parsed again; identities of known messages come from the previous records.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from cockpit.mail.events import MailProgress, MailSink, ignore_mail_events
from cockpit.mail.host_call import call_host, encode_line
from cockpit.mail.inventory_model import FolderInventory, MailboxInventory, MboxFingerprint, Message, StoreInventory
from cockpit.mail.store_spec import MailboxRef, StoreSpec
from cockpit.ssh import Clock, HostConnections, SystemClock

PROGRESS_EVERY = 0.25
Listed = Callable[[list[MailboxRef]], None]
"""Called once with the mailboxes, before any of them is listed."""
Found = Callable[[int, str, Message], None]
"""Called for each message found: mailbox index, folder, record."""


def _no_messages(index: int, folder: str, message: Message) -> None:
    """The default: records are only kept."""


class InventoryBuilder:
    """Turns the host's lines into records, filling known messages in from the previous pass."""

    def __init__(
        self,
        spec: StoreSpec,
        previous: StoreInventory | None,
        sink: MailSink,
        clock: Clock,
        store: str,
        on_mailboxes: Listed | None = None,
        on_message: Found | None = None,
    ) -> None:
        self.spec = spec
        self.previous = previous.by_path() if previous is not None and previous.spec == spec else {}
        self.sink = sink
        self.clock = clock
        self.store = store
        self.on_mailboxes = on_mailboxes
        self.on_message = on_message or _no_messages
        self.listed: list[MailboxRef] = []
        self.mailboxes: list[MailboxInventory] = []
        self.count = 0
        self.bytes = 0
        self.started = clock.monotonic()
        self._last = self.started
        self._box: dict[str, Any] | None = None
        self._folders: list[FolderInventory] = []
        self._folder: str | None = None
        self._messages: list[Message] = []
        self._current: dict[str, Message] = {}
        self._differences = False
        self._fingerprint: MboxFingerprint | None = None
        self._interrupted: int | None = None
        self._strings: dict[str, str] = {}

    def on_value(self, value: Any) -> None:
        if isinstance(value, list):
            self._message(value)
        elif "folder" in value:
            self._end_folder()
            self._start_folder(value["folder"])
        elif "mailbox" in value:
            self._box = value
            self._folders, self._fingerprint, self._interrupted = [], None, None
        elif "mailboxes" in value:
            self.listed = [MailboxRef(b["path"], b.get("user", ""), b.get("domain", "")) for b in value["mailboxes"]]
            if self.on_mailboxes is not None:
                self.on_mailboxes(self.listed)
        elif "end_mailbox" in value:
            self._end_mailbox()
        elif "gone" in value:
            for key in value["gone"]:
                self._current.pop(key, None)
        elif "reuse" in value:
            for message in self._previous_messages():
                self._add(message)
        elif "mbox_state" in value:
            state = value["mbox_state"]
            self._fingerprint = MboxFingerprint(state["dev"], state["ino"], state["end"], state["sha"])
        elif "interrupted" in value:
            self._interrupted = int(value["interrupted"])

    def _previous_messages(self) -> tuple[Message, ...]:
        mailbox = self.previous.get(self._box["path"]) if self._box is not None else None
        folder = mailbox.folder(self._folder) if mailbox is not None and self._folder is not None else None
        return folder.messages if folder is not None else ()

    def _start_folder(self, name: str) -> None:
        """A Maildir folder the host knows from the last pass is told as differences from it (see the host's
        `inventory_maildir`); anything else comes message by message, each handed on at once."""
        self._folder = name
        self._messages = []
        self._current = {}
        self._differences = False
        if self.spec.format == "maildir":
            before = self._previous_messages()
            if before:
                self._current = {m.key: m for m in before}
                self._differences = True

    def _shared(self, text: str) -> str:
        found = self._strings.get(text)
        if found is None:
            found = self._strings[text] = sys.intern(text)
        return found

    def _message(self, value: list[Any]) -> None:
        if value[0] == "=":
            _, before, key, size, flags, subdir = value
            known = self._current.pop(before, None)
            if known is None or not self._differences:
                raise ValueError(f"the host reported {before} as renamed, but the previous pass does not have it")
            self._current[key] = Message(
                key, size, known.digest, known.message_id, self._shared(flags), self._shared(subdir)
            )
            return
        key, size, digest, message_id, flags, subdir = value
        message = Message(key, size, bytes.fromhex(digest), message_id, self._shared(flags), self._shared(subdir))
        if self._differences:
            self._current[key] = message
        else:
            self._add(message)

    def _add(self, message: Message) -> None:
        self._messages.append(message)
        self.count += 1
        self.bytes += message.size
        assert self._folder is not None
        self.on_message(len(self.mailboxes), self._folder, message)
        if not self.count & 255:
            now = self.clock.monotonic()
            if now - self._last >= PROGRESS_EVERY:
                self._last = now
                self.report()

    def _end_folder(self) -> None:
        if self._folder is None:
            return
        if self._differences:
            for message in self._current.values():
                self._add(message)
        self._folders.append(FolderInventory(self._folder, tuple(self._messages)))
        self._folder, self._messages, self._current, self._differences = None, [], {}, False

    def _end_mailbox(self) -> None:
        self._end_folder()
        assert self._box is not None
        ref = self.listed[len(self.mailboxes)]
        self.mailboxes.append(
            MailboxInventory(ref, bool(self._box["exists"]), tuple(self._folders), self._fingerprint, self._interrupted)
        )
        self._box = None

    def report(self) -> None:
        elapsed = max(self.clock.monotonic() - self.started, 1e-9)
        mailbox = self.listed[len(self.mailboxes)].name if len(self.mailboxes) < len(self.listed) else ""
        self.sink(
            MailProgress(
                self.clock.now(),
                "inventory",
                self.store,
                mailbox,
                self.count,
                0,
                self.bytes,
                0,
                self.bytes / elapsed,
                None,
            )
        )

    def result(self) -> StoreInventory:
        return StoreInventory(self.spec, tuple(self.mailboxes))


def known_state(previous: StoreInventory | None, spec: StoreSpec) -> Iterator[bytes]:
    """What the host may skip, from the previous pass of the same store."""
    if previous is None or previous.spec != spec:
        return
    for mailbox in previous.mailboxes:
        path = mailbox.ref.path
        if mailbox.fingerprint is not None:
            f = mailbox.fingerprint
            yield encode_line({"path": path, "mbox": {"dev": f.device, "ino": f.inode, "end": f.end, "sha": f.sha256}})
        elif spec.format == "maildir":
            for folder in mailbox.folders:
                known = {m.key: m.size for m in folder.messages}
                yield encode_line({"path": path, "folder": folder.name, "known": known})


def pattern_params(spec: StoreSpec) -> dict[str, Any]:
    """The host program's parameters to expand a store's path pattern."""
    return {"format": spec.format, "pattern": spec.path, "users": list(spec.users) if spec.users else None}


def paths_params(spec: StoreSpec, mailboxes: Sequence[MailboxRef], lock: str, repair: bool) -> dict[str, Any]:
    """The host program's parameters to list given mailboxes."""
    return {
        "format": spec.format,
        "paths": [{"path": m.path, "user": m.user, "domain": m.domain} for m in mailboxes],
        "lock": lock,
        "repair": repair,
    }


async def take_inventory(
    connections: HostConnections,
    spec: StoreSpec,
    params: dict[str, Any],
    builder: InventoryBuilder,
    previous: StoreInventory | None,
) -> StoreInventory:
    """Runs the host program's inventory with `params` into `builder`."""
    conn = await connections.connect(spec.host)
    await call_host(
        conn, spec.host, "inventory", params, builder.on_value, known_state(previous, spec), lost="during the inventory"
    )
    builder.report()
    return builder.result()


async def expand_store(connections: HostConnections, spec: StoreSpec) -> list[MailboxRef]:
    """The mailboxes the store's path names on its host (fails when it names none); read-only."""
    builder = InventoryBuilder(spec, None, ignore_mail_events, SystemClock(), spec.describe())
    await take_inventory(connections, spec, {**pattern_params(spec), "list_only": True}, builder, None)
    return builder.listed


async def inventory(
    connections: HostConnections,
    spec: StoreSpec,
    *,
    previous: StoreInventory | None = None,
    sink: MailSink = ignore_mail_events,
    clock: Clock | None = None,
    name: str | None = None,
) -> StoreInventory:
    """Every message of the store as its path pattern expands on the host; read-only."""
    builder = InventoryBuilder(spec, previous, sink, clock or SystemClock(), name or spec.describe())
    return await take_inventory(connections, spec, pattern_params(spec), builder, previous)


async def inventory_mailboxes(
    connections: HostConnections,
    spec: StoreSpec,
    mailboxes: Sequence[MailboxRef],
    *,
    previous: StoreInventory | None = None,
    lock: str = "none",
    repair: bool = False,
    sink: MailSink = ignore_mail_events,
    clock: Clock | None = None,
    name: str | None = None,
) -> StoreInventory:
    """The given mailboxes of a store (absent ones are empty). `lock` shared waits for a copy still writing;
    exclusive with `repair` also removes what an interrupted copy of ours left (sync only)."""
    builder = InventoryBuilder(spec, previous, sink, clock or SystemClock(), name or spec.describe())
    return await take_inventory(connections, spec, paths_params(spec, mailboxes, lock, repair), builder, previous)
