"""The MX TTL each nameserver served over time, for `countdown: former_ttl`.

Lowering the MX TTL does not shorten what caches already hold: a resolver that fetched the MX just before
the change keeps it for the *former* TTL. So the gate before the first MX change ends when, for every
(domain, nameserver) pair, the TTL it served before it was lowered to the plan's `ttl` has run out, counted
from when the pair was first seen serving the low TTL (the change happened at the latest then).
"""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.base.units import format_clock


@dataclass(frozen=True)
class FormerTtl:
    ttl: int | None
    """The largest former TTL still to wait out; None when it cannot be known or is not over yet."""
    until: float
    """When its last cached copy expires at the latest."""
    detail: str


class TtlHistory:
    """TTL changes per pair, as the watcher saw them (live) and as earlier runs journaled them."""

    def __init__(self) -> None:
        self._now: dict[tuple[str, str], int] = {}
        self._lowered: dict[tuple[str, str], tuple[int, int, float]] = {}
        """pair → (ttl before, ttl after, when) of the last change that lowered the TTL."""
        self._highest: dict[tuple[str, str], int] = {}

    def record(self, domain: str, nameserver: str, before: int | None, after: int, at: float) -> None:
        pair = (domain, nameserver)
        self._now[pair] = after
        self._highest[pair] = max(self._highest.get(pair, after), after)
        if before is not None and after < before:
            self._lowered[pair] = (before, after, at)

    def former_ttl(self, low: int) -> FormerTtl:
        """When every copy cached before the TTL was lowered to `low` has expired."""
        if not self._now:
            return FormerTtl(None, 0.0, "no MX TTL observed yet")
        high = sorted(f"{ns} ({ttl} s for {domain})" for (domain, ns), ttl in self._now.items() if ttl > low)
        if high:
            return FormerTtl(None, 0.0, f"the MX TTL is still above {low} s at {', '.join(high)}")
        ends = [(at + before, before, at, pair) for pair, (before, _, at) in self._lowered.items() if before > low]
        if not ends:
            return FormerTtl(None, 0.0, f"no nameserver was seen serving an MX TTL above {low} s, so the former "
                                        "TTL is unknown: wait it out with 'countdown: DURATION'")  # fmt: skip
        until, ttl, at, (domain, ns) = max(ends)
        lowered = format_clock(at)
        return FormerTtl(ttl, until, f"former MX TTL {ttl} s, lowered on {ns} for {domain} by {lowered}")
