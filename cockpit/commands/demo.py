"""`cockpit demo`: the whole method against the embedded lab, then the proof — nothing lost, downtime measured.

Starts the lab (nameservers, SSH hosts, MTAs, retrying senders on loopback), runs the demo plan it wrote
(full screen, or `--headless` with every question answered yes), waits for the messages still being retried,
stops the lab and prints the tally. Exit 0 only when every step is done and no message was lost or duplicated.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from cockpit.commands.common import fail, say
from cockpit.commands.run_setup import open_run
from cockpit.engine.events import Event, EventBus, Notice, RunFinished
from cockpit.engine.journal import journal_path
from cockpit.engine.options import Mode, RunOptions
from cockpit.headless.runner import run_headless
from cockpit.headless.stdout_lines import printer_to_stdout
from cockpit.lab.errors import LabError
from cockpit.lab.runtime import Lab
from cockpit.lab.tally import LabTally
from cockpit.plan import PlanError, PlanFileError, load_plan

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


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
              help="Folder for the lab (plan, keys, sandboxes, journal); default a new temporary folder.")  # fmt: skip
@click.option("--theme", metavar="NAME", help="Colour theme of the full screen.")
def demo(
    speed: float, headless: bool, messages: int | None, reckless: bool, mode: Mode, directory: Path | None,
    theme: str | None,
) -> None:  # fmt: skip
    """Move demo.test's mail between two lab hosts on loopback, for real, and prove no message was lost."""
    if theme is not None:
        from cockpit.ui.launch import theme_names

        if theme not in theme_names():
            fail(f"--theme {theme}: choose one of {', '.join(theme_names())}", EXIT_BAD_INPUT)
    if not headless and not (sys.stdin.isatty() and sys.stdout.isatty()):
        say("cockpit demo: no terminal: running headless", err=True)
        headless = True
    lab = Lab.start(directory, speed=speed, messages=messages, reckless=reckless, smtp_port=0)
    options = RunOptions(mode="auto" if headless else mode, yes=headless)
    sys.exit(asyncio.run(_demo(lab, options, headless, theme)))


async def _demo(lab: Lab, options: RunOptions, headless: bool, theme: str | None) -> int:
    try:
        await lab.open()
    except LabError as exc:
        say(f"cockpit demo: {exc}", err=True)
        await lab.close()
        return EXIT_FAILED
    try:
        if headless:
            say(f"lab running in {lab.directory}")
            for line in lab.describe():
                say(f"  {line}")
        code = await _run_plan(lab, options, headless, theme)
        tally = await _finish(lab)
    finally:
        await lab.close()
    say(f"tally: {tally.line()}")
    say(f"journal: {journal_path(lab.plan_path)} (cockpit report shows the timeline)")
    verdict = tally.verdict
    if code != EXIT_OK:
        return code
    return EXIT_OK if verdict.lost == 0 and verdict.duplicated == 0 else EXIT_FAILED


async def _run_plan(lab: Lab, options: RunOptions, headless: bool, theme: str | None) -> int:
    try:
        plan_file = load_plan(lab.plan_path)
    except (PlanError, PlanFileError) as exc:  # the lab wrote it: a bug, said in one line
        first = exc.issues[0] if isinstance(exc, PlanError) and exc.issues else exc
        say(f"cockpit demo: the lab's plan is invalid: {first}", err=True)
        return EXIT_FAILED
    printer = printer_to_stdout() if headless else None
    opened = open_run(plan_file, options, command="demo", fresh=True, listeners=[printer] if printer else [])
    if opened is None:
        return EXIT_FAILED
    opened.bus.subscribe(_TallyOnFinish(lab, opened.bus))
    try:
        if printer is not None:
            return await run_headless(opened.session.run, printer, answer_from_stdin=False)
        from cockpit.ui.launch import run_fullscreen

        return await run_fullscreen(opened.session, theme=theme)
    finally:
        opened.session.close()


class _TallyOnFinish:
    """When the run ends, say on the run's own stream how the mail fared so far (the screen shows it)."""

    def __init__(self, lab: Lab, bus: EventBus) -> None:
        self.lab = lab
        self.bus = bus

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self.lab.stop_submitting()
            self.bus.publish(Notice(event.at, "info", f"mail so far: {self.lab.tally().line()}"))


async def _finish(lab: Lab) -> LabTally:
    """Stop sending, give retrying senders one more chance to deliver, and take the tally."""
    lab.stop_submitting()
    if lab.pending:
        say(f"waiting up to {lab.pace.drain_timeout:.0f} s for {lab.pending} message(s) still being retried")
        await lab.drain()
    return lab.tally()
