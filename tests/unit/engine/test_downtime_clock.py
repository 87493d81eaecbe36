"""The downtime clock keeps "does every pair serve the last state?" as pairs flip, without scanning them all
on each flip: checked here against the scan, on random flip sequences, and at hosting-company scale."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.engine.downtime import DowntimeClock

STATES = ("old", "parking", "new")
PAIRS = [(f"d{d}.test", f"ns{n}") for d in range(3) for n in range(2)]


def started(at: float = 0.0) -> dict[str, Any]:
    return {"type": "RunStarted", "at": at, "mx_states": list(STATES)}


def flip(at: float, pair: tuple[str, str], before: str | None, after: str) -> dict[str, Any]:
    return {"type": "DnsFlip", "at": at, "domain": pair[0], "nameserver": pair[1], "before": before, "after": after}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PAIRS), st.sampled_from(STATES)), max_size=40))
def test_the_end_is_when_every_pair_serves_the_last_state(flips: list[tuple[tuple[str, str], str]]) -> None:
    clock = DowntimeClock()
    clock.feed(started())
    serving = {pair: "old" for pair in PAIRS}
    for pair in PAIRS:
        clock.feed(flip(0.5, pair, None, "old"))
    expected_end = None
    begun = False
    for at, (pair, state) in enumerate(flips, start=1):
        before = serving[pair]
        serving[pair] = state
        clock.feed(flip(float(at), pair, before, state))
        begun = begun or (before == "old" and state != "old")
        if begun:
            everywhere = all(s == "new" for s in serving.values())
            expected_end = (expected_end or float(at)) if everywhere else None
    assert clock.ended == expected_end


def test_ten_thousand_pairs_flip_one_by_one() -> None:
    clock = DowntimeClock()
    clock.feed(started())
    pairs = [(f"d{d}.test", f"ns{n}") for d in range(5000) for n in range(2)]
    for pair in pairs:
        clock.feed(flip(1.0, pair, None, "old"))
    for state, at in (("parking", 10.0), ("new", 20.0)):
        for number, pair in enumerate(pairs):
            clock.feed(flip(at + number / 1e4, pair, "old" if state == "parking" else "parking", state))
    assert clock.started == 10.0
    assert clock.ended == 20.0 + (len(pairs) - 1) / 1e4
    assert clock.elapsed(99.0) == clock.ended - 10.0


def test_a_live_face_that_sees_flips_only_learns_the_state_before_from_them() -> None:
    clock = DowntimeClock()
    clock.feed(started())
    for pair in PAIRS[:2]:
        clock.feed(flip(5.0, pair, "old", "parking"))
    assert clock.started == 5.0 and not clock.over
    clock.feed(flip(9.0, PAIRS[0], "parking", "new"))
    assert not clock.over
    clock.feed(flip(11.0, PAIRS[1], "parking", "new"))
    assert clock.ended == 11.0
