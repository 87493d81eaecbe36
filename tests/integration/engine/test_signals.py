"""Signals to a headless run: SIGHUP (the terminal went away) and SIGTERM stop it cleanly with the journal
closed (129 / 143), Ctrl+C twice stops it (130), and a later run picks up where it stopped — a countdown at
its stored wall-clock deadline, not from the start."""

from __future__ import annotations

import signal

from cockpit.engine.journal import journal_path, read_journal
from cockpit.engine.lock import lock_is_free
from cockpit.engine.resume import resume_point
from cockpit.engine.states import StepState
from tests.integration.engine.child import Child, records, wait_record
from tests.integration.engine.conftest import MethodLab, cockpit

COUNTDOWN = """\
  - name: only
    steps:
      - ssh: {host: old, run: "echo one >> ran.log"}
        id: one
      - countdown: 4s
        id: hold
      - ssh: {host: old, run: "echo two >> ran.log"}
        id: two
"""


def closed_with(journal_records: list[dict[str, object]], code: int) -> None:
    last = journal_records[-1]
    assert last["type"] == "RunFinished", last
    assert last["outcome"] == "stopped" and last["exit_code"] == code, last


async def test_sighup_during_a_countdown_then_resume_at_its_deadline(method_lab: MethodLab) -> None:
    plan = method_lab.write_plan(COUNTDOWN)
    journal = journal_path(plan)
    child = await Child.start("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    set_first = await wait_record(journal, lambda r: r.get("type") == "CountdownSet", child)
    child.signal(signal.SIGHUP)
    assert await child.wait() == 129, child.out + child.err
    assert child.stdout[-1].endswith("run stopped (exit 129)"), child.out
    contents = read_journal(journal)
    assert not contents.torn_tail
    closed_with(list(contents.records), 129)
    assert lock_is_free(journal.with_suffix(".lock"))
    point = resume_point(contents.records)
    assert point.states["one"][0] == StepState.DONE
    assert point.states["hold"][0] == StepState.PENDING, "a countdown changed nothing: it simply goes on"
    assert point.countdowns["hold"][0] == set_first["deadline"]

    resumed = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert resumed.code == 0, resumed.stdout + resumed.stderr
    recs = records(journal)
    second_start = max(i for i, r in enumerate(recs) if r["type"] == "RunStarted")
    later = recs[second_start:]
    sets = [r for r in later if r["type"] == "CountdownSet"]
    assert sets, resumed.stdout
    assert sets[0]["deadline"] == set_first["deadline"], "the countdown went on to its stored deadline"
    assert sets[0]["total"] == set_first["total"] == 4.0
    done = next(r for r in later if r["type"] == "StepChanged" and r["step_id"] == "hold" and r["state"] == "done")
    assert done["at"] >= set_first["deadline"], "never ends before its deadline"
    assert (method_lab.old.sandbox / "ran.log").read_text().split() == ["one", "two"]


async def test_sigterm_while_a_command_runs(method_lab: MethodLab) -> None:
    phases = """\
  - name: only
    steps:
      - ssh: {host: old, run: "echo started >> ran.log; sleep 30; echo finished >> ran.log"}
        id: long
"""
    plan = method_lab.write_plan(phases)
    journal = journal_path(plan)
    log = method_lab.old.sandbox / "ran.log"
    child = await Child.start("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    await wait_record(journal, lambda r: r.get("type") == "StepIntent", child)
    await child.wait_line(lambda line: "[long] running" in line)
    child.signal(signal.SIGTERM)
    assert await child.wait() == 143, child.out + child.err
    assert child.stdout[-1].endswith("run stopped (exit 143)"), child.out
    contents = read_journal(journal)
    closed_with(list(contents.records), 143)
    assert resume_point(contents.records).states["long"][0] == StepState.INTERRUPTED
    assert "finished" not in (log.read_text() if log.exists() else "")


async def test_ctrl_c_twice_stops_a_running_step(method_lab: MethodLab) -> None:
    phases = """\
  - name: only
    steps:
      - countdown: 30s
        id: hold
"""
    plan = method_lab.write_plan(phases)
    journal = journal_path(plan)
    child = await Child.start("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    await wait_record(journal, lambda r: r.get("type") == "CountdownSet", child)
    child.signal(signal.SIGINT)
    await child.wait_line(lambda line: "press Ctrl+C again" in line)
    assert child.process.returncode is None, "one Ctrl+C only warns while a step runs"
    child.signal(signal.SIGINT)
    assert await child.wait() == 130, child.out + child.err
    closed_with(records(journal), 130)
