"""What every step of a plan carries, whatever its kind (the kinds live in steps.py and mail_steps.py)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cockpit.plan.fields import PositiveSeconds, StepId

COMMON_KEYS = ("id", "title", "timeout", "retries", "idempotent", "changes", "concurrency")


class StepBase(BaseModel):
    """What every step carries."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    changes_by_default: ClassVar[bool] = False
    """The kind changes something on a server: it asks before it runs and is journaled with an intent."""
    declares_changes: ClassVar[bool] = False
    """The plan may say whether a step of this kind changes anything (`changes: false` on a read-only ssh
    command); for the other kinds the cockpit knows."""
    fan_out: ClassVar[int] = 0
    """The kind fans out over items (zones, mailboxes, domains) this many at once by default; 0: it does not."""
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
    changes: bool | None = None
    """Whether this step changes a server, where its kind lets the plan say (ssh); None: the kind decides."""
    concurrency: Annotated[int, Field(ge=1, le=256)] | None = None
    """Items worked on at once by a step that fans out (dns_update, sync, verify, canary); None: the kind's
    default (`fan_out`)."""

    @model_validator(mode="after")
    def _changes_said_where_it_can_be(self) -> StepBase:
        if self.changes is not None and not self.declares_changes:
            kind = self.kind
            raise ValueError(f"'changes' is for ssh steps: the cockpit knows whether a {kind} step changes anything")
        if self.concurrency is not None and not self.fan_out:
            raise ValueError(
                f"'concurrency' is for steps that fan out (dns_update, sync, verify, canary), not {self.kind}"
            )
        return self

    @property
    def workers(self) -> int:
        """Items worked on at once: the step's `concurrency`, else its kind's default."""
        return self.concurrency or self.fan_out or 1

    @property
    def side_effects(self) -> bool:
        """This step changes something on a server: it asks before it runs and is journaled with an intent."""
        return self.changes if self.changes is not None else self.changes_by_default

    @property
    def label(self) -> str:
        """The title, or a one-line description derived from the step's content."""
        return self.title or self.describe()

    def describe(self) -> str:
        """A one-line description of what the step does; each kind says it its own way."""
        return type(self).__name__
