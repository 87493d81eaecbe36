"""Rounds re-arm only after they finish; poll-now; snapshots and change events; bounded subscriptions."""

from __future__ import annotations

import asyncio

from cockpit.base.clock import FakeClock
from cockpit.dns.events import Flip, RoundDone, StatusChange
from cockpit.dns.watcher import DnsWatcher
from cockpit.lab.nameserver import Behaviour, LabNameserver
from cockpit.plan.values import MxRecord
from tests.unit.dns.conftest import NEW, pair

STATES = {"old": (MxRecord("mail.old-host.net."),), "new": (MxRecord("mail.new-host.net."),)}


async def _until(check, limit: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(limit):
        while not check():
            await asyncio.sleep(0.005)


async def test_rounds_rearm_after_the_interval_on_the_injected_clock(lab: LabNameserver) -> None:
    clock = FakeClock()
    watcher = DnsWatcher([pair("example.com", lab)], states=STATES, interval=30, clock=clock)
    task = asyncio.create_task(watcher.run())
    try:
        await _until(lambda: watcher.rounds == 1 and clock.sleepers == 1)
        await clock.advance(29)
        assert watcher.rounds == 1, "no new round before the interval has passed"
        await clock.advance(1)
        await _until(lambda: watcher.rounds == 2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await watcher.close()
    assert watcher.latest is not None and watcher.latest.converged("old")


async def test_poll_now_wakes_the_pause(lab: LabNameserver) -> None:
    clock = FakeClock()
    watcher = DnsWatcher([pair("example.com", lab)], interval=3600, clock=clock)
    task = asyncio.create_task(watcher.run())
    try:
        await _until(lambda: watcher.rounds == 1 and clock.sleepers == 1)
        watcher.poll_now()
        await _until(lambda: watcher.rounds == 2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await watcher.close()


async def test_poll_now_during_a_round_runs_one_more_round_after_it(lab: LabNameserver) -> None:
    lab.set_delay(0.2)
    clock = FakeClock()
    watcher = DnsWatcher([pair("example.com", lab), pair("example.org", lab)], interval=3600, clock=clock)
    task = asyncio.create_task(watcher.run())
    try:
        await _until(lambda: watcher.polling)
        watcher.poll_now()
        watcher.poll_now()
        await _until(lambda: watcher.rounds == 2 and clock.sleepers == 1)
        assert watcher.rounds == 2, "several poll-now requests during a round make one more round"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await watcher.close()
    assert lab.peak_pending <= 4, "rounds never overlapped: at most one poll (MX and SOA) per pair in flight"


async def test_flip_and_status_events_then_round_done(lab: LabNameserver) -> None:
    watcher = DnsWatcher([pair("example.com", lab), pair("example.org", lab)], states=STATES, timeout=0.3)
    events: list[object] = []
    watcher.add_listener(events.append)
    try:
        first = await watcher.poll_round()
        assert first.count("old") == 2 and not first.converged("new")
        lab.set_mx("example.com", NEW, 600)
        lab.behave(Behaviour.SILENT, "example.org")
        second = await watcher.poll_round()
    finally:
        await watcher.close()
    kinds = [type(e) for e in events]
    assert kinds == [RoundDone, Flip, StatusChange, RoundDone]
    flip = events[1]
    assert isinstance(flip, Flip)
    assert (flip.before, flip.after, flip.ttl, flip.previous_ttl) == ("old", "new", 600, 3600)
    views = {v.pair.domain: v for v in second.pairs}
    assert views["example.com"].state == "new" and views["example.com"].changed
    assert views["example.com"].observation.serial == 2
    assert views["example.org"].state is None and views["example.org"].observation.status.value == "timeout"
    assert not second.all_authoritative()


async def test_subscription_is_bounded_and_counts_drops(lab: LabNameserver) -> None:
    watcher = DnsWatcher([pair("example.com", lab)])
    subscription = watcher.subscribe(maxsize=2)
    try:
        for _ in range(5):
            await watcher.poll_round()
    finally:
        await watcher.close()
    received = [event async for event in subscription]
    assert len(received) == 2 and subscription.dropped == 3
    assert [e.snapshot.round for e in received if isinstance(e, RoundDone)] == [4, 5]


async def test_removed_listener_hears_nothing(lab: LabNameserver) -> None:
    watcher = DnsWatcher([pair("example.com", lab)])
    heard: list[object] = []
    remove = watcher.add_listener(heard.append)
    await watcher.poll_round()
    remove()
    await watcher.poll_round()
    await watcher.close()
    assert len(heard) == 1
