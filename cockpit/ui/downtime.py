"""The downtime window as DNS shows it: from the first flip away from the plan's first MX state until every
watched pair serves the last state. Derived from DnsFlip events only, so it matches the journal's report."""

from __future__ import annotations

from dataclasses import dataclass, field

from cockpit.engine.events import DnsFlip


@dataclass
class Downtime:
    first_state: str | None = None
    last_state: str | None = None
    started: float | None = None
    ended: float | None = None
    serving: dict[tuple[str, str], str] = field(default_factory=dict)
    """(domain, nameserver) → the MX state it serves now."""

    def set_states(self, states: tuple[str, ...]) -> None:
        """The plan's MX states in order (from RunStarted)."""
        if states:
            self.first_state, self.last_state = states[0], states[-1]

    def flip(self, event: DnsFlip) -> None:
        self.serving[(event.domain, event.nameserver)] = event.after
        if self.first_state is None:
            return
        if self.started is None and event.after != self.first_state:
            self.started = event.at
        if self.started is not None:
            done = all(state == self.last_state for state in self.serving.values())
            self.ended = event.at if done and self.ended is None else (self.ended if done else None)

    def elapsed(self, now: float) -> float | None:
        """Seconds of downtime so far (or in total once it ended); None before it began."""
        if self.started is None:
            return None
        return (self.ended if self.ended is not None else now) - self.started
