"""`cockpit demo`: the whole method against the embedded lab, then the proof — nothing lost, downtime measured.

Starts the lab (nameservers, SSH hosts, MTAs, retrying senders on loopback), runs the demo plan it wrote
(full screen, or `--headless` with every question answered yes), waits for the messages still being retried,
stops the lab and prints the tally. Exit 0 only when every step is done and every message is on the new host
exactly once. The downtime in the tally is the engine's (engine/downtime.py), read from the run's journal:
the figure the header showed and `cockpit report` shows.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from cockpit.base.units import format_duration
from cockpit.commands.common import fail, say
from cockpit.commands.run_setup import open_run
from cockpit.engine.downtime import DowntimeClock
from cockpit.engine.events import DnsFlip, Event, EventBus, ListenerProven, Notice, RunFinished, RunStarted, SyncPass
from cockpit.engine.exit_codes import EXIT_BAD_INPUT, EXIT_DONE, EXIT_FAILED
from cockpit.engine.journal import JournalError, event_record, journal_path, read_journal
from cockpit.engine.options import Mode, RunOptions
from cockpit.headless.runner import run_headless
from cockpit.headless.stdout_lines import printer_to_stdout
from cockpit.lab.demo_plan import NEW_STORE, OLD_STORE
from cockpit.lab.demo_plan_steps import DELTA_SYNC
from cockpit.lab.errors import LabError
from cockpit.lab.runtime import Lab
from cockpit.lab.tally import LabTally, RunFigures
from cockpit.plan import PlanError, PlanFileError, load_plan

FIGURE_EVENTS = (RunStarted, DnsFlip, ListenerProven, SyncPass)
"""The events the tally's figures are made of (the downtime's and the copies')."""


@click.command()
@click.option(
    "--speed",
    type=click.FloatRange(min=0.1, max=100),
    default=1.0,
    show_default=True,
    help="Compress every duration (TTLs, lags, polling, sender rate and backoff) by this factor.",
)
@click.option("--headless", is_flag=True, help="Print events instead of the full screen; answers yes to everything.")
@click.option("--messages", type=click.IntRange(min=1), default=None, help="Stop sending after N messages.")
@click.option("--reckless", is_flag=True, help="Skip the TTL waits and stragglers: see what a hurried move strands.")
@click.option("--mode", type=click.Choice(["step", "auto"]), default="step", show_default=True,
              help="Full screen: step asks before each step; auto runs on until a step changes a server.")  # fmt: skip
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None,
              help="Folder for the lab (plan, keys, sandboxes, journal), kept afterwards; default a new temporary "
                   "folder, removed at the end.")  # fmt: skip
@click.option("--keep", is_flag=True, help="Keep the temporary lab folder (plan, journal, stores) for cockpit report.")
@click.option("--theme", metavar="NAME", help="Colour theme of the full screen.")
@click.option("--screenshots", metavar="DIR", type=click.Path(path_type=Path), default=None,
              help="Full screen: save an SVG of the screen in DIR at every phase and at the end.")  # fmt: skip
def demo(
    speed: float, headless: bool, messages: int | None, reckless: bool, mode: Mode, directory: Path | None,
    keep: bool, theme: str | None, screenshots: Path | None,
) -> None:  # fmt: skip
    """Move demo.test's mail between two lab hosts on loopback, for real, and prove no message was lost."""
    if theme is not None:
        from cockpit.ui.launch import theme_names

        if theme not in theme_names():
            fail(f"--theme {theme}: choose one of {', '.join(theme_names())}", EXIT_BAD_INPUT)
    if screenshots is not None:
        if headless:
            fail("cockpit demo: --screenshots takes pictures of the full screen: leave out --headless", EXIT_BAD_INPUT)
        try:
            screenshots.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(f"cockpit demo: cannot create the screenshots folder {screenshots}: {exc.strerror}", EXIT_BAD_INPUT)
    if not headless and not (sys.stdin.isatty() and sys.stdout.isatty()):
        if screenshots is not None:
            fail("cockpit demo: --screenshots needs a terminal (the full screen)", EXIT_BAD_INPUT)
        say("cockpit demo: no terminal: running headless", err=True)
        headless = True
    lab = Lab.start(directory, speed=speed, messages=messages, reckless=reckless, smtp_port=0)
    options = RunOptions(mode="auto" if headless else mode, yes=headless)
    face = Face(headless, theme, screenshots)
    sys.exit(asyncio.run(_demo(lab, options, face, keep or directory is not None)))


@dataclass(frozen=True)
class Face:
    """How the demo shows the run: headless, or the full screen (its theme, its screenshots folder)."""

    headless: bool
    theme: str | None = None
    screenshots: Path | None = None


async def _demo(lab: Lab, options: RunOptions, face: Face, keep: bool) -> int:
    """The demo; then the lab's folder (with its private key) is removed unless it is to be kept."""
    try:
        return await _demo_in_lab(lab, options, face, keep)
    finally:
        if not keep:
            lab.remove_folder()


async def open_lab(lab: Lab, command: str) -> bool:
    """Starts the lab; when it cannot (it has then stopped what it started), says why on stderr: False."""
    try:
        await lab.open()
    except LabError as exc:
        say(f"cockpit {command}: {exc}", err=True)
        return False
    return True


