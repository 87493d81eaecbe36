"""A run of a plan: steps in order, each as an asyncio task, gated by the operator, journaled by events.

The run is the single owner of step state. Front-ends (the TUI, the headless runner) watch the event
stream and call the command methods (`go`, `skip`, `retry`, `abort`, `decide`, countdown controls, `stop`);
every command returns a CommandResult instead of raising.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from cockpit.engine.clock import Clock
from cockpit.engine.context import StepContext, StepFailed, StepSkipped, bounded
from cockpit.engine.events import (
    Asking,
    Decision,
    EventBus,
    Notice,
    RunFinished,
    RunStarted,
    StepChanged,
    StepIntent,
)
from cockpit.engine.journal import JournalError
from cockpit.engine.kinds.countdown import CountdownKind
from cockpit.engine.kinds.registry import make_kind
from cockpit.engine.prompts import CommandResult, Prompt, PromptKind
from cockpit.engine.services import RunServices
from cockpit.engine.states import StepState
from cockpit.engine.step_identity import step_keys
from cockpit.plan import ConfirmStep, Plan, StepBase
from cockpit.ssh import HostKeyError, SshError

BACKOFF_FIRST = 2.0
BACKOFF_MAX = 60.0


DECIDE_ACTIONS: dict[PromptKind, dict[str, str]] = {
    PromptKind.INTERRUPTED: {"rerun": "rerun", "retry": "rerun", "done": "mark-done", "skip": "skip"},
    PromptKind.FAILED: {"retry": "retry", "rerun": "retry", "skip": "skip"},
}
"""What `--decide STEP=WORD` answers at each prompt it may answer."""


class RunStopped(Exception):
    def __init__(self, outcome: str, exit_code: int) -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.exit_code = exit_code


@dataclass
class RunOptions:
    mode: str = "step"
    """step: confirm before each step; auto: run on until a confirm step, a server-changing step or a failure."""
    dry_run: bool = False
    yes: bool = False
    """Answer every gate and confirmation with yes; rerun interrupted steps only when idempotent."""
    decisions: dict[str, str] = field(default_factory=dict)
    """--decide STEP=rerun|done|skip (an interrupted step) or retry|skip (a failed step); each used once."""


@dataclass
class StepStatus:
    step: StepBase
    phase: str
    state: StepState = StepState.PENDING
    attempt: int = 0
    detail: str = ""


class PlanRun:
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
        self.steps: dict[str, StepStatus] = {}
        for phase, step in plan.steps():
            self.steps[step.id] = StepStatus(step, phase.name)
        self.resumed = bool(initial)
        for step_id, (state, attempt, detail) in (initial or {}).items():
            if step_id in self.steps:
                status = self.steps[step_id]
                status.state, status.attempt, status.detail = state, attempt, detail
        self.prompt: Prompt | None = None
        self.current: str | None = None
        self._task: asyncio.Task[str] | None = None
        self._kind: object | None = None
        self._aborting = False
        self._stop: RunStopped | None = None
        self._retry_sleep: asyncio.Future[None] | None = None
        self._journal_failure: JournalError | None = None
        self._verifying: asyncio.Task[dict[str, SshError]] | None = None

    # ----------------------------------------------------------------- the run

    async def run(self) -> int:
        now = self.clock.now()
        self.bus.publish(
            RunStarted(now, self.plan.name, self.plan_sha256, self.options.mode, self.options.dry_run,
                       self.resumed, tuple(self.steps), tuple(s.step.label for s in self.steps.values()),
                       tuple(self.plan.mx), tuple(step_keys(self.plan).values()))
        )  # fmt: skip
        outcome, code = "done", 0
        try:
            await self._verify_hosts()
            for status in list(self.steps.values()):
                self._check_stop()
                await self._drive(status)
        except RunStopped as stopped:
            outcome, code = stopped.outcome, stopped.exit_code
        except JournalError as exc:  # raised where the write failed; stop, say where the journal ends
            self.journal_failed(exc)
            outcome, code = "failed", 1
        self.current = None
        self.bus.publish(RunFinished(self.clock.now(), outcome, code))
        return code

    async def _verify_hosts(self) -> None:
        """Before anything changes, log in to every plan host: a host key that does not match stops the run
        here, not after steps on other hosts ran. A host that cannot be reached now is only a warning (its
        key is verified when a step reaches it)."""
        changes = any(s.step.side_effects and not s.state.settled for s in self.steps.values())
        if self.options.dry_run or not changes or not self.plan.hosts or not self.services.verify_hosts_first:
            return
        hosts = ", ".join(self.plan.hosts)
        self.bus.publish(
            Notice(self.clock.now(), "info", f"verifying the host keys of {hosts} before anything changes")
        )
        self._verifying = asyncio.ensure_future(self.services.verify_hosts())  # so that stop() cancels it
        try:
            failed = await self._verifying
        except asyncio.CancelledError:
            self._check_stop()
            raise
        finally:
            self._verifying = None
        refused = False
        for error in failed.values():
            if isinstance(error, HostKeyError):
                refused = True
                self.bus.publish(Notice(self.clock.now(), "error", f"{error} — nothing was changed"))
            else:
                self.bus.publish(Notice(self.clock.now(), "warning",
                                        f"{error} (its host key will be verified when a step reaches it)"))  # fmt: skip
        if refused:
            self._stop = RunStopped("failed", 1)
            raise self._stop

    def journal_failed(self, error: JournalError) -> None:
        """The journal could not be written (a full disk): say so once, and stop the run."""
        if self._journal_failure is None:
            self._journal_failure = error
            self.bus.publish(Notice(self.clock.now(), "error", str(error)))
            self.stop("failed", 1)

    def _check_stop(self) -> None:
        if self._stop is not None:
            raise self._stop

    async def _drive(self, status: StepStatus) -> None:
        step = status.step
        self.current = step.id
        if status.state.settled:
            return
        if status.state == StepState.INTERRUPTED:
            action = await self._ask(status, PromptKind.INTERRUPTED,
                                     "started before the cockpit stopped: outcome unknown")  # fmt: skip
            if action == "mark-done":
                self._set(status, StepState.DONE, "marked done by the operator after an interruption")
                return
            if action == "skip":
                return
        elif status.state == StepState.FAILED:
            if await self._ask(status, PromptKind.FAILED, status.detail) == "skip":
                return
        elif self._needs_gate(step) and await self._ask(status, PromptKind.GATE, self._gate_question(step)) == "skip":
            return
        automatic = 0
        while True:
            status.attempt += 1
            outcome, detail = await self._attempt(status)
            if outcome == StepState.DONE:
                self._set(status, StepState.DONE, detail)
                return
            if outcome == StepState.SKIPPED:
                return
            if automatic < step.retries:
                automatic += 1
                delay = min(BACKOFF_FIRST * 2 ** (automatic - 1), BACKOFF_MAX)
                self._set(status, StepState.FAILED, detail)
                self._set(
                    status,
                    StepState.PENDING,
                    f"{detail} — retry {automatic} of {step.retries} in {delay:g} s",
                )
                await self._sleep(delay)
                continue
            self._set(status, StepState.FAILED, detail)
            if await self._ask(status, PromptKind.FAILED, detail) == "skip":
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
        ctx = StepContext(
            plan=self.plan, base_dir=self.base_dir, step=step, attempt=status.attempt, clock=self.clock,
            dry_run=self.options.dry_run, publish=self.bus.publish,
            set_state=lambda state, detail: self._set(status, state, detail),
            ask_operator=lambda question: self._confirm(status, question), services=self.services,
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
        self._task = asyncio.ensure_future(bounded(self.clock, step.timeout, kind.run(ctx), step.label))
        try:
            return StepState.DONE, await self._task
        except StepFailed as exc:
            return StepState.FAILED, str(exc)
        except StepSkipped as exc:
            return StepState.SKIPPED, str(exc)
        except asyncio.CancelledError:
            if self._aborting:
                return StepState.FAILED, "aborted by the operator" + (
                    " — the change may have partly happened" if step.side_effects else ""
                )
            self._check_stop()
            raise
        except JournalError:
            raise
        except Exception as exc:  # a bug in a step kind fails the step, never the run
            return StepState.FAILED, f"internal error: {type(exc).__name__}: {exc}"
        finally:
            self._task = None
            self._kind = None

    async def _ask(self, status: StepStatus, kind: PromptKind, question: str) -> str:
        state = {
            PromptKind.GATE: StepState.READY,
            PromptKind.CONFIRM: StepState.AWAITING_CONFIRMATION,
            PromptKind.FAILED: StepState.FAILED,
            PromptKind.INTERRUPTED: StepState.INTERRUPTED,
        }[kind]
        self._set(status, state, question)
        automatic = self._automatic_answer(status, kind)
        if automatic is not None:
            action, source = automatic
            self._decide(status.step.id, action, source, "")
            if action == "skip":
                self._set(status, StepState.SKIPPED, f"skipped ({source})")
            return action
        future: asyncio.Future[tuple[str, str]] = asyncio.get_running_loop().create_future()
        self.prompt = Prompt(status.step.id, kind, question, future)
        self.bus.publish(Asking(self.clock.now(), status.step.id, kind.value, question, self.prompt.answers))
        try:
            action, reason = await future
        finally:
            self.prompt = None
        if action == "skip":
            self._set(status, StepState.SKIPPED, reason or "skipped by the operator")
        return action

    def _automatic_answer(self, status: StepStatus, kind: PromptKind) -> tuple[str, str] | None:
        step = status.step
        if kind in (PromptKind.INTERRUPTED, PromptKind.FAILED):
            decided = self._decision(step.id, kind)
            if decided is not None:
                return decided, "--decide"
        if kind == PromptKind.INTERRUPTED:
            if self.options.yes:
                if step.idempotent:
                    return "rerun", "--yes"
                self._stop = RunStopped("stopped", 1)
                self.bus.publish(Notice(self.clock.now(), "error",
                    f"step {step.id} was interrupted and is not marked idempotent: "
                    f"decide with --decide {step.id}=rerun|done|skip"))  # fmt: skip
                raise self._stop
            return None
        if kind == PromptKind.FAILED and self.options.yes:
            self._stop = RunStopped("failed", 1)
            self.bus.publish(Notice(self.clock.now(), "error",
                f"step {step.id} failed: {status.detail}; to go on, resume with --decide {step.id}=retry "
                f"or --decide {step.id}=skip"))  # fmt: skip
            raise self._stop
        if self.options.yes:
            return "go", "--yes"
        return None

    def _decision(self, step_id: str, kind: PromptKind) -> str | None:
        """The operator's --decide for this step, once: a step that fails again in this run is asked again."""
        decided = self.options.decisions.pop(step_id, None)
        if decided is None:
            return None
        action = DECIDE_ACTIONS[kind].get(decided)
        if action is None:
            fits = "|".join(DECIDE_ACTIONS[kind])
            text = f"--decide {step_id}={decided} does not apply to a {kind.value} step (use {fits}); asking instead"
            self.bus.publish(Notice(self.clock.now(), "warning", text))
        return action

    async def _confirm(self, status: StepStatus, question: str) -> str:
        if await self._ask(status, PromptKind.CONFIRM, question) == "skip":
            raise StepSkipped("skipped by the operator")
        return "confirm"

    def _set(self, status: StepStatus, state: StepState, detail: str) -> None:
        if status.state == state and status.detail == detail:
            return
        status.state, status.detail = state, detail
        self.bus.publish(StepChanged(self.clock.now(), status.step.id, state, status.attempt, detail))

    def _decide(self, step_id: str, action: str, source: str, reason: str) -> None:
        self.bus.publish(Decision(self.clock.now(), step_id, action, source, reason))

    async def _sleep(self, seconds: float) -> None:
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        self._retry_sleep = sleeper
        try:
            await sleeper
        except asyncio.CancelledError:
            self._check_stop()
            raise
        finally:
            self._retry_sleep = None

    # ----------------------------------------------------------------- operator commands

    def answer(self, action: str, reason: str = "", source: str = "operator") -> CommandResult:
        """Answer the open prompt: go, skip, retry, rerun or mark-done."""
        prompt = self.prompt
        if prompt is None or prompt.answer.done():
            return CommandResult(False, "nothing is waiting for an answer")
        if action not in prompt.answers:
            return CommandResult(False, f"step {prompt.step_id} waits for {' or '.join(prompt.answers)}, not {action}")
        self._decide(prompt.step_id, action, source, reason)
        prompt.answer.set_result((action, reason))
        return CommandResult(True, f"{action}: {prompt.step_id}")

    def go(self) -> CommandResult:
        prompt = self.prompt
        if prompt is not None and prompt.kind == PromptKind.FAILED:
            return self.answer("retry")
        if prompt is not None and prompt.kind == PromptKind.INTERRUPTED:
            return CommandResult(False, f"step {prompt.step_id} was interrupted: choose rerun, mark done or skip")
        return self.answer("go")

    def skip(self, reason: str) -> CommandResult:
        if not reason.strip():
            return CommandResult(False, "a skip needs a reason")
        return self.answer("skip", reason.strip())

    def retry(self) -> CommandResult:
        return self.answer("retry")

    def decide(self, action: str) -> CommandResult:
        return self.answer(action)

    def abort(self) -> CommandResult:
        """Stop the running step; it fails with 'aborted by the operator' and may then be retried or skipped."""
        if self._task is None or self._task.done() or self.current is None:
            return CommandResult(False, "no step is running")
        self._aborting = True
        self._decide(self.current, "abort", "operator", "")
        self._task.cancel()
        return CommandResult(True, f"aborting {self.current}")

    def running_step(self) -> str | None:
        """The step whose task is at work now (not one that only waits for the operator)."""
        if self._task is None or self._task.done() or self.current is None:
            return None
        if self.steps[self.current].state == StepState.AWAITING_CONFIRMATION:
            return None
        return self.current

    def countdown(self) -> CountdownKind | None:
        return self._kind if isinstance(self._kind, CountdownKind) else None

    def pause_or_resume(self) -> CommandResult:
        countdown = self.countdown()
        if countdown is None or self.current is None:
            return CommandResult(False, "no countdown is running")
        if countdown.paused_remaining is None:
            countdown.pause()
            self._decide(self.current, "pause", "operator", "")
            return CommandResult(True, "countdown paused")
        countdown.resume()
        self._decide(self.current, "resume", "operator", "")
        return CommandResult(True, "countdown resumed")

    def extend(self, seconds: float = 60.0) -> CommandResult:
        countdown = self.countdown()
        if countdown is None or self.current is None:
            return CommandResult(False, "no countdown is running")
        countdown.extend(seconds)
        self._decide(self.current, "extend", "operator", f"+{seconds:g} s")
        return CommandResult(True, f"countdown extended by {seconds:g} s")

    def stop(self, outcome: str = "stopped", exit_code: int = 1) -> CommandResult:
        """End the run now (quit, a signal): the journal lets a later run resume."""
        if self._stop is None:
            self._stop = RunStopped(outcome, exit_code)
        if self.prompt is not None and not self.prompt.answer.done():
            self.prompt.answer.set_exception(self._stop)
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._retry_sleep is not None:
            self._retry_sleep.cancel()
        if self._verifying is not None:
            self._verifying.cancel()
        return CommandResult(True, outcome)
