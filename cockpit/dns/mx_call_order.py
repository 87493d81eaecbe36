"""The order of the API calls that turn a zone's MX records into the wanted ones, keeping an MX where that can
be helped: with none at all, a sender delivers to the domain's own address (RFC 5321 5.1).

The wanted records the zone lacks are added first, then the others deleted. A host already there with a new
preference is deleted and added again, one host at a time (where an API's content is the host alone, adding
it first would add nothing), so the other records keep serving. A new TTL cannot be had without emptying the
set: providers keep one TTL per record set, and an added record takes the set's; then every record is
deleted before the wanted ones are added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cockpit.dns.lexicon_session import ListedMx


@dataclass(frozen=True, slots=True)
class Add:
    preference: int
    host: str


@dataclass(frozen=True, slots=True)
class Delete:
    listed: ListedMx


def mx_calls(before: Sequence[ListedMx], wanted: Sequence[tuple[int, str]], ttl: int | None) -> list[Add | Delete]:
    """The calls, in order; none when the zone already holds the wanted records with `ttl` (a record listed
    without a preference matches on its host alone, and is kept)."""
    if before and any(m.ttl is not None and m.ttl != ttl for m in before):
        return [*(Delete(m) for m in before), *(Add(p, h) for p, h in wanted)]
    kept: list[ListedMx] = []
    missing: list[tuple[int, str]] = []
    for preference, host in wanted:
        found = next((m for m in before if m.record.matches(preference, host) and m not in kept), None)
        if found is None:
            missing.append((preference, host))
        else:
            kept.append(found)
    held = {m.record.host for m in before}
    again = list(dict.fromkeys(h for _, h in missing if h in held))
    calls: list[Add | Delete] = [Add(p, h) for p, h in missing if h not in held]
    calls += [Delete(m) for m in before if m not in kept and m.record.host not in again]
    for host in again:
        calls += [Delete(m) for m in before if m not in kept and m.record.host == host]
        calls += [Add(p, h) for p, h in missing if h == host]
    return calls
