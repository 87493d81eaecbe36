"""What every step of a plan carries, whatever its kind (the kinds live in steps.py and mail_steps.py)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from cockpit.plan.fields import PositiveSeconds, StepId

COMMON_KEYS = ("id", "title", "timeout", "retries", "idempotent")


class StepBase(BaseModel):
    """What every step carries."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    side_effects: ClassVar[bool] = False
    """True for steps that change something on a server: they ask before they run and are journaled."""
    refers: ClassVar[dict[str, str]] = {}
    """Keys of the step (as written in the plan) that name an entry of a plan section: key → section
    (hosts, mx, secrets, stores). `cockpit check` reports a name the section lacks."""

    kind: str
    """Which kind of step: each model narrows it to its own name (the key written in the plan)."""
    id: StepId
    """Stable name of the step, used by the journal to resume; default `PHASE-N`."""
    title: str | None = None
    timeout: PositiveSeconds | None = None
    retries: Annotated[int, Field(ge=0, le=100)] = 0
    idempotent: bool = False
    """Safe to run again after an interruption whose outcome is unknown."""

    @property
    def label(self) -> str:
        """The title, or a one-line description derived from the step's content."""
        return self.title or self.describe()

    def describe(self) -> str:
        """A one-line description of what the step does; each kind says it its own way."""
        return type(self).__name__
