"""The life of a step: pending → ready → running (or one of its waiting forms) → done | failed | skipped,
and interrupted when a run stopped while the step had started side effects whose outcome is unknown."""

from __future__ import annotations

from enum import StrEnum


class StepState(StrEnum):
    PENDING = "pending"
    READY = "ready"
    """Proposed next: waits for the operator's go (step mode) or starts at once (auto mode)."""
    RUNNING = "running"
    AWAITING_CONFIRMATION = "awaiting-confirmation"
    WAITING_DNS = "waiting-dns"
    COUNTING_DOWN = "counting-down"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"
    """Started side effects before the cockpit stopped: outcome unknown, needs rerun / mark done / skip."""

    @property
    def active(self) -> bool:
        """The step is running in one of its forms."""
        return self in _ACTIVE

    @property
    def settled(self) -> bool:
        """Nothing more will happen to the step in this run (done or skipped)."""
        return self in (StepState.DONE, StepState.SKIPPED)


_ACTIVE = {StepState.RUNNING, StepState.AWAITING_CONFIRMATION, StepState.WAITING_DNS, StepState.COUNTING_DOWN}
