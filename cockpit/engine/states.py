"""The life of a step: pending → ready → running (or one of its waiting forms) → done | failed | skipped,
and interrupted when a run stopped while the step had started side effects whose outcome is unknown.

`TRANSITIONS` is the whole state machine: the run moves a step only along it (a step kind may move its own
step between running and its waiting forms), and a move it does not list is a bug, raised as such.
"""

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
        return self in ACTIVE

    @property
    def settled(self) -> bool:
        """Nothing more will happen to the step in this run (done or skipped)."""
        return self in (StepState.DONE, StepState.SKIPPED)


ACTIVE = frozenset({StepState.RUNNING, StepState.AWAITING_CONFIRMATION, StepState.WAITING_DNS, StepState.COUNTING_DOWN})
_ENDS = frozenset({StepState.DONE, StepState.FAILED, StepState.SKIPPED})
_STARTS = ACTIVE | {StepState.FAILED, StepState.SKIPPED}
"""Where an attempt goes from its opening: running in some form, failed before it could start (an unknown
kind, a dry run), or skipped at its gate."""

TRANSITIONS: dict[StepState, frozenset[StepState]] = {
    StepState.PENDING: _STARTS | {StepState.READY, StepState.DONE},
    StepState.READY: _STARTS | {StepState.DONE},
    StepState.RUNNING: ACTIVE | _ENDS,
    StepState.AWAITING_CONFIRMATION: ACTIVE | _ENDS,
    StepState.WAITING_DNS: ACTIVE | _ENDS,
    StepState.COUNTING_DOWN: ACTIVE | _ENDS,
    # A failed step is asked about (failed again), waits for an automatic retry (pending), or runs again.
    StepState.FAILED: _STARTS | {StepState.PENDING},
    # An interrupted one is rerun, marked done, or skipped.
    StepState.INTERRUPTED: _STARTS | {StepState.DONE},
    # A settled step runs again only when the operator reruns it deliberately (SideActions.rerun).
    StepState.DONE: _STARTS,
    StepState.SKIPPED: _STARTS,
}


def allowed(before: StepState, after: StepState) -> bool:
    """The state machine takes this move (staying in a state with a new detail line always is)."""
    return before == after or after in TRANSITIONS[before]
