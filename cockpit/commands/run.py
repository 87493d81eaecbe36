"""`cockpit run PLAN`: run (or resume) a plan; `--headless` prints events and reads answers from stdin."""

from __future__ import annotations

import asyncio
import sys

import click

from cockpit.commands.common import fail, load_plan_or_exit
from cockpit.engine.clock import SystemClock
from cockpit.engine.events import EventBus, Notice
from cockpit.engine.headless_runner import (
    StdinAnswers,
    install_signals,
    over_ssh_outside_multiplexer,
    printer_to_stdout,
    terminal_passphrase,
)
from cockpit.engine.journal import JournalError
from cockpit.engine.run import RunOptions
from cockpit.engine.services import RunServices
from cockpit.engine.session import SessionRefused, open_session
from cockpit.plan import PlanFile

DECISIONS = ("rerun", "done", "skip")


def parse_decisions(values: tuple[str, ...], plan_file: PlanFile) -> dict[str, str]:
    known = {step.id for _, step in plan_file.plan.steps()}
    decisions: dict[str, str] = {}
    for value in values:
        step_id, sep, action = value.partition("=")
        if not sep or action not in DECISIONS:
            fail(f"--decide {value}: expected STEP=rerun|done|skip")
        if step_id not in known:
            fail(f"--decide {value}: the plan has no step '{step_id}'")
        decisions[step_id] = action
    return decisions


@click.command("run")
@click.argument("plan", type=click.Path(path_type=str))
@click.option("--headless", is_flag=True, help="Print events one per line instead of the full screen.")
@click.option("--yes", is_flag=True, help="Answer yes to every gate and confirmation (headless).")
@click.option("--mode", type=click.Choice(["step", "auto"]), default="step", show_default=True,
              help="step: confirm before each step; auto: run on until a confirmation or a failure.")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Change nothing: show what ssh, transfer and dns_update would do.")
@click.option("--fresh", is_flag=True, help="Archive the plan's journal and start over.")
@click.option("--accept-plan-change", is_flag=True, help="Resume although the plan changed since the journal began.")
@click.option("--decide", multiple=True, metavar="STEP=rerun|done|skip", help="Decide for an interrupted step.")
@click.option("--theme", metavar="NAME", help="Colour theme of the full screen (e.g. textual-dark, nord, gruvbox).")
def run(
    plan: str, headless: bool, yes: bool, mode: str, dry_run: bool, fresh: bool, accept_plan_change: bool,
    decide: tuple[str, ...], theme: str | None,
) -> None:  # fmt: skip
    """Run PLAN, or resume it from its journal (.cockpit/ beside the plan)."""
    plan_file = load_plan_or_exit(plan)
    options = RunOptions(mode=mode, dry_run=dry_run, yes=yes, decisions=parse_decisions(decide, plan_file))
    if headless:
        sys.exit(asyncio.run(_headless(plan_file, options, fresh, accept_plan_change)))
    from cockpit.ui.launch import theme_names

    if theme is not None and theme not in theme_names():
        fail(f"--theme {theme}: choose one of {', '.join(theme_names())}", 2)
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        fail("the full-screen cockpit needs a terminal: run it in one, or add --headless", 2)
    sys.exit(asyncio.run(_fullscreen(plan_file, options, fresh, accept_plan_change, theme)))


async def _fullscreen(
    plan_file: PlanFile, options: RunOptions, fresh: bool, accept_plan_change: bool, theme: str | None
) -> int:
    from cockpit.ui.launch import run_fullscreen

    clock = SystemClock()
    bus = EventBus()
    services = RunServices(plan_file.plan, plan_file.path.resolve().parent, clock, bus)
    try:
        session = open_session(plan_file, options=options, clock=clock, bus=bus, services=services, fresh=fresh,
                               accept_plan_change=accept_plan_change)  # fmt: skip
    except (SessionRefused, JournalError) as exc:
        click.echo(f"cockpit run: {exc}", err=True)
        return 2
    services.resume = session.resume
    try:
        return await run_fullscreen(session, services, bus, clock, theme=theme)
    finally:
        session.close()


async def _headless(plan_file: PlanFile, options: RunOptions, fresh: bool, accept_plan_change: bool) -> int:
    clock = SystemClock()
    bus = EventBus()
    printer = printer_to_stdout()
    bus.subscribe(printer)
    services = RunServices(plan_file.plan, plan_file.path.resolve().parent, clock, bus,
                           passphrase=terminal_passphrase)  # fmt: skip
    try:
        session = open_session(plan_file, options=options, clock=clock, bus=bus, services=services, fresh=fresh,
                               accept_plan_change=accept_plan_change)  # fmt: skip
    except (SessionRefused, JournalError) as exc:
        click.echo(f"cockpit run: {exc}", err=True)
        return 2
    services.resume = session.resume
    if over_ssh_outside_multiplexer():
        bus.publish(Notice(clock.now(), "warning", "running over SSH outside tmux/screen: a dropped connection "
                           "stops the cockpit (the journal lets you resume)"))  # fmt: skip
    answers = None
    if not options.yes:
        answers = StdinAnswers(session.run, printer.write)
        await answers.open()
        bus.subscribe(answers)
    remove_signals = install_signals(session.run, bus, clock.now)
    try:
        await services.start()
        return await session.run.run()
    finally:
        remove_signals()
        await services.close()
        session.close()
