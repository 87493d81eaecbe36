"""The keys that act outside the step order: P parks the MX, u undoes the selected dns_update step, Enter on a
settled step reruns it. Each asks first, showing what will change; the run does the work (SideActions)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from cockpit.engine.journal import JournalError, read_journal
from cockpit.engine.retreat import RetreatRefused, describe_park, describe_undo, parking_state
from cockpit.engine.states import StepState
from cockpit.plan import Plan
from cockpit.ui.dialogs.confirm_screen import ConfirmScreen
from cockpit.ui.dialogs.operator_dialogs import park_question, rerun_question, undo_question
from cockpit.ui.panes.step_list import StepList

if TYPE_CHECKING:
    from cockpit.ui.cockpit_screen import CockpitScreen

RERUNNABLE = frozenset({StepState.DONE, StepState.SKIPPED, StepState.FAILED})


def has_parking(plan: Plan) -> bool:
    try:
        parking_state(plan)
    except RetreatRefused:
        return False
    return True


def can_rerun(screen: CockpitScreen, step_id: str | None) -> bool:
    """Enter on this selected step means "run it again": a settled step the operator selected (not one the list
    followed by itself) that is not the one the run asks about, while the run goes on."""
    if step_id is None or screen.finished is not None or not screen.query_one(StepList).chosen:
        return False
    status = screen.run.steps.get(step_id)
    prompt = screen.run.prompt
    if status is None or status.state not in RERUNNABLE or screen.run.running_step() is not None:
        return False
    return prompt is None or prompt.step_id != step_id


def ask_park(screen: CockpitScreen) -> None:
    try:
        change = describe_park(screen.run.plan)
    except RetreatRefused as exc:
        screen.notify(str(exc), severity="warning")
        return

    def answered(yes: bool | None) -> None:
        if yes:
            screen.report_result(screen.run.side.park(origin="the P key"))

    screen.app.push_screen(ConfirmScreen(*park_question(change)), answered)


async def ask_undo(screen: CockpitScreen, step_id: str) -> None:
    """Reads the journal off the screen's loop (it may be long), then asks."""
    journal = screen.run.services.state_file("journal")
    if journal is None:
        screen.notify("this run has no journal (a dry run): there is no MX change to undo", severity="warning")
        return
    try:
        records = await asyncio.to_thread(read_journal, journal)
        change = describe_undo(records.records, step_id)
    except (JournalError, RetreatRefused) as exc:
        screen.notify(str(exc), severity="warning")
        return

    def answered(yes: bool | None) -> None:
        if yes:
            screen.report_result(screen.run.side.undo(step_id, origin="the u key"))

    screen.app.push_screen(ConfirmScreen(*undo_question(change)), answered)


def ask_rerun(screen: CockpitScreen, step_id: str) -> None:
    prompt = screen.run.prompt
    proposed = prompt.step_id if prompt is not None and not prompt.answer.done() else None

    def answered(yes: bool | None) -> None:
        if yes:
            screen.report_result(screen.run.side.rerun(step_id))

    screen.app.push_screen(ConfirmScreen(*rerun_question(screen.run, step_id, proposed)), answered)
