"""Per-pair memory across rounds: what each pair serves, since when, its flips, and the TTLs it served.

`countdown: old_ttl` waits until no resolver can still hold the previous MX: a resolver may have cached
the answer with TTL t at any moment the pair served it, so the cache is gone at the latest t seconds after
the pair was first seen no longer serving t (a lowered TTL, or the flip itself). The largest of those
moments over all pairs is the end of the wait; a TTL lowered long before the flip thus no longer counts.
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
    ttl_ends: dict[int, float | None] = field(default_factory=dict)
    """TTLs served with the current MX set → when first seen no longer served (None: served now)."""
    flips: deque[Flip] = field(default_factory=lambda: deque(maxlen=MAX_FLIPS_PER_PAIR))


@dataclass(frozen=True, slots=True)
class OldTtl:
    """How long to wait after the last flip into a state: the largest TTL the previous MX had."""

    ttl: int | None
    """The TTL whose expiry ends the wait (the largest one when several end together)."""
    since: float | None
    """When that TTL stopped being served; the wait ends at `since + ttl`."""
    detail: str


class History:
    """Feeds on (observation, state) pairs round after round and reports what changed."""

    def __init__(self) -> None:
        self._tracks: dict[Pair, _Track] = {}

    def record(self, observation: Observation, state: str | None) -> tuple[PairView, list[Flip | StatusChange]]:
        track = self._tracks.get(observation.pair)
        if track is None:
            track = self._tracks[observation.pair] = _Track()
        elif (
            track.status is observation.status
            and track.ttl == observation.ttl
            and (observation.status is not Status.OK or (track.state == state and track.served == observation.mx))
        ):
            return PairView(observation, state, track.since, False), []  # the common case: nothing changed
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
                    observation.pair,
                    at,
                    track.state,
                    state,
                    track.served,
                    observation.mx,
                    ttl,
                    track.stretch_ttl,
                    _expiry(track.ttl_ends, at),
                )
                events.append(flip)
                track.flips.append(flip)
                track.since = at
                track.stretch_ttl = None
                track.ttl_ends = {}
            track.served = observation.mx
            track.state = state
            if ttl is not None:
                for served, end in track.ttl_ends.items():
                    if served != ttl and end is None:
                        track.ttl_ends[served] = at
                track.ttl_ends[ttl] = None
                track.stretch_ttl = ttl if track.stretch_ttl is None else max(track.stretch_ttl, ttl)
        return PairView(observation, state, track.since, changed), events

    def flips(self, pair: Pair) -> tuple[Flip, ...]:
        track = self._tracks.get(pair)
        return tuple(track.flips) if track else ()

    def old_ttl(self, target: str) -> OldTtl:
        """The wait after the flip into `target`: the largest TTL of what the pairs served before it."""
        if not self._tracks:
            return OldTtl(None, None, "no observations yet")
        pending = [p for p, t in self._tracks.items() if t.state != target]
        if pending:
            return OldTtl(None, None, f"{len(pending)} pair(s) do not serve the {target} MX yet")
        ends: list[tuple[float, int, float]] = []
        unknown = 0
        for track in self._tracks.values():
            into = [f for f in track.flips if f.after == target]
            if not into:
                unknown += 1
                continue
            if into[-1].expires is not None:
                ends.append(into[-1].expires)
        if not ends:
            return OldTtl(None, None, f"every pair already served the {target} MX when the watch began")
        _, ttl, since = max(ends)
        detail = f"TTL of the previous MX on {len(ends)} pair(s)"
        if unknown:
            detail += f"; {unknown} pair(s) already served {target} when the watch began"
        return OldTtl(ttl, since, detail)


def _expiry(ttl_ends: dict[int, float | None], flipped_at: float) -> tuple[float, int, float] | None:
    """(until, ttl, since): the moment the last cached copy of the previous MX expires at the latest."""
    candidates = [((end or flipped_at) + ttl, ttl, end or flipped_at) for ttl, end in ttl_ends.items()]
    return max(candidates) if candidates else None
