"""What a journal says about a run that stopped: each step's state, countdown deadlines, DNS flips.

Rules: a step whose last record is done or skipped stays so and never runs again; a step that recorded an
intent (it had started changing a server) without an outcome is interrupted — outcome unknown; a step that
was only waiting (DNS, a confirmation, a countdown) starts again, as it changed nothing.

States are kept by step identity (see step_identity), so that a resume of an edited plan (--accept-plan-change)
finds each step where it now is, and refuses when that cannot be told.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from cockpit.engine.states import StepState
from cockpit.engine.step_identity import legacy_key, occurrence_base, step_keys
from cockpit.plan import Plan

StepRecord = tuple[StepState, int, str]
"""(state, attempts so far, detail)."""
CountdownRecord = tuple[float, float, float | None, str]
"""(deadline, total, paused remaining, why) of an unfinished countdown."""


class PlanChangeRefused(Exception):
    """The edited plan's steps cannot be matched to the journal's without guessing; the message names them."""


@dataclass
class ResumePoint:
    states: dict[str, StepRecord] = field(default_factory=dict)
    """step id → (state, attempts so far, detail), by the ids of the journal's last run (or, after
    `for_plan`, of the plan being run)."""
    countdowns: dict[str, CountdownRecord] = field(default_factory=dict)
    """step id → the deadline of an unfinished countdown."""
    items: dict[str, frozenset[str]] = field(default_factory=dict)
    """step id → the items of a step that fans out journaled as done since it last settled: a resume redoes
    only the others (an item that had started has no ItemDone, and is redone)."""
    flips: list[dict[str, Any]] = field(default_factory=list)
    ttls: list[dict[str, Any]] = field(default_factory=list)
    """Journaled DnsTtl records: what TTL each pair served, for `countdown: former_ttl` after a restart."""
    plan_sha256: str | None = None
    """The digest of the plan the journal's last run ran."""
    runs: int = 0
    finished: str | None = None
    """The outcome of the last run when it ended cleanly; None when it was killed."""
    keys: dict[str, str] = field(default_factory=dict)
    """step id → identity, as the journal's last run had them."""
    titles: dict[str, str] = field(default_factory=dict)
    """step id → title, as the journal's last run had them."""

    dropped: list[str] = field(default_factory=list)
    """After `for_plan`: journaled steps that had done something and that the plan no longer has."""

    def key_of(self, step_id: str) -> str:
        return self.keys.get(step_id) or legacy_key(step_id, self.titles.get(step_id, ""))

    def for_plan(self, plan: Plan) -> ResumePoint:
        """The same point keyed by the ids of `plan`, which may be an edited version of the journal's plan.

        Each journaled state goes to the step with the same identity. Refuses (PlanChangeRefused) when a step
        with a recorded state has identical twins whose number changed, as then which is which is a guess."""
        current = step_keys(plan)
        labels = {step.id: step.label for _, step in plan.steps()}
        by_key = {self.key_of(step_id): step_id for step_id in self.states.keys() | self.countdowns.keys()}
        recorded = {occurrence_base(self.key_of(s)) for s, (state, _, _) in self.states.items()
                    if state != StepState.PENDING}  # fmt: skip
        before = Counter(occurrence_base(key) for key in self.keys.values())
        after = Counter(occurrence_base(key) for key in current.values())
        unclear = [
            step_id
            for step_id, key in current.items()
            if occurrence_base(key) in recorded and before[occurrence_base(key)] != after[occurrence_base(key)]
        ]
        if unclear:
            raise PlanChangeRefused(
                f"cannot tell which journaled step is which after the edit: {', '.join(unclear)} "
                "(identical steps were added or removed); give these steps an explicit 'id' and resume again"
            )
        states: dict[str, StepRecord] = {}
        countdowns: dict[str, CountdownRecord] = {}
        items: dict[str, frozenset[str]] = {}
        used: set[str] = set()
        for step_id, key in current.items():
            old = by_key.get(key) or by_key.get(legacy_key(step_id, labels[step_id]))
            if old is None:
                continue
            used.add(old)
            if old in self.states:
                states[step_id] = self.states[old]
            if old in self.countdowns:
                countdowns[step_id] = self.countdowns[old]
            if old in self.items:
                items[step_id] = self.items[old]
        dropped = [s for s, (state, _, _) in self.states.items() if state != StepState.PENDING and s not in used]
        return replace(self, states=states, countdowns=countdowns, items=items, keys=current, titles=labels,
                       dropped=dropped)  # fmt: skip


