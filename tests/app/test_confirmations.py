"""What each answer goes through: an MX change made by hand shows the exact records to set before it is
confirmed; a read-only ssh step (`changes: false`) runs in auto mode without asking; quitting while a wait
runs says that nothing is left in doubt."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Static

from cockpit.engine.events import Asking, Event, StepIntent
from cockpit.engine.states import StepState
from cockpit.ui.dialogs.confirm_screen import ConfirmScreen
from tests.app.conftest import HEAD, Cockpit, asking, until

Build = Callable[..., Cockpit]

MANUAL_FLIP = """\
  - name: during
    steps:
      - confirm: In the DNS panel, point the MX at the parking address
        id: mx-to-parking
      - wait_dns: {mx: parking}
        id: parked
"""

READ_ONLY = """\
  - name: before
    steps:
      - ssh: {host: old, run: "doveadm user '*' | wc -l"}
        id: count-users
        changes: false
      - confirm: Counted
        id: counted
"""


def dialog_text(c: Cockpit) -> str:
    screen = c.app.screen
    assert isinstance(screen, ConfirmScreen)
    return " ".join(str(widget.visual) for widget in screen.query(Static))


async def test_a_manual_mx_change_shows_the_exact_records_before_it_is_confirmed(cockpit: Build) -> None:
    c = cockpit(MANUAL_FLIP, head=HEAD.replace("mx:\n", "ttl: 600\nmx:\n"))
    async with c.app.run_test(size=(100, 30)) as pilot:
        await until(pilot, asking(c.run, "mx-to-parking", "confirm"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(c.app.screen, ConfirmScreen), "the confirmation")
        text = dialog_text(c)
        assert "example.com" in text and "10 parked.new.example.net. (parking)" in text and "600 s" in text
        assert c.run.steps["mx-to-parking"].state == StepState.AWAITING_CONFIRMATION, "not confirmed yet"
        await pilot.press("enter")
        await until(pilot, lambda: c.run.steps["mx-to-parking"].state == StepState.DONE, "confirmed")


async def test_a_read_only_ssh_step_runs_in_auto_mode_without_asking(cockpit: Build) -> None:
    c = cockpit(READ_ONLY, mode="auto")
    events: list[Event] = []
    c.bus.subscribe(events.append)
    async with c.app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: c.run.steps["count-users"].state == StepState.FAILED, "failed (no such host)")
        asked = [e.kind for e in events if isinstance(e, Asking) and e.step_id == "count-users"]
        assert asked == ["failed"], "no gate before a step that changes nothing"
        assert not [e for e in events if isinstance(e, StepIntent)], "nothing journaled as a change"


async def test_quitting_during_a_countdown_says_nothing_is_left_in_doubt(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test(size=(100, 30)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        await pilot.press("enter")
        await until(pilot, asking(c.run, "settle"))
        await pilot.press("enter")
        await until(pilot, lambda: c.run.countdown() is not None)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(c.app.screen, ConfirmScreen), "the quit question")
        text = dialog_text(c)
        assert "changes nothing" in text and "outcome may be unknown" not in text
