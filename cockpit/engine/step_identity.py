"""Which step of an edited plan is which step of its journal: a stable identity per step.

A step with an explicit `id` is that id. A step with the default id (`PHASE-N`, its position) is its phase, its
kind and a digest of what it does (the kind's own fields; not its title, timeout or retries), numbered when the
same step appears more than once in a phase. Inserting a step then shifts no other step's identity.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from cockpit.plan import Plan, StepBase

COMMON = {"id", "title", "timeout", "retries", "idempotent", "changes"}


def default_id(phase: str, position: int) -> str:
    """The id the loader gives a step without one (position counted from 1)."""
    return f"{phase}-{position}"


def content_digest(step: StepBase) -> str:
    body = step.model_dump(mode="json", exclude=COMMON)
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def step_keys(plan: Plan) -> dict[str, str]:
    """step id → identity, for every step of the plan in run order."""
    keys: dict[str, str] = {}
    seen: Counter[str] = Counter()
    for phase in plan.phases:
        for position, step in enumerate(phase.steps, start=1):
            if step.id != default_id(phase.name, position):
                keys[step.id] = f"id:{step.id}"
                continue
            base = f"{phase.name}/{step.model_dump().get('kind', type(step).__name__)}/{content_digest(step)}"
            seen[base] += 1
            keys[step.id] = f"{base}#{seen[base]}"
    return keys


def legacy_key(step_id: str, title: str) -> str:
    """The identity of a step in a journal written before identities were journaled: its id and title."""
    return f"legacy:{step_id}:{title}"


def occurrence_base(key: str) -> str:
    """The identity without its occurrence number: steps that only this number tells apart."""
    return key.rpartition("#")[0] if "#" in key and not key.startswith(("id:", "legacy:")) else key
