"""What every step kind is: made with its own step, typed, so that its `run` needs no check of what it got."""

from __future__ import annotations

from typing import Generic, TypeVar

from cockpit.engine.context import StepContext
from cockpit.plan import StepBase

StepT = TypeVar("StepT", bound=StepBase)


class KindOf(Generic[StepT]):
    def __init__(self, step: StepT) -> None:
        self.step = step

    async def run(self, ctx: StepContext) -> str:
        """Do the step's work; return the result line, or raise StepFailed / StepSkipped."""
        raise NotImplementedError

    def timeout_note(self) -> str:
        """What to add when the step's timeout ends it (a wait names what it still waited for)."""
        return ""
