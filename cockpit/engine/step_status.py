"""A step's place in a run (its state, attempts, last detail), and how a run ends early."""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.engine.states import StepState
from cockpit.plan import StepBase


class RunStopped(Exception):
    def __init__(self, outcome: str, exit_code: int) -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.exit_code = exit_code


class IllegalTransition(Exception):
    """The run tried a state change its state machine does not have: a bug in the cockpit."""


@dataclass
class StepStatus:
    step: StepBase
    phase: str
    state: StepState = StepState.PENDING
    attempt: int = 0
    detail: str = ""
    items_done: set[str] | None = None
    """The items of a step that fans out done since it last settled (None: not yet read from the journal)."""
