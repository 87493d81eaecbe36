"""kill -9 at random points of a headless run, then resume, again and again, until the run ends done.

The plan has a dozen side-effecting steps (SSH commands that each leave one line in a log on their host, an
RFC 2136 update, a verified transfer) and waits (DNS, a countdown). After each kill the journal must parse,
the lock must name the killed cockpit and be taken over by the next one, and at the end every step is done,
no step that was done at a kill ever ran again, and every step cut off mid-way was rerun.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cockpit.engine.journal import journal_path, read_journal
from cockpit.engine.lock import lock_is_free
from cockpit.engine.resume import resume_point
from cockpit.engine.states import StepState
from tests.integration.engine.child import Child, eventually, lock_holder, records, wait_record
from tests.integration.engine.conftest import MethodLab, cockpit

SEED = 20240611
KILLS = 30
WINDOW = 0.2
"""A kill lands at a random moment within this long after the step it aims at starts: the sleeping steps take
longer, so the kill lands inside them; the last step does too, so a kill never comes after the run's end."""
QUICK = {"s03": 0.02, "flip": 0.02, "s12": 0.02, "copy": 0.1}
"""Steps that take only a few milliseconds (or the transfer, a fraction of a second): a shorter window."""

MATRIX = """\
  - name: before
    steps:
      - ssh: {host: old, run: "sleep 0.2; echo s01 >> ran.log"}
        id: s01
        idempotent: true
      - ssh: {host: new, run: "sleep 0.2; echo s02 >> ran.log"}
        id: s02
        idempotent: true
      - ssh: {host: old, run: "echo s03 >> ran.log"}
        id: s03
        idempotent: true
      - ssh: {host: new, run: "sleep 0.2; echo s04 >> ran.log"}
        id: s04
        idempotent: true
      - ssh: {host: old, run: "sleep 0.1; echo s05 >> ran.log; head -c 4000000 /dev/urandom > payload.txt"}
        id: s05
        idempotent: true
      - transfer: {from: "old:payload.txt", to: "new:payload.txt"}
        id: copy
        idempotent: true
      - ssh: {host: new, run: "sleep 0.2; echo s07 >> ran.log"}
        id: s07
        idempotent: true
  - name: during
    steps:
      - dns_update: {server: "127.0.0.1:PRIMARY", key: dnskey, mx: parking}
        id: flip
        idempotent: true
      - wait_dns: {mx: parking}
        id: parked
      - countdown: 1s
        id: hold
      - ssh: {host: old, run: "sleep 0.2; echo s11 >> ran.log"}
        id: s11
        idempotent: true
      - ssh: {host: new, run: "echo s12 >> ran.log"}
        id: s12
        idempotent: true
  - name: after
    steps:
      - ssh: {host: old, run: "sleep 0.2; echo s13 >> ran.log"}
        id: s13
        idempotent: true
      - ssh: {host: new, run: "sleep 0.3; echo s14 >> ran.log"}
        id: s14
        idempotent: true
"""
STEPS = ["s01", "s02", "s03", "s04", "s05", "copy", "s07", "flip", "parked", "hold", "s11", "s12", "s13", "s14"]
SSH_STEPS = [s for s in STEPS if s.startswith("s")]


@dataclass
class Effects:
    """What the servers say each step did, read at a moment (the ground truth, not the journal)."""

    lines: Counter[str]
    serial: int
    copies: int


@dataclass
class Kill:
    number: int
    pid: int
    step: str
    """The step the journal was at (its last state change) when the kill landed."""
    state: str
    journal_length: int
    done: set[str]
    interrupted: set[str]
    effects: Effects
    torn: bool


@dataclass
class Matrix:
    kills: list[Kill] = field(default_factory=list)
    runs: int = 0
    log: list[str] = field(default_factory=list)


def effects(lab: MethodLab) -> Effects:
    lines: Counter[str] = Counter()
    for host in (lab.old, lab.new):
        log = host.sandbox / "ran.log"
        if log.exists():
            lines.update(log.read_text().split())
    copies = sum(1 for command in lab.new.commands if command and "payload.txt" in command)
    return Effects(lines, lab.primary.zone("example.com").serial, copies)


