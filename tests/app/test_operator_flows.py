"""Pilot tests: every operator key against a real run of the engine (fake clock, loopback port checks)."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Digits, Input

from cockpit.engine.states import StepState
from cockpit.ui.dialogs.confirm_screen import ConfirmScreen
from cockpit.ui.dialogs.text_prompt import TextPromptScreen
from cockpit.ui.panes.countdown_pane import CountdownPane
from cockpit.ui.panes.step_list import StepList

from .conftest import FAILING, IRREVERSIBLE, Cockpit, asking, until

Build = Callable[..., Cockpit]


async def test_enter_confirms_then_starts_the_countdown(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl", "confirm"))
        await pilot.press("enter")
        await until(pilot, asking(c.run, "settle", "gate"))
        assert c.run.steps["lower-ttl"].state == StepState.DONE
        await pilot.press("enter")
        await until(pilot, lambda: c.run.countdown() is not None, "countdown running")
        await c.clock.advance(30)
        await until(pilot, lambda: c.app.screen.query_one(Digits).value == "09:30", "digits at 09:30")


async def test_skip_asks_a_reason_and_journals_it(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        await pilot.press("s")
        assert isinstance(c.app.screen, TextPromptScreen)
        await pilot.press("enter")  # an empty reason is refused
        assert isinstance(c.app.screen, TextPromptScreen)
        await pilot.press(*"done by phone")
        await pilot.press("enter")
        await until(pilot, asking(c.run, "settle"))
        assert c.run.steps["lower-ttl"].state == StepState.SKIPPED
        assert c.run.steps["lower-ttl"].detail == "done by phone"


async def test_escape_cancels_a_skip(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        await pilot.press("s", "escape")
        assert not isinstance(c.app.screen, TextPromptScreen)
        assert asking(c.run, "lower-ttl")()


async def test_a_failed_step_rings_and_can_be_retried_then_skipped(cockpit: Build, monkeypatch: object) -> None:
    c = cockpit(FAILING)
    bells: list[int] = []
    async with c.app.run_test() as pilot:
        c.app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
        await until(pilot, asking(c.run, "new-mta-listens", "gate"))
        await pilot.press("enter")
        await until(pilot, asking(c.run, "new-mta-listens", "failed"))
        assert "refused, expected open" in c.run.steps["new-mta-listens"].detail
        assert bells
        await pilot.press("r")
        await until(pilot, lambda: c.run.steps["new-mta-listens"].attempt == 2 and asking(c.run, "new-mta-listens")())
        await pilot.press("enter")  # Enter retries a failed step too
        await until(pilot, lambda: c.run.steps["new-mta-listens"].attempt == 3 and asking(c.run, "new-mta-listens")())
        await pilot.press("s", *"MTA checked by hand", "enter")
        await until(pilot, asking(c.run, "tell-users"))
        assert c.run.steps["new-mta-listens"].state == StepState.SKIPPED


async def test_abort_asks_and_fails_the_running_step(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        await pilot.press("enter")
        await until(pilot, asking(c.run, "settle"))
        await pilot.press("enter")
        await until(pilot, lambda: c.run.running_step() == "settle")
        await pilot.press("x")
        assert isinstance(c.app.screen, ConfirmScreen)
        await pilot.press("escape")
        assert c.run.running_step() == "settle"
        await pilot.press("x", "enter")
        await until(pilot, asking(c.run, "settle", "failed"))
        assert c.run.steps["settle"].detail == "aborted by the operator"


async def test_pause_resume_and_extend_the_countdown(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        await pilot.press("enter")
        await until(pilot, asking(c.run, "settle"))
        await pilot.press("enter")
        await until(pilot, lambda: c.run.countdown() is not None)
        pane = c.app.screen.query_one(CountdownPane)
        await pilot.press("p")
        await until(pilot, lambda: pane.has_class("-paused"), "paused")
        await pilot.press("plus")
        await until(pilot, lambda: pane.total == 660, "extended")
        assert "extended by 1m" in str(pane.query_one("#countdown-state").render())
        await pilot.press("p")
        await until(pilot, lambda: not pane.has_class("-paused"), "resumed")


async def test_an_irreversible_step_shows_host_and_command_before_it_runs(cockpit: Build) -> None:
    c = cockpit(IRREVERSIBLE)
    async with c.app.run_test(size=(100, 30)) as pilot:
        await until(pilot, asking(c.run, "export-mail", "gate"))
        await pilot.press("enter")
        screen = c.app.screen
        assert isinstance(screen, ConfirmScreen)
        body = str(screen.body)
        assert "root@192.0.2.10 (old)" in body
        assert "tar -cf /srv/move/mail.tar -C /var/mail ." in body
        await pilot.press("escape")
        assert asking(c.run, "export-mail", "gate")()
        await pilot.press("enter", "enter")
        await until(pilot, asking(c.run, "export-mail", "failed"))


async def test_interrupted_step_mark_done(cockpit: Build) -> None:
    c = cockpit(IRREVERSIBLE, initial={"export-mail": (StepState.INTERRUPTED, 1, "started")})
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "export-mail", "interrupted"))
        await pilot.press("enter")  # Enter does not guess for an interrupted step
        assert asking(c.run, "export-mail", "interrupted")()
        await pilot.press("d")
        await until(pilot, asking(c.run, "check-import"))
        assert c.run.steps["export-mail"].state == StepState.DONE


async def test_interrupted_step_rerun_confirms_the_command(cockpit: Build) -> None:
    c = cockpit(IRREVERSIBLE, initial={"export-mail": (StepState.INTERRUPTED, 1, "started")})
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "export-mail", "interrupted"))
        await pilot.press("r")
        assert isinstance(c.app.screen, ConfirmScreen)
        await pilot.press("enter")
        await until(pilot, lambda: c.run.steps["export-mail"].attempt == 2)


async def test_interrupted_step_skip_with_reason(cockpit: Build) -> None:
    c = cockpit(IRREVERSIBLE, initial={"export-mail": (StepState.INTERRUPTED, 1, "started")})
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "export-mail", "interrupted"))
        await pilot.press("s", *"exported by hand", "enter")
        await until(pilot, asking(c.run, "check-import"))
        assert c.run.steps["export-mail"].detail == "exported by hand"


async def test_j_k_and_arrows_select_steps(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        steps = c.app.screen.query_one(StepList)
        assert steps.selected_step == "lower-ttl"
        await pilot.press("j")
        assert steps.selected_step == "settle"
        await pilot.press("down", "down")
        assert steps.selected_step == "mx-to-parking"  # the phase heading is passed over
        await pilot.press("k", "up")
        assert steps.selected_step == "settle"
        assert "countdown · settle" in str(c.app.screen.query_one("#step-detail").render())


async def test_quit_when_nothing_runs_stops_the_run(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        await pilot.press("q")
        await until(pilot, lambda: c.app.return_value is not None, "app exit")
    assert c.app.return_value == 1


async def test_quit_while_a_step_runs_asks_first(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        await pilot.press("enter")
        await until(pilot, asking(c.run, "settle"))
        await pilot.press("enter")
        await until(pilot, lambda: c.run.running_step() == "settle")
        await pilot.press("q")
        assert isinstance(c.app.screen, ConfirmScreen)
        await pilot.press("escape")
        assert c.run.running_step() == "settle"
        await pilot.press("q", "enter")
        await until(pilot, lambda: c.app.return_value is not None, "app exit")
    assert c.app.return_value == 1


async def test_hangup_stops_the_run_with_129(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        await pilot.press("enter")
        await until(pilot, asking(c.run, "settle"))
        await pilot.press("enter")
        await until(pilot, lambda: c.run.running_step() == "settle")
        c.app.hangup(129)
        await until(pilot, lambda: c.app.return_value is not None, "app exit")
    assert c.app.return_value == 129


async def test_the_palette_runs_operator_actions(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        await pilot.press("enter")
        await until(pilot, asking(c.run, "settle"))
        await pilot.press("enter")
        await until(pilot, lambda: c.run.countdown() is not None)
        await pilot.press("ctrl+p")
        await pilot.press(*"+1 min")  # the palette offers each key's action under the footer's name
        await until(pilot, lambda: "+1 min" in str(c.app.screen.query_one(Input).value))
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: c.app.screen.query_one(CountdownPane).total == 660, "extended from the palette")
