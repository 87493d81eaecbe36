"""`cockpit observe`: a second terminal watches a run another cockpit drives, and cannot change it.

The run is a real headless cockpit against the method's lab; the observer is the real full screen in tmux,
read with `capture-pane` as a colleague would see it. Under CI=true a missing tmux fails these tests.
"""

from __future__ import annotations

import asyncio
import shlex
import sys
from pathlib import Path

from cockpit.base.units import format_duration
from cockpit.engine.downtime import DowntimeClock
from cockpit.engine.journal import journal_path
from tests.integration.engine.child import Child, records, wait_record
from tests.integration.engine.conftest import MethodLab, cockpit, three_phases
from tests.integration.engine.test_fullscreen_terminal import Tmux, assert_fits

KEYS = ["Enter", "s", "y", "x", "r", "d", "p", "+", "P", "u", "n", "Escape"]
"""Every key that answers, stops, pauses, extends, parks or undoes in the operator's cockpit."""


def observe_command(target: Path) -> str:
    env = f"HOME={shlex.quote(str(target.parent / 'home'))} TERM=xterm-256color"
    return f"cd {shlex.quote(str(target.parent))} && {env} {shlex.quote(sys.executable)} -m cockpit observe {target}"


def waiting_step(journal: Path) -> str | None:
    """The step whose last state change left it waiting for the operator's go."""
    changes = [r for r in records(journal) if r.get("type") == "StepChanged"]
    return changes[-1]["step_id"] if changes and changes[-1]["state"] == "ready" else None


async def test_an_observer_sees_a_waiting_run_and_no_key_of_it_changes_anything(method_lab: MethodLab) -> None:
    plan = method_lab.write_plan(three_phases(method_lab))
    journal = journal_path(plan)
    # Answers come from a pipe nobody writes: the run waits at its first gate for as long as the test wants.
    run = await Child.start("run", str(plan), "--headless", cwd=method_lab.root, stdin=asyncio.subprocess.PIPE)
    window = Tmux(120, 40)
    try:
        await wait_record(journal, lambda r: r.get("type") == "StepChanged" and r.get("state") == "ready", run)
        await window.start(observe_command(plan))
        await window.wait_for("observing · read-only")
        await window.wait_for("»▶ Point the MX at old", 30)  # marked as the step that waits for the operator
        screen = await window.wait_for("ns2.example.com", 30)  # the observer's own DNS queries
        assert "Engine end-to-end" in screen and "Checklist" in screen and "Nameservers" in screen
        assert "before 0/16" in screen, screen
        assert_fits(screen, 120, 40)

        before = journal.read_bytes()
        for key in KEYS:
            await window.keys(key)
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)
        assert journal.read_bytes() == before, "a key pressed in the observer changed the journal"
        assert run.process.returncode is None, "the observed run ended"
        assert waiting_step(journal) == "lower-ttl"
        assert "Point the MX at parking" not in "".join(run.stdout)

        await window.keys("q")
        left = await window.wait_for("EXIT=", 20)
        assert "EXIT=0" in left, left
        assert run.process.returncode is None and journal.read_bytes() == before
    finally:
        await window.kill()
        await run.kill()


async def test_an_observer_follows_a_run_to_its_end_and_shows_a_finished_journal(method_lab: MethodLab) -> None:
    plan = method_lab.write_plan(three_phases(method_lab))
    journal = journal_path(plan)
    window = Tmux(80, 24)
    later = Tmux(120, 40)
    try:
        # Opened before any run: it waits for one.
        await window.start(observe_command(plan))
        await window.wait_for("observing", 30)
        run = await Child.start("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
        assert await run.wait(120) == 0, run.out + run.err
        end = await window.wait_for("16/16 · done", 30)
        assert_fits(end, 80, 24)
        assert "observing" in end

        # A finished journal, observed by its path.
        await later.start(observe_command(journal))
        await later.wait_for("16/16 · done", 30)
        shown = await later.wait_for("✓ done · dns_update · lower-ttl", 30)  # the replay has reached the panes
        downtime = DowntimeClock.from_records(records(journal)).elapsed(0.0)
        assert downtime is not None
        assert f"downtime {format_duration(downtime)} (over)" in shown, shown  # the operator's figure, from the journal
        assert "✓ Point the MX at old" in shown and "○" not in shown, shown
        finished = [r for r in records(journal) if r.get("type") == "RunFinished"]
        assert len(finished) == 1, "observing wrote nothing"
    finally:
        await window.kill()
        await later.kill()


async def test_observe_refuses_a_damaged_journal_a_missing_plan_and_no_terminal(method_lab: MethodLab) -> None:
    plan = method_lab.write_plan(three_phases(method_lab))
    journal = journal_path(plan)
    run = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert run.code == 0, run.stdout + run.stderr

    no_terminal = await cockpit("observe", str(plan), cwd=method_lab.root)
    assert no_terminal.code == 2 and "needs a terminal" in no_terminal.stderr, no_terminal.stderr
    assert len(no_terminal.stderr.strip().splitlines()) == 1

    lines = journal.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b'"type"', b'"tYpe"')
    journal.write_bytes(b"\n".join(lines))
    damaged = await cockpit("observe", str(plan), cwd=method_lab.root)
    assert damaged.code == 2, damaged.stderr
    assert damaged.stderr.strip().splitlines() == [
        f"cockpit observe: {journal}:4: damaged journal record (checksum mismatch); the journal was edited or the "
        "disk is failing — move it away to start over (--fresh)"
    ]

    stray = method_lab.root / "elsewhere" / ".cockpit" / "gone.yaml.journal"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(journal.read_bytes())
    orphan = await cockpit("observe", str(stray), cwd=method_lab.root)
    assert orphan.code == 2 and "its plan" in orphan.stderr and "Traceback" not in orphan.stderr, orphan.stderr
    assert len(orphan.stderr.strip().splitlines()) == 1
