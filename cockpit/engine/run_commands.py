"""The run's operator commands: answers to its question (Enter, skip, retry, a word of the shared vocabulary),
aborting the running step, and the countdown's pause and extension. Every command returns a CommandResult
instead of raising, and journals the operator's decision before it acts."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from cockpit.base.clock import Clock
from cockpit.base.units import format_duration
from cockpit.engine.events import Decision, EventBus
from cockpit.engine.kinds.countdown import CountdownKind
from cockpit.engine.prompts import Answer, CommandResult, Prompt, PromptKind, resolve
from cockpit.engine.states import StepState
from cockpit.engine.step_status import StepStatus

if TYPE_CHECKING:
    from cockpit.engine.kinds.registry import StepKind
    from cockpit.engine.side_actions import SideActions


class RunCommands:
    """Mixed into PlanRun, which sets these attributes."""

    bus: EventBus
    clock: Clock
    steps: dict[str, StepStatus]
    prompt: Prompt | None
    current: str | None
    side: SideActions
    _task: asyncio.Task[Any] | None
    _kind: StepKind | None
    _aborting: bool

    def _decide(self, step_id: str, action: str, source: str, reason: str) -> None:
        self.bus.publish(Decision(self.clock.now(), step_id, str(action), source, reason))

    def answer(self, answer: Answer, reason: str = "", source: str = "operator") -> CommandResult:
        """Answer the open prompt."""
        prompt = self.prompt
        if prompt is None or prompt.answer.done():
            return CommandResult(False, "nothing is waiting for an answer")
        blocked = self.side.blocks(prompt.step_id)
        if blocked:
            return CommandResult(False, blocked)
        if not prompt.takes(answer):
            takes = " or ".join(str(a) for a in prompt.answers)
            return CommandResult(False, f"step {prompt.step_id} waits for {takes}, not {answer}")
        self._decide(prompt.step_id, answer, source, reason)
        prompt.answer.set_result((answer, reason))
        return CommandResult(True, f"{answer}: {prompt.step_id}")

    def go(self) -> CommandResult:
        """Enter: confirm, run the proposed step, or retry a failed one."""
        prompt = self.prompt
        if prompt is not None and prompt.kind == PromptKind.FAILED:
            return self.answer(Answer.RETRY)
        if prompt is not None and prompt.kind == PromptKind.INTERRUPTED:
            return CommandResult(False, f"step {prompt.step_id} was interrupted: choose rerun, mark done or skip")
        return self.answer(Answer.GO)

    def skip(self, reason: str) -> CommandResult:
        if not reason.strip():
            return CommandResult(False, "a skip needs a reason")
        return self.answer(Answer.SKIP, reason.strip())

    def retry(self) -> CommandResult:
        """Try the step again: retry a failed step, rerun an interrupted one."""
        prompt = self.prompt
        if prompt is not None and prompt.kind == PromptKind.INTERRUPTED:
            return self.answer(Answer.RERUN)
        return self.answer(Answer.RETRY)

    def decide(self, word: str) -> CommandResult:
        """Answer the open prompt with a word of the shared vocabulary (retry, rerun, done, skip, go)."""
        prompt = self.prompt
        if prompt is None or prompt.answer.done():
            return CommandResult(False, "nothing is waiting for an answer")
        answer = resolve(prompt.kind, word)
        if answer is None:
            return CommandResult(False, f"step {prompt.step_id} does not take '{word}' now")
        return self.answer(answer)

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
        self._decide(self.current, "extend", "operator", f"+{format_duration(seconds)}")
        return CommandResult(True, f"countdown extended by {format_duration(seconds)}")
