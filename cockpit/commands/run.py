"""`cockpit run PLAN`: run (or resume) a plan; `--headless` prints events and reads answers from stdin."""

from __future__ import annotations

import asyncio
import sys

import click

from cockpit.base import collector
from cockpit.commands.common import fail, load_plan_or_exit
from cockpit.commands.run_setup import open_run
from cockpit.engine.exit_codes import EXIT_BAD_INPUT
from cockpit.engine.options import Mode, RunOptions
from cockpit.engine.prompts import DECIDE_WORDS
from cockpit.headless.runner import run_headless
from cockpit.headless.stdout_lines import printer_to_stdout
from cockpit.headless.tty_passphrase import terminal_passphrase
from cockpit.plan import PlanFile

EXIT_REFUSED = EXIT_BAD_INPUT
"""A refused start (lock held, plan changed, unreadable journal) exits 2, like a bad plan."""


def parse_decisions(values: tuple[str, ...], plan_file: PlanFile) -> dict[str, str]:
    known = {step.id for _, step in plan_file.plan.steps()}
    decisions: dict[str, str] = {}
    for value in values:
        step_id, sep, action = value.partition("=")
        if not sep or action not in DECIDE_WORDS:
            fail(f"--decide {value}: expected STEP=retry|skip (a failed step) or STEP=rerun|done|skip (interrupted)")
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
@click.option("--decide", multiple=True, metavar="STEP=ACTION",
              help="Decide for a failed step (retry|skip) or an interrupted one (rerun|done|skip).")  # fmt: skip
@click.option("--theme", metavar="NAME", help="Colour theme of the full screen (e.g. textual-dark, nord, gruvbox).")
def run(
    plan: str, headless: bool, yes: bool, mode: Mode, dry_run: bool, fresh: bool, accept_plan_change: bool,
    decide: tuple[str, ...], theme: str | None,
) -> None:  # fmt: skip
    """Run PLAN, or resume it from its journal (.cockpit/ beside the plan)."""
    plan_file = load_plan_or_exit(plan)
    options = RunOptions(mode=mode, dry_run=dry_run, yes=yes, decisions=parse_decisions(decide, plan_file))
    if headless:
        collector.settle()
        sys.exit(asyncio.run(_headless(plan_file, options, fresh, accept_plan_change)))
    from cockpit.ui.launch import theme_names

    if theme is not None and theme not in theme_names():
        fail(f"--theme {theme}: choose one of {', '.join(theme_names())}", 2)
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        fail("the full-screen cockpit needs a terminal: run it in one, or add --headless", 2)
    collector.settle()
    sys.exit(asyncio.run(_fullscreen(plan_file, options, fresh, accept_plan_change, theme)))


async def _fullscreen(
    plan_file: PlanFile, options: RunOptions, fresh: bool, accept_plan_change: bool, theme: str | None
) -> int:
    from cockpit.ui.launch import run_fullscreen

    opened = open_run(plan_file, options, command="run", fresh=fresh, accept_plan_change=accept_plan_change)
    if opened is None:
        return EXIT_REFUSED
    try:
        return await run_fullscreen(opened.session, theme=theme)
    finally:
        opened.session.close()


async def _headless(plan_file: PlanFile, options: RunOptions, fresh: bool, accept_plan_change: bool) -> int:
    printer = printer_to_stdout()
    opened = open_run(plan_file, options, command="run", fresh=fresh, accept_plan_change=accept_plan_change,
                      passphrase=terminal_passphrase, listeners=[printer])  # fmt: skip
    if opened is None:
        return EXIT_REFUSED
    try:
        return await run_headless(opened.session.run, printer, answer_from_stdin=not options.yes)
    finally:
        opened.session.close()
