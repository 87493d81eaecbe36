"""What the lab saw of a move: each MX change on the primary nameserver.

From it comes the first part of the downtime's floor: the TTL a cache may hold the old MX for when the MX
leaves it (the rest, the delta copy's time, is the run's: its journal keeps the sync pass).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import dns.rdatatype
import dns.rdtypes.ANY.MX

from cockpit.lab.dns_zone import LabZone

MAX_CHANGES = 1000


@dataclass(frozen=True)
class MxChange:
    at: float
    state: str | None
    """The plan's state name the zone's MX matches, None for anything else."""
    ttl: int | None


class MoveTimeline:
    """Fed by the primary's change listener; `states` maps an MX host (absolute, lower-case) to its state."""

    def __init__(self, states: Mapping[str, str], now: Callable[[], float] = time.time) -> None:
        self.states = dict(states)
        self.now = now
        self.changes: list[MxChange] = []

    def record(self, zone: LabZone) -> None:
        rrset = zone.rrsets.get((zone.origin, dns.rdatatype.MX))
        state: str | None = None
        ttl: int | None = None
        if rrset is not None:
            ttl = int(rrset.ttl)
            found = {self.states.get(_host(rdata)) for rdata in rrset}
            state = found.pop() if len(found) == 1 else None
        last = self.changes[-1] if self.changes else None
        if (last is None or (last.state, last.ttl) != (state, ttl)) and len(self.changes) < MAX_CHANGES:
            self.changes.append(MxChange(self.now(), state, ttl))

    def old_ttl(self) -> int | None:
        """The TTL the old MX had when the MX first left it."""
        previous: MxChange | None = None
        for change in self.changes:
            if previous is not None and previous.state == "old" and change.state != "old":
                return previous.ttl
            previous = change
        return None


def _host(rdata: object) -> str:
    assert isinstance(rdata, dns.rdtypes.ANY.MX.MX)
    return rdata.exchange.to_text().lower()
