"""Per-pair memory across rounds: what each pair serves, since when, its flips, and the TTLs it served.

The largest TTL a pair served for its previous MX set is what `countdown: old_ttl` waits: a resolver
may have cached that answer for that long just before the flip.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from cockpit.dns.events import Flip, PairView, StatusChange
from cockpit.dns.observation import MxEntry, Observation, Pair, Status

MAX_FLIPS_PER_PAIR = 64


@dataclass
class _Track:
    status: Status | None = None
    ttl: int | None = None
    served: tuple[MxEntry, ...] | None = None
    state: str | None = None
    since: float | None = None
    stretch_ttl: int | None = None
    """Largest TTL seen for the MX set served now."""
    largest: dict[str, int] = field(default_factory=dict)
    """Largest TTL seen per state name over the whole watch."""
    flips: deque[Flip] = field(default_factory=lambda: deque(maxlen=MAX_FLIPS_PER_PAIR))


@dataclass(frozen=True, slots=True)
class OldTtl:
    """How long to wait after the last flip into a state: the largest TTL the previous MX had."""

    ttl: int | None
    since: float | None
    """When the last pair flipped into the state; the wait runs from there."""
    detail: str


class History:
    """Feeds on (observation, state) pairs round after round and reports what changed."""

    def __init__(self) -> None:
        self._tracks: dict[Pair, _Track] = {}

    def record(self, observation: Observation, state: str | None) -> tuple[PairView, list[Flip | StatusChange]]:
        track = self._tracks.setdefault(observation.pair, _Track())
        events: list[Flip | StatusChange] = []
        at = observation.observed_at
        changed = track.status is not None and (
            track.status != observation.status
            or track.ttl != observation.ttl
            or (observation.status is Status.OK and track.served != observation.mx)
        )
        if track.status is not None and track.status != observation.status:
            events.append(StatusChange(observation.pair, at, track.status, observation.status, observation.detail))
        track.status = observation.status
        track.ttl = observation.ttl
        if observation.status is Status.OK:
            ttl = observation.ttl
            if track.served is not None and (track.served != observation.mx or track.state != state):
                flip = Flip(
                    observation.pair, at, track.state, state, track.served, observation.mx, ttl, track.stretch_ttl
                )
                events.append(flip)
                track.flips.append(flip)
                track.since = at
                track.stretch_ttl = None
            track.served = observation.mx
            track.state = state
            if ttl is not None:
                track.stretch_ttl = ttl if track.stretch_ttl is None else max(track.stretch_ttl, ttl)
                if state is not None:
                    track.largest[state] = max(track.largest.get(state, 0), ttl)
        return PairView(observation, state, track.since, changed), events

    def flips(self, pair: Pair) -> tuple[Flip, ...]:
        track = self._tracks.get(pair)
        return tuple(track.flips) if track else ()

    def largest_ttl(self, state: str) -> int | None:
        """The largest TTL any pair served while in `state` during the watch."""
        values = [t.largest[state] for t in self._tracks.values() if state in t.largest]
        return max(values) if values else None

    def old_ttl(self, target: str) -> OldTtl:
        """The wait after the flip into `target`: the largest TTL of what the pairs served before it."""
        if not self._tracks:
            return OldTtl(None, None, "no observations yet")
        pending = [p for p, t in self._tracks.items() if t.state != target]
        if pending:
            return OldTtl(None, None, f"{len(pending)} pair(s) do not serve the {target} MX yet")
        ttls: list[int] = []
        times: list[float] = []
        unknown = 0
        for track in self._tracks.values():
            into = [f for f in track.flips if f.after == target]
            if not into:
                unknown += 1
                continue
            times.append(into[-1].at)
            if into[-1].previous_ttl is not None:
                ttls.append(into[-1].previous_ttl)
        if not ttls:
            return OldTtl(None, None, f"every pair already served the {target} MX when the watch began")
        detail = f"largest TTL of the previous MX on {len(ttls)} pair(s)"
        if unknown:
            detail += f"; {unknown} pair(s) already served {target} when the watch began"
        return OldTtl(max(ttls), max(times), detail)
