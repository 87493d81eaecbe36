"""The journal: one checksummed record per write, torn tails ignored, damage refused, output bounded."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from cockpit.engine.events import EventBus, OutputLine, StepChanged, StepIntent
from cockpit.engine.journal import (
    MAX_OUTPUT_HEAD,
    MAX_OUTPUT_TAIL,
    JournalError,
    JournalWriter,
    decode,
    encode,
    journal_path,
    read_journal,
)
from cockpit.engine.lock import LockHeld, PlanLock
from cockpit.engine.resume import resume_point
from cockpit.engine.states import StepState


def test_record_round_trip_and_checksum() -> None:
    line = encode({"type": "X", "text": 'naïve "quoted" \\ back', "n": 3})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode(line) == {"type": "X", "text": 'naïve "quoted" \\ back', "n": 3}
    flipped = line.replace(b'"n":3', b'"n":4')
    assert decode(flipped) is None
    assert decode(line[:-1]) is None  # torn: no newline


def test_journal_beside_the_plan(tmp_path: Path) -> None:
    assert journal_path(tmp_path / "move.yaml") == tmp_path / ".cockpit" / "move.yaml.journal"


def test_torn_last_record_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "j"
    writer = JournalWriter(path)
    writer.write({"type": "A"})
    writer.write({"type": "B"})
    writer.close()
    data = path.read_bytes()
    path.write_bytes(data[:-7])
    contents = read_journal(path)
    assert [r["type"] for r in contents.records] == ["A"]
    assert contents.torn_tail


def test_damaged_middle_record_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j"
    writer = JournalWriter(path)
    for name in "ABC":
        writer.write({"type": name})
    writer.close()
    path.write_bytes(path.read_bytes().replace(b'"type":"B"', b'"type":"X"'))
    with pytest.raises(JournalError, match=r"j:2: damaged journal record \(checksum mismatch\)"):
        read_journal(path)


def test_each_record_is_one_write_on_an_append_descriptor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writes: list[bytes] = []
    real_write = os.write

    def spy(fd: int, data: bytes) -> int:
        writes.append(bytes(data))
        return real_write(fd, data)

    writer = JournalWriter(tmp_path / "j")
    monkeypatch.setattr(os, "write", spy)
    writer(StepIntent(1.0, "s", 1, "rm x"))
    writer(StepChanged(2.0, "s", StepState.DONE, 1, "ok"))
    monkeypatch.undo()
    writer.close()
    assert len(writes) == 2 and all(w.endswith(b"\n") and w.count(b"\n") == 1 for w in writes)


def test_the_descriptor_appends(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path / "j")
    assert writer._fd is not None
    assert fcntl.fcntl(writer._fd, fcntl.F_GETFL) & os.O_APPEND
    writer.close()


def test_intents_are_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    writer = JournalWriter(tmp_path / "j")
    writer(StepChanged(1.0, "s", StepState.RUNNING, 1, ""))
    assert synced == []
    writer(StepIntent(1.0, "s", 1, "x"))
    assert len(synced) == 1
    writer.close()


def test_output_is_bounded_per_step_keeping_head_and_tail(tmp_path: Path) -> None:
    path = tmp_path / "j"
    writer = JournalWriter(path)
    bus = EventBus()
    bus.subscribe(writer)
    bus.publish(StepChanged(0.0, "s", StepState.RUNNING, 1, ""))
    total = MAX_OUTPUT_HEAD + MAX_OUTPUT_TAIL + 1000
    for n in range(total):
        bus.publish(OutputLine(0.0, "s", "old", "stdout", f"line {n}" + ("x" * 5000 if n == 0 else "")))
    bus.publish(StepChanged(0.0, "s", StepState.DONE, 1, ""))
    writer.close()
    records = read_journal(path).records
    lines = [r["text"] for r in records if r["type"] == "OutputLine"]
    assert len(lines) == MAX_OUTPUT_HEAD + MAX_OUTPUT_TAIL
    assert lines[0].endswith(" [cut]") and len(lines[0]) < 2100
    assert lines[MAX_OUTPUT_HEAD - 1] == f"line {MAX_OUTPUT_HEAD - 1}"
    assert lines[-1] == f"line {total - 1}"
    omitted = [r for r in records if r["type"] == "OutputOmitted"]
    assert omitted[0]["lines"] == 1000


def test_a_failed_write_stops_the_run(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path / "j")
    bus = EventBus()
    bus.subscribe(writer)
    writer.close()
    with pytest.raises(JournalError, match="journal is closed"):
        bus.publish(StepIntent(0.0, "s", 1, "x"))


def test_lock_refuses_a_second_cockpit_and_names_the_holder(tmp_path: Path) -> None:
    first = PlanLock(tmp_path / "p.lock")
    first.acquire()
    with pytest.raises(LockHeld, match=rf"already being run by pid {os.getpid()} on "):
        PlanLock(tmp_path / "p.lock").acquire()
    first.release()
    again = PlanLock(tmp_path / "p.lock")
    again.acquire()
    assert again.took_over is None
    again.release()


def test_stale_lock_is_taken_over(tmp_path: Path) -> None:
    (tmp_path / "p.lock").write_text('{"pid": 999999, "host": "old-box", "started": 1.0}')
    lock = PlanLock(tmp_path / "p.lock")
    lock.acquire()
    assert lock.took_over == {"pid": 999999, "host": "old-box", "started": 1.0}
    lock.release()


def test_resume_rules() -> None:
    def changed(step: str, state: StepState, attempt: int = 1) -> dict[str, object]:
        return {
            "type": "StepChanged",
            "step_id": step,
            "state": state.value,
            "attempt": attempt,
            "detail": "",
        }

    records = [
        {"type": "RunStarted", "plan_sha256": "abc"},
        changed("done", StepState.RUNNING), {"type": "StepIntent", "step_id": "done", "attempt": 1},
        changed("done", StepState.DONE),
        changed("cut", StepState.RUNNING), {"type": "StepIntent", "step_id": "cut", "attempt": 1},
        changed("wait", StepState.WAITING_DNS),
        changed("failed", StepState.FAILED),
        changed("retrying", StepState.RUNNING), {"type": "StepIntent", "step_id": "retrying", "attempt": 1},
        changed("retrying", StepState.FAILED), changed("retrying", StepState.PENDING),
        {"type": "CountdownSet", "step_id": "wait", "deadline": 50.0, "total": 10.0, "paused_remaining": None, "why": "w"},
    ]  # fmt: skip
    point = resume_point(records)
    assert point.plan_sha256 == "abc"
    assert point.states["done"][0] == StepState.DONE
    assert point.states["cut"][0] == StepState.INTERRUPTED
    assert point.states["wait"][0] == StepState.PENDING
    assert point.states["failed"][0] == StepState.FAILED
    assert point.states["retrying"][0] == StepState.PENDING
    assert point.countdowns == {"wait": (50.0, 10.0, None, "w")}
