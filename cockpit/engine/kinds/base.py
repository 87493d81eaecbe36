"""What every step kind is: made with its own step, typed, so that its `run` needs no check of what it got."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Generic, TypeVar, get_args, get_origin

from cockpit.engine.context import StepContext
from cockpit.plan import StepBase

StepT = TypeVar("StepT", bound=StepBase)


class KindOf(ABC, Generic[StepT]):
    step_type: ClassVar[type[StepBase]]
    """The step model this kind runs, read from `KindOf[...]` in the class statement: the registry's key."""

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        for base in cls.__dict__.get("__orig_bases__", ()):
            if get_origin(base) is KindOf:
                (cls.step_type,) = get_args(base)

    def __init__(self, step: StepT) -> None:
        self.step = step

    @abstractmethod
    async def run(self, ctx: StepContext) -> str:
        """Do the step's work; return the result line, or raise StepFailed / StepSkipped."""

    def timeout_note(self) -> str:
        """What to add when the step's timeout ends it (a wait names what it still waited for)."""
        return ""
