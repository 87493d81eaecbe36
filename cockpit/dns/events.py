"""What the watcher publishes: a frozen snapshot per round, and an event per change of a pair.

The engine fans these into its own event stream; the UI and `cockpit watch` only read them.
"""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.dns.observation import MxEntry, Observation, Pair, Status
from cockpit.dns.serial_split import NameSerials, serial_splits


@dataclass(frozen=True, slots=True)
class PairView:
    """One pair in a snapshot: its latest observation and what it means."""

    observation: Observation
    state: str | None
    """The plan's state name, "other" or "mixed"; None for a failed poll or without named states."""
    serving_since: float | None
    """When the pair started serving its current MX set; None when it already did as the watch began."""
    changed: bool
    """The status, MX set or TTL differs from the pair's previous observation."""

    @property
    def pair(self) -> Pair:
        return self.observation.pair


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every pair after one polling round."""

    round: int
    started_at: float
    finished_at: float
    pairs: tuple[PairView, ...]

    def converged(self, state: str) -> bool:
        """Every pair answered OK with the MX of `state` in this round."""
        return bool(self.pairs) and all(view.state == state for view in self.pairs)

    def all_authoritative(self) -> bool:
        """Every pair answered for its zone (ok, nodata or nxdomain)."""
        return bool(self.pairs) and all(view.observation.status.authoritative for view in self.pairs)

    def ttl_at_most(self, seconds: int) -> bool:
        """Every pair answered OK with an MX TTL of at most `seconds`."""
        return bool(self.pairs) and all(
            view.observation.status is Status.OK and (view.observation.ttl or 0) <= seconds for view in self.pairs
        )

    def count(self, state: str) -> int:
        return sum(1 for view in self.pairs if view.state == state)

    def failures(self) -> tuple[PairView, ...]:
        return tuple(view for view in self.pairs if not view.observation.status.authoritative)

    def serial_splits(self) -> list[NameSerials]:
        """Nameserver names whose addresses served different SOA serials in this round."""
        return serial_splits(view.observation for view in self.pairs)


@dataclass(frozen=True, slots=True)
class Flip:
    """A pair started serving another MX set (and usually another state)."""

    pair: Pair
    at: float
    before: str | None
    after: str | None
    before_mx: tuple[MxEntry, ...]
    after_mx: tuple[MxEntry, ...]
    ttl: int | None
    """TTL of the new MX set."""
    previous_ttl: int | None
    """The largest TTL seen for the previous MX set on this pair."""
    expires: tuple[float, int, float] | None = None
    """(until, ttl, since): when the last cached copy of the previous MX expires at the latest — `ttl`
    seconds after `since`, the moment the pair was first seen no longer serving that TTL."""


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A pair's status changed (ok → timeout, refused → ok, ...)."""

    pair: Pair
    at: float
    before: Status
    after: Status
    detail: str


@dataclass(frozen=True, slots=True)
class RoundDone:
    snapshot: Snapshot


WatchEvent = Flip | StatusChange | RoundDone