def last_step_change(recs: list[dict[str, Any]]) -> tuple[str, str]:
    for record in reversed(recs):
        if record.get("type") == "StepChanged":
            return str(record["step_id"]), str(record["state"])
    return "-", "starting"


def first_unsettled(journal: Path) -> int:
    states = resume_point(records(journal)).states
    for index, step in enumerate(STEPS):
        if not states.get(step, (StepState.PENDING,))[0].settled:
            return index
    return len(STEPS)


async def test_kill_nine_matrix(method_lab: MethodLab) -> None:
    started = time.monotonic()
    rng = random.Random(SEED)
    plan = method_lab.write_plan(MATRIX.replace("PRIMARY", str(method_lab.primary.port)))
    journal = journal_path(plan)
    lock = journal.with_suffix(".lock")
    matrix = Matrix()
    previous: Kill | None = None

    while len(matrix.kills) < KILLS:
        # Sweep the plan: kill number k aims at a step k/KILLS of the way through it, or at the step the run is
        # on when that is further.
        current = first_unsettled(journal)
        assert current < len(STEPS), "every step is done although every run so far was killed"
        target = max(len(matrix.kills) * len(STEPS) // KILLS, current)
        child = await Child.start("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
        matrix.runs += 1
        begun = await child.wait_line(lambda line: "resuming '" in line or "starting '" in line)
        assert begun is not None, child.out + child.err
        if previous is not None:
            # The killed cockpit's lock was stale and is taken over, with a warning naming its pid.
            assert f"took over the lock left by pid {previous.pid} " in child.out, child.out
            assert "resuming '" in begun
        step = STEPS[target]
        try:
            reached = await child.wait_line(lambda line, s=step: f"[{s}] running" in line)
        except AssertionError as exc:  # say what the hosts were still doing
            hosts = {"old": method_lab.old.sessions(), "new": method_lab.new.sessions()}
            files = sorted(p.name for p in method_lab.new.sandbox.iterdir())
            raise AssertionError(f"{exc}\nopen sessions: {hosts}\nnew's files: {files}") from None
        assert reached is not None, f"the run ended before step {step}:\n{child.out}\n{child.err}"
        delay = rng.uniform(0, QUICK.get(step, WINDOW))
        await asyncio.sleep(delay)
        assert child.process.returncode is None, f"the run ended before kill {len(matrix.kills) + 1}:\n{child.out}"
        code = await child.kill()
        assert code == -signal.SIGKILL

        contents = read_journal(journal)  # raises on a damaged record anywhere but the last
        recs = list(contents.records)
        point = resume_point(recs)
        at, state = last_step_change(recs)
        kill = Kill(
            number=len(matrix.kills) + 1,
            pid=child.pid,
            step=at,
            state=state,
            journal_length=len(recs),
            done={s for s, (st, _, _) in point.states.items() if st == StepState.DONE},
            interrupted={s for s, (st, _, _) in point.states.items() if st == StepState.INTERRUPTED},
            effects=effects(method_lab),
            torn=contents.torn_tail,
        )
        assert lock_holder(lock).get("pid") == child.pid, "the killed cockpit's lock is left behind, naming it"
        assert point.finished is None, "a killed run never closes its journal"
        matrix.kills.append(kill)
        matrix.log.append(f"kill {kill.number:2}: aimed at {step} + {delay * 1000:3.0f} ms, landed in {at} ({state})")
        previous = kill

    final = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    matrix.runs += 1
    assert final.code == 0, final.stdout + final.stderr
    assert previous is not None and f"took over the lock left by pid {previous.pid} " in final.stdout
    assert "run done (exit 0)" in final.stdout
    assert lock_is_free(lock) and lock_holder(lock) == {}, "a run that ends releases its lock"

    end = effects(method_lab)
    recs = records(journal)
    point = resume_point(recs)
    assert {s: st for s, (st, _, _) in point.states.items()} == dict.fromkeys(STEPS, StepState.DONE)
    assert point.finished == "done"
    for step in SSH_STEPS:
        assert end.lines[step] >= 1, f"{step} never left its line"
    assert end.serial > 1 and end.copies >= 1

    for kill in matrix.kills:
        later = recs[kill.journal_length :]
        for step in kill.done:
            # Done at the kill: the servers saw nothing more of it, and the journal never started it again.
            if step in SSH_STEPS:
                assert end.lines[step] == kill.effects.lines[step], f"{step} ran again after kill {kill.number}"
            assert not [r for r in later if r.get("type") == "StepIntent" and r.get("step_id") == step], (
                f"{step} was started again after kill {kill.number}, where it was done"
            )
        if "flip" in kill.done:
            assert end.serial == kill.effects.serial, f"the DNS update was sent again after kill {kill.number}"
        if "copy" in kill.done:
            assert end.copies == kill.effects.copies, f"the transfer ran again after kill {kill.number}"
        for step in kill.interrupted:
            # Cut off mid-way: outcome unknown, and being idempotent it was rerun by --yes.
            assert [
                r
                for r in later
                if r.get("type") == "Decision"
                and r.get("step_id") == step
                and r.get("action") == "rerun"
                and r.get("source") == "--yes"
            ], f"{step}, interrupted by kill {kill.number}, was never rerun"
    reruns = sum(1 for r in recs if r.get("type") == "Decision" and r.get("action") == "rerun")
    distinct = sorted({kill.step for kill in matrix.kills}, key=lambda s: STEPS.index(s) if s in STEPS else -1)
    assert len(distinct) >= 8, f"the kills bunched up in {distinct}"
    twice = sorted(step for step, count in end.lines.items() if count > 1)
    print("\n" + "\n".join(matrix.log))
    print(
        f"kill -9 matrix: {len(matrix.kills)} kills over {matrix.runs} runs in {time.monotonic() - started:.1f} s; "
        f"{len(distinct)} distinct steps hit ({', '.join(distinct)}); "
        f"{sum(1 for kill in matrix.kills if kill.interrupted)} kills cut a step off mid-way, {reruns} reruns; "
        f"side effect seen twice (cut after the work, before its outcome was journaled): {', '.join(twice) or 'none'}; "
        f"torn last records: {sum(1 for kill in matrix.kills if kill.torn)}; "
        f"states at the kills: {dict(Counter(kill.state for kill in matrix.kills))}"
    )


async def test_interrupted_step_that_is_not_idempotent_needs_a_decision(method_lab: MethodLab) -> None:
    phases = """\
  - name: only
    steps:
      - ssh: {host: old, run: "echo started >> once.log; sleep 30; echo finished >> once.log"}
        id: once
      - ssh: {host: old, run: "echo after >> after.log"}
        id: after
"""
    plan = method_lab.write_plan(phases)
    journal = journal_path(plan)
    child = await Child.start("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    await wait_record(journal, lambda r: r.get("type") == "StepIntent" and r.get("step_id") == "once", child)
    log = method_lab.old.sandbox / "once.log"
    await eventually(log.exists, "the step has done half its work")
    assert await child.kill() == -signal.SIGKILL
    assert resume_point(records(journal)).states["once"][0] == StepState.INTERRUPTED

    stopped = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert stopped.code == 1, stopped.stdout + stopped.stderr
    assert "--decide once=rerun|done|skip" in stopped.stdout
    assert "run stopped (exit 1)" in stopped.stdout
    assert not (method_lab.old.sandbox / "after.log").exists()

    commands = list(method_lab.old.commands)
    decided = await cockpit("run", str(plan), "--headless", "--yes", "--decide", "once=done", cwd=method_lab.root)
    assert decided.code == 0, decided.stdout + decided.stderr
    assert "[once] mark-done by --decide" in decided.stdout
    new_commands = method_lab.old.commands[len(commands) :]
    assert len(new_commands) == 1 and "after.log" in str(new_commands[0]), new_commands
    assert "once.log" not in str(new_commands[0])
    assert (method_lab.old.sandbox / "after.log").read_text() == "after\n"
    assert log.read_text() == "started\n", "killed half-way, and not run again"
    recs = records(journal)
    point = resume_point(recs)
    assert point.states["once"][0] == StepState.DONE and point.states["after"][0] == StepState.DONE
    assert [r["action"] for r in recs if r.get("type") == "Decision" and r.get("step_id") == "once"][-1] == "mark-done"
