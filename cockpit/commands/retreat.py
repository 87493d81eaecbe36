"""`cockpit park PLAN` and `cockpit undo PLAN STEP`: the retreats, from a shell.

When a cockpit runs the plan (it holds the lock), the request goes to that run over its control socket and
the run does it, so the journal keeps one writer; otherwise this command takes the lock, watches the
nameservers itself, and journals what it did.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import click

from cockpit.base.clock import SystemClock
from cockpit.commands.common import fail, load_plan_or_exit, say
from cockpit.engine.context import StepFailed
from cockpit.engine.control import ControlUnreachable, control_path, send_request
from cockpit.engine.events import Event, EventBus, Notice, OutputLine
from cockpit.engine.journal import JournalError, JournalWriter, cut_torn_tail, journal_path, read_journal
from cockpit.engine.lock import LockHeld, PlanLock
from cockpit.engine.resume import resume_point
from cockpit.engine.retreat import (
    RetreatContext,
    RetreatRefused,
    describe_park,
    describe_undo,
    journaled,
    park,
    undo,
)
from cockpit.engine.services import RunServices
from cockpit.plan import PlanFile

EXIT_NOT_DONE = 1

Work = Callable[[RetreatContext, tuple[dict[str, Any], ...]], Coroutine[Any, Any, str]]


@click.command("park")
@click.argument("plan", type=click.Path(path_type=str))
@click.option("--yes", is_flag=True, help="Do not ask first.")
def park_command(plan: str, yes: bool) -> None:
    """Point every domain's MX at the plan's parking address now (after checking that it refuses mail), and
    wait until every nameserver serves it: senders queue and retry, nothing is lost. Goes through the cockpit
    that runs PLAN when one does."""
    plan_file = load_plan_or_exit(plan)
    try:
        change = describe_park(plan_file.plan)
    except RetreatRefused as exc:
        fail(f"cockpit park: {exc}")
    _ask_first(change, yes, "park")
    sys.exit(asyncio.run(_retreat(plan_file, "park", "", {"action": "park"}, lambda ctx, _records: park(ctx))))


@click.command("undo")
@click.argument("plan", type=click.Path(path_type=str))
@click.argument("step")
@click.option("--force", is_flag=True, help="Also when it sends mail back to the old host after mail moved.")
@click.option("--yes", is_flag=True, help="Do not ask first.")
def undo_command(plan: str, step: str, force: bool, yes: bool) -> None:
    """Restore the MX that the done dns_update STEP replaced (as its journal recorded it). Refused when that
    points mail back at the old host after mail was copied to or accepted by the new one, unless --force."""
    plan_file = load_plan_or_exit(plan)
    if step not in {s.id for _, s in plan_file.plan.steps()}:
        fail(f"cockpit undo: the plan has no step '{step}'")
    try:
        change = describe_undo(read_journal(journal_path(plan_file.path)).records, step)
    except (RetreatRefused, JournalError) as exc:
        fail(f"cockpit undo: {exc}", EXIT_NOT_DONE)
    _ask_first(change + (" (forced)" if force else ""), yes, "undo")
    request = {"action": "undo", "step": step, "force": force}
    sys.exit(asyncio.run(_retreat(plan_file, "undo", step, request,
                                  lambda ctx, records: undo(ctx, records, step, force=force))))  # fmt: skip


def _ask_first(change: str, yes: bool, command: str) -> None:
    say(change)
    if yes:
        return
    if not sys.stdin.isatty():
        fail(f"cockpit {command} asks before it changes the MX: run it in a terminal, or add --yes")
    if not click.confirm("go ahead?", default=False):
        fail("nothing was changed", EXIT_NOT_DONE)


async def _retreat(plan_file: PlanFile, command: str, step_id: str, request: dict[str, Any], work: Work) -> int:
    path = journal_path(plan_file.path)
    lock = PlanLock(path.with_suffix(".lock"))
    try:
        lock.acquire()
    except LockHeld:
        return await _through_running(path, command, request)
    except OSError as exc:
        say(f"cockpit {command}: cannot create the lock beside the plan ({path.parent}): {exc.strerror}", err=True)
        return EXIT_NOT_DONE
    try:
        return await _here(plan_file, command, step_id, work)
    finally:
        lock.release()


async def _through_running(path: Path, command: str, request: dict[str, Any]) -> int:
    """A cockpit runs the plan: it does the work (one writer to the journal); its lines are shown here."""
    say(f"a cockpit runs this plan: asking it to {command}")
    try:
        ok, line = await send_request(control_path(path), request, say)
    except ControlUnreachable as exc:
        say(f"cockpit {command}: the cockpit that runs this plan does not answer ({exc}): use its keys "
            "(P parks, u undoes the selected step)", err=True)  # fmt: skip
        return EXIT_NOT_DONE
    if not ok:
        say(f"cockpit {command}: {line}", err=True)
        return EXIT_NOT_DONE
    return 0


async def _here(plan_file: PlanFile, command: str, step_id: str, work: Work) -> int:
    """No cockpit runs the plan: watch the nameservers and journal the retreat from this process."""
    path = journal_path(plan_file.path)
    try:
        contents = read_journal(path)
        cut_torn_tail(path, contents, time.strftime("%Y%m%d-%H%M%S"))
        journal = JournalWriter(path, records=len(contents.records))
    except JournalError as exc:
        say(f"cockpit {command}: {exc}", err=True)
        return EXIT_NOT_DONE
    except OSError as exc:
        say(f"cockpit {command}: cannot open the journal {path}: {exc.strerror}", err=True)
        return EXIT_NOT_DONE
    clock, bus = SystemClock(), EventBus()
    bus.subscribe(journal, first=True)
    bus.subscribe(_printed)
    base_dir = plan_file.path.resolve().parent
    services = RunServices(plan_file.plan, base_dir, clock, bus, state_prefix=path.with_suffix(""),
                           verify_hosts_first=False)  # fmt: skip
    services.resume_from(resume_point(contents.records))
    ctx = RetreatContext(plan=plan_file.plan, base_dir=base_dir, services=services, publish=bus.publish,
                         now=clock.now, say=lambda text: bus.publish(OutputLine(clock.now(), f"({command})",
                                                                                "cockpit", "info", text)))  # fmt: skip
    try:
        await services.start()
        line = await journaled(ctx, command, step_id, work(ctx, contents.records))
    except (RetreatRefused, StepFailed) as exc:
        say(f"cockpit {command}: {exc}", err=True)
        return EXIT_NOT_DONE
    except JournalError as exc:
        say(f"cockpit {command}: {exc}", err=True)
        return EXIT_NOT_DONE
    finally:
        await services.close()
        journal.close()
    say(line)
    return 0


def _printed(event: Event) -> None:
    if isinstance(event, OutputLine):
        say(event.text)
    elif isinstance(event, Notice) and event.level != "info":
        say(f"{event.level}: {event.text}", err=True)
