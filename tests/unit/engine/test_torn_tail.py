"""A torn last journal record (power loss, disk full) is cut before the next run appends, kept in a file beside
the journal, and the journal stays whole across any number of resumes; the report reads it."""

from __future__ import annotations

from pathlib import Path

from cockpit.base.clock import FakeClock
from cockpit.engine.events import Event, EventBus, Notice
from cockpit.engine.journal import journal_path, read_journal
from cockpit.engine.options import RunOptions
from cockpit.engine.report import build_timeline, render_html, render_markdown
from cockpit.engine.services import RunServices
from cockpit.engine.session import open_session
from cockpit.plan import load_plan

PLAN = """\
version: 1
name: Torn tail
domains: [example.com]
mx: {old: a.example.net., new: b.example.net.}
phases:
  - name: p
    steps:
      - confirm: First manual thing
      - confirm: Second manual thing
      - confirm: Third manual thing
"""


async def run_once(plan: Path) -> tuple[int, list[Event]]:
    plan_file = load_plan(plan)
    clock, bus, seen = FakeClock(), EventBus(), []
    bus.subscribe(seen.append)
    services = RunServices(plan_file.plan, plan.parent, clock, bus, watch_dns=False)
    session = open_session(plan_file, options=RunOptions(yes=True), clock=clock, bus=bus, services=services)
    try:
        return await session.run.run(), seen
    finally:
        session.close()


async def test_every_truncation_of_the_tail_survives_two_resumes_and_the_report(tmp_path: Path) -> None:
    plan = tmp_path / "move.yaml"
    plan.write_text(PLAN)
    assert (await run_once(plan))[0] == 0
    journal = journal_path(plan)
    whole = journal.read_bytes()
    lines = whole.splitlines(keepends=True)
    reach = sum(len(line) for line in lines[-3:]) + 1  # into the third record from the end
    for cut in range(1, reach):
        for old in journal.parent.glob("move.yaml.journal.torn-*"):
            old.unlink()
        journal.write_bytes(whole[:-cut])
        torn = not whole[:-cut].endswith(b"\n")
        code, events = await run_once(plan)
        assert code == 0
        notices = [e.text for e in events if isinstance(e, Notice) and "torn" in e.text]
        kept = list(journal.parent.glob("move.yaml.journal.torn-*"))
        if torn:
            assert len(notices) == 1 and len(kept) == 1
            assert whole[:-cut].endswith(kept[0].read_bytes())
        else:
            assert not notices and not kept
        assert (await run_once(plan))[0] == 0
        contents = read_journal(journal)
        assert not contents.torn_tail
        assert [r["type"] for r in contents.records].count("RunStarted") == 3
        timeline = build_timeline(contents.records)
        assert timeline.runs == 3
        assert all(line.result == "done" for line in timeline.steps.values())
        assert "Outcome: done (exit 0)" in render_markdown(timeline)
        assert "done (exit 0)" in render_html(timeline)


async def test_finished_steps_are_not_rerun_after_a_torn_tail(tmp_path: Path) -> None:
    plan = tmp_path / "move.yaml"
    plan.write_text(PLAN)
    await run_once(plan)
    journal = journal_path(plan)
    journal.write_bytes(journal.read_bytes()[:-5])  # the RunFinished record is torn
    _, events = await run_once(plan)
    started = [e for e in events if type(e).__name__ == "StepChanged" and e.state.value == "running"]  # type: ignore[attr-defined]
    assert started == []
