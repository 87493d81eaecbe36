"""What an MX state means across a plan's domains, in words: "4,998 domains 10 mail.old.net., 2 domains 10
mx.legacy.org. (example.org, example.net)". For `cockpit check`, the confirmations and the details pane."""

from __future__ import annotations

from cockpit.plan.models import Plan
from cockpit.plan.values import MxRecord

NAMED = 5
"""Domains named in a group; a larger one is counted only."""


def records_text(records: tuple[MxRecord, ...]) -> str:
    return ", ".join(str(record) for record in records)


def state_groups(plan: Plan, state: str) -> list[tuple[tuple[MxRecord, ...], list[str]]]:
    """The plan's domains grouped by the records `state` means for them, the largest group first."""
    spec = plan.mx[state]
    groups: dict[tuple[MxRecord, ...], list[str]] = {}
    if spec.per_domain:
        for domain in plan.domains:
            groups.setdefault(spec.records(domain), []).append(domain)
    else:
        groups[spec.default] = list(plan.domains)
    return sorted(groups.items(), key=lambda item: -len(item[1]))


def describe_state(plan: Plan, state: str) -> str:
    """`10 mail.old.net.` when every domain has the same records, else each group counted (and named when
    it is small)."""
    groups = state_groups(plan, state)
    if len(groups) == 1:
        return records_text(groups[0][0])
    parts = []
    for records, domains in groups:
        noun = "domain" if len(domains) == 1 else "domains"
        part = f"{len(domains):,} {noun} {records_text(records)}"
        if len(domains) <= NAMED:
            part += f" ({', '.join(domains)})"
        parts.append(part)
    return ", ".join(parts)


def domains_text(domains: tuple[str, ...] | list[str], named: int = NAMED) -> str:
    """`example.com, example.org`, or `5,000 domains (a.example, b.example, c.example, …)` for many."""
    if len(domains) <= named:
        return ", ".join(domains)
    return f"{len(domains):,} domains ({', '.join(domains[:3])}, …)"
