"""What the operator does outside the step order while a run is open: park the MX, undo a `dns_update` step,
rerun a step that is done. One at a time: while one is at work no step starts, no prompt takes an answer,
and none starts while a step that changes the MX is running.

Each publishes its lines as output of a pseudo-step named in parentheses (`(park)`, `(undo flip)`), which no
plan step id can be, and its outcome as a `Retreat` event (park, undo) or as the step's own state (rerun).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from cockpit.engine.context import StepFailed
from cockpit.engine.events import Notice, OutputLine, Retreat
from cockpit.engine.journal import JournalError, read_journal
from cockpit.engine.prompts import CommandResult
from cockpit.engine.retreat import RetreatContext, RetreatRefused, journaled, park, parking_state, undo
from cockpit.engine.states import StepState
from cockpit.plan import DnsUpdateStep

if TYPE_CHECKING:
    from cockpit.engine.run import PlanRun

MX_CHANGING_KINDS = frozenset({"dns_update"})


def output_name(action: str, step_id: str = "") -> str:
    """The pseudo-step an action's output lines carry."""
    return f"({action} {step_id})" if step_id else f"({action})"


class SideActions:
    def __init__(self, run: PlanRun) -> None:
        self.run = run
        self.task: asyncio.Task[str] | None = None
        self.what = ""
        self.rerunning: str | None = None

    def busy(self) -> str | None:
        """What is at work now (e.g. "parking"), or None."""
        return self.what if self.task is not None and not self.task.done() else None

    def blocks(self, step_id: str) -> str:
        """Why an answer to step `step_id`'s question must wait ("" when it need not): only the step being
        rerun takes answers while a side action is at work."""
        busy = self.busy()
        if busy is None or self.rerunning == step_id:
            return ""
        return f"wait: {busy} is still at work"

    async def idle(self) -> None:
        """Returns once no side action is at work."""
        while self.busy() is not None:
            assert self.task is not None
            await asyncio.wait({self.task})

    # ----------------------------------------------------------------- the actions

    def park(self, origin: str = "operator") -> CommandResult:
        """Point the MX at the plan's parking state (after checking that it refuses), then wait until every
        nameserver serves it."""
        try:
            state = parking_state(self.run.plan)
        except RetreatRefused as exc:
            return CommandResult(False, str(exc))
        refused = self._refusal()
        if refused:
            return CommandResult(False, refused)
        name = output_name("park")
        self._notice(f"parking the MX at {state} (asked by {origin})")
        return self._start(f"parking the MX at {state}", "park", "", lambda ctx: park(ctx), name)

    def undo(self, step_id: str, *, force: bool = False, origin: str = "operator") -> CommandResult:
        """Restore the MX the done dns_update step `step_id` replaced (see retreat.undo for the safety rule)."""
        status = self.run.steps.get(step_id)
        if status is None or not isinstance(status.step, DnsUpdateStep):
            return CommandResult(False, f"step {step_id} is not a dns_update step: only MX changes can be undone")
        refused = self._refusal()
        if refused:
            return CommandResult(False, refused)
        journal = self.run.services.state_file("journal")
        if journal is None:
            return CommandResult(False, "this run has no journal (a dry run): there is no MX change to undo")
        try:
            records = read_journal(journal).records
        except JournalError as exc:
            return CommandResult(False, str(exc))
        name = output_name("undo", step_id)
        forced = " (forced)" if force else ""
        self._notice(f"undoing the MX change of {step_id}{forced} (asked by {origin})")
        return self._start(f"undoing {step_id}", "undo", step_id,
                           lambda ctx: undo(ctx, records, step_id, force=force), name)  # fmt: skip

    def rerun(self, step_id: str) -> CommandResult:
        """Run a done (or skipped, or earlier failed) step once more, outside the order; the run's own step
        waits meanwhile."""
        status = self.run.steps.get(step_id)
        if status is None:
            return CommandResult(False, f"the plan has no step {step_id}")
        if status.state not in (StepState.DONE, StepState.SKIPPED, StepState.FAILED):
            return CommandResult(False, f"step {step_id} is {status.state.value}: only a done step is rerun this way")
        if status.state == StepState.FAILED and self.run.current == step_id:
            return CommandResult(False, f"step {step_id} is the run's current step: retry it (r)")
        refused = self._refusal(rerun=True)
        if refused:
            return CommandResult(False, refused)
        self.what, self.rerunning = f"rerunning {step_id}", step_id
        self.task = asyncio.ensure_future(self.run.rerun_step(status))
        self.task.add_done_callback(_consume)
        return CommandResult(True, f"rerunning {step_id}")

    # ----------------------------------------------------------------- requests from the control socket

    async def handle_request(self, request: dict[str, Any], say: Callable[[str], None]) -> tuple[bool, str]:
        """`cockpit park` / `cockpit undo` asked this run (engine/control.py): do it here, where the journal is
        written, streaming the action's lines back; returns (ok, the result line)."""
        pid = request.get("pid")
        origin = f"cockpit {request.get('action')} (pid {pid})" if pid else f"cockpit {request.get('action')}"
        action, step_id = request.get("action"), str(request.get("step", ""))
        if action == "park":
            name, result = output_name("park"), self.park(origin=origin)
        elif action == "undo" and step_id:
            name, result = output_name("undo", step_id), self.undo(step_id, force=bool(request.get("force")),
                                                                    origin=origin)  # fmt: skip
        else:
            return False, f"refused: unknown request {action!r}"
        task = self.task
        if not result.ok or task is None:
            return False, result.message

        def forward(event: object) -> None:
            if isinstance(event, OutputLine) and event.step_id == name:
                say(event.text)

        unsubscribe = self.run.bus.subscribe(forward)
        try:
            await asyncio.wait({task})
        finally:
            unsubscribe()
        if task.cancelled():
            return False, "the running cockpit stopped before it ended"
        error = task.exception()
        return (False, str(error)) if error is not None else (True, task.result())

    # ----------------------------------------------------------------- machinery

    def _refusal(self, *, rerun: bool = False) -> str:
        busy = self.busy()
        if busy is not None:
            return f"wait: {busy} is still at work"
        running = self.run.running_step()
        if running is not None and (rerun or self.run.steps[running].step.kind in MX_CHANGING_KINDS):
            return f"wait: step {running} is running" + ("" if rerun else " and changes the MX")
        return ""

    def _start(
        self,
        what: str,
        action: str,
        step_id: str,
        work: Callable[[RetreatContext], Coroutine[Any, Any, str]],
        name: str,
    ) -> CommandResult:
        run = self.run

        def say(text: str) -> None:
            run.bus.publish(OutputLine(run.clock.now(), name, "cockpit", "info", text))

        ctx = RetreatContext(plan=run.plan, base_dir=run.base_dir, services=run.services, publish=run.bus.publish,
                             now=run.clock.now, say=say)  # fmt: skip

        async def guarded() -> str:
            try:
                line = await journaled(ctx, action, step_id, work(ctx))
            except (RetreatRefused, StepFailed) as exc:
                outcome = "refused" if isinstance(exc, RetreatRefused) else "failed"
                self._notice(f"{what}: {outcome}: {exc}", "error")
                raise
            except JournalError as exc:
                run.journal_failed(exc)
                raise
            except Exception as exc:  # a bug here must not end the run
                run.bus.publish(Retreat(run.clock.now(), action, step_id, f"failed: internal error: {exc}"))
                self._notice(f"{what}: internal error: {type(exc).__name__}: {exc}", "error")
                raise StepFailed(f"internal error: {type(exc).__name__}: {exc}") from None
            say(line)
            self._notice(line)
            return line

        self.what, self.rerunning = what, None
        self.task = asyncio.ensure_future(guarded())
        self.task.add_done_callback(_consume)
        return CommandResult(True, what)

    def _notice(self, text: str, level: str = "info") -> None:
        self.run.bus.publish(Notice(self.run.clock.now(), level, text))

    def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()


def _consume(task: asyncio.Task[str]) -> None:
    """The outcome was published; retrieve the exception so that asyncio does not log it again."""
    if not task.cancelled():
        task.exception()
