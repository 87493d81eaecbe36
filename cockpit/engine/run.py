"""A run of a plan: steps in order, each as an asyncio task, gated by the operator, journaled by events.

The run is the single owner of step state, and moves it only along `states.TRANSITIONS`. For each step it
first decides whether to run it (the opening question: a gate, a failed or interrupted step from an earlier
run), then attempts it until it settles (done, skipped, or failed and not retried). Front-ends (the full
screen, the headless runner) watch the event stream and call the command methods (`answer`, `go`, `skip`,
`retry`, `abort`, countdown controls, `stop`); every command returns a CommandResult instead of raising.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

from cockpit.base.clock import Clock
from cockpit.base.units import format_duration
from cockpit.engine.auto_answers import Automatic, StopHere, automatic_answer
from cockpit.engine.context import StepContext, StepFailed, StepSkipped, bounded
from cockpit.engine.control import ControlServer
from cockpit.engine.events import Asking, EventBus, Notice, RunFinished, RunStarted, StepChanged, StepIntent
from cockpit.engine.forecast_watch import ForecastWatch
from cockpit.engine.journal import JournalError
from cockpit.engine.kinds.registry import StepKind, make_kind
from cockpit.engine.options import RunOptions, operator_identity
from cockpit.engine.prompts import PROMPT_STATE, Answer, CommandResult, Prompt, PromptKind
from cockpit.engine.run_commands import RunCommands
from cockpit.engine.services import RunServices
from cockpit.engine.side_actions import SideActions
from cockpit.engine.states import StepState, allowed
from cockpit.engine.step_identity import step_keys
from cockpit.engine.step_status import IllegalTransition, RunStopped, StepStatus
from cockpit.plan import ConfirmStep, Plan, StepBase
from cockpit.ssh import HostKeyError

T = TypeVar("T")
BACKOFF_FIRST = 2.0
BACKOFF_MAX = 60.0

__all__ = ["PlanRun", "RunOptions", "RunStopped", "StepStatus"]


class PlanRun(RunCommands):
    def __init__(
        self,
        plan: Plan,
        *,
        plan_sha256: str,
        base_dir: Path,
        clock: Clock,
        bus: EventBus,
        services: RunServices,
        options: RunOptions,
        initial: dict[str, tuple[StepState, int, str]] | None = None,
    ) -> None:
        self.plan = plan
        self.plan_sha256 = plan_sha256
        self.base_dir = base_dir
        self.clock = clock
        self.bus = bus
        self.services = services
        self.options = options
        self.steps: dict[str, StepStatus] = {step.id: StepStatus(step, phase.name) for phase, step in plan.steps()}
        self.resumed = bool(initial)
        for step_id, (state, attempt, detail) in (initial or {}).items():
            if step_id in self.steps:
                status = self.steps[step_id]
                status.state, status.attempt, status.detail = state, attempt, detail
        self.prompt: Prompt | None = None
        self.current: str | None = None
        self._task: asyncio.Task[str] | None = None
        self._kind: StepKind | None = None
        self._aborting = False
        self._stop: RunStopped | None = None
        self._waiting: asyncio.Future[Any] | None = None
        """What the run itself waits on between steps (the host check, a retry's backoff): stop() cancels it."""
        self._journal_failure: JournalError | None = None
        self.forecast = ForecastWatch(plan, clock.now, bus.publish)
        """The downtime forecast, kept up to date from the run's events (the session loads the journal's)."""
        bus.subscribe(self.forecast)
        self.side = SideActions(self)
        """Park, undo and rerun: what the operator does outside the step order."""
        self.control: ControlServer | None = None
        """Where `cockpit park` / `cockpit undo` reach this run (set by the session when it has a journal)."""

    # ----------------------------------------------------------------- the run

    async def run(self) -> int:
        self.bus.publish(
            RunStarted(self.clock.now(), self.plan.name, self.plan_sha256, self.options.mode, self.options.dry_run,
                       self.resumed, tuple(self.steps), tuple(s.step.label for s in self.steps.values()),
                       tuple(self.plan.mx), tuple(step_keys(self.plan).values()), operator_identity())
        )  # fmt: skip
        outcome, code = "done", 0
        await self._listen()
        try:
            await self._verify_hosts()
            for status in list(self.steps.values()):
                await self._wait(self.side.idle())
                self._check_stop()
                self.current = status.step.id
                if not status.state.settled and await self._open(status):
                    await self._attempt_until_settled(status)
        except RunStopped as stopped:
            outcome, code = stopped.outcome, stopped.exit_code
        except JournalError as exc:  # raised where the write failed; stop, say where the journal ends
            self.journal_failed(exc)
            outcome, code = "failed", 1
        self.current = None
        self.bus.publish(RunFinished(self.clock.now(), outcome, code))
        return code

    async def _listen(self) -> None:
        if self.control is None:
            return
        try:
            await self.control.start()
        except OSError as exc:
            self.control = None
            text = f"cockpit park / undo cannot reach this run (no control socket: {exc.strerror or exc}); use its keys"
            self._notice("warning", text)

    async def _verify_hosts(self) -> None:
        """Before anything changes, log in to every plan host: a host key that does not match stops the run
        here, not after steps on other hosts ran. A host that cannot be reached now is only a warning (its
        key is verified when a step reaches it)."""
        changes = any(s.step.side_effects and not s.state.settled for s in self.steps.values())
        if self.options.dry_run or not changes or not self.plan.hosts or not self.services.verify_hosts_first:
            return
        self._notice("info", f"verifying the host keys of {', '.join(self.plan.hosts)} before anything changes")
        failed = await self._wait(self.services.verify_hosts())
        for error in failed.values():
            if not isinstance(error, HostKeyError):
                self._notice("warning", f"{error} (its host key will be verified when a step reaches it)")
        refused = [error for error in failed.values() if isinstance(error, HostKeyError)]
        for error in refused:
            self._notice("error", f"{error} — nothing was changed")
        if refused:
            raise self._stopping("failed", 1)

    async def _open(self, status: StepStatus) -> bool:
        """The opening question of a step: True to run it, False when it was skipped or marked done."""
        if status.state == StepState.INTERRUPTED:
            kind, question = PromptKind.INTERRUPTED, "started before the cockpit stopped: outcome unknown"
        elif status.state == StepState.FAILED:
            kind, question = PromptKind.FAILED, status.detail
        elif self._needs_gate(status.step):
            kind, question = PromptKind.GATE, self._gate_question(status.step)
        else:
            return True
        answer = await self._ask(status, kind, question)
        if answer == Answer.MARK_DONE:
            self._set(status, StepState.DONE, "marked done by the operator after an interruption")
        return answer not in (Answer.SKIP, Answer.MARK_DONE)

    async def _attempt_until_settled(self, status: StepStatus) -> None:
        """Attempt the step, retrying automatically up to its `retries`, then asking, until it settles."""
        step = status.step
        automatic = 0
        while True:
            await self._wait(self.side.idle())
            status.attempt += 1
            outcome, detail = await self._attempt(status)
            if outcome == StepState.DONE:
                self._set(status, StepState.DONE, detail)
                return
            if outcome == StepState.SKIPPED:
                return
            self._set(status, StepState.FAILED, detail)
            if automatic < step.retries:
                automatic += 1
                delay = min(BACKOFF_FIRST * 2 ** (automatic - 1), BACKOFF_MAX)
                later = f"{detail} — retry {automatic} of {step.retries} in {format_duration(delay)}"
                self._set(status, StepState.PENDING, later)
                await self._wait(self.clock.sleep(delay))
                continue
            if await self._ask(status, PromptKind.FAILED, detail) == Answer.SKIP:
                return
            automatic = 0

    def _needs_gate(self, step: StepBase) -> bool:
        if isinstance(step, ConfirmStep):
            return False
        if self.options.mode == "step":
            return True
        return step.side_effects and not self.options.dry_run

    def _gate_question(self, step: StepBase) -> str:
        verb = "would run (dry run)" if self.options.dry_run and step.side_effects else "run"
        return f"{verb}: {step.describe()}"

    async def _attempt(self, status: StepStatus) -> tuple[StepState, str]:
        """Run the step once: (DONE, result), (FAILED, why) or (SKIPPED, why)."""
        step = status.step
        if status.items_done is None:
            status.items_done = set(self.services.resume.items.get(step.id, ()))
        ctx = StepContext(
            plan=self.plan, base_dir=self.base_dir, step=step, attempt=status.attempt, clock=self.clock,
            dry_run=self.options.dry_run, publish=self.bus.publish,
            set_state=lambda state, detail: self._set(status, state, detail),
            ask_operator=lambda question: self._confirm(status, question), services=self.services,
            items_done=status.items_done,
        )  # fmt: skip
        if step.side_effects and self.options.dry_run:
            self._set(status, StepState.RUNNING, "dry run")
            ctx.info(f"dry run: would {step.describe()}")
            return StepState.DONE, f"dry run: would {step.describe()}"
        try:
            kind = make_kind(step)
        except StepFailed as exc:
            return StepState.FAILED, str(exc)
        if not isinstance(step, ConfirmStep):
            self._set(status, StepState.RUNNING, step.describe())
        if step.side_effects:
            self.bus.publish(StepIntent(self.clock.now(), step.id, status.attempt, step.describe()))
        self._kind = kind
        self._aborting = False
        self._task = asyncio.ensure_future(
            bounded(self.clock, step.timeout, kind.run(ctx), step.label, kind.timeout_note)
        )
        try:
            return StepState.DONE, await self._task
        except StepFailed as exc:
            return StepState.FAILED, str(exc)
        except StepSkipped as exc:
            return StepState.SKIPPED, str(exc)
        except asyncio.CancelledError:
            if self._aborting:
                partly = " — the change may have partly happened" if step.side_effects else ""
                return StepState.FAILED, "aborted by the operator" + partly
            self._check_stop()
            raise
        except JournalError:
            raise
        except Exception as exc:  # a bug in a step kind fails the step, never the run
            return StepState.FAILED, f"internal error: {type(exc).__name__}: {exc}"
        finally:
            self._task = None
            self._kind = None

    async def rerun_step(self, status: StepStatus) -> str:
        """Run a settled step once more, outside the order (SideActions.rerun): the run's own question, if one
        is open, is put aside meanwhile and asked again afterwards."""
        saved, self.prompt = self.prompt, None
        previous, self.current = self.current, status.step.id
        self._decide(status.step.id, "rerun", "operator", "")
        try:
            status.attempt += 1
            status.items_done = set()  # a rerun redoes every item
            outcome, detail = await self._attempt(status)
            if outcome != StepState.SKIPPED:
                self._set(status, outcome, detail)
            if outcome == StepState.FAILED:
                raise StepFailed(detail)
            return detail
        finally:
            self.current, self.prompt = previous, saved
            if saved is not None and not saved.answer.done():
                self.bus.publish(Asking(self.clock.now(), saved.step_id, saved.kind.value, saved.question,
                                        tuple(str(a) for a in saved.answers)))  # fmt: skip

    async def _ask(self, status: StepStatus, kind: PromptKind, question: str) -> Answer:
        self._set(status, PROMPT_STATE[kind], question)
        automatic = automatic_answer(self.options, status.step, kind, status.detail,
                                     lambda text: self._notice("warning", text))  # fmt: skip
        if isinstance(automatic, StopHere):
            self._notice("error", automatic.why)
            raise self._stopping(automatic.outcome, automatic.exit_code)
        if isinstance(automatic, Automatic):
            answer, reason = automatic.answer, ""
            self._decide(status.step.id, answer, automatic.source, "")
            if answer == Answer.SKIP:
                reason = f"skipped ({automatic.source})"
        else:
            future: asyncio.Future[tuple[Answer, str]] = asyncio.get_running_loop().create_future()
            self.prompt = Prompt(status.step.id, kind, question, future)
            self.bus.publish(Asking(self.clock.now(), status.step.id, kind.value, question,
                                    tuple(str(a) for a in self.prompt.answers)))  # fmt: skip
            try:
                answer, reason = await future
            finally:
                self.prompt = None
        if answer == Answer.SKIP:
            self._set(status, StepState.SKIPPED, reason or "skipped by the operator")
        return answer

    async def _confirm(self, status: StepStatus, question: str) -> str:
        if await self._ask(status, PromptKind.CONFIRM, question) == Answer.SKIP:
            raise StepSkipped("skipped by the operator")
        return "confirm"

    def _set(self, status: StepStatus, state: StepState, detail: str) -> None:
        if status.state == state and status.detail == detail:
            return
        if not allowed(status.state, state):
            raise IllegalTransition(f"step {status.step.id}: {status.state.value} → {state.value}")
        status.state, status.detail = state, detail
        if state.settled:
            status.items_done = set()  # the step's items are redone only if it is run again on purpose
        self.bus.publish(StepChanged(self.clock.now(), status.step.id, state, status.attempt, detail))

    def _notice(self, level: str, text: str) -> None:
        self.bus.publish(Notice(self.clock.now(), level, text))

    def _stopping(self, outcome: str, exit_code: int) -> RunStopped:
        if self._stop is None:
            self._stop = RunStopped(outcome, exit_code)
        return self._stop

    def _check_stop(self) -> None:
        if self._stop is not None:
            raise self._stop

    async def _wait(self, work: Awaitable[T]) -> T:
        """Wait for something between steps such that stop() ends the wait at once."""
        waiting = asyncio.ensure_future(work)
        self._waiting = waiting
        try:
            return await waiting
        except asyncio.CancelledError:
            self._check_stop()
            raise
        finally:
            self._waiting = None

    def journal_failed(self, error: JournalError) -> None:
        """The journal could not be written (a full disk): say so once, and stop the run."""
        if self._journal_failure is None:
            self._journal_failure = error
            self._notice("error", str(error))
            self.stop("failed", 1)

    def stop(self, outcome: str = "stopped", exit_code: int = 1) -> CommandResult:
        """End the run now (quit, a signal): the journal lets a later run resume."""
        stop = self._stopping(outcome, exit_code)
        self.side.stop()
        if self.prompt is not None and not self.prompt.answer.done():
            self.prompt.answer.set_exception(stop)
        for pending in (self._task, self._waiting):
            if pending is not None and not pending.done():
                pending.cancel()
        return CommandResult(True, outcome)