async def _demo_in_lab(lab: Lab, options: RunOptions, face: Face, keep: bool) -> int:
    if not await open_lab(lab, "demo"):
        return EXIT_FAILED
    try:
        if face.headless:
            say(f"lab running in {lab.directory}")
            for line in lab.describe():
                say(f"  {line}")
        code = await _run_plan(lab, options, face)
        tally = await _finish(lab)
    finally:
        await lab.close()
    say(f"tally: {tally.line()}")
    _say_where(lab, keep)
    if face.screenshots is not None:
        taken = sorted(face.screenshots.glob("*.svg"))
        say(f"screenshots: {len(taken)} SVG file(s) in {face.screenshots}")
    if code != EXIT_DONE:
        return code
    if tally.verdict.clean:
        return EXIT_DONE
    say(f"cockpit demo: exit {EXIT_FAILED} — every step ran, but {_harm(tally)}"
        + (": that is what a hurried move does" if lab.settings.reckless else ""), err=True)  # fmt: skip
    return EXIT_FAILED


def _harm(tally: LabTally) -> str:
    verdict = tally.verdict
    parts = [f"{n} message(s) {what}" for n, what in ((verdict.lost, "lost"), (verdict.duplicated, "duplicated"),
                                                      (verdict.stranded, "stranded on the old host")) if n]  # fmt: skip
    return ", ".join(parts) or "the tally is not clean"


def _say_where(lab: Lab, keep: bool) -> None:
    if keep:
        say(f"lab kept in {lab.directory} (its plan, keys, stores and journal)")
        say(f"journal: {journal_path(lab.plan_path)} (cockpit report shows the timeline)")
    else:
        say(f"lab removed from {lab.directory} (--keep keeps it, with the journal for cockpit report)")


async def _run_plan(lab: Lab, options: RunOptions, face: Face) -> int:
    try:
        plan_file = load_plan(lab.plan_path)
    except (PlanError, PlanFileError) as exc:  # the lab wrote it: a bug, said in one line
        first = exc.issues[0] if isinstance(exc, PlanError) and exc.issues else exc
        say(f"cockpit demo: the lab's plan is invalid: {first}", err=True)
        return EXIT_FAILED
    printer = printer_to_stdout() if face.headless else None
    opened = open_run(plan_file, options, command="demo", fresh=True, listeners=[printer] if printer else [])
    if opened is None:
        return EXIT_FAILED
    opened.bus.subscribe(_TallyOnFinish(lab, opened.bus))
    try:
        if printer is not None:
            return await run_headless(opened.session.run, printer, answer_from_stdin=False)
        from cockpit.ui.launch import run_fullscreen

        return await run_fullscreen(opened.session, theme=face.theme, screenshots=face.screenshots)
    finally:
        opened.session.close()


class _TallyOnFinish:
    """When the run ends, say on the run's own stream how the mail fared so far: three short lines, which the
    screen keeps whole at the end of its output, 80 columns included."""

    def __init__(self, lab: Lab, bus: EventBus) -> None:
        self.lab = lab
        self.bus = bus
        self.records: list[dict[str, Any]] = []
        """The run's records the figures are made of, as the journal keeps them."""

    def __call__(self, event: Event) -> None:
        if isinstance(event, FIGURE_EVENTS):
            self.records.append(event_record(event))
        if isinstance(event, RunFinished):
            self.lab.stop_submitting()
            tally = self.lab.tally(run_figures(self.records, event.at))
            # After every listener had the end (the screen opens its "end of run" section with it).
            loop = asyncio.get_running_loop()
            for notice in tally_notices(tally, event.at):
                loop.call_soon(self.bus.publish, notice)


def tally_notices(tally: LabTally, at: float) -> list[Notice]:
    """The tally as the run's own stream says it at the end: three lines 80 columns hold."""
    sent, harm, downtime = tally.lines(so_far=True)
    return [Notice(at, "info", text) for text in (f"mail so far: {sent}", f"mail so far: {harm}", downtime)]


def run_figures(records: Sequence[dict[str, Any]], now: float | None = None) -> RunFigures:
    """The run's downtime (the one definition, engine/downtime.py) and its copies of the demo's stores, from
    journal records: the delta pass's duration (the floor's copy part) and when the last copy began (mail that
    reached old after it is stranded, not lost). `now` ends a downtime still open (default: the last record)."""
    clock = DowntimeClock.from_records(list(records))
    last = next((float(r["at"]) for r in reversed(records) if isinstance(r.get("at"), int | float)), None)
    passes = [r for r in records if r.get("type") == "SyncPass" and (r.get("source"), r.get("dest")) == (OLD_STORE,
              NEW_STORE)]  # fmt: skip
    delta = next((float(r["seconds"]) for r in reversed(passes) if r.get("step_id") == DELTA_SYNC), None)
    moved_before = max((float(r["at"]) - float(r["seconds"]) for r in passes), default=None)
    at = now if now is not None else last
    return RunFigures(
        downtime=clock.elapsed(at) if at is not None else None,
        downtime_over=clock.over,
        downtime_proven=clock.proven,
        delta_seconds=delta,
        moved_before=moved_before,
    )


def journal_figures(plan_path: Path) -> RunFigures:
    """`run_figures` of the plan's journal (none when no run wrote one, or it cannot be read)."""
    try:
        return run_figures(read_journal(journal_path(plan_path)).records)
    except JournalError:
        return RunFigures()


async def _finish(lab: Lab) -> LabTally:
    """Stop sending, give retrying senders one more chance to deliver, and take the tally with the run's
    figures from its journal."""
    lab.stop_submitting()
    if lab.pending:
        say(f"waiting up to {format_duration(lab.pace.drain_timeout)} for {lab.pending} message(s) still being retried")
        await lab.drain()
    return lab.tally(journal_figures(lab.plan_path))
