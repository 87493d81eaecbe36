"""Following a journal as it grows: whole records only, checked; every journaled event comes back as itself."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cockpit.engine.events import (
    CountdownSet,
    Decision,
    DnsFlip,
    DnsTtl,
    DrainObserved,
    Event,
    ForecastMade,
    InventoryTaken,
    ItemDone,
    ItemFailed,
    ItemsProgress,
    ListenerProven,
    MxReplaced,
    Notice,
    OutputLine,
    Retreat,
    RunFinished,
    RunStarted,
    StepChanged,
    StepIntent,
    SyncPass,
    VerifyDone,
)
from cockpit.engine.journal import JournalError, JournalWriter, encode, event_record
from cockpit.engine.journal_tail import EVENT_CLASSES, JournalReplaced, JournalTail, record_event
from cockpit.engine.states import StepState

AT = 1_800_000_000.5

SAMPLES: list[Event] = [
    RunStarted(
        AT, "Move", "ab" * 32, "step", False, True, ("a", "b"), ("A", "B"), ("old", "new"), ("k1", "k2"), "op@h"
    ),
    RunFinished(AT, "done", 0),
    StepChanged(AT, "a", StepState.COUNTING_DOWN, 2, "waiting"),
    StepIntent(AT, "a", 1, "run: x"),
    ItemDone(AT, "a", 2, "example.org", "MX of example.org → new"),
    ItemsProgress(AT, "a", "1 of 2 zones done · 1 running", 1, 2),
    ItemFailed(AT, "a", 2, "example.net", "NOTAUTH from ns1 for zone example.net", ("reading the MX", "update sent")),
    OutputLine(AT, "a", "old", "stdout", "hello"),
    InventoryTaken(AT, "a", "old-store", (("alice", 3, 1024, 0), ("bob", 0, 0, 0))),
    SyncPass(AT, "a", "old-store", "new-store", 3, 1024, 0.5, 10, 4096, 0.1, 0.4),
    VerifyDone(AT, "a", "old-store", "new-store", True, "all 10 messages are on new-store", ("alice: 3 = 3",)),
    DrainObserved(AT, "a", "old-store", None, AT - 5),
    MxReplaced(
        AT, "a", "example.com", "example.com", ((10, "mail.old."),), ((10, "parking."), (None, "x.")), 60, "rfc2136"
    ),
    Retreat(AT, "park", "", "done"),
    ForecastMade(AT, 12.5, (("a", "flip", 1.5, "measured"), ("b", "copy", None, "no estimate"))),
    ListenerProven(AT, "a", True, "canary delivered"),
    Decision(AT, "a", "go", "operator", ""),
    CountdownSet(AT, "a", AT + 60, 60.0, None, "old TTL"),
    CountdownSet(AT, "a", AT + 60, 60.0, 12.0, "paused"),
    DnsFlip(
        AT, "example.com", "ns1", None, "parking", 60, "old → parking", previous_ttl=300, expires=(AT, 300, AT + 300)
    ),
    DnsTtl(AT, "example.com", "ns1", 300, 60),
    Notice(AT, "warning", "careful"),
]


def test_every_journaled_event_type_has_a_sample() -> None:
    assert {type(e).__name__ for e in SAMPLES} == set(EVENT_CLASSES)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_a_record_comes_back_as_the_event_it_was_made_from(tmp_path: Path, event: Event) -> None:
    path = tmp_path / "j"
    path.write_bytes(encode({"seq": 1, "v": 1, **event_record(event)}))
    (record,) = JournalTail(path).read()
    assert record_event(record) == event


def test_records_that_are_no_events_or_unknown_or_malformed_are_none() -> None:
    assert record_event({"type": "DnsStates", "at": AT, "pairs": []}) is None
    assert record_event({"type": "OutputOmitted", "step_id": "a", "lines": 3}) is None
    assert record_event({"type": "FromTheFuture", "at": AT}) is None
    assert record_event({"type": "StepChanged", "at": AT, "step_id": "a"}) is None  # no state
    assert record_event({"type": "StepChanged", "at": AT, "step_id": "a", "state": "levitating"}) is None


def test_the_tail_reads_whole_records_as_they_are_appended(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml.journal"
    tail = JournalTail(path)
    assert tail.read() == []  # no run yet
    writer = JournalWriter(path)
    writer(RunStarted(AT, "Move", "", "step", False, False, ("a",)))
    writer(StepChanged(AT, "a", StepState.RUNNING, 1, "go"))
    assert [r["type"] for r in tail.read()] == ["RunStarted", "StepChanged"]
    assert tail.read() == []
    # A record seen half-written waits for its end.
    data = encode({"seq": 3, "v": 1, **event_record(Notice(AT, "info", "half"))})
    with path.open("ab") as handle:
        handle.write(data[:10])
        handle.flush()
        assert tail.read() == []
        handle.write(data[10:])
    assert [r["text"] for r in tail.read()] == ["half"]
    writer.close()


def test_a_damaged_record_stops_the_tail_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml.journal"
    writer = JournalWriter(path)
    writer(Notice(AT, "info", "one"))
    writer.close()
    with path.open("ab") as handle:
        handle.write(encode({"type": "Notice", "at": AT, "level": "info", "text": "two"}).replace(b"two", b"t0o"))
    tail = JournalTail(path)
    with pytest.raises(JournalError, match=r"plan\.yaml\.journal:2: damaged journal record"):
        tail.read()


def test_a_cut_torn_tail_is_dropped_and_a_replaced_journal_is_said(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml.journal"
    writer = JournalWriter(path)
    writer(Notice(AT, "info", "one"))
    writer.close()
    intact = path.stat().st_size
    with path.open("ab") as handle:
        handle.write(b'{"type":"Notice","at":1,"te')  # a crash mid-write
    tail = JournalTail(path)
    assert len(tail.read()) == 1
    os.truncate(path, intact)  # the next run cuts the torn record before it appends
    assert tail.read() == []
    writer = JournalWriter(path)
    writer(Notice(AT, "info", "two"))
    writer.close()
    assert [r["text"] for r in tail.read()] == ["two"]
    # The same, with the next record (longer than the cut bytes) appended before the tail reads again.
    with path.open("ab") as handle:
        handle.write(b'{"type":"Notice","at":1,"te')
    assert tail.read() == []
    os.truncate(path, path.stat().st_size - 27)
    writer = JournalWriter(path)
    writer(Notice(AT, "info", "three, a record much longer than the torn bytes were"))
    writer.close()
    assert [r["text"] for r in tail.read()] == ["three, a record much longer than the torn bytes were"]

    path.rename(path.with_name("plan.yaml.journal.20261201-060000"))
    JournalWriter(path).close()
    with pytest.raises(JournalReplaced, match="archived and a new one started"):
        tail.read()
