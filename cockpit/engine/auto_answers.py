"""Answers the run gives itself: `--decide STEP=WORD` once per step, and `--yes` where it is safe.

Where no safe automatic answer exists (`--yes` at a failed step, or at an interrupted step that is not
idempotent), the answer is to stop the run, saying which `--decide` would let it go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cockpit.engine.options import RunOptions
from cockpit.engine.prompts import DECIDE_HINTS, Answer, PromptKind, resolve
from cockpit.plan import StepBase


@dataclass(frozen=True)
class Automatic:
    answer: Answer
    source: str
    """--yes or --decide."""


@dataclass(frozen=True)
class StopHere:
    outcome: str
    exit_code: int
    why: str
    """The one line that says what to do to go on."""


def automatic_answer(
    options: RunOptions, step: StepBase, kind: PromptKind, detail: str, warn: Callable[[str], None]
) -> Automatic | StopHere | None:
    """The answer to give without asking, a reason to stop, or None to ask the operator."""
    decided = options.decisions.pop(step.id, None)  # once: a step failing again in this run is asked again
    if decided is not None:
        answer = resolve(kind, decided)
        if answer is not None:
            return Automatic(answer, "--decide")
        warn(f"--decide {step.id}={decided} does not apply to a {kind.value} step (use {DECIDE_HINTS[kind]}); "
             "asking instead")  # fmt: skip
    if not options.yes:
        return None
    if kind == PromptKind.INTERRUPTED:
        if step.idempotent:
            return Automatic(Answer.RERUN, "--yes")
        return StopHere("stopped", 1, f"step {step.id} was interrupted and is not marked idempotent: "
                                      f"decide with --decide {step.id}={DECIDE_HINTS[kind]}")  # fmt: skip
    if kind == PromptKind.FAILED:
        return StopHere("failed", 1, f"step {step.id} failed: {detail}; to go on, resume with "
                                     f"--decide {step.id}=retry or --decide {step.id}=skip")  # fmt: skip
    return Automatic(Answer.GO, "--yes")
