"""The run journal: append-only JSON Lines beside the plan, one `os.write` per record, each with a checksum.

A record is written whole or not at all as far as a crash of this process goes (one write on an O_APPEND
descriptor); a torn last line (power loss) is detected by its checksum and ignored on reading. Intents and
decisions are fsynced before the engine acts on them.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from cockpit.engine.events import DnsFlip, DnsRound, Event, OutputLine, StepChanged

FORMAT = 1
MAX_OUTPUT_HEAD = 400
"""Output lines journaled at the start of each step attempt; after that only the last MAX_OUTPUT_TAIL."""
MAX_OUTPUT_TAIL = 200
MAX_LINE_CHARS = 2000


class JournalError(Exception):
    """The journal cannot be read or written; the message says which file and what to do."""


def journal_path(plan_path: Path) -> Path:
    """The journal of a plan file: keyed on the resolved file (a symlink shares its target's journal and lock)
    and its whole name (`move.yaml` and `move.yml` in one folder have a journal each)."""
    resolved = plan_path.resolve()
    return resolved.parent / ".cockpit" / f"{resolved.name}.journal"


def adopt_legacy_journal(plan_path: Path, plan_sha256: str) -> Path | None:
    """Rename a journal named after the plan's stem alone (as earlier versions did) to the current name, when
    it surely belongs to this plan: no other plan file shares the stem, or its first run pinned this plan's
    digest. Returns the adopted journal's old path."""
    current = journal_path(plan_path)
    resolved = plan_path.resolve()
    legacy = current.with_name(f"{resolved.stem}.journal")
    if current.exists() or not legacy.is_file():
        return None
    siblings = [
        p for p in resolved.parent.glob(f"{glob_escape(resolved.stem)}.*")
        if p.suffix in (".yaml", ".yml") and p.name != resolved.name
    ]  # fmt: skip
    if siblings:
        first = next((r for r in read_journal(legacy).records if r.get("type") == "RunStarted"), None)
        if first is None or first.get("plan_sha256") != plan_sha256:
            return None
    legacy.rename(current)
    return legacy


def glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _checksum(body: str) -> str:
    return f"{zlib.crc32(body.encode()):08x}"


def encode(record: dict[str, Any]) -> bytes:
    body = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)
    return f'{body[:-1]},"crc":"{_checksum(body)}"}}\n'.encode()


