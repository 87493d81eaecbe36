"""Pilot tests of the panes: output batching, filter and badge, transfer progress, help, screenshot, resizing,
worker errors and the crash policy (the nameservers pane has its own module)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.widgets import Label, ProgressBar, Static

from cockpit.engine.events import OutputLine, TransferProgress
from cockpit.engine.services import RunServices
from cockpit.ui.app import CockpitApp
from cockpit.ui.dialogs.help_screen import HelpScreen
from cockpit.ui.panes.checklist_pane import ChecklistPane
from cockpit.ui.panes.countdown_pane import CountdownPane
from cockpit.ui.panes.output_log import OutputLog, clean
from cockpit.ui.panes.output_pane import OutputPane

from .conftest import LONG_TITLES, Cockpit, asking, until

Build = Callable[..., Cockpit]


def say(c: Cockpit, text: str, stream: str = "stdout", step: str = "job") -> None:
    c.bus.publish(OutputLine(c.clock.now(), step, "old", stream, text))


async def test_output_is_bounded_batched_and_marks_stderr(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        pane = c.app.screen.query_one(OutputPane)
        for number in range(12_000):
            say(c, f"line {number}")
        say(c, "disk full", "stderr")
        assert len(pane.log_view.view) == 0  # nothing painted until the next batch
        pane.flush()
        view = pane.log_view.view
        assert len(view) == 10_000
        assert view[-1].stream == "stderr" and view[-1].text == "disk full"


async def test_scrolling_up_stops_following_and_counts_new_lines(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        pane = c.app.screen.query_one(OutputPane)
        for number in range(200):
            say(c, f"line {number}")
        pane.flush()
        await pilot.pause()
        log = pane.log_view
        log.focus()
        await pilot.press("home")
        await pilot.pause()
        for number in range(50):
            say(c, f"later {number}")
        pane.flush()
        assert log.unseen == 50
        assert "50 new lines" in str(pane.border_subtitle)
        assert log.scroll_offset.y == 0
        await pilot.press("end")
        await pilot.pause()
        pane.flush()
        assert log.unseen == 0 and not pane.border_subtitle


async def test_output_follows_the_end_and_keeps_following_when_the_pane_shrinks(cockpit: Build) -> None:
    """More lines than the pane holds: the newest are in view; when the pane shrinks (the transfer bar takes
    a line from it) the end moves, but the operator did not scroll up, so it still follows."""
    c = cockpit()
    async with c.app.run_test(size=(100, 30)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        pane = c.app.screen.query_one(OutputPane)
        log = pane.log_view
        for number in range(300):
            say(c, f"line {number}")
        pane.flush()
        await pilot.pause()
        assert log.max_scroll_y > 0 and log.is_vertical_scroll_end and log.following
        log.styles.height = log.size.height - 3
        await pilot.pause()
        for number in range(20):
            say(c, f"more {number}")
        pane.flush()
        await pilot.pause()
        assert log.following and log.unseen == 0 and not pane.border_subtitle
        assert log.is_vertical_scroll_end
        assert "more&#160;19" in c.app.export_screenshot()


async def test_slash_filters_the_output_and_escape_clears(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        pane = c.app.screen.query_one(OutputPane)
        for number in range(30):
            say(c, f"mailbox {number} copied" if number % 10 else f"mailbox {number} FAILED", "stdout")
        pane.flush()
        await pilot.press("slash", *"failed")
        texts = [line.text for line in pane.log_view.view if line.stream != "separator"]
        assert texts == ["mailbox 0 FAILED", "mailbox 10 FAILED", "mailbox 20 FAILED"]
        await pilot.press("enter")
        assert isinstance(c.app.focused, OutputLog)
        assert "filter: failed" in str(pane.border_subtitle)
        await pilot.press("escape")
        assert len(pane.log_view.view) == 31


async def test_transfer_progress_shows_a_bar_with_rate_and_eta(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test(size=(80, 24)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        pane = c.app.screen.query_one(OutputPane)
        assert not pane.has_class("-transfer")
        c.bus.publish(TransferProgress(c.clock.now(), "copy", 1_500_000_000, 3_000_000_000, 50_000_000.0, 30.0))
        pane.flush()
        await pilot.pause()
        assert pane.has_class("-transfer")
        text = pane.query_one("#output-transfer-text", Label)
        bar = pane.query_one(ProgressBar)
        assert str(text.render()) == "1.5 GB of 3.0 GB · 50.0 MB/s · 30s left"
        assert bar.total == 3_000_000_000 and bar.progress == 1_500_000_000 and bar.percentage == 0.5
        assert str(bar.query_one("#percentage").render()) == "50%"
        # The words are never squeezed by the bar, and the bar has room of its own on the same line.
        assert text.size.width >= len("1.5 GB of 3.0 GB · 50.0 MB/s · 30s left")
        assert bar.region.width >= 20 and bar.region.x >= text.region.right and bar.region.right <= pane.region.right

        c.bus.publish(TransferProgress(c.clock.now(), "copy", 2_000_000_000, None, 40_000_000.0, None))
        pane.flush()
        await pilot.pause()
        assert str(text.render()) == "2.0 GB · 40.0 MB/s"
        assert bar.total is None, "an unknown size shows an indeterminate bar"

        await pilot.press("enter")  # the next step starts: the finished transfer's bar goes
        await until(pilot, asking(c.run, "settle"))
        await pilot.press("enter")
        await until(pilot, lambda: c.run.running_step() == "settle")
        pane.flush()
        assert not pane.has_class("-transfer")


async def test_long_titles_take_one_line_and_the_details_show_them_whole(cockpit: Build) -> None:
    c = cockpit(LONG_TITLES)
    async with c.app.run_test(size=(80, 24)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        pane = c.app.screen.query_one(ChecklistPane)
        steps = pane.step_list
        assert steps.virtual_size.height == steps.option_count, "one line per phase and per step"
        assert "…" in c.app.export_screenshot()
        detail = pane.query_one("#step-detail", Static)
        for step_id in ("lower-ttl", "export-mail", "mx-to-parking"):
            steps.select_step(step_id)
            await pilot.pause()
            title = c.run.steps[step_id].step.label
            lines = str(detail.visual).split("\n")
            assert title in " ".join(lines), "the whole title, wrapped to the pane"
            assert all(cell_len(line) <= detail.content_size.width for line in lines)
            assert detail.size.height == 4, "as tall for every step: the list does not jump"


def test_remote_escape_sequences_never_reach_the_terminal() -> None:
    assert clean("\x1b[31mred\x1b[0m\tx\x1b]0;title\x07\r") == "red x\\e]0;title\\a"  # styles dropped, the rest shown
    assert clean("10%\r20%\r30%") == "30%"  # what a terminal would finally show of a progress counter


async def test_help_lists_every_key(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test(size=(120, 40)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        await pilot.press("question_mark")
        screen = c.app.screen
        assert isinstance(screen, HelpScreen)
        text = str(screen.table())
        for word in ("Go", "Skip", "Retry", "Mark done", "Abort", "Pause", "+1 min", "Poll DNS", "Filter", "Quit"):
            assert word in text
        assert "Palette" in text and "Screenshot" in text
        await pilot.press("escape")
        assert not isinstance(c.app.screen, HelpScreen)


async def test_ctrl_s_saves_an_svg_screenshot(cockpit: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    c = cockpit()
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        await pilot.press("ctrl+s")
        await pilot.pause()
    shots = list(tmp_path.glob("*.svg"))
    assert len(shots) == 1 and "<svg" in shots[0].read_text()


async def test_g_polls_the_nameservers_when_the_run_has_a_watcher(cockpit: Build) -> None:
    polled: list[int] = []

    class Watching(RunServices):
        def can_poll(self) -> bool:
            return True

        def poll_now(self) -> None:
            polled.append(1)

    c = cockpit()
    c.run.services = Watching(c.run.plan, Path(), c.clock, c.bus)
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        await pilot.press("g")
        await until(pilot, lambda: polled == [1], "polled")


async def test_resizing_keeps_the_state(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test(size=(80, 24)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        await pilot.press("enter")
        await until(pilot, asking(c.run, "settle"))
        await pilot.press("enter")
        await until(pilot, lambda: c.run.countdown() is not None)
        assert c.app.screen.has_class("-narrow")
        for size in ((140, 45), (60, 20), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
        assert c.app.screen.has_class("-narrow")
        await pilot.resize_terminal(130, 40)
        await pilot.pause()
        assert c.app.screen.has_class("-wide")
        assert c.app.screen.query_one(CountdownPane).step_id == "settle"
        assert c.run.running_step() == "settle"


async def test_an_engine_error_does_not_kill_the_app(cockpit: Build) -> None:
    class Broken(RunServices):
        async def start(self) -> None:
            raise RuntimeError("watcher could not start")

    c = cockpit()
    c.run.services = Broken(c.run.plan, Path(), c.clock, c.bus)
    async with c.app.run_test() as pilot:
        await until(pilot, lambda: c.app.cockpit_screen.finished is not None, "run marked finished")
        assert c.app.is_running
        await pilot.press("q")
        await until(pilot, lambda: c.app.return_value is not None, "app exit")
    assert c.app.return_value == 1


async def test_the_crash_screen_prints_no_local_variables(cockpit: Build, capsys: pytest.CaptureFixture[str]) -> None:
    class Crashing(CockpitApp):
        def on_key(self) -> None:
            secret = "-".join(("tsig", "secret", "value"))  # noqa: F841 (a local the crash screen must not print)
            raise RuntimeError("boom")

    c = cockpit()
    app = Crashing(c.run)

    async def press(pilot: object) -> None:
        await pilot.press("z")  # type: ignore[attr-defined]

    await app.run_async(headless=True, size=(80, 24), auto_pilot=press)
    err = capsys.readouterr().err
    assert "boom" in err
    assert "tsig-secret-value" not in err


async def test_a_line_wider_than_the_pane_ends_with_an_ellipsis(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test(size=(80, 24)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        pane = c.app.screen.query_one(OutputPane)
        digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        say(c, f"sha256 {digest} {digest}")
        say(c, "short line")
        pane.flush()
        await pilot.pause()
        log = pane.log_view
        painted = [log.render_line(y).text for y in range(log.size.height)]
        long = next(text for text in painted if "sha256" in text)
        assert long.rstrip().endswith("…") and len(long) == log.scrollable_content_region.width
        assert next(text for text in painted if "short line" in text).rstrip().endswith("short line")


async def test_right_and_left_scroll_a_cut_line_sideways_to_its_end_and_back(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test(size=(80, 24)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        pane = c.app.screen.query_one(OutputPane)
        digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        say(c, f"sha256sum /srv/move/mail-2026-12-01.tar.zst {digest} END")
        say(c, "short")
        pane.flush()
        await pilot.pause()
        log = pane.log_view
        log.focus()

        def painted(marker: str) -> str:
            return next(log.render_line(y).text for y in range(log.size.height) if marker in log.render_line(y).text)

        assert "END" not in painted("sha256sum")
        for _ in range(8):  # more presses than the line is wide: it stops where the widest line ends
            await pilot.press("right")
        await pilot.pause()
        shifted = painted("END")
        assert shifted.startswith("…") and shifted.rstrip().endswith("END")
        assert 0 < log.scroll_offset.x <= log.max_scroll_x
        assert not any("short" in log.render_line(y).text for y in range(log.size.height))  # scrolled past it
        for _ in range(8):
            await pilot.press("h")
        await pilot.pause()
        assert log.scroll_offset.x == 0 and painted("sha256sum").startswith("  sha256sum")
        assert painted("short").rstrip().endswith("short")


async def test_escape_is_offered_only_while_a_filter_is_set(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test(size=(120, 30)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        pane = c.app.screen.query_one(OutputPane)
        assert pane.check_action("close_filter", ()) is False
        await pilot.press("slash", *"x")
        assert pane.check_action("close_filter", ()) is True
        await pilot.press("escape")
        assert pane.check_action("close_filter", ()) is False


async def test_a_screenshot_goes_beside_the_journal(cockpit: Build, tmp_path: Path) -> None:
    c = cockpit()
    folder = tmp_path / "plan-folder" / ".cockpit"
    folder.mkdir(parents=True)
    c.run.services.state_prefix = folder / "move.yaml"
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert len(list(folder.glob("*.svg"))) == 1
