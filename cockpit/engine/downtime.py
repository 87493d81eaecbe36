"""The one definition of downtime, for the screen's header, the headless summary, the report and the demo's
tally: from the first moment senders could no longer deliver to a listening MTA (the first nameserver that
stops serving the plan's first MX state) to the first moment a listening new MTA is what senders are sent to:
a canary delivered through the MX then served, or, after the new MTA was found listening (`port: ... open`),
the first nameserver serving the plan's last MX state. A plan with no such proof ends it when every nameserver
serves the last state, and says the end is not proven.

Fed with journal records (the report) or with events turned into records (the screen), so every face
computes the same figure the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class DowntimeClock:
    first_state: str | None = None
    last_state: str | None = None
    started: float | None = None
    ended: float | None = None
    proven: bool = False
    """The end was proven by a listening new MTA (else: every nameserver serves the last state)."""
    serving: dict[tuple[str, str], str] = field(default_factory=dict)
    _listening_since: float | None = None
    _last_served_at: float | None = None
    _elsewhere: int = 0
    """Pairs in `serving` that serve something else than the last state (kept as they change: a round of
    10,000 flips costs 10,000 steps, not 10,000 scans)."""

    @classmethod
    def from_records(cls, records: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> DowntimeClock:
        clock = cls()
        for record in records:
            clock.feed(record)
        return clock

    def feed(self, record: dict[str, Any]) -> None:
        kind, at = record.get("type"), record.get("at")
        if not isinstance(at, int | float):
            return
        if kind == "RunStarted":
            states = tuple(record.get("mx_states") or ())
            if states:
                self.first_state, self.last_state = states[0], states[-1]
                self._elsewhere = sum(1 for served in self.serving.values() if served != self.last_state)
        elif kind == "DnsFlip":
            pair = (str(record.get("domain")), str(record.get("nameserver")))
            if pair not in self.serving and isinstance(record.get("before"), str):
                self.serving[pair] = record["before"]  # a live face sees flips only, not the journal's states
                self._elsewhere += record["before"] != self.last_state
            self._serve(float(at), *pair, str(record.get("after")))
        elif kind == "DnsStates":
            for domain, nameserver, state, *_ in record.get("pairs", ()):
                self._serve(float(at), str(domain), str(nameserver), str(state))
        elif kind == "ListenerProven":
            self._proof(float(at), bool(record.get("through_mx")))

    def _serve(self, at: float, domain: str, nameserver: str, state: str) -> None:
        before = self.serving.get((domain, nameserver))
        self.serving[(domain, nameserver)] = state
        self._elsewhere += (state != self.last_state) - (before is not None and before != self.last_state)
        if self.first_state is None or (self.ended is not None and self.proven):
            return
        if self.started is None:
            if before is not None and before == self.first_state and state != self.first_state:
                self.started = at
            return
        if state == self.last_state and self._last_served_at is None:
            self._last_served_at = at
            if self._listening_since is not None:
                self._end(max(at, self._listening_since), proven=True)
        if not self.proven:
            everywhere = self._elsewhere == 0
            self.ended = at if everywhere and self.ended is None else (self.ended if everywhere else None)

    def _proof(self, at: float, through_mx: bool) -> None:
        if self.started is None or (self.ended is not None and self.proven):
            return
        if through_mx:
            self._end(at, proven=True)
            return
        self._listening_since = at if self._listening_since is None else self._listening_since
        if self._last_served_at is not None:
            self._end(max(at, self._last_served_at), proven=True)

    def _end(self, at: float, *, proven: bool) -> None:
        self.ended, self.proven = at, proven

    @property
    def over(self) -> bool:
        return self.ended is not None

    def elapsed(self, now: float) -> float | None:
        """Seconds of downtime so far (or in total once it ended); None before it began."""
        if self.started is None:
            return None
        return (self.ended if self.ended is not None else now) - self.started
