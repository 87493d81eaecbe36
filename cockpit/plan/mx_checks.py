"""Checks of the `mx:` section against the domains: per-domain records name plan domains, and for every
domain each state means other records than every other state (or the watcher could not tell them apart).

They run on the normalized data, like the other checks between parts, so they are reported together with
the other errors. Domains without exceptions share the defaults, so a plan of thousands of domains with a
few exceptions costs one check of the defaults and one per exception.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from cockpit.plan.fields import domain_name
from cockpit.plan.issues import Mark
from cockpit.plan.located import LocatedData, Path
from cockpit.plan.values import parse_mx_record


@dataclass
class _State:
    name: str
    default: frozenset[str] | None
    per_domain: dict[str, frozenset[str] | None] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    """Normalized domain → the key as written (to locate it)."""


def check_mx_states(located: LocatedData, domains: set[str] | None) -> list[tuple[Mark, str]]:
    """Problems of the `mx:` section; `domains` is None when the plan's domains are unknown (unreadable file)."""
    mx = located.data.get("mx") if isinstance(located.data, dict) else None
    if not isinstance(mx, dict):
        return []
    found: list[tuple[Mark, str]] = []
    states = [_read(name, value) for name, value in mx.items() if isinstance(name, str)]
    for state in states:
        for domain, key in list(state.keys.items()):
            if domains is not None and domain not in domains:
                close = difflib.get_close_matches(domain, sorted(domains), n=1, cutoff=0.6)
                hint = f" (closest: {close[0]})" if close else ""
                path: Path = ("mx", state.name, "per_domain", key)
                message = f"MX state '{state.name}': per_domain: '{key}' is not one of the plan's domains{hint}"
                found.append((located.where(path, key=True), message))
                del state.keys[domain]
                state.per_domain.pop(domain, None)
    excepted = {domain for state in states for domain in state.keys}
    if domains is None or domains - excepted:
        found.extend(_same_records(located, states, None))
    for domain in sorted(excepted):
        found.extend(_same_records(located, states, domain))
    return found


def _same_records(located: LocatedData, states: list[_State], domain: str | None) -> list[tuple[Mark, str]]:
    """Two states with the same records for `domain` (None: for the domains that take the defaults)."""
    found: list[tuple[Mark, str]] = []
    seen: dict[frozenset[str], _State] = {}
    for state in states:
        records = state.default if domain is None or domain not in state.per_domain else state.per_domain[domain]
        if records is None:
            continue
        first = seen.setdefault(records, state)
        if first is state:
            continue
        if domain is None:
            message = f"MX state '{state.name}' has the same records as '{first.name}'; each state must differ"
            found.append((located.where(("mx", state.name)), message))
            continue
        at = state if domain in state.keys else first
        path: Path = ("mx", at.name, "per_domain", at.keys[domain]) if domain in at.keys else ("mx", at.name)
        shown = ", ".join(sorted(records))
        message = (f"MX state '{state.name}' has the same records as '{first.name}' for {domain} ({shown}): "
                   "the watcher could not tell them apart; each state must differ for every domain")  # fmt: skip
        found.append((located.where(path), message))
    return found


def _read(name: str, value: Any) -> _State:
    if not isinstance(value, dict):
        return _State(name, _records(value))
    state = _State(name, _records(value.get("default")))
    per_domain = value.get("per_domain")
    for key, records in per_domain.items() if isinstance(per_domain, dict) else ():
        if isinstance(key, str):
            try:
                domain = domain_name(key)
            except ValueError:
                continue  # the model says what is wrong with the name
            state.keys[domain] = key
            state.per_domain[domain] = _records(records)
    return state


def _records(value: Any) -> frozenset[str] | None:
    """The records as comparable text; None when they do not parse (the model reports that)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(item, str) for item in items):
        return None
    try:
        return frozenset(str(parse_mx_record(item)) for item in items)
    except ValueError:
        return None
