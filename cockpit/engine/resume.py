"""What a journal says about a run that stopped: each step's state, countdown deadlines, DNS flips.

Rules: a step whose last record is done or skipped stays so and never runs again; a step that recorded an
intent (it had started changing a server) without an outcome is interrupted — outcome unknown; a step that
was only waiting (DNS, a confirmation, a countdown) starts again, as it changed nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cockpit.engine.states import StepState


class PlanChanged(Exception):
    """The plan file differs from the one the journal was started with."""


@dataclass
class ResumePoint:
    states: dict[str, tuple[StepState, int, str]] = field(default_factory=dict)
    """step id → (state, attempts so far, detail)."""
    countdowns: dict[str, tuple[float, float, float | None, str]] = field(default_factory=dict)
    """step id → (deadline, total, paused remaining, why) of an unfinished countdown."""
    flips: list[dict[str, Any]] = field(default_factory=list)
    plan_sha256: str | None = None
    runs: int = 0
    finished: str | None = None
    """The outcome of the last run when it ended cleanly; None when it was killed."""


def resume_point(records: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> ResumePoint:
    point = ResumePoint()
    last: dict[str, tuple[StepState, int, str]] = {}
    open_intent: set[str] = set()
    for record in records:
        kind = record.get("type")
        if kind == "RunStarted":
            point.runs += 1
            point.finished = None
            if point.plan_sha256 is None:
                point.plan_sha256 = record.get("plan_sha256")
        elif kind == "RunFinished":
            point.finished = str(record.get("outcome"))
        elif kind == "StepChanged":
            step_id = str(record["step_id"])
            state = StepState(record["state"])
            last[step_id] = (state, int(record.get("attempt", 0)), str(record.get("detail", "")))
            if state in (StepState.DONE, StepState.FAILED, StepState.SKIPPED):
                open_intent.discard(step_id)
        elif kind == "StepIntent":
            open_intent.add(str(record["step_id"]))
        elif kind == "CountdownSet":
            point.countdowns[str(record["step_id"])] = (
                float(record["deadline"]),
                float(record["total"]),
                None if record.get("paused_remaining") is None else float(record["paused_remaining"]),
                str(record.get("why", "")),
            )
        elif kind == "DnsFlip":
            point.flips.append(record)
    for step_id, (state, attempt, detail) in last.items():
        if step_id in open_intent or state == StepState.INTERRUPTED:
            point.states[step_id] = (
                StepState.INTERRUPTED,
                attempt,
                "started before the cockpit stopped: outcome unknown",
            )
        elif state.settled or state == StepState.FAILED:
            point.states[step_id] = (state, attempt, detail)
        else:
            point.states[step_id] = (StepState.PENDING, attempt, "")
    for step_id in list(point.countdowns):
        if point.states.get(step_id, (StepState.PENDING,))[0].settled:
            del point.countdowns[step_id]
    return point
