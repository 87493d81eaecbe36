"""SVG snapshots at 80×24 and 120×40: fixed plans, a fake clock, no wall-clock text.

Update them after a deliberate change with `pytest tests/app --snapshot-update` and review the SVGs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from cockpit.commands.demo import tally_notices
from cockpit.engine.events import OutputLine, TransferProgress
from cockpit.engine.states import StepState
from cockpit.lab.tally import LabTally, RunFigures, Verdict
from cockpit.ui.panes.output_pane import OutputPane

from .conftest import FAILING, FOUR_NAMESERVERS, LONG_TITLES, Cockpit, asking, until
from .dns_rounds import mixed_state

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
Compare = Callable[..., bool]
Build = Callable[..., Cockpit]


def settle(c: Cockpit, step_id: str, kind: str | None = None) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, asking(c.run, step_id, kind))
        c.app.screen.query_one(OutputPane).flush()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_start(snap_compare: Compare, cockpit: Build, size: tuple[int, int]) -> None:
    c = cockpit()
    assert snap_compare(c.app, terminal_size=size, run_before=settle(c, "lower-ttl"))


@pytest.mark.parametrize("size", SIZES)
def test_countdown_running(snap_compare: Compare, cockpit: Build, size: tuple[int, int]) -> None:
    c = cockpit()

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, asking(c.run, "lower-ttl"))
        await pilot.press("enter")
        await until(pilot, asking(c.run, "settle"))
        await pilot.press("enter")
        await until(pilot, lambda: c.run.countdown() is not None)
        await c.clock.advance(130)
        await until(pilot, lambda: c.app.screen.query_one("#countdown-digits").value == "07:50")  # type: ignore[attr-defined]
        c.app.screen.query_one(OutputPane).flush()
        await pilot.pause()

    assert snap_compare(c.app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_failed_step(snap_compare: Compare, cockpit: Build, size: tuple[int, int]) -> None:
    c = cockpit(FAILING)

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, asking(c.run, "new-mta-listens", "gate"))
        c.bus.publish(OutputLine(c.clock.now(), "new-mta-listens", "new", "stderr", "postfix: not running"))
        await pilot.press("enter")
        await until(pilot, asking(c.run, "new-mta-listens", "failed"))
        c.app.screen.query_one(OutputPane).flush()
        await pilot.pause()

    assert snap_compare(c.app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare: Compare, cockpit: Build, size: tuple[int, int]) -> None:
    c = cockpit()
    assert snap_compare(c.app, terminal_size=size, press=["question_mark"], run_before=settle(c, "lower-ttl"))


@pytest.mark.parametrize("size", SIZES)
def test_dns_mixed_state(snap_compare: Compare, cockpit: Build, size: tuple[int, int]) -> None:
    """Two of four nameservers serve parking, one the old MX (old serial), one times out; the first flips
    were 1m05s ago, so the downtime clock runs too."""
    c = cockpit(head=FOUR_NAMESERVERS)

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, asking(c.run, "lower-ttl"))
        for event in mixed_state(c.run.plan, c.clock.now()):
            c.bus.publish(event)
        await c.clock.advance(125)
        c.app.cockpit_screen._tick()
        await until(pilot, lambda: c.app.cockpit_screen.query_one("#ns-convergence").visual is not None)
        c.app.screen.query_one(OutputPane).flush()
        await pilot.pause()

    assert snap_compare(c.app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_transfer_progress(snap_compare: Compare, cockpit: Build, size: tuple[int, int]) -> None:
    c = cockpit()

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, asking(c.run, "lower-ttl"))
        c.bus.publish(OutputLine(c.clock.now(), "copy-mail", "old", "info", "copying /srv/move/mail.tar to new"))
        c.bus.publish(TransferProgress(c.clock.now(), "copy-mail", 1_500_000_000, 3_000_000_000, 50_000_000.0, 30.0))
        c.app.screen.query_one(OutputPane).flush()
        await pilot.pause()

    assert snap_compare(c.app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_long_titles(snap_compare: Compare, cockpit: Build, size: tuple[int, int]) -> None:
    """One line per step, cut with "…"; the selected step's whole title is in its details."""
    c = cockpit(LONG_TITLES)
    assert snap_compare(c.app, terminal_size=size, press=["j"], run_before=settle(c, "lower-ttl"))


DEMO_END = """\
  - name: after
    steps:
      - ssh: {host: new, run: "doveadm force-resync -A '*'"}
        id: resync
        changes: false
      - confirm: Tell the users that the move is over
        id: tell-users
"""

LAB_TALLY = LabTally(
    Verdict(sent=412, old=180, moved=180, new=232, lost=0, duplicated=0, stranded=0, longest_deferral=95.0),
    old_ttl=60,
    figures=RunFigures(downtime=83.4, downtime_over=True, downtime_proven=True, delta_seconds=4.2),
)


@pytest.mark.parametrize("size", SIZES)
def test_demo_end_tally(snap_compare: Compare, cockpit: Build, size: tuple[int, int]) -> None:
    """The run is over and the demo's tally (the line `cockpit demo` adds when the run finishes) stays on
    screen, whole, in the output; the header says done."""
    c = cockpit(DEMO_END, {"resync": (StepState.DONE, 1, "exit 0")})

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, asking(c.run, "tell-users"))
        await pilot.press("enter")
        await until(pilot, lambda: c.app.cockpit_screen.finished is not None)
        for notice in tally_notices(LAB_TALLY, c.clock.now()):
            c.bus.publish(notice)
        buffer = c.app.cockpit_screen.buffer
        await until(pilot, lambda: any("downtime" in line.text for line in [*buffer.pending, *buffer.lines]))
        c.app.screen.query_one(OutputPane).flush()
        await pilot.pause()

    assert snap_compare(c.app, terminal_size=size, run_before=run_before)


LONG_COMMAND = """\
  - name: during
    steps:
      - ssh:
          host: old
          run: >-
            tar --create --zstd --file /srv/move/mail-2026-12-01.tar.zst --directory /var/vmail
            --exclude '*/dovecot.index.cache' example.com example.org && sha256sum /srv/move/mail-2026-12-01.tar.zst
        id: export-mail
      - confirm: Check the import
        id: check-import
"""


@pytest.mark.parametrize("size", SIZES)
def test_long_command(snap_compare: Compare, cockpit: Build, size: tuple[int, int]) -> None:
    """A command and its SHA-256 wider than the output pane: the details show the whole command, wrapped,
    and an output line too wide ends in "…" (it never looks whole)."""
    c = cockpit(LONG_COMMAND)

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, asking(c.run, "export-mail"))
        digest = "9f2c4e1b7a0d3c5e8f6a2b4d1c3e5f7a9b0c2d4e6f8a1b3c5d7e9f0a2b4c6d8e"
        c.bus.publish(
            OutputLine(c.clock.now(), "export-mail", "old", "stdout", f"{digest}  /srv/move/mail-2026-12-01.tar.zst")
        )
        c.app.screen.query_one(OutputPane).flush()
        await pilot.pause()

    assert snap_compare(c.app, terminal_size=size, run_before=run_before)
