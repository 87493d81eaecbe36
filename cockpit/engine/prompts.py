"""What the run waits for from the operator, and the answers each kind of wait accepts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum


class PromptKind(StrEnum):
    GATE = "gate"
    """Step mode, or a step that changes servers: go or skip."""
    CONFIRM = "confirm"
    """A confirm step: the operator did the manual action."""
    FAILED = "failed"
    """The step failed after its retries: retry or skip."""
    INTERRUPTED = "interrupted"
    """A resumed run found the step started but not finished: rerun, mark done or skip."""


ANSWERS: dict[PromptKind, tuple[str, ...]] = {
    PromptKind.GATE: ("go", "skip"),
    PromptKind.CONFIRM: ("go", "skip"),
    PromptKind.FAILED: ("retry", "skip"),
    PromptKind.INTERRUPTED: ("rerun", "mark-done", "skip"),
}


@dataclass
class Prompt:
    step_id: str
    kind: PromptKind
    question: str
    answer: asyncio.Future[tuple[str, str]] = field(repr=False)
    """Resolves to (action, reason)."""

    @property
    def answers(self) -> tuple[str, ...]:
        return ANSWERS[self.kind]


@dataclass(frozen=True)
class CommandResult:
    """What an operator command did, in one line the UI or the terminal shows."""

    ok: bool
    message: str
