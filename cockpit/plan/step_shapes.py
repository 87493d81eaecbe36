"""Rewrites each step from the way it is written into the normalized shape the models validate.

`- confirm: Text` becomes `{kind: confirm, text: Text, id: before-1}`; `- ssh: {host: new, run: x}, id: y`
becomes `{kind: ssh, host: new, run: x, id: y}`. Locations are copied so errors still point into the file.
"""

from __future__ import annotations

import difflib
from typing import Any

from cockpit.plan.located import Located, LocatedData, Path
from cockpit.plan.step_base import COMMON_KEYS
from cockpit.plan.steps import SCALAR_FIELD, STEP_KINDS


def closest(word: str, options: list[str] | tuple[str, ...]) -> str | None:
    """The option nearest to a misspelt word, if one is near enough to suggest."""
    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: str, options: list[str] | tuple[str, ...]) -> str:
    match = closest(word, options)
    return f" (did you mean '{match}'?)" if match else ""


def phase_label(data: Any, index: int) -> str:
    """`phase 'before'`, or `phase 2` when the phase has no usable name."""
    phases = data.get("phases") if isinstance(data, dict) else None
    if isinstance(phases, list) and index < len(phases):
        phase = phases[index]
        if isinstance(phase, dict) and isinstance(phase.get("name"), str):
            return f"phase '{phase['name']}'"
    return f"phase {index + 1}"


def normalize_steps(located: LocatedData) -> None:
    """Rewrite every step of every phase in place, recording problems found on the way."""
    data = located.data
    phases = data.get("phases") if isinstance(data, dict) else None
    if not isinstance(phases, list):
        return
    for p_index, phase in enumerate(phases):
        if not isinstance(phase, dict) or not isinstance(phase.get("steps"), list):
            continue
        name = phase.get("name")
        prefix = name if isinstance(name, str) and name else f"phase{p_index + 1}"
        steps: list[Any] = phase["steps"]
        for s_index, item in enumerate(steps):
            path: Path = ("phases", p_index, "steps", s_index)
            where = f"step {s_index + 1} of {phase_label(data, p_index)}"
            steps[s_index] = _normalize(item, path, where, f"{prefix}-{s_index + 1}", located)
            if steps[s_index] is None:
                located.rejected.add(path)


def _normalize(item: Any, path: Path, where: str, default_id: str, located: LocatedData) -> Any:
    kinds_list = ", ".join(STEP_KINDS)
    if not isinstance(item, dict):
        if isinstance(item, str) and item in STEP_KINDS:
            located.problems.append((located.where(path), f"{where}: '{item}' needs a value ('{item}: ...')"))
        else:
            located.problems.append(
                (located.where(path), f"{where}: a step is a mapping with one kind key ({kinds_list})")
            )
        return None
    kinds = [key for key in item if key in STEP_KINDS]
    for key in item:
        if key not in STEP_KINDS and key not in COMMON_KEYS:
            hint = did_you_mean(key, [*STEP_KINDS, *COMMON_KEYS])
            located.problems.append((located.where((*path, key), key=True), f"{where}: unknown key '{key}'{hint}"))
    if not kinds:
        if not any(key not in COMMON_KEYS for key in item):
            located.problems.append((located.where(path), f"{where}: the step has no kind ({kinds_list})"))
        return None
    if len(kinds) > 1:
        located.problems.append(
            (
                located.where((*path, kinds[1]), key=True),
                f"{where}: a step has exactly one kind, found '{kinds[0]}' and '{kinds[1]}'",
            )
        )
        return None
    kind = kinds[0]
    body = item[kind]
    flat: dict[str, Any] = {"kind": kind}
    if isinstance(body, dict):
        flat.update(body)
        _move_locations(located, (*path, kind), path)
    elif kind in SCALAR_FIELD and body is not None and not isinstance(body, list):
        flat[SCALAR_FIELD[kind]] = body
        located.locations[(*path, SCALAR_FIELD[kind])] = located.locations[(*path, kind)]
    else:
        shape = f"'{kind}: VALUE' or '{kind}: {{...}}'" if kind in SCALAR_FIELD else f"'{kind}: {{...}}'"
        located.problems.append((located.where((*path, kind)), f"{where}: write {shape}"))
        return None
    for key in COMMON_KEYS:
        if key in item:
            if isinstance(body, dict) and key in body:
                located.problems.append(
                    (
                        located.where((*path, key), key=True),
                        f"{where}: '{key}' is given twice (beside '{kind}' and inside it)",
                    )
                )
            flat[key] = item[key]
    flat.setdefault("id", default_id)
    return flat


def _move_locations(located: LocatedData, old: Path, new: Path) -> None:
    """Make every location under `old` reachable under `new` (the kind key removed from the path)."""
    size = len(old)
    moved = {
        (*new, *path[size:]): loc for path, loc in located.locations.items() if len(path) > size and path[:size] == old
    }
    for path, loc in moved.items():
        located.locations.setdefault(path, Located(loc.value, loc.key))
