"""What the run waits for from the operator, and the one vocabulary of answers every front-end uses.

The full screen (keys), the headless runner (letters typed on stdin) and `--decide STEP=WORD` all name
answers with `Answer`; which answers a prompt takes is `ANSWERS`, and `resolve` turns a front-end's word into
the answer it means at that prompt ("retry" and "rerun" both mean "try the step again").
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum

from cockpit.engine.states import StepState


class PromptKind(StrEnum):
    GATE = "gate"
    """Step mode, or a step that changes servers: go or skip."""
    CONFIRM = "confirm"
    """A confirm step: the operator did the manual action."""
    FAILED = "failed"
    """The step failed after its retries: retry or skip."""
    INTERRUPTED = "interrupted"
    """A resumed run found the step started but not finished: rerun, mark done or skip."""


class Answer(StrEnum):
    GO = "go"
    SKIP = "skip"
    RETRY = "retry"
    RERUN = "rerun"
    MARK_DONE = "mark-done"
    """Journaled as "mark-done"; the command line's word for it is "done"."""


ANSWERS: dict[PromptKind, tuple[Answer, ...]] = {
    PromptKind.GATE: (Answer.GO, Answer.SKIP),
    PromptKind.CONFIRM: (Answer.GO, Answer.SKIP),
    PromptKind.FAILED: (Answer.RETRY, Answer.SKIP),
    PromptKind.INTERRUPTED: (Answer.RERUN, Answer.MARK_DONE, Answer.SKIP),
}

PROMPT_STATE: dict[PromptKind, StepState] = {
    PromptKind.GATE: StepState.READY,
    PromptKind.CONFIRM: StepState.AWAITING_CONFIRMATION,
    PromptKind.FAILED: StepState.FAILED,
    PromptKind.INTERRUPTED: StepState.INTERRUPTED,
}
"""The state a step shows while its prompt waits."""

WORDS: dict[str, Answer] = {
    "go": Answer.GO,
    "skip": Answer.SKIP,
    "retry": Answer.RETRY,
    "rerun": Answer.RERUN,
    "done": Answer.MARK_DONE,
    "mark-done": Answer.MARK_DONE,
}
"""Every word a front-end may use for an answer (the command line's `--decide STEP=WORD` among them)."""

DECIDE_WORDS = ("retry", "rerun", "done", "skip")
"""What `--decide STEP=WORD` accepts."""


def resolve(kind: PromptKind, word: str) -> Answer | None:
    """The answer `word` gives at a prompt of `kind`, or None when that prompt does not take it."""
    answer = WORDS.get(word)
    if answer in (Answer.RETRY, Answer.RERUN):
        answer = Answer.RERUN if kind == PromptKind.INTERRUPTED else Answer.RETRY
    return answer if answer in ANSWERS[kind] else None


DECIDE_HINTS: dict[PromptKind, str] = {
    PromptKind.FAILED: "retry|skip",
    PromptKind.INTERRUPTED: "rerun|done|skip",
    PromptKind.GATE: "go|skip",
    PromptKind.CONFIRM: "go|skip",
}
"""The words to name in a hint for each prompt (resolve also takes their synonyms)."""


@dataclass
class Prompt:
    step_id: str
    kind: PromptKind
    question: str
    answer: asyncio.Future[tuple[Answer, str]] = field(repr=False)
    """Resolves to (answer, reason)."""

    @property
    def answers(self) -> tuple[Answer, ...]:
        return ANSWERS[self.kind]

    def takes(self, answer: Answer) -> bool:
        return answer in ANSWERS[self.kind]


@dataclass(frozen=True)
class CommandResult:
    """What an operator command did, in one line the UI or the terminal shows."""

    ok: bool
    message: str
