"""A job flooding the output: the newest lines all kept in order, the pane following live, the "N new lines"
badge counting every line, and keys still handled while the flood runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual import events

from cockpit.engine.events import OutputLine
from cockpit.ui.panes.output_buffer import DEFAULT_LIMIT, LineKind
from cockpit.ui.panes.output_pane import OutputPane
from cockpit.ui.panes.step_list import StepList

from .conftest import Cockpit, asking, until

Build = Callable[..., Cockpit]


def flood(c: Cockpit, step: str, host: str, count: int, start: int = 0) -> None:
    for number in range(start, start + count):
        c.bus.publish(OutputLine(c.clock.now(), step, host, "stdout", f"{step} line {number}"))


async def test_a_flood_keeps_the_newest_lines_in_order_and_the_pane_follows_them(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test(size=(100, 30)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        pane = c.app.screen.query_one(OutputPane)
        log = pane.log_view
        flood(c, "copy", "old", 30_000)
        flood(c, "verify", "new", 5_000)
        # No flush by hand: the pane's own repaint timer takes the batch.
        await until(pilot, lambda: bool(log.view) and log.view[-1].text == "verify line 4999", "the last line shown")

        view = list(log.view)
        assert len(view) == DEFAULT_LIMIT
        texts = [line.text for line in view if line.stream != LineKind.SEPARATOR]
        assert texts == [f"copy line {n}" for n in range(25_001, 30_000)] + [f"verify line {n}" for n in range(5_000)]
        first_verify = next(i for i, line in enumerate(view) if line.step_id == "verify")
        assert view[first_verify].stream == LineKind.SEPARATOR and view[first_verify].text == "verify · new"
        assert log.following and log.is_vertical_scroll_end and log.unseen == 0
        assert "verify&#160;line&#160;4999" in c.app.export_screenshot()

        flood(c, "verify", "new", 3, start=5_000)
        await until(pilot, lambda: log.view[-1].text == "verify line 5002", "later lines shown")
        assert log.is_vertical_scroll_end


async def test_scrolled_away_the_badge_counts_lines_that_fell_out_of_the_bounds_too(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test(size=(100, 30)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        pane = c.app.screen.query_one(OutputPane)
        log = pane.log_view
        flood(c, "job", "old", 200)
        pane.flush()
        await pilot.pause()
        log.focus()
        await pilot.press("home")
        flood(c, "job", "old", 25_000, start=200)
        pane.flush()
        assert log.unseen == 25_000, "15,000 of them never reached the kept history, but they did arrive"
        assert "25,000 new lines" in str(pane.border_subtitle)
        assert log.scroll_offset.y == 0 and not log.following
        assert log.view[-1].text == "job line 25199"


async def test_a_new_attempt_of_a_step_gets_its_own_separator(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test(size=(100, 30)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        pane = c.app.screen.query_one(OutputPane)
        feed = c.app.cockpit_screen.feed
        feed.buffer.section("job", "", "(attempt 2)")
        flood(c, "job", "old", 2)
        feed.buffer.section("job", "", "(attempt 3)")
        flood(c, "job", "old", 1, start=2)
        pane.flush()
        assert [(line.stream, line.text) for line in pane.log_view.view] == [
            ("separator", "job (attempt 2)"),
            ("stdout", "job line 0"),
            ("stdout", "job line 1"),
            ("separator", "job (attempt 3)"),
            ("stdout", "job line 2"),
        ]


async def test_keys_are_handled_while_a_flood_runs(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test(size=(120, 40)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        steps = c.app.screen.query_one(StepList)
        assert steps.selected_step == "lower-ttl"

        async def stream() -> None:
            """As the SSH step publishes: a packet's lines at once, then back to the loop."""
            for start in range(0, 1_000_000, 1_000):
                flood(c, "job", "old", 1_000, start)
                await asyncio.sleep(0)

        moved: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def highlighted() -> None:
            if not moved.done():
                moved.set_result(None)

        steps.watch(steps, "highlighted", highlighted, init=False)
        flooding = asyncio.ensure_future(stream())
        try:
            # Posted as the terminal driver posts it (Pilot.press would wait for the CPU to be idle).
            c.app.post_message(events.Key("j", "j"))
            await asyncio.wait_for(moved, 30)
            assert steps.selected_step == "settle"
            assert not flooding.done(), "the key waited for the flood to end"
        finally:
            flooding.cancel()
