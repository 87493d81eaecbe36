"""Following a journal another process appends to (`cockpit observe`): complete records only, each checked,
turned back into the events the run published.

The writer appends each record with one `os.write`, so a reader may see a record's first bytes before its
newline: such a line waits until it is whole. A whole line whose checksum does not match is damage (the file
was edited or the disk fails), and following stops there with one line saying so. A `--fresh` run renames
the journal away and starts a new file: the tail notices the new file and says so.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import Any

from cockpit.engine import events as event_types
from cockpit.engine.events import Event
from cockpit.engine.journal import JournalError, decode
from cockpit.engine.states import StepState

READ_LIMIT = 4 << 20
"""Bytes read per call at most: a long journal is caught up in slices, and the screen stays responsive."""
MAX_PENDING = 8 << 20
"""A line longer than this without its newline is no record of ours (the writer cuts output lines at 2000
characters): following stops rather than hold it."""


class JournalReplaced(JournalError):
    """The journal path now names another file (a fresh run archived the one followed)."""


class JournalTail:
    """Reads what was appended to a journal since the last call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._inode: tuple[int, int] | None = None
        self._offset = 0
        self._pending = b""
        self.lines = 0
        """Whole lines read so far (the next line's number is lines + 1)."""

    def read(self) -> list[dict[str, Any]]:
        """The records appended since the last call (at most READ_LIMIT bytes' worth); [] while the journal
        does not exist yet (no run of the plan started)."""
        if self._fd is None and not self._open():
            return []
        assert self._fd is not None
        self._check_same_file()
        try:
            self._check_pending()
            data = os.pread(self._fd, READ_LIMIT, self._offset)
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot read the journal: {exc.strerror}") from None
        if not data:
            return []
        self._offset += len(data)
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()
        if len(self._pending) > MAX_PENDING:
            raise JournalError(f"{self.path}:{self.lines + 1}: a line of more than {MAX_PENDING} bytes: not a journal")
        records = []
        for line in lines:
            self.lines += 1
            record = decode(line + b"\n")
            if record is None:
                raise JournalError(
                    f"{self.path}:{self.lines}: damaged journal record (checksum mismatch); "
                    "the journal was edited or the disk is failing"
                )
            records.append(record)
        return records

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _open(self) -> bool:
        try:
            self._fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot open the journal: {exc.strerror}") from None
        status = os.fstat(self._fd)
        self._inode = (status.st_dev, status.st_ino)
        return True

    def _check_same_file(self) -> None:
        try:
            status = self.path.stat()
        except FileNotFoundError:
            status = None
        if status is None or (status.st_dev, status.st_ino) != self._inode:
            raise JournalReplaced(
                f"{self.path}: the journal was archived and a new one started (a run with --fresh): "
                "observe again to follow the new run"
            )

    def _check_pending(self) -> None:
        """A new run cuts a torn last record before it appends (and may append at once): when the bytes of
        the unfinished line read so far are no longer there, read on from where that line began."""
        if not self._pending:
            return
        assert self._fd is not None
        start = self._offset - len(self._pending)
        if os.pread(self._fd, len(self._pending), start) != self._pending:
            self._offset, self._pending = start, b""


def _event_classes() -> dict[str, type[Event]]:
    found: dict[str, type[Event]] = {}
    for value in vars(event_types).values():
        if isinstance(value, type) and issubclass(value, Event) and value is not Event and value.journaled:
            found[value.__name__] = value
    return found


EVENT_CLASSES = _event_classes()
"""Journaled event types by the name their records carry."""


def record_event(record: dict[str, Any]) -> Event | None:
    """The event a journal record was made from; None for records that are no event (DnsStates,
    OutputOmitted) or that this version does not know (a newer cockpit wrote them)."""
    cls = EVENT_CLASSES.get(str(record.get("type")))
    if cls is None:
        return None
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for item in dataclasses.fields(cls):
        if item.name not in record:
            if item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING:
                return None
            continue
        try:
            values[item.name] = _typed(record[item.name], hints.get(item.name))
        except (TypeError, ValueError):
            return None
    try:
        return cls(**values)
    except TypeError:
        return None


def _typed(value: Any, hint: Any) -> Any:
    """JSON back into the field's type: lists into tuples, state names into StepState."""
    if hint is StepState:
        return StepState(value)
    if hint is float and isinstance(value, int):
        return float(value)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType) and value is not None:
        for option in typing.get_args(hint):
            if option is not type(None):
                return _typed(value, option)
    if isinstance(value, list):
        args = typing.get_args(hint) if origin is tuple else ()
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_typed(v, args[0]) for v in value)
        if args and len(args) == len(value):
            return tuple(_typed(v, a) for v, a in zip(value, args, strict=True))
        return tuple(_typed(v, None) for v in value)
    return value
