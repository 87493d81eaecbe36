"""--accept-plan-change carries each step's state to the same step of the edited plan (by explicit id, else by
phase, kind and content), never by position; when identical steps make that a guess, the resume is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cockpit.base.clock import FakeClock
from cockpit.engine.events import Decision, Event, EventBus, Notice, StepChanged
from cockpit.engine.journal import encode, journal_path, read_journal
from cockpit.engine.options import RunOptions
from cockpit.engine.services import RunServices
from cockpit.engine.session import SessionRefused, open_session
from cockpit.engine.states import StepState
from cockpit.plan import load_plan

HEAD = """\
version: 1
name: Edited plan
domains: [example.com]
mx: {old: a.example.net., new: b.example.net.}
phases:
  - name: p
    steps:
"""


async def run(plan: Path, steps: str, *, accept: bool = True) -> list[Event]:
    plan.write_text(HEAD + steps)
    plan_file = load_plan(plan)
    clock, bus, seen = FakeClock(), EventBus(), []
    bus.subscribe(seen.append)
    services = RunServices(plan_file.plan, plan.parent, clock, bus, watch_dns=False)
    session = open_session(plan_file, options=RunOptions(yes=True), clock=clock, bus=bus, services=services,
                           accept_plan_change=accept)  # fmt: skip
    try:
        assert await session.run.run() == 0
    finally:
        session.close()
    return seen


def asked(events: list[Event]) -> list[str]:
    return [e.step_id for e in events if isinstance(e, Decision)]


def done(events: list[Event]) -> list[str]:
    return [e.step_id for e in events if isinstance(e, StepChanged) and e.state == StepState.DONE]


async def test_an_inserted_step_runs_and_the_others_keep_their_state(tmp_path: Path) -> None:
    plan = tmp_path / "move.yaml"
    first = await run(plan, "      - confirm: Lower the TTL\n      - confirm: Park the MX\n")
    assert asked(first) == ["p-1", "p-2"]
    edited = await run(plan, "      - confirm: Tell the customer\n      - confirm: Lower the TTL\n"
                             "      - confirm: Park the MX\n")  # fmt: skip
    assert asked(edited) == ["p-1"], "only the new step runs; the others were done"
    assert done(edited) == ["p-1"]
    again = await run(plan, "      - confirm: Tell the customer\n      - confirm: Lower the TTL\n"
                            "      - confirm: Park the MX\n", accept=False)  # fmt: skip
    assert asked(again) == [], "the edit was accepted: the next resume needs no --accept-plan-change"


async def test_a_title_or_timeout_change_keeps_the_step(tmp_path: Path) -> None:
    plan = tmp_path / "move.yaml"
    await run(plan, "      - confirm: Lower the TTL\n      - confirm: Park the MX\n")
    edited = await run(plan, "      - confirm: Lower the TTL\n        title: TTL down\n        timeout: 5m\n"
                             "      - confirm: Park the MX\n")  # fmt: skip
    assert asked(edited) == []


async def test_explicit_ids_follow_the_step_wherever_it_moves(tmp_path: Path) -> None:
    plan = tmp_path / "move.yaml"
    await run(plan, "      - confirm: First\n        id: one\n      - confirm: Second\n        id: two\n")
    edited = await run(plan, "      - confirm: Second, reworded\n        id: two\n      - confirm: New\n"
                             "      - confirm: First\n        id: one\n")  # fmt: skip
    assert asked(edited) == ["p-2"]


async def test_identical_twins_added_make_the_resume_refused_naming_them(tmp_path: Path) -> None:
    plan = tmp_path / "move.yaml"
    await run(plan, "      - confirm: Check the queue\n      - confirm: Park the MX\n")
    before = journal_path(plan).read_bytes()
    with pytest.raises(SessionRefused, match=r"cannot tell which journaled step is which after the edit: p-1, p-2"):
        await run(plan, "      - confirm: Check the queue\n      - confirm: Check the queue\n"
                        "      - confirm: Park the MX\n")  # fmt: skip
    assert journal_path(plan).read_bytes() == before, "a refused resume writes nothing"


async def test_a_removed_step_is_named(tmp_path: Path) -> None:
    plan = tmp_path / "move.yaml"
    await run(plan, "      - confirm: Gone soon\n      - confirm: Park the MX\n")
    edited = await run(plan, "      - confirm: Park the MX\n")
    warnings = [e.text for e in edited if isinstance(e, Notice) and e.level == "warning"]
    assert any("no longer has these journaled steps: p-1" in w for w in warnings), warnings
    assert asked(edited) == []


async def test_a_journal_without_step_identities_resumes_by_id_and_title(tmp_path: Path) -> None:
    plan = tmp_path / "move.yaml"
    steps = "      - confirm: Lower the TTL\n      - confirm: Park the MX\n"
    await run(plan, steps)
    journal = journal_path(plan)
    records = []
    for record in read_journal(journal).records:
        record = {k: v for k, v in record.items() if k not in ("crc", "step_keys")}
        records.append(encode(record))
    journal.write_bytes(b"".join(records))  # as an earlier version wrote it
    assert json.loads(records[0])["type"] == "RunStarted"
    assert asked(await run(plan, steps, accept=False)) == []
    edited = await run(plan, "      - confirm: Tell the customer\n" + steps)
    assert asked(edited) == ["p-1", "p-2", "p-3"], "without identities, a shifted step is not taken for another"
