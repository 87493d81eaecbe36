"""What the lab saw of a move: each MX change on the primary, and the SSH commands the hosts ran.

From it comes the floor of the downtime: the TTL a cache may hold the old MX for, plus the time the delta
copy took (from the start of its export on old to the end of its import on new).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import dns.rdatatype
import dns.rdtypes.ANY.MX

from cockpit.lab.dns_zone import LabZone
from cockpit.lab.ssh_session import SessionRecord

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

    def left_old(self) -> MxChange | None:
        """The first change away from the old state."""
        seen_old = False
        for change in self.changes:
            if change.state == "old":
                seen_old = True
            elif seen_old:
                return change
        return None

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


def command_of(received: str | None) -> str | None:
    """The command a client asked for, without the cockpit's kill-on-close wrapper around it."""
    if received is None or not received.startswith("exec /bin/sh -c "):
        return received
    try:
        words = shlex.split(received)
    except ValueError:
        return received
    if len(words) == 6 and words[4] == "cockpit":
        return words[5]
    return received


def copy_seconds(
    old: Iterable[SessionRecord], new: Iterable[SessionRecord], export: str, import_: str, after: float
) -> float | None:
    """From the first `export` on old to the last successful `import_` on new, both after `after`."""
    starts = [r.started for r in old if r.started >= after and command_of(r.command) == export]
    ends = [r.ended for r in new if r.started >= after and r.status == 0 and command_of(r.command) == import_]
    if not starts or not ends or max(ends) < min(starts):
        return None
    return max(ends) - min(starts)