def _default(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not journaled")


def decode(line: bytes) -> dict[str, Any] | None:
    """The record, or None when the line is torn or its checksum does not match."""
    if not line.endswith(b"\n"):
        return None
    try:
        text = line.decode()
        head, sep, tail = text.rstrip("\n").rpartition(',"crc":"')
        if not sep or not tail.endswith('"}') or len(tail) != 10:
            return None
        body = head + "}"
        if _checksum(body) != tail[:8]:
            return None
        record = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def event_record(event: Event) -> dict[str, Any]:
    record: dict[str, Any] = {"type": type(event).__name__}
    for item in dataclasses.fields(event):
        record[item.name] = getattr(event, item.name)
    return record


def output_record(event: OutputLine) -> dict[str, Any]:
    record = event_record(event)
    if len(event.text) > MAX_LINE_CHARS:
        record["text"] = event.text[:MAX_LINE_CHARS] + " [cut]"
    return record


class _AttemptOutput:
    """One step attempt's output as the journal keeps it: the first lines written as they come, the last ones
    held back until the attempt ends (most never become records), and how many went past the head."""

    __slots__ = ("head", "past_head", "tail")

    def __init__(self) -> None:
        self.head = 0
        self.past_head = 0
        self.tail: deque[OutputLine] = deque(maxlen=MAX_OUTPUT_TAIL)


class JournalWriter:
    """Appends records; subscribed first on the event bus, and critical: a failed write stops the run."""

    critical = True

    def __init__(self, path: Path, records: int = 0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._seq = 0
        self.records = records
        """Intact records in the file: those it held when opened and those written since."""
        self.failure: JournalError | None = None
        """Set by the first failed write; later records are dropped (the file is intact up to `records`),
        but an intent raises again: no server may be changed without its intent on disk."""
        self.on_failure: Callable[[JournalError], None] | None = None
        """Called once, at the first failed write (the run stops)."""
        self._outputs: dict[tuple[str, int], _AttemptOutput] = {}
        """Each step attempt's output so far, by (step id, attempt)."""
        self._current: dict[str, _AttemptOutput] = {}
        """The same, by step id, for the attempt running now: the one lookup an output line costs."""
        self._attempt: dict[str, int] = {}
        self._dns: dict[tuple[str, str], str] = {}
        """The MX state of each (domain, nameserver) pair as the journal of this run has it."""
        self._serials: dict[tuple[str, str], int | None] = {}
        """And the SOA serial it served with it (a run that ends while serials differ is worth a warning)."""

    def write(self, record: dict[str, Any], *, durable: bool = False) -> None:
        if self.failure is not None:
            if record.get("type") == "StepIntent":
                raise self.failure
            return
        if self._fd is None:
            raise JournalError(f"{self.path}: journal is closed")
        self._seq += 1
        data = encode({"seq": self._seq, "v": FORMAT, **record})
        try:
            written = os.write(self._fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            if durable:
                os.fsync(self._fd)
        except OSError as exc:
            self.failure = JournalError(self._failure_text(exc))
            if self.on_failure is not None:
                self.on_failure(self.failure)
            raise self.failure from None
        self.records += 1

    def _failure_text(self, exc: OSError) -> str:
        intact = f"the journal is intact up to record {self.records}"
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return (f"the disk is full: cannot write the journal {self.path} ({exc.strerror}); {intact} — free "
                    "space there and run again to resume")  # fmt: skip
        return f"cannot write the journal {self.path} ({exc.strerror}); {intact} — fix it and run again to resume"

    def __call__(self, event: Event) -> None:
        if isinstance(event, OutputLine):  # first: the flood of a job's output costs one check
            self._output(event)
            return
        if isinstance(event, DnsRound):
            self._dns_round(event)
            return
        if not event.journaled:
            return
        if isinstance(event, DnsFlip):
            self._dns[(event.domain, event.nameserver)] = event.after
        if isinstance(event, StepChanged):
            if self._attempt.get(event.step_id) != event.attempt:
                self._current.pop(event.step_id, None)
            self._attempt[event.step_id] = event.attempt
            if not event.state.active:
                self._flush_tail(event.step_id, event.attempt)
        self.write(event_record(event), durable=event.durable)

    def _output(self, event: OutputLine) -> None:
        output = self._current.get(event.step_id)
        if output is None:
            key = (event.step_id, self._attempt.get(event.step_id, 0))
            output = self._outputs.setdefault(key, _AttemptOutput())
            self._current[event.step_id] = output
        if output.head < MAX_OUTPUT_HEAD:
            output.head += 1
            self.write(output_record(event))
            return
        output.past_head += 1
        output.tail.append(event)

    def _dns_round(self, event: DnsRound) -> None:
        """Journal the MX state and serial of each pair whose state or serial the journal does not say yet: the
        first round of each run names all the pairs (one that never flips included) and catches flips made while
        no cockpit watched; later rounds name only what changed (a serial that moves every round on one server
        costs one line's worth, not all 10,000 pairs' again). Readers take each record's pairs as updates."""
        known, serials = self._dns, self._serials
        changed: list[list[object]] = []
        for view in event.snapshot.pairs:
            state = view.state
            if state is None:
                continue
            pair = (view.pair.domain, view.pair.server.label)
            serial = view.observation.serial
            if known.get(pair) != state or serials.get(pair) != serial:
                known[pair], serials[pair] = state, serial
                changed.append([pair[0], pair[1], state, serial])
        if changed:
            changed.sort(key=lambda entry: (str(entry[0]), str(entry[1])))
            self.write({"type": "DnsStates", "at": event.at, "pairs": changed})

    def _flush_tail(self, step_id: str, attempt: int) -> None:
        output = self._outputs.pop((step_id, attempt), None)
        if output is None:
            return
        if self._current.get(step_id) is output:
            del self._current[step_id]
        omitted = output.past_head - len(output.tail)
        if omitted:
            self.write({"type": "OutputOmitted", "step_id": step_id, "lines": omitted})
        for event in output.tail:
            self.write(output_record(event))

    def sync(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            try:
                for step_id, attempt in list(self._outputs):
                    self._flush_tail(step_id, attempt)
                os.fsync(self._fd)
            except (JournalError, OSError):
                if self.failure is None:
                    raise
            finally:
                os.close(self._fd)
                self._fd = None


@dataclass(frozen=True)
class JournalContents:
    records: tuple[dict[str, Any], ...]
    torn_tail: bool
    """The last line was incomplete or damaged and was ignored."""
    intact_bytes: int = 0
    """Length of the file up to the end of the last intact record: where the next record must start."""


def read_journal(path: Path) -> JournalContents:
    """Every intact record; a damaged line before the last is an error (the file was edited or corrupted)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return JournalContents((), False)
    except OSError as exc:
        raise JournalError(f"{path}: cannot read the journal: {exc.strerror}") from None
    lines = data.splitlines(keepends=True)
    records: list[dict[str, Any]] = []
    torn = False
    intact = 0
    for number, line in enumerate(lines, start=1):
        record = decode(line)
        if record is None:
            if number == len(lines):
                torn = True
                break
            raise JournalError(
                f"{path}:{number}: damaged journal record (checksum mismatch); "
                "the journal was edited or the disk is failing — move it away to start over (--fresh)"
            )
        records.append(record)
        intact += len(line)
    return JournalContents(tuple(records), torn, intact)


def cut_torn_tail(path: Path, contents: JournalContents, stamp: str) -> Path | None:
    """Truncate a torn last record so that the next one starts on a line of its own, keeping what was cut in
    a file beside the journal; returns that file (None when there was nothing to cut)."""
    if not contents.torn_tail:
        return None
    try:
        with path.open("rb") as handle:
            handle.seek(contents.intact_bytes)
            tail = handle.read()
        kept = path.with_name(f"{path.name}.torn-{stamp}")
        number = 1
        while kept.exists():
            kept, number = path.with_name(f"{path.name}.torn-{stamp}-{number}"), number + 1
        fd = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, tail)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.truncate(path, contents.intact_bytes)
    except OSError as exc:
        raise JournalError(f"{path}: cannot cut the torn last record: {exc.strerror}") from None
    return kept
