"""`cockpit observe PLAN|JOURNAL`: the full screen of a run another cockpit drives, read-only, live from its
journal. It takes no lock and writes nothing; it works before the run starts, while it runs, and after."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from cockpit.base.clock import SystemClock
from cockpit.commands.common import fail, load_plan_or_exit
from cockpit.engine.events import EventBus
from cockpit.engine.exit_codes import EXIT_BAD_INPUT
from cockpit.engine.journal import JournalError, journal_path, read_journal
from cockpit.engine.observed_run import ObservedRun
from cockpit.engine.services import RunServices
from cockpit.plan import PlanFile

JOURNAL_SUFFIX = ".journal"


@dataclass(frozen=True)
class Observed:
    plan_file: PlanFile
    journal: Path
    lock: Path


def locate(target: str) -> Observed:
    """The plan and its journal from either of them (a journal lives in `.cockpit/` beside its plan)."""
    path = Path(target)
    if path.name.endswith(JOURNAL_SUFFIX):
        plan_path = path.resolve().parent.parent / path.name[: -len(JOURNAL_SUFFIX)]
        if not path.is_file():
            fail(f"cockpit observe: {target}: no such journal")
        if not plan_path.is_file():
            fail(f"cockpit observe: {target}: its plan {plan_path} is not there (a journal is observed with its plan)")
        plan_file = load_plan_or_exit(str(plan_path))
        journal = path.resolve()
    else:
        plan_file = load_plan_or_exit(target)
        journal = journal_path(plan_file.path)
    return Observed(plan_file, journal, journal.with_suffix(".lock"))


def check_journal(journal: Path) -> None:
    """Refuse a damaged journal before the screen opens: one line, exit 2."""
    try:
        read_journal(journal)
    except JournalError as exc:
        fail(f"cockpit observe: {exc}", EXIT_BAD_INPUT)


def observed_run(observed: Observed, clock: SystemClock) -> ObservedRun:
    plan = observed.plan_file.plan
    base_dir = observed.plan_file.path.resolve().parent
    live = EventBus()
    services = RunServices(plan, base_dir, clock, live, verify_hosts_first=False)
    return ObservedRun(plan, journal=observed.journal, lock=observed.lock, base_dir=base_dir, clock=clock,
                       bus=EventBus(), services=services)  # fmt: skip


@click.command("observe")
@click.argument("target", metavar="PLAN|JOURNAL", type=click.Path(path_type=str))
@click.option("--theme", metavar="NAME", help="Colour theme of the full screen (e.g. textual-dark, nord, gruvbox).")
def observe(target: str, theme: str | None) -> None:
    """Watch a run of PLAN live, read-only, in the full screen: the checklist, output, countdown, downtime and
    forecast from its journal; the nameservers from this observer's own (read-only) DNS queries. No key
    changes the run; q leaves. Works while the run waits, runs, or after it ended."""
    observed = locate(target)
    check_journal(observed.journal)
    from cockpit.ui.launch import theme_names

    if theme is not None and theme not in theme_names():
        fail(f"--theme {theme}: choose one of {', '.join(theme_names())}")
    served = "TEXTUAL_DRIVER" in os.environ  # cockpit serve runs this command behind a browser
    if not served and (not sys.stdin.isatty() or not sys.stdout.isatty()):
        fail("cockpit observe needs a terminal (or a browser: cockpit serve)")
    sys.exit(asyncio.run(_observe(observed, theme)))


async def _observe(observed: Observed, theme: str | None) -> int:
    from cockpit.ui.launch import run_observer

    return await run_observer(observed_run(observed, SystemClock()), theme=theme)
