"""Checks between the parts of a plan: every name a step uses exists, ids are unique, MX states differ.

They run on the normalized data (not the models) so they are reported together with the other errors.
"""

from __future__ import annotations

from typing import Any

from cockpit.plan.issues import Mark
from cockpit.plan.located import LocatedData, Path
from cockpit.plan.mx_checks import check_mx_states
from cockpit.plan.steps import STEP_KINDS
from cockpit.plan.validation import context


def check_references(located: LocatedData) -> list[tuple[Mark, str]]:
    data = located.data
    if not isinstance(data, dict):
        return []
    found: list[tuple[Mark, str]] = []

    def problem(path: Path, message: str, *, key: bool = False) -> None:
        found.append(
            (
                located.where(path, key=key),
                f"{context(data, path[:4] if _is_step(path) else path)}: {message}",
            )
        )

    hosts = _names(data.get("hosts"))
    sections = {section: _names(data.get(section)) for section in NOUNS}
    domains = {d.lower().rstrip(".") for d in _list(data.get("domains")) if isinstance(d, str)}
    known_domains = "domains" in data  # unknown when the domains file could not be read

    def ref(path: Path, name: Any, names: list[str], noun: str, section: str) -> None:
        if not isinstance(name, str) or name in names:
            return
        if not names:
            problem(path, f"unknown {noun} '{name}': the plan has no '{section}' section")
        else:
            problem(path, f"unknown {noun} '{name}' ({section}: {', '.join(names)})")

    seen_ids: dict[str, Path] = {}
    seen_phases: dict[str, Path] = {}
    phases = data.get("phases")
    for p_index, phase in enumerate(phases if isinstance(phases, list) else []):
        if not isinstance(phase, dict):
            continue
        name = phase.get("name")
        if isinstance(name, str):
            if name in seen_phases:
                problem(("phases", p_index, "name"), f"phase name '{name}' is used twice")
            seen_phases.setdefault(name, ("phases", p_index))
        steps = phase.get("steps")
        for s_index, step in enumerate(steps if isinstance(steps, list) else []):
            if not isinstance(step, dict):
                continue
            base: Path = ("phases", p_index, "steps", s_index)
            step_id = step.get("id")
            if isinstance(step_id, str) and (*base, "id") in located.locations:
                if step_id in seen_ids:
                    other = seen_ids[step_id]
                    problem((*base, "id"), f"step id '{step_id}' is already used by {context(data, other)}")
                seen_ids.setdefault(step_id, base)
            kind = step.get("kind")
            model = STEP_KINDS.get(kind) if isinstance(kind, str) else None
            for key, section in (model.refers if model is not None else {}).items():
                ref((*base, key), step.get(key), sections[section], NOUNS[section], section)
            if kind == "transfer":
                for end in ("from", "to"):
                    value = step.get(end)
                    if isinstance(value, str) and ":" in value:
                        ref((*base, end), value.partition(":")[0].strip(), hosts, "host", "hosts")
            elif (
                kind in ("sync", "verify") and isinstance(step.get("from"), str) and step.get("from") == step.get("to")
            ):
                problem((*base, "to"), f"'from' and 'to' name the same store '{step.get('to')}'")
            elif kind == "countdown" and step.get("wait") == "former_ttl" and data.get("ttl") is None:
                problem(base, "countdown: former_ttl needs the plan's 'ttl' (the TTL the MX was lowered to)")
            elif kind == "dns_update":
                if step.get("ttl") is None and data.get("ttl") is None:
                    problem(base, "dns_update needs 'ttl' (or set the plan's 'ttl')")
                for d_index, domain in enumerate(_list(step.get("domains"))):
                    if known_domains and isinstance(domain, str) and domain.lower().rstrip(".") not in domains:
                        problem((*base, "domains", d_index), f"domain '{domain}' is not one of the plan's domains")
    providers = data.get("providers")
    for name, provider in providers.items() if isinstance(providers, dict) else ():
        for option, value in provider.items() if isinstance(provider, dict) else ():
            if isinstance(value, dict) and "secret" in value:
                ref(("providers", name, option, "secret"), value["secret"], sections["secrets"], "secret", "secrets")
    stores = data.get("stores")
    for name, store in stores.items() if isinstance(stores, dict) else ():
        if isinstance(store, dict):
            ref(("stores", name, "host"), store.get("host"), hosts, "host", "hosts")
    found.extend(check_mx_states(located, domains if known_domains else None))
    return found


NOUNS = {"hosts": "host", "mx": "MX state", "secrets": "secret", "stores": "store", "providers": "DNS provider"}
"""The plan sections a step may name an entry of, and what an entry is called."""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _is_step(path: Path) -> bool:
    return len(path) >= 4 and path[0] == "phases" and path[2] == "steps"


def _names(section: Any) -> list[str]:
    return [key for key in section if isinstance(key, str)] if isinstance(section, dict) else []