def resume_point(records: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> ResumePoint:
    point = ResumePoint()
    last: dict[str, StepRecord] = {}
    """identity → state."""
    open_intent: set[str] = set()
    countdowns: dict[str, CountdownRecord] = {}
    items: dict[str, set[str]] = {}
    """identity → items done since the step last settled."""
    keys: dict[str, str] = {}

    def key_of(record: dict[str, Any]) -> str:
        step_id = str(record["step_id"])
        if step_id not in keys:  # a record of a step its run did not list (hand-written or very old journals)
            keys[step_id] = point.keys[step_id] = legacy_key(step_id, point.titles.get(step_id, ""))
        return keys[step_id]

    for record in records:
        kind = record.get("type")
        if kind == "RunStarted":
            point.runs += 1
            point.finished = None
            point.plan_sha256 = record.get("plan_sha256") or point.plan_sha256
            ids = [str(s) for s in record.get("step_ids", ())]
            titles = [str(t) for t in record.get("step_titles", ())]
            point.titles = dict(zip(ids, titles, strict=False))
            journaled = record.get("step_keys") or ()
            if len(journaled) == len(ids):
                keys = dict(zip(ids, (str(k) for k in journaled), strict=True))
            else:
                keys = {step_id: legacy_key(step_id, point.titles.get(step_id, "")) for step_id in ids}
            point.keys = dict(keys)
        elif kind == "RunFinished":
            point.finished = str(record.get("outcome"))
        elif kind == "StepChanged":
            key = key_of(record)
            state = StepState(record["state"])
            last[key] = (state, int(record.get("attempt", 0)), str(record.get("detail", "")))
            if state in (StepState.DONE, StepState.FAILED, StepState.SKIPPED):
                open_intent.discard(key)
            if state.settled:
                items.pop(key, None)
        elif kind == "ItemDone":
            items.setdefault(key_of(record), set()).add(str(record.get("item", "")))
        elif kind == "StepIntent":
            open_intent.add(key_of(record))
        elif kind == "CountdownSet":
            countdowns[key_of(record)] = (
                float(record["deadline"]),
                float(record["total"]),
                None if record.get("paused_remaining") is None else float(record["paused_remaining"]),
                str(record.get("why", "")),
            )
        elif kind == "DnsFlip":
            point.flips.append(record)
        elif kind == "DnsTtl":
            point.ttls.append(record)
    ids_by_key = {key: step_id for step_id, key in point.keys.items()}
    for key, (state, attempt, detail) in last.items():
        step_id = ids_by_key.get(key) or _orphan_id(key)
        if key in open_intent or state == StepState.INTERRUPTED:
            point.states[step_id] = (
                StepState.INTERRUPTED,
                attempt,
                "started before the cockpit stopped: outcome unknown",
            )
        elif state.settled or state == StepState.FAILED:
            point.states[step_id] = (state, attempt, detail)
        else:
            point.states[step_id] = (StepState.PENDING, attempt, "")
        point.keys.setdefault(step_id, key)
    for key, done in items.items():
        point.items[ids_by_key.get(key) or _orphan_id(key)] = frozenset(done)
    for key, countdown in countdowns.items():
        step_id = ids_by_key.get(key) or _orphan_id(key)
        if not point.states.get(step_id, (StepState.PENDING,))[0].settled:
            point.countdowns[step_id] = countdown
    return point


def _orphan_id(key: str) -> str:
    """A stand-in id for a step an earlier run had and the journal's last run did not."""
    return f"(earlier) {key}"
