"""DNS rounds as the engine publishes them, built from real Observations through the DNS layer's own
classification and history (so `serving_since` and the states are what a watcher would report)."""

from __future__ import annotations

from collections.abc import Sequence

from cockpit.dns import Flip, History, MxEntry, Observation, Pair, PairView, Server, Snapshot, Status, classify
from cockpit.engine.events import DnsFlip, DnsRound, Event
from cockpit.plan import Plan

OLD = (MxEntry(10, "mail.old.example.net."),)
PARKING = (MxEntry(10, "parked.new.example.net."),)
SERIAL = 2026112801


def server(number: int) -> Server:
    """The plan's nameserver `number` (ns1.example.com on 127.0.0.1:5301, ...)."""
    return Server("127.0.0.1", 5300 + number, f"ns{number}.example.com")


def answer(
    number: int,
    mx: tuple[MxEntry, ...],
    at: float,
    *,
    ttl: int = 600,
    serial: int = SERIAL,
    domain: str = "example.com",
) -> Observation:
    return Observation(Pair(domain, server(number)), Status.OK, at, mx=mx, ttl=ttl, serial=serial, aa=True, rtt=0.001)


def failure(number: int, status: Status, at: float, detail: str, *, domain: str = "example.com") -> Observation:
    return Observation(Pair(domain, server(number)), status, at, detail=detail)


class Rounds:
    """Turns each list of observations into the events of one polling round: flips, then the round."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.history = History()
        self.count = 0

    def round(self, observations: Sequence[Observation], at: float) -> list[Event]:
        self.count += 1
        views: list[PairView] = []
        events: list[Event] = []
        for observation in observations:
            view, changes = self.history.record(
                observation, classify(observation, self.plan.mx_states(observation.domain))
            )
            views.append(view)
            for flip in (change for change in changes if isinstance(change, Flip)):
                before = " ".join(str(e) for e in flip.before_mx)
                after = " ".join(str(e) for e in flip.after_mx)
                pair = flip.pair
                flipped = DnsFlip(
                    flip.at,
                    pair.domain,
                    pair.server.label,
                    flip.before,
                    flip.after or "other",
                    flip.ttl,
                    f"{before} → {after}",
                )
                events.append(flipped)
        events.append(DnsRound(at, Snapshot(self.count, at, at, tuple(views))))
        return events


def mixed_state(plan: Plan, start: float) -> list[Event]:
    """Two rounds a minute apart: all four serve the old MX, then two serve parking, one still the old
    MX (a lagging secondary with the old serial), and one times out."""
    rounds = Rounds(plan)
    first = rounds.round([answer(n, OLD, start) for n in (1, 2, 3, 4)], start)
    at = start + 60
    second = rounds.round(
        [
            answer(1, PARKING, at, serial=SERIAL + 1),
            answer(2, PARKING, at, serial=SERIAL + 1),
            answer(3, OLD, at),
            failure(4, Status.TIMEOUT, at, "no answer within 3s"),
        ],
        at,
    )
    return first + second
